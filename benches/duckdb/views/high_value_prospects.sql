-- The pure-SQL (self-join) formulation of queries/views/
-- high_value_prospects.sql, before its window search moved into the UDF
-- window_peak; benches/duckdb/views.py runs this one in DuckDB.
--
-- high_value_prospects: customers with at least prospect_min_orders (3)
-- orders inside one prospect_window_days (90) window: the first and last
-- of them at most 90 days apart, exactly 90 days included. Cancelled
-- orders and orders after report_config.now do not count.
-- Grain: mcid. Inputs: orders, customer_contacts, report_config.
-- qualified_at: the order that first completed such a window (when the
-- customer entered the segment). best_window_orders: most orders in any
-- window. orders and total_amount: all counted orders.
CREATE VIEW high_value_prospects AS
WITH counted AS (
    SELECT o.mcid, o.channel, o.order_id, o.ordered_at, o.amount
    FROM orders o
    CROSS JOIN report_config c
    WHERE (o.status IS DISTINCT FROM 'cancelled') AND o.ordered_at <= c.now
), windows AS (
    -- Orders in the window that ends at each order.
    SELECT e.mcid, e.ordered_at AS window_end, count(*) AS window_orders
    FROM counted e
    JOIN counted s
      ON s.mcid = e.mcid AND s.ordered_at <= e.ordered_at
    CROSS JOIN report_config c
    WHERE s.ordered_at >= e.ordered_at - CAST(CAST(c.prospect_window_days AS VARCHAR) || ' days' AS INTERVAL)
    GROUP BY e.mcid, e.channel, e.order_id, e.ordered_at
), qualified AS (
    SELECT w.mcid,
           min(w.window_end) AS qualified_at,
           max(w.window_orders) AS best_window_orders
    FROM windows w
    CROSS JOIN report_config c
    WHERE w.window_orders >= c.prospect_min_orders
    GROUP BY w.mcid
), totals AS (
    SELECT mcid,
           count(*) AS orders,
           array_to_string(array_sort(array_agg(DISTINCT channel)), ',') AS channels,
           sum(amount) AS total_amount,
           max(ordered_at) AS last_order_at
    FROM counted
    GROUP BY mcid
)
SELECT q.mcid,
       t.orders,
       q.best_window_orders,
       q.qualified_at,
       t.channels,
       t.total_amount,
       t.last_order_at,
       k.phone,
       k.email,
       k.wechat_unionid
FROM qualified q
JOIN totals t ON t.mcid = q.mcid
LEFT JOIN customer_contacts k ON k.mcid = q.mcid
