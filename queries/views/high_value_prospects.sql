-- high_value_prospects: customers with at least prospect_min_orders (3)
-- orders inside one prospect_window_days (90) window: the first and last
-- of them at most 90 days apart, exactly 90 days included. Cancelled
-- orders and orders after report_config.now do not count.
-- Grain: mcid. Inputs: orders, customer_contacts, report_config.
-- UDFs: window_peak (the window search, one pass over each customer's
-- sorted order times; DuckDB runs the same view as a self-join,
-- benches/duckdb/views/high_value_prospects.sql).
-- qualified_at: the order that first completed such a window (when the
-- customer entered the segment). best_window_orders: most orders in any
-- window. orders and total_amount: all counted orders.
CREATE VIEW high_value_prospects AS
WITH counted AS (
    SELECT o.mcid, o.channel, o.ordered_at, o.amount,
           c.prospect_window_days, c.prospect_min_orders
    FROM orders o
    CROSS JOIN report_config c
    WHERE (o.status IS DISTINCT FROM 'cancelled') AND o.ordered_at <= c.now
), per_customer AS (
    SELECT mcid,
           count(*) AS orders,
           array_to_string(array_sort(array_distinct(array_agg(channel))), ',') AS channels,
           sum(amount) AS total_amount,
           max(ordered_at) AS last_order_at,
           window_peak(array_agg(ordered_at), prospect_window_days * 86400,
                       prospect_min_orders) AS busiest
    FROM counted
    GROUP BY mcid, prospect_window_days, prospect_min_orders
)
SELECT p.mcid,
       p.orders,
       p.busiest['peak'] AS best_window_orders,
       p.busiest['reached_at'] AS qualified_at,
       p.channels,
       p.total_amount,
       p.last_order_at,
       k.phone,
       k.email,
       k.wechat_unionid
FROM per_customer p
LEFT JOIN customer_contacts k ON k.mcid = p.mcid
WHERE p.busiest['reached_at'] IS NOT NULL
