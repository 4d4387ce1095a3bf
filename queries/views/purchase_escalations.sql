-- purchase_escalations: purchase requests the supplier has not confirmed
-- within supplier_confirm_hours (48) of the request, routed to the backup
-- supplier. Escalated once exactly 48 h have passed; a confirmation after
-- the deadline does not undo it (confirmed_late says so).
-- Grain: request_id. Inputs: purchase_requests, purchase_confirmations,
-- report_config.
CREATE VIEW purchase_escalations AS
WITH due AS (
    SELECT r.request_id, r.sku, r.warehouse, r.qty, r.supplier, r.requested_at,
           r.backup_supplier,
           r.requested_at + CAST(CAST(c.supplier_confirm_hours AS VARCHAR) || ' hours' AS INTERVAL) AS deadline,
           c.now,
           min(p.confirmed_at) AS confirmed_at
    FROM purchase_requests r
    CROSS JOIN report_config c
    LEFT JOIN purchase_confirmations p
      ON p.request_id = r.request_id AND p.supplier = r.supplier AND p.confirmed_at <= c.now
    GROUP BY r.request_id, r.sku, r.warehouse, r.qty, r.supplier, r.requested_at,
             r.backup_supplier, c.supplier_confirm_hours, c.now
)
SELECT request_id,
       sku,
       warehouse,
       qty,
       supplier,
       requested_at,
       deadline,
       (date_part('epoch', now) - date_part('epoch', requested_at)) / 3600.0 AS hours_waiting,
       backup_supplier AS route_to,
       confirmed_at IS NOT NULL AS confirmed_late
FROM due
WHERE now >= deadline
  AND (confirmed_at IS NULL OR confirmed_at > deadline)
