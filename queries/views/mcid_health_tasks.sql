-- mcid_health_tasks(mcid, problem, detail): customer records a person
-- should look at.
-- Grain: (mcid, problem, detail). Inputs: order_identifiers, orders,
-- email_status, report_config. UDFs: normalize_email, phone_kind.
-- problem:
-- * newer_phone: the phone on the customer's latest order is not the one
--   used on most orders (ties go to the more recent); the primary phone
--   is probably out of date.
-- * email_bounced / email_disabled: the latest status (at or before
--   report_config.now) of one of the customer's emails; of two statuses
--   at the same time, sent together, bounced wins over disabled over ok.
-- * masked_phone_only: no phone, email or unionID that links, only
--   masked phones (138****5678): the customer cannot be reached.
-- Maintained by: mcid
-- Refreshed every: 1h (an email status dated after the report clock counts once the clock passes it)
CREATE VIEW mcid_health_tasks AS
WITH phones AS (
    SELECT mcid, value AS phone, count(*) AS orders, max(ordered_at) AS last_used
    FROM order_identifiers
    WHERE used AND kind = 'phone'
    GROUP BY mcid, value
), ranked_phones AS (
    SELECT *,
           row_number() OVER (PARTITION BY mcid ORDER BY orders DESC, last_used DESC, phone) AS by_use,
           row_number() OVER (PARTITION BY mcid ORDER BY last_used DESC, phone) AS by_recency
    FROM phones
), newer_phone AS (
    SELECT m.mcid,
           'newer_phone' AS problem,
           'latest orders use ' || r.phone || ' (since ' || to_char(r.last_used, '%Y-%m-%d')
               || '), most orders use ' || m.phone || ' (' || CAST(m.orders AS VARCHAR) || ' orders)' AS detail
    FROM ranked_phones m
    JOIN ranked_phones r ON r.mcid = m.mcid AND r.by_recency = 1
    WHERE m.by_use = 1 AND r.phone <> m.phone
), email_states AS (
    SELECT email, status, at
    FROM (SELECT normalize_email(s.email) AS email, s.status, s.at,
                 row_number() OVER (PARTITION BY normalize_email(s.email)
                                    ORDER BY s.at DESC, s.arrived_at DESC, s.status) AS recency
          FROM email_status s
          CROSS JOIN report_config c
          WHERE s.at <= c.now)
    WHERE recency = 1 AND email IS NOT NULL
), bad_email AS (
    SELECT DISTINCT i.mcid,
           'email_' || e.status AS problem,
           i.value || ' ' || e.status || ' at ' || to_char(e.at, '%Y-%m-%dT%H:%M:%SZ') AS detail
    FROM order_identifiers i
    JOIN email_states e ON e.email = i.value
    WHERE i.used AND i.kind = 'email' AND e.status IN ('bounced', 'disabled')
), reachable AS (
    SELECT DISTINCT mcid
    FROM order_identifiers
    WHERE used AND kind IN ('phone', 'email', 'unionid')
), masked_only AS (
    SELECT o.mcid,
           'masked_phone_only' AS problem,
           'only contact: ' || array_to_string(array_sort(array_agg(DISTINCT trim(o.phone))), ', ') AS detail
    FROM orders o
    LEFT JOIN reachable r ON r.mcid = o.mcid
    WHERE r.mcid IS NULL AND phone_kind(o.phone) = 'masked'
    GROUP BY o.mcid
)
SELECT mcid, problem, detail FROM newer_phone
UNION ALL
SELECT mcid, problem, detail FROM bad_email
UNION ALL
SELECT mcid, problem, detail FROM masked_only
