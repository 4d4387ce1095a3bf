-- fulfillment_promise: each order waiting in a warehouse queue, its place in
-- the queue and the time it will ship by at the warehouse's throughput.
-- Grain: (channel, order_id). Inputs: wms_queue, orders, warehouses,
-- report_config.
-- An order waits at the warehouse it was last queued at, from enqueued_at
-- (at or before report_config.now), until its status is shipped, signed,
-- cancelled or refunded (an order not yet ingested is still waiting).
-- position: 1 is next (first come, first served; ties by channel and
-- order id). promised_ship_by = now + position / orders_per_hour hours,
-- rounded up to the second; NULL for a warehouse without a known
-- throughput.
CREATE VIEW fulfillment_promise AS
WITH queued AS (
    SELECT channel, order_id, warehouse, enqueued_at
    FROM (SELECT q.*,
                 row_number() OVER (PARTITION BY q.channel, q.order_id
                                    ORDER BY q.enqueued_at DESC, q.arrived_at DESC) AS recency
          FROM wms_queue q
          CROSS JOIN report_config c
          WHERE q.enqueued_at <= c.now)
    WHERE recency = 1
), waiting AS (
    SELECT q.*
    FROM queued q
    LEFT JOIN orders o ON o.channel = q.channel AND o.order_id = q.order_id
    WHERE o.status IS NULL OR o.status IN ('created', 'paid')
), throughput AS (
    SELECT warehouse, orders_per_hour
    FROM (SELECT *, row_number() OVER (PARTITION BY warehouse ORDER BY arrived_at DESC) AS recency
          FROM warehouses)
    WHERE recency = 1 AND orders_per_hour > 0
), placed AS (
    SELECT w.*,
           row_number() OVER (PARTITION BY w.warehouse
                              ORDER BY w.enqueued_at, w.channel, w.order_id) AS position
    FROM waiting w
)
SELECT p.channel,
       p.order_id,
       p.warehouse,
       p.enqueued_at,
       p.position,
       t.orders_per_hour,
       c.now + CAST(CAST(CAST(ceil(p.position * 3600.0 / t.orders_per_hour) AS BIGINT) AS VARCHAR)
                    || ' seconds' AS INTERVAL) AS promised_ship_by,
       (date_part('epoch', c.now) - date_part('epoch', p.enqueued_at)) / 3600.0 AS waiting_hours
FROM placed p
CROSS JOIN report_config c
LEFT JOIN throughput t ON t.warehouse = p.warehouse
