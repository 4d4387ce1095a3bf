-- stock_forecast: per sku and warehouse of the latest inventory snapshot,
-- the stock that will really be there and whether to reorder.
-- Grain: (sku, warehouse). Inputs: inventory_latest, order_line_demand,
-- inbound, suppliers, sku_velocity, report_config.
-- locked: quantity in unpaid (`created`) orders younger than
-- unpaid_hold_hours (24; older ones are cancelled by the platform).
-- inbound_24h: purchase orders (latest row per po_id) expected after the
-- snapshot and at most 24 h after report_config.now (exactly 24 h counts).
-- effective_stock = available - locked + inbound_24h. days_of_cover =
-- effective_stock / weighted velocity (NULL without sales). reorder when
-- cover is below the supplier's lead time + safety_days (3); a sku without
-- a supplier has lead time 0. suggested_qty tops cover up to lead time +
-- safety days of velocity, at least the supplier's minimum order (1 if
-- unknown); the target is rounded to 6 decimals before rounding up, so
-- float noise never adds a unit.
CREATE VIEW stock_forecast AS
WITH locked AS (
    SELECT d.sku, d.warehouse, sum(coalesce(d.qty, 0)) AS qty
    FROM order_line_demand d
    CROSS JOIN report_config c
    WHERE d.status = 'created'
      AND d.ordered_at <= c.now
      AND d.ordered_at > c.now - CAST(CAST(c.unpaid_hold_hours AS VARCHAR) || ' hours' AS INTERVAL)
    GROUP BY d.sku, d.warehouse
), purchase_orders AS (
    SELECT sku, warehouse, qty, expected_at
    FROM (SELECT *, row_number() OVER (PARTITION BY po_id ORDER BY arrived_at DESC) AS recency
          FROM inbound)
    WHERE recency = 1
), inbound_due AS (
    SELECT i.sku, i.warehouse, sum(p.qty) AS qty
    FROM inventory_latest i
    JOIN purchase_orders p
      ON p.sku = i.sku AND p.warehouse = i.warehouse AND p.expected_at > i.as_of
    CROSS JOIN report_config c
    WHERE p.expected_at <= c.now + INTERVAL '24 hours'
    GROUP BY i.sku, i.warehouse
), supplier AS (
    SELECT sku, supplier, backup_supplier, lead_time_days, min_order_qty
    FROM (SELECT *, row_number() OVER (PARTITION BY sku ORDER BY arrived_at DESC) AS recency
          FROM suppliers)
    WHERE recency = 1
), stock AS (
    SELECT i.sku, i.warehouse, i.available, i.as_of,
           coalesce(l.qty, 0) AS locked,
           coalesce(b.qty, 0) AS inbound_24h,
           coalesce(v.weighted_daily_sales, 0.0) AS velocity,
           s.supplier, s.backup_supplier,
           coalesce(s.lead_time_days, 0) AS lead_time_days,
           coalesce(s.min_order_qty, 1) AS min_order_qty,
           c.safety_days
    FROM inventory_latest i
    CROSS JOIN report_config c
    LEFT JOIN locked l ON l.sku = i.sku AND l.warehouse = i.warehouse
    LEFT JOIN inbound_due b ON b.sku = i.sku AND b.warehouse = i.warehouse
    LEFT JOIN sku_velocity v ON v.sku = i.sku AND v.warehouse = i.warehouse
    LEFT JOIN supplier s ON s.sku = i.sku
), cover AS (
    SELECT *,
           available - locked + inbound_24h AS effective_stock,
           CASE WHEN velocity > 0 THEN (available - locked + inbound_24h) / velocity END AS days_of_cover
    FROM stock
)
SELECT sku, warehouse, as_of, available, locked, inbound_24h, effective_stock,
       velocity AS weighted_daily_sales,
       days_of_cover,
       lead_time_days,
       coalesce(days_of_cover < lead_time_days + safety_days, FALSE) AS reorder,
       CASE WHEN days_of_cover < lead_time_days + safety_days
            THEN greatest(min_order_qty,
                          CAST(ceil(round(velocity * (lead_time_days + safety_days) - effective_stock, 6)) AS BIGINT))
       END AS suggested_qty,
       supplier,
       backup_supplier
FROM cover
