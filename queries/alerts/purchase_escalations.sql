-- description: purchase requests the supplier has not confirmed in 48 h, to the backup supplier's buyer
-- every: 300s
--
-- Routed to `buyer:<backup supplier>` (a route in [[alerts.routes]] may
-- name it, or `buyer:*` every buyer); a sku without a backup supplier goes
-- to `buyer:none`.
SELECT 'purchase:' || request_id AS alert_key,
       'warning' AS severity,
       '采购单 ' || request_id || ' 供应商 48 小时未确认' AS title,
       sku || ' @ ' || warehouse || ' 需补货 ' || CAST(qty AS VARCHAR) || ' 件，供应商 '
           || coalesce(supplier, '?') || ' 已等待 ' || CAST(round(hours_waiting, 1) AS VARCHAR)
           || ' 小时；转备用供应商 ' || coalesce(route_to, '（未配置）') AS message,
       'buyer:' || coalesce(route_to, 'none') AS route
FROM purchase_escalations
WHERE NOT confirmed_late
