-- sku_velocity: weighted daily sales of the last 7 days per sku and
-- warehouse: T-0 (the report day in the business time zone, up to
-- report_config.now) weighs
-- velocity_weight_today (1.5), T-1 velocity_weight_yesterday (1.2),
-- T-2..T-6 velocity_weight_earlier (1.0) each; a day without sales counts
-- as 0. weighted_daily_sales = sum(weight x qty) / sum(weights).
-- Grain: (sku, warehouse) with sales in the window. Inputs:
-- order_line_demand, report_config. Sales are lines of paid, shipped or
-- signed orders.
CREATE VIEW sku_velocity AS
WITH sales AS (
    SELECT d.sku, d.warehouse, coalesce(d.qty, 0) AS qty,
           date_part('day', date_trunc('day', business_time(c.now)) - date_trunc('day', business_time(d.ordered_at))) AS days_ago
    FROM order_line_demand d
    CROSS JOIN report_config c
    WHERE d.status IN ('paid', 'shipped', 'signed')
      AND d.ordered_at <= c.now
      AND d.ordered_at >= date_trunc('day', business_time(c.now)) - INTERVAL '6 days'
)
SELECT s.sku,
       s.warehouse,
       sum(CASE WHEN s.days_ago = 0 THEN s.qty ELSE 0 END) AS sold_today,
       sum(CASE WHEN s.days_ago = 1 THEN s.qty ELSE 0 END) AS sold_yesterday,
       sum(CASE WHEN s.days_ago >= 2 THEN s.qty ELSE 0 END) AS sold_days_2_to_6,
       sum(s.qty) AS sold_7d,
       (c.velocity_weight_today * sum(CASE WHEN s.days_ago = 0 THEN s.qty ELSE 0 END)
        + c.velocity_weight_yesterday * sum(CASE WHEN s.days_ago = 1 THEN s.qty ELSE 0 END)
        + c.velocity_weight_earlier * sum(CASE WHEN s.days_ago >= 2 THEN s.qty ELSE 0 END))
       / (c.velocity_weight_today + c.velocity_weight_yesterday + 5 * c.velocity_weight_earlier)
           AS weighted_daily_sales
FROM sales s
CROSS JOIN report_config c
GROUP BY s.sku, s.warehouse, c.velocity_weight_today, c.velocity_weight_yesterday,
         c.velocity_weight_earlier
