-- refund_heatmap: where the refund lifecycle is slow, per month ('YYYY-MM',
-- in the business time zone, of entering the node) and node.
-- Grain: (month, node). Inputs: refund_node_dwell.
-- Open nodes count with their dwell so far (to report_config.now), so a
-- node where refunds pile up shows as slow before they leave it.
-- rejection_rate: share of the refunds rejected at least once at the node;
-- manual_rate: share with a manual override there. p90 is interpolated
-- (percentile_cont).
CREATE VIEW refund_heatmap AS
SELECT to_char(business_time(entered_at), '%Y-%m') AS month,
       node,
       count(*) AS refunds,
       avg(dwell_hours) AS avg_dwell_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY dwell_hours) AS p90_dwell_hours,
       avg(CASE WHEN rejections > 0 THEN 1.0 ELSE 0.0 END) AS rejection_rate,
       avg(CASE WHEN manual THEN 1.0 ELSE 0.0 END) AS manual_rate
FROM refund_node_dwell
GROUP BY to_char(business_time(entered_at), '%Y-%m'), node
