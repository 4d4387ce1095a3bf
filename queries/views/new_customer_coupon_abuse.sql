-- new_customer_coupon_abuse: customers who used a new-customer coupon
-- (report_config.new_customer_coupons, compared trimmed and upper-case)
-- more than once, on any channels and accounts. Cancelled orders (their
-- coupon goes back) do not count.
-- Grain: mcid. Inputs: orders, report_config. flagged_at: the second
-- claim, when the customer entered this segment.
-- Maintained by: mcid
-- Refreshed every: 1h (an order dated after the report clock counts once the clock passes it)
CREATE VIEW new_customer_coupon_abuse AS
WITH claims AS (
    SELECT o.mcid, o.channel, o.order_id, o.ordered_at, o.account_id,
           upper(trim(o.coupon)) AS coupon
    FROM orders o
    CROSS JOIN report_config c
    WHERE (o.status IS DISTINCT FROM 'cancelled')
      AND o.ordered_at <= c.now
      AND array_has(c.new_customer_coupons, upper(trim(o.coupon)))
), repeated AS (
    -- Most claimants claim once: only the others are aggregated below.
    SELECT mcid FROM claims GROUP BY mcid HAVING count(*) > 1
)
SELECT mcid,
       count(*) AS claims,
       array_to_string(array_sort(array_agg(DISTINCT channel)), ',') AS channels,
       count(DISTINCT channel || ':' || account_id) AS accounts,
       min(ordered_at) AS first_claim_at,
       max(ordered_at) AS last_claim_at,
       -- The second claim made the customer an abuser.
       array_element(array_sort(array_agg(ordered_at)), 2) AS flagged_at,
       array_to_string(array_agg(channel || ':' || order_id ORDER BY ordered_at, channel, order_id), ',') AS orders,
       array_to_string(array_sort(array_agg(DISTINCT coupon)), ',') AS coupons
FROM claims
WHERE mcid IN (SELECT mcid FROM repeated)
GROUP BY mcid
