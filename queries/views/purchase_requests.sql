-- purchase_requests: one purchase request per sku and warehouse that
-- stock_forecast says to reorder, to the sku's supplier.
-- A request lasts as long as the need: it starts at the earliest snapshot
-- of the unbroken run of snapshots (up to the latest) whose stock was
-- below the reorder level, each judged by today's demand (the latest
-- snapshot's locked and inbound stock and weighted velocity), so a
-- warehouse that counts stock every day keeps one request, and the
-- supplier's 48 h run from when it was first needed. A snapshot at or
-- above the level ends the run; the next shortage is a new request.
-- Grain: request_id = 'PR-<sku>-<warehouse>-<YYYYMMDD of the first
-- snapshot of the run>' (business time zone); requested_at is that
-- snapshot's time.
-- Inputs: stock_forecast, inventory, report_config.
CREATE VIEW purchase_requests AS
WITH need AS (
    SELECT f.*,
           f.available - f.effective_stock AS adjustment,
           f.weighted_daily_sales * (f.lead_time_days + c.safety_days) AS reorder_level
    FROM stock_forecast f
    CROSS JOIN report_config c
    WHERE f.reorder
), counted AS (
    -- A snapshot sent again for the same time replaces the earlier count.
    SELECT sku, warehouse, as_of, available
    FROM (SELECT *, row_number() OVER (PARTITION BY sku, warehouse, as_of
                                       ORDER BY arrived_at DESC) AS recency
          FROM inventory)
    WHERE recency = 1
), snapshots AS (
    SELECT n.sku, n.warehouse, n.supplier, n.backup_supplier, n.suggested_qty,
           n.lead_time_days, n.days_of_cover,
           i.as_of,
           i.available - n.adjustment < n.reorder_level AS short
    FROM need n
    JOIN counted i
      ON i.sku = n.sku AND i.warehouse = n.warehouse AND i.as_of <= n.as_of
), judged AS (
    SELECT *,
           max(CASE WHEN NOT short THEN as_of END)
               OVER (PARTITION BY sku, warehouse) AS last_sufficient
    FROM snapshots
), since AS (
    SELECT sku, warehouse, supplier, backup_supplier, suggested_qty, lead_time_days,
           days_of_cover,
           min(CASE WHEN short AND (last_sufficient IS NULL OR as_of > last_sufficient)
                    THEN as_of END) AS as_of
    FROM judged
    GROUP BY sku, warehouse, supplier, backup_supplier, suggested_qty, lead_time_days,
             days_of_cover
)
SELECT 'PR-' || sku || '-' || warehouse || '-' || to_char(business_time(as_of), '%Y%m%d') AS request_id,
       as_of AS requested_at,
       sku,
       warehouse,
       supplier,
       backup_supplier,
       suggested_qty AS qty,
       lead_time_days,
       days_of_cover
FROM since
WHERE as_of IS NOT NULL
