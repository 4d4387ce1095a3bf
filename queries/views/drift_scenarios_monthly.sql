-- drift_scenarios_monthly: the top 5 ways systems disagree, per month
-- ('YYYY-MM', in the business time zone) in which the disagreement started.
-- Grain: (month, rank). Inputs: status_events, system_owners, report_config.
-- UDFs: business_time, status_episodes (the replay below; DuckDB runs the same view as
-- windows, benches/duckdb/views/drift_scenarios_monthly.sql).
-- Each order's systems are replayed in event time (updated_at; status codes
-- compared trimmed and lower-case). An episode runs from the first moment
-- two systems that have reported disagree to the moment all agree again
-- (its repair time); one repaired within drift_tolerance_seconds (3 s,
-- exactly 3 s included) is ordinary sync lag, not drift. Its scenario is the
-- disagreement that was left to repair: at the episode's last disagreeing
-- moment, the first disagreeing pair of systems (in the order platform,
-- erp, wms, crm), written 'ahead:status vs behind:status', where `behind`
-- is the system whose status is older; `owner` answers for that system.
-- orders counts distinct orders; avg_repair_minutes covers repaired
-- episodes only (NULL if none); unrepaired counts episodes still open at
-- report_config.now. Ranked by orders, then scenario.
CREATE VIEW drift_scenarios_monthly AS
WITH replayed AS (
    -- status_episodes is the replay described above, one pass per order.
    SELECT channel, order_id,
           unnest(status_episodes(array_agg(named_struct(
               'system', system,
               'status', lower(trim(status_code)),
               'at', updated_at)))) AS e
    FROM status_events
    GROUP BY channel, order_id
), episodes AS (
    SELECT r.channel, r.order_id,
           r.e['started_at'] AS started_at,
           r.e['repaired_at'] AS repaired_at,
           CASE WHEN r.e['at_a'] >= r.e['at_b'] THEN r.e['system_a'] ELSE r.e['system_b'] END AS ahead,
           CASE WHEN r.e['at_a'] >= r.e['at_b'] THEN r.e['status_a'] ELSE r.e['status_b'] END AS ahead_status,
           CASE WHEN r.e['at_a'] >= r.e['at_b'] THEN r.e['system_b'] ELSE r.e['system_a'] END AS behind,
           CASE WHEN r.e['at_a'] >= r.e['at_b'] THEN r.e['status_b'] ELSE r.e['status_a'] END AS behind_status,
           date_part('epoch', coalesce(r.e['repaired_at'], c.now))
               - date_part('epoch', r.e['started_at']) AS lasted_seconds
    FROM replayed r
    CROSS JOIN report_config c
), drifts AS (
    SELECT e.*
    FROM episodes e
    CROSS JOIN report_config c
    WHERE e.lasted_seconds > c.drift_tolerance_seconds
), owners AS (
    SELECT system, owner
    FROM (SELECT *,
                 row_number() OVER (PARTITION BY system ORDER BY arrived_at DESC) AS arrival_rank
          FROM system_owners)
    WHERE arrival_rank = 1
), scenarios AS (
    SELECT to_char(business_time(started_at), '%Y-%m') AS month,
           ahead || ':' || ahead_status || ' vs ' || behind || ':' || behind_status AS scenario,
           behind,
           count(DISTINCT channel || ':' || order_id) AS orders,
           avg(CASE WHEN repaired_at IS NOT NULL THEN lasted_seconds / 60.0 END) AS avg_repair_minutes,
           sum(CASE WHEN repaired_at IS NULL THEN 1 ELSE 0 END) AS unrepaired
    FROM drifts
    GROUP BY to_char(business_time(started_at), '%Y-%m'), ahead, ahead_status, behind, behind_status
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY month ORDER BY orders DESC, scenario) AS rank
    FROM scenarios
)
SELECT r.month, r.rank, r.scenario, r.orders, r.avg_repair_minutes, o.owner, r.unrepaired
FROM ranked r
LEFT JOIN owners o ON o.system = r.behind
WHERE r.rank <= 5
