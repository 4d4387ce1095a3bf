-- description: platform credentials expiring within 7, 3 or 1 days or 2 hours, expired, or failing to refresh
-- every: 300s
--
-- Two kinds of rows from credential_health: the expiry level (a credential
-- moving to a nearer level resolves the farther one and fires again), and
-- a failed last refresh, the silent failure that stops label printing
-- while the token still looks valid.
SELECT 'credential:' || platform || ':' || shop || ':' || name || ':' || level AS alert_key,
       CASE WHEN level IN ('expired', 'critical') THEN 'critical'
            WHEN level = '1d' THEN 'warning'
            ELSE 'info' END AS severity,
       platform || ' 店铺 ' || shop || ' 的凭证 ' || name
           || CASE level WHEN 'expired' THEN ' 已过期'
                         WHEN 'critical' THEN ' 不到 2 小时过期'
                         ELSE ' 将在 ' || level || ' 内过期' END AS title,
       '过期时间 ' || CAST(expires_at AS VARCHAR) || '，剩余 '
           || CAST(round(greatest(remaining_hours, 0), 1) AS VARCHAR) || ' 小时；请在平台后台续期' AS message,
       'shop_ops' AS route
FROM credential_health
WHERE level <> 'ok'
UNION ALL
SELECT 'credential:' || platform || ':' || shop || ':' || name || ':refresh_failed',
       'critical',
       platform || ' 店铺 ' || shop || ' 的凭证 ' || name || ' 刷新失败',
       '最近一次刷新 ' || coalesce(CAST(last_refresh_at AS VARCHAR), '未知') || ' 失败；凭证到期前必须人工处理',
       'shop_ops'
FROM credential_health
WHERE refresh_failed
