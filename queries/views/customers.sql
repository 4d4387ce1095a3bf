-- customers: one row per live MCID.
-- Grain: customer. Inputs: orders, order_identifiers. UDFs: none.
-- Identifier counts include only identifiers that linked (used), so a
-- masked phone or a shared device does not count as a contact.
CREATE VIEW customers AS
WITH per_order AS (
    SELECT mcid,
           min(ordered_at) AS first_order_at,
           max(ordered_at) AS last_order_at,
           count(*) AS orders,
           array_sort(array_agg(DISTINCT channel)) AS channels,
           sum(amount) AS total_amount
    FROM orders
    GROUP BY mcid
), per_identifier AS (
    SELECT mcid,
           count(DISTINCT CASE WHEN kind = 'unionid' THEN value END) AS unionids,
           count(DISTINCT CASE WHEN kind = 'phone' THEN value END) AS phones,
           count(DISTINCT CASE WHEN kind = 'email' THEN value END) AS emails,
           count(DISTINCT CASE WHEN kind = 'device' THEN value END) AS devices,
           count(DISTINCT CASE WHEN kind = 'account' THEN value END) AS accounts
    FROM order_identifiers
    WHERE used
    GROUP BY mcid
)
SELECT o.mcid,
       o.first_order_at,
       o.last_order_at,
       o.orders,
       o.channels,
       o.total_amount,
       coalesce(i.unionids, 0) AS unionids,
       coalesce(i.phones, 0) AS phones,
       coalesce(i.emails, 0) AS emails,
       coalesce(i.devices, 0) AS devices,
       coalesce(i.accounts, 0) AS accounts
FROM per_order o
LEFT JOIN per_identifier i ON o.mcid = i.mcid
