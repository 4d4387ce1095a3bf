-- identity_evidence: why each customer is what it is. Per MCID, every
-- identifier seen on its orders: linked (and which orders it linked), or
-- refused and why (shared, placeholder, blocklisted, masked, virtual,
-- invalid), or split (held by several customers: a recycled phone, a family
-- device, a conflict between two people's identifiers); and every
-- correction in force that holds some of its orders (kind `correction`,
-- value its number, decision `corrected`, rule `manual_split` or
-- `manual_merge`, detail who made it and why).
-- Grain: (mcid, kind, value, rule). Inputs: order_identifiers. UDFs: none.
-- Maintained by: mcid
CREATE VIEW identity_evidence AS
SELECT mcid,
       kind,
       value,
       CASE WHEN kind = 'correction' THEN 'corrected'
            WHEN used THEN 'linked'
            ELSE 'refused' END AS decision,
       rule,
       detail,
       count(*) AS orders,
       array_sort(array_agg(channel || ':' || order_id)) AS order_keys,
       min(ordered_at) AS first_seen,
       max(ordered_at) AS last_seen
FROM order_identifiers
GROUP BY mcid, kind, value, used, rule, detail
