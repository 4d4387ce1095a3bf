-- order_snapshots: the version each order had at each stage of its life,
-- so support can answer "why did the price change" in one query.
-- Grain: (channel, order_id, stage). Inputs: order_versions.
-- Stages, in order: created (the first version received), paid, shipped,
-- signed, after_sale (refunded): the first version received with that
-- status. A stage the order never showed has no row. amount_change is the
-- amount minus the previous stage's; coupon_changed compares coupons
-- (a coupon added or removed is a change).
-- Maintained by: channel, order_id
CREATE VIEW order_snapshots AS
WITH stages AS (
    SELECT * FROM (VALUES (1, 'created', CAST(NULL AS VARCHAR)),
                          (2, 'paid', 'paid'),
                          (3, 'shipped', 'shipped'),
                          (4, 'signed', 'signed'),
                          (5, 'after_sale', 'refunded')) AS s(stage_order, stage, status)
), firsts AS (
    -- The first version at each stage, and below each stage the previous
    -- one present: aggregates and joins on the order key. (Windows
    -- partitioned by order, row_number and lag, cost DataFusion per
    -- partition: 67 s at 2.38M orders against DuckDB's 3.6 s.)
    SELECT v.channel, v.order_id, s.stage_order, s.stage, min(v.version) AS version
    FROM order_versions v
    JOIN stages s ON s.status IS NULL OR s.status = v.status
    GROUP BY v.channel, v.order_id, s.stage_order, s.stage
), snapshots AS (
    SELECT f.channel, f.order_id, f.stage_order, f.stage, f.version,
           v.status, v.amount, v.coupon, v.arrived_at
    FROM firsts f
    JOIN order_versions v
      ON v.channel = f.channel AND v.order_id = f.order_id AND v.version = f.version
), previous AS (
    SELECT a.channel, a.order_id, a.stage_order, max(b.stage_order) AS prev_stage
    FROM firsts a JOIN firsts b
      ON b.channel = a.channel AND b.order_id = a.order_id AND b.stage_order < a.stage_order
    GROUP BY a.channel, a.order_id, a.stage_order
)
SELECT s.channel, s.order_id, s.stage, s.stage_order, s.version, s.status, s.amount, s.coupon, s.arrived_at,
       s.amount - p.amount AS amount_change,
       (p.stage_order IS NOT NULL) AND (s.coupon IS DISTINCT FROM p.coupon) AS coupon_changed
FROM snapshots s
LEFT JOIN previous pr ON pr.channel = s.channel AND pr.order_id = s.order_id AND pr.stage_order = s.stage_order
LEFT JOIN snapshots p ON p.channel = s.channel AND p.order_id = s.order_id AND p.stage_order = pr.prev_stage
