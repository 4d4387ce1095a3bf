-- identity_links: which identifiers a customer holds, and over what time.
-- Grain: (mcid, kind, value). Inputs: order_identifiers. UDFs: none.
-- A recycled phone appears under two MCIDs with disjoint time spans.
-- Maintained by: mcid
CREATE VIEW identity_links AS
SELECT mcid,
       kind,
       value,
       min(ordered_at) AS first_seen,
       max(ordered_at) AS last_seen,
       count(*) AS orders
FROM order_identifiers
WHERE used
GROUP BY mcid, kind, value
