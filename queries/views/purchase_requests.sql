-- purchase_requests: one purchase request per sku and warehouse that
-- stock_forecast says to reorder, to the sku's supplier.
-- Grain: request_id = 'PR-<sku>-<warehouse>-<YYYYMMDD of the snapshot>'
-- (UTC), so a supplier can confirm it and the id stays the same until a
-- new snapshot is taken. requested_at is the snapshot time.
-- Inputs: stock_forecast.
CREATE VIEW purchase_requests AS
SELECT 'PR-' || sku || '-' || warehouse || '-' || to_char(as_of, '%Y%m%d') AS request_id,
       as_of AS requested_at,
       sku,
       warehouse,
       supplier,
       backup_supplier,
       suggested_qty AS qty,
       lead_time_days,
       days_of_cover
FROM stock_forecast
WHERE reorder
