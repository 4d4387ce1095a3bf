-- order_line_demand: every order line with its order's time and status and
-- the warehouse it draws stock from.
-- Grain: (channel, order_id, sku) line. Inputs: order_lines, orders,
-- wms_queue, inventory_latest.
-- The warehouse is the one the order was last queued at; an order never
-- queued draws from the sku's home warehouse, the one holding most of it in
-- the latest snapshots (ties by name). Lines of orders not (yet) ingested
-- are left out.
CREATE VIEW order_line_demand AS
WITH queued AS (
    SELECT channel, order_id, warehouse
    FROM (SELECT *,
                 row_number() OVER (PARTITION BY channel, order_id
                                    ORDER BY enqueued_at DESC, arrived_at DESC) AS recency
          FROM wms_queue)
    WHERE recency = 1
), home AS (
    SELECT sku, warehouse
    FROM (SELECT sku, warehouse,
                 row_number() OVER (PARTITION BY sku ORDER BY available DESC, warehouse) AS rank
          FROM inventory_latest)
    WHERE rank = 1
)
SELECT l.channel, l.order_id, l.sku, l.qty, l.unit_price,
       o.ordered_at, o.status,
       coalesce(q.warehouse, h.warehouse) AS warehouse
FROM order_lines l
JOIN orders o ON o.channel = l.channel AND o.order_id = l.order_id
LEFT JOIN queued q ON q.channel = l.channel AND q.order_id = l.order_id
LEFT JOIN home h ON h.sku = l.sku
