-- credential_health: each platform credential's remaining validity at
-- report_config.now, and whether it needs attention.
-- Grain: (platform, shop, name); the latest row sent wins. Inputs:
-- credentials, report_config.
-- level: expired (no time left), critical (under credential_critical_hours,
-- 2; exactly 2 h is not), 1d (under 24 h), 3d (under 72 h), 7d (under
-- 168 h), ok. A failed last refresh is flagged whatever the expiry (the
-- silent failure that stops label printing while the token still looks
-- valid); alert is true when the level is not ok or the refresh failed.
CREATE VIEW credential_health AS
WITH latest AS (
    SELECT *
    FROM (SELECT *,
                 row_number() OVER (PARTITION BY platform, shop, name
                                    ORDER BY arrived_at DESC, last_refresh_at DESC NULLS LAST) AS recency
          FROM credentials)
    WHERE recency = 1
), remaining AS (
    SELECT l.*,
           (date_part('epoch', l.expires_at) - date_part('epoch', c.now)) / 3600.0 AS remaining_hours,
           c.credential_critical_hours
    FROM latest l
    CROSS JOIN report_config c
), leveled AS (
    SELECT *,
           CASE WHEN remaining_hours <= 0 THEN 'expired'
                WHEN remaining_hours < credential_critical_hours THEN 'critical'
                WHEN remaining_hours < 24 THEN '1d'
                WHEN remaining_hours < 72 THEN '3d'
                WHEN remaining_hours < 168 THEN '7d'
                ELSE 'ok' END AS level,
           coalesce(NOT last_refresh_ok, FALSE) AS refresh_failed
    FROM remaining
)
SELECT platform, shop, name, expires_at, remaining_hours, level,
       last_refresh_at, last_refresh_ok, refresh_failed,
       level <> 'ok' OR refresh_failed AS alert
FROM leveled
