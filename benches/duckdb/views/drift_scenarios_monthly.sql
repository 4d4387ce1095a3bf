-- The pure-SQL (window function) formulation of queries/views/
-- drift_scenarios_monthly.sql, before its replay moved into the UDF
-- status_episodes; benches/duckdb/views.py runs this one in DuckDB.
--
-- drift_scenarios_monthly: the top 5 ways systems disagree, per month (UTC,
-- 'YYYY-MM') in which the disagreement started.
-- Grain: (month, rank). Inputs: status_events, system_owners, report_config.
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
WITH events AS (
    -- Two reports of one system at one instant resolve to the smaller
    -- status, as status_episodes and status_consistency pick them; without
    -- this, which one last_value sees depends on the sort's tie order.
    SELECT channel, order_id, system, min(lower(trim(status_code))) AS status, updated_at AS at
    FROM status_events
    GROUP BY channel, order_id, system, updated_at
), states AS (
    -- Each system's status, and when it got it, as of each event time.
    SELECT DISTINCT channel, order_id, at,
           last_value(CASE WHEN system = 'platform' THEN status END) IGNORE NULLS OVER w AS platform,
           last_value(CASE WHEN system = 'platform' THEN at END) IGNORE NULLS OVER w AS platform_at,
           last_value(CASE WHEN system = 'erp' THEN status END) IGNORE NULLS OVER w AS erp,
           last_value(CASE WHEN system = 'erp' THEN at END) IGNORE NULLS OVER w AS erp_at,
           last_value(CASE WHEN system = 'wms' THEN status END) IGNORE NULLS OVER w AS wms,
           last_value(CASE WHEN system = 'wms' THEN at END) IGNORE NULLS OVER w AS wms_at,
           last_value(CASE WHEN system = 'crm' THEN status END) IGNORE NULLS OVER w AS crm,
           last_value(CASE WHEN system = 'crm' THEN at END) IGNORE NULLS OVER w AS crm_at
    FROM events
    WINDOW w AS (PARTITION BY channel, order_id ORDER BY at
                 RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), pairs AS (
    -- The first disagreeing pair; NULL <> x is not a disagreement.
    SELECT *,
           CASE WHEN platform <> erp OR platform <> wms OR platform <> crm THEN 'platform'
                WHEN erp <> wms OR erp <> crm THEN 'erp'
                WHEN wms <> crm THEN 'wms' END AS system_a,
           CASE WHEN platform <> erp THEN 'erp'
                WHEN platform <> wms OR erp <> wms THEN 'wms'
                WHEN platform <> crm OR erp <> crm OR wms <> crm THEN 'crm' END AS system_b
    FROM states
), points AS (
    SELECT channel, order_id, at, system_a, system_b,
           system_a IS NOT NULL AS disagree,
           CASE system_a WHEN 'platform' THEN platform WHEN 'erp' THEN erp ELSE wms END AS status_a,
           CASE system_a WHEN 'platform' THEN platform_at WHEN 'erp' THEN erp_at ELSE wms_at END AS at_a,
           CASE system_b WHEN 'erp' THEN erp WHEN 'wms' THEN wms ELSE crm END AS status_b,
           CASE system_b WHEN 'erp' THEN erp_at WHEN 'wms' THEN wms_at ELSE crm_at END AS at_b,
           lag(system_a IS NOT NULL) OVER o AS disagreed_before,
           lead(at) OVER o AS next_at
    FROM pairs
    WINDOW o AS (PARTITION BY channel, order_id ORDER BY at)
), numbered AS (
    SELECT *,
           sum(CASE WHEN disagree AND NOT coalesce(disagreed_before, FALSE) THEN 1 ELSE 0 END)
               OVER (PARTITION BY channel, order_id ORDER BY at ROWS UNBOUNDED PRECEDING) AS episode
    FROM points
), episode_ends AS (
    SELECT *,
           min(at) OVER (PARTITION BY channel, order_id, episode) AS started_at,
           row_number() OVER (PARTITION BY channel, order_id, episode ORDER BY at DESC) AS from_end
    FROM numbered
    WHERE disagree
), episodes AS (
    -- next_at of the last disagreeing moment is when all agreed again.
    SELECT e.channel, e.order_id, e.started_at, e.next_at AS repaired_at,
           CASE WHEN e.at_a >= e.at_b THEN e.system_a ELSE e.system_b END AS ahead,
           CASE WHEN e.at_a >= e.at_b THEN e.status_a ELSE e.status_b END AS ahead_status,
           CASE WHEN e.at_a >= e.at_b THEN e.system_b ELSE e.system_a END AS behind,
           CASE WHEN e.at_a >= e.at_b THEN e.status_b ELSE e.status_a END AS behind_status,
           date_part('epoch', coalesce(e.next_at, c.now)) - date_part('epoch', e.started_at) AS lasted_seconds
    FROM episode_ends e
    CROSS JOIN report_config c
    WHERE e.from_end = 1
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
