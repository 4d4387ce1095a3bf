-- purchase_escalations: purchase requests the supplier has not confirmed
-- within supplier_confirm_hours (48) of the request, routed to the backup
-- supplier. Escalated once exactly 48 h have passed; a confirmation after
-- the deadline does not undo it (confirmed_late says so).
-- Grain: request_id. Inputs: purchase_requests, purchase_confirmations,
-- report_config.
CREATE VIEW purchase_escalations AS
WITH confirmed AS (
    SELECT r.request_id,
           min(p.confirmed_at) AS confirmed_at
    FROM purchase_requests r
    JOIN purchase_confirmations p
      ON p.request_id = r.request_id AND p.supplier = r.supplier
    CROSS JOIN report_config c
    WHERE p.confirmed_at <= c.now
    GROUP BY r.request_id
), due AS (
    SELECT r.*,
           r.requested_at + CAST(CAST(c.supplier_confirm_hours AS VARCHAR) || ' hours' AS INTERVAL) AS deadline,
           c.now
    FROM purchase_requests r
    CROSS JOIN report_config c
)
SELECT d.request_id,
       d.sku,
       d.warehouse,
       d.qty,
       d.supplier,
       d.requested_at,
       d.deadline,
       (date_part('epoch', d.now) - date_part('epoch', d.requested_at)) / 3600.0 AS hours_waiting,
       d.backup_supplier AS route_to,
       c.confirmed_at IS NOT NULL AS confirmed_late
FROM due d
LEFT JOIN confirmed c ON c.request_id = d.request_id
WHERE d.now >= d.deadline
  AND (c.confirmed_at IS NULL OR c.confirmed_at > d.deadline)
