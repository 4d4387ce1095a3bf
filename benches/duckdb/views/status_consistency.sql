-- The pure-SQL (ordered aggregate) formulation of queries/views/
-- status_consistency.sql, before each system's latest report moved into
-- the UDF system_statuses; benches/duckdb/views.py runs this one in DuckDB.
--
-- status_consistency: per order, what each system (platform, ERP, WMS, CRM)
-- says last, and whether they agree.
-- Grain: (channel, order_id). Inputs: status_events, report_config. UDFs: none.
-- Drift: the systems' latest statuses differ (codes compared trimmed and
-- lower-case), or their latest updated_at, or confirmed_at, lie more than
-- report_config.drift_tolerance_seconds apart (exactly the tolerance is not
-- drift). An order reported by one system only is consistent. (Ingest
-- admits no other system.)
-- Maintained by: channel, order_id
CREATE VIEW status_consistency AS
WITH latest AS (
    -- Each system's latest report: ordered aggregates, not a row_number()
    -- window, which costs several times more over millions of orders. Ties
    -- on updated_at go to the later confirmed_at, then the smaller status.
    SELECT channel,
           order_id,
           system,
           first_value(lower(trim(status_code)) ORDER BY updated_at DESC,
               confirmed_at DESC NULLS LAST, lower(trim(status_code))) AS status,
           max(updated_at) AS updated_at,
           first_value(confirmed_at ORDER BY updated_at DESC,
               confirmed_at DESC NULLS LAST, lower(trim(status_code))) AS confirmed_at,
           min(updated_at) AS first_event_at
    FROM status_events
    GROUP BY channel, order_id, system
), per_order AS (
    SELECT channel,
           order_id,
           min(first_event_at) AS first_event_at,
           max(CASE WHEN system = 'platform' THEN status END) AS platform_status,
           max(CASE WHEN system = 'platform' THEN updated_at END) AS platform_updated_at,
           max(CASE WHEN system = 'platform' THEN confirmed_at END) AS platform_confirmed_at,
           max(CASE WHEN system = 'erp' THEN status END) AS erp_status,
           max(CASE WHEN system = 'erp' THEN updated_at END) AS erp_updated_at,
           max(CASE WHEN system = 'erp' THEN confirmed_at END) AS erp_confirmed_at,
           max(CASE WHEN system = 'wms' THEN status END) AS wms_status,
           max(CASE WHEN system = 'wms' THEN updated_at END) AS wms_updated_at,
           max(CASE WHEN system = 'wms' THEN confirmed_at END) AS wms_confirmed_at,
           max(CASE WHEN system = 'crm' THEN status END) AS crm_status,
           max(CASE WHEN system = 'crm' THEN updated_at END) AS crm_updated_at,
           max(CASE WHEN system = 'crm' THEN confirmed_at END) AS crm_confirmed_at,
           count(*) AS systems,
           -- More than one status exactly when min and max differ; a
           -- DISTINCT count per order is far slower over millions of orders.
           min(status) <> max(status) AS statuses_differ,
           -- By system name; an ordered string_agg costs more than the rest.
           concat_ws(', ',
               'crm=' || max(CASE WHEN system = 'crm' THEN status END),
               'erp=' || max(CASE WHEN system = 'erp' THEN status END),
               'platform=' || max(CASE WHEN system = 'platform' THEN status END),
               'wms=' || max(CASE WHEN system = 'wms' THEN status END)) AS status_by_system,
           max(date_part('epoch', updated_at)) - min(date_part('epoch', updated_at)) AS updated_skew,
           coalesce(max(date_part('epoch', confirmed_at)) - min(date_part('epoch', confirmed_at)), 0) AS confirmed_skew
    FROM latest
    GROUP BY channel, order_id
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
FROM per_order p
CROSS JOIN report_config c
