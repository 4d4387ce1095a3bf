-- status_consistency: per order, what each system (platform, ERP, WMS, CRM)
-- says last, and whether they agree.
-- Grain: (channel, order_id). Inputs: status_events, report_config.
-- UDFs: system_statuses (each system's latest report; DuckDB runs the same
-- view with ordered aggregates, benches/duckdb/views/status_consistency.sql).
-- Drift: the systems' latest statuses differ (codes compared trimmed and
-- lower-case), or their latest updated_at, or confirmed_at, lie more than
-- report_config.drift_tolerance_seconds apart (exactly the tolerance is not
-- drift). An order reported by one system only is consistent. (Ingest
-- admits no other system.)
-- Maintained by: channel, order_id
CREATE VIEW status_consistency AS
WITH per_order AS (
    -- Each system's latest report: ties on updated_at go to the later
    -- confirmed_at, then the smaller status.
    SELECT channel,
           order_id,
           min(updated_at) AS first_event_at,
           system_statuses(array_agg(named_struct(
               'system', system,
               'status', lower(trim(status_code)),
               'updated_at', updated_at,
               'confirmed_at', confirmed_at))) AS s
    FROM status_events
    GROUP BY channel, order_id
), latest AS (
    SELECT channel,
           order_id,
           first_event_at,
           s['platform_status'] AS platform_status,
           s['platform_updated_at'] AS platform_updated_at,
           s['platform_confirmed_at'] AS platform_confirmed_at,
           s['erp_status'] AS erp_status,
           s['erp_updated_at'] AS erp_updated_at,
           s['erp_confirmed_at'] AS erp_confirmed_at,
           s['wms_status'] AS wms_status,
           s['wms_updated_at'] AS wms_updated_at,
           s['wms_confirmed_at'] AS wms_confirmed_at,
           s['crm_status'] AS crm_status,
           s['crm_updated_at'] AS crm_updated_at,
           s['crm_confirmed_at'] AS crm_confirmed_at
    FROM per_order
), compared AS (
    SELECT *,
           CASE WHEN platform_status IS NULL THEN 0 ELSE 1 END
               + CASE WHEN erp_status IS NULL THEN 0 ELSE 1 END
               + CASE WHEN wms_status IS NULL THEN 0 ELSE 1 END
               + CASE WHEN crm_status IS NULL THEN 0 ELSE 1 END AS systems,
           -- least and greatest skip the systems that did not report.
           least(platform_status, erp_status, wms_status, crm_status)
               <> greatest(platform_status, erp_status, wms_status, crm_status) AS statuses_differ,
           concat_ws(', ',
               'crm=' || crm_status,
               'erp=' || erp_status,
               'platform=' || platform_status,
               'wms=' || wms_status) AS status_by_system,
           greatest(date_part('epoch', platform_updated_at), date_part('epoch', erp_updated_at),
                    date_part('epoch', wms_updated_at), date_part('epoch', crm_updated_at))
               - least(date_part('epoch', platform_updated_at), date_part('epoch', erp_updated_at),
                       date_part('epoch', wms_updated_at), date_part('epoch', crm_updated_at))
               AS updated_skew,
           coalesce(greatest(date_part('epoch', platform_confirmed_at), date_part('epoch', erp_confirmed_at),
                             date_part('epoch', wms_confirmed_at), date_part('epoch', crm_confirmed_at))
                    - least(date_part('epoch', platform_confirmed_at), date_part('epoch', erp_confirmed_at),
                            date_part('epoch', wms_confirmed_at), date_part('epoch', crm_confirmed_at)),
                    0) AS confirmed_skew
    FROM latest
)
SELECT p.channel,
       p.order_id,
       p.first_event_at,
       p.platform_status, p.platform_updated_at, p.platform_confirmed_at,
       p.erp_status, p.erp_updated_at, p.erp_confirmed_at,
       p.wms_status, p.wms_updated_at, p.wms_confirmed_at,
       p.crm_status, p.crm_updated_at, p.crm_confirmed_at,
       p.systems,
       NOT p.statuses_differ
           AND p.updated_skew <= c.drift_tolerance_seconds
           AND p.confirmed_skew <= c.drift_tolerance_seconds AS consistent,
       greatest(p.updated_skew, p.confirmed_skew) AS max_skew_seconds,
       concat_ws('; ',
           CASE WHEN p.statuses_differ THEN 'status differs: ' || p.status_by_system END,
           CASE WHEN p.updated_skew > c.drift_tolerance_seconds
                THEN 'updated_at ' || CAST(p.updated_skew AS VARCHAR) || ' s apart' END,
           CASE WHEN p.confirmed_skew > c.drift_tolerance_seconds
                THEN 'confirmed_at ' || CAST(p.confirmed_skew AS VARCHAR) || ' s apart' END
       ) AS drift
FROM compared p
CROSS JOIN report_config c
