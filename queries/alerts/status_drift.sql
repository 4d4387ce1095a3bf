-- description: a system whose orders of the last hour drifted above report_config.drift_alert_rate
-- every: 60s
--
-- Per system (platform, erp, wms, crm): the orders it updated in the hour
-- up to report_config.now that another system also reports, and how many
-- of them are inconsistent (status_consistency). Fires above
-- drift_alert_rate (5 %) when the system updated at least
-- drift_alert_min_orders (20) such orders.
WITH recent AS (
    SELECT 'platform' AS system, s.consistent FROM status_consistency s CROSS JOIN report_config c
    WHERE s.systems >= 2 AND s.platform_updated_at > c.now - INTERVAL '1 hour' AND s.platform_updated_at <= c.now
    UNION ALL
    SELECT 'erp', s.consistent FROM status_consistency s CROSS JOIN report_config c
    WHERE s.systems >= 2 AND s.erp_updated_at > c.now - INTERVAL '1 hour' AND s.erp_updated_at <= c.now
    UNION ALL
    SELECT 'wms', s.consistent FROM status_consistency s CROSS JOIN report_config c
    WHERE s.systems >= 2 AND s.wms_updated_at > c.now - INTERVAL '1 hour' AND s.wms_updated_at <= c.now
    UNION ALL
    SELECT 'crm', s.consistent FROM status_consistency s CROSS JOIN report_config c
    WHERE s.systems >= 2 AND s.crm_updated_at > c.now - INTERVAL '1 hour' AND s.crm_updated_at <= c.now
), rates AS (
    SELECT system,
           count(*) AS orders,
           sum(CASE WHEN consistent THEN 0 ELSE 1 END) AS drifted
    FROM recent
    GROUP BY system
)
SELECT 'drift:' || r.system AS alert_key,
       'warning' AS severity,
       r.system || ' 状态漂移率 ' || CAST(round(100.0 * r.drifted / r.orders, 1) AS VARCHAR) || '%' AS title,
       '最近一小时 ' || r.system || ' 更新的 ' || CAST(r.orders AS VARCHAR) || ' 个订单中 '
           || CAST(r.drifted AS VARCHAR) || ' 个与其他系统不一致（阈值 '
           || CAST(round(100.0 * c.drift_alert_rate, 1) AS VARCHAR) || '%）' AS message,
       'status_sync' AS route
FROM rates r
CROSS JOIN report_config c
WHERE r.orders >= c.drift_alert_min_orders
  AND CAST(r.drifted AS DOUBLE) / r.orders > c.drift_alert_rate
