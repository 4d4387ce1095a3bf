-- order_snapshots: the version each order had at each stage of its life,
-- so support can answer "why did the price change" in one query.
-- Grain: (channel, order_id, stage). Inputs: order_versions.
-- Stages, in order: created (the first version received), paid, shipped,
-- signed, after_sale (refunded): the first version received with that
-- status. A stage the order never showed has no row. amount_change is the
-- amount minus the previous stage's; coupon_changed compares coupons
-- (a coupon added or removed is a change).
CREATE VIEW order_snapshots AS
WITH stages AS (
    SELECT * FROM (VALUES (1, 'created', CAST(NULL AS VARCHAR)),
                          (2, 'paid', 'paid'),
                          (3, 'shipped', 'shipped'),
                          (4, 'signed', 'signed'),
                          (5, 'after_sale', 'refunded')) AS s(stage_order, stage, status)
), firsts AS (
    SELECT v.channel, v.order_id, s.stage_order, s.stage,
           v.version, v.status, v.amount, v.coupon, v.ordered_at, v.arrived_at,
           row_number() OVER (PARTITION BY v.channel, v.order_id, s.stage_order
                              ORDER BY v.version) AS nth
    FROM order_versions v
    JOIN stages s ON s.status IS NULL OR s.status = v.status
), snapshots AS (
    SELECT * FROM firsts WHERE nth = 1
)
SELECT channel, order_id, stage, stage_order, version, status, amount, coupon, arrived_at,
       amount - lag(amount) OVER w AS amount_change,
       (lag(stage_order) OVER w IS NOT NULL)
           AND (coupon IS DISTINCT FROM lag(coupon) OVER w) AS coupon_changed
FROM snapshots
WINDOW w AS (PARTITION BY channel, order_id ORDER BY stage_order)
