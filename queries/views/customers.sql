-- customers: one row per live MCID; `erased_at` when its personal
-- information was erased (the MCID stays, as a tombstone).
-- Grain: customer. Inputs: orders, order_identifiers, erasure_steps. UDFs: none.
-- Identifier counts include only identifiers that linked (used), so a
-- masked phone or a shared device does not count as a contact.
-- Maintained by: mcid
CREATE VIEW customers AS
WITH per_order AS (
    SELECT mcid,
           min(ordered_at) AS first_order_at,
           max(ordered_at) AS last_order_at,
           count(*) AS orders,
           array_sort(array_distinct(array_agg(channel))) AS channels,
           sum(amount) AS total_amount
    FROM orders
    GROUP BY mcid
), per_identifier AS (
    -- Distinct values first, then plain counts: a DISTINCT aggregate per
    -- customer is far slower over ~1M customers.
    SELECT mcid,
           sum(CASE WHEN kind = 'unionid' THEN 1 ELSE 0 END) AS unionids,
           sum(CASE WHEN kind = 'phone' THEN 1 ELSE 0 END) AS phones,
           sum(CASE WHEN kind = 'email' THEN 1 ELSE 0 END) AS emails,
           sum(CASE WHEN kind = 'device' THEN 1 ELSE 0 END) AS devices,
           sum(CASE WHEN kind = 'account' THEN 1 ELSE 0 END) AS accounts
    FROM (SELECT DISTINCT mcid, kind, value FROM order_identifiers WHERE used)
    GROUP BY mcid
)
SELECT o.mcid,
       o.first_order_at,
       o.last_order_at,
       o.orders,
       o.channels,
       o.total_amount,
       coalesce(i.unionids, 0) AS unionids,
       coalesce(i.phones, 0) AS phones,
       coalesce(i.emails, 0) AS emails,
       coalesce(i.devices, 0) AS devices,
       coalesce(i.accounts, 0) AS accounts,
       e.erased_at
FROM per_order o
LEFT JOIN per_identifier i ON o.mcid = i.mcid
LEFT JOIN (SELECT mcid, min(arrived_at) AS erased_at FROM erasure_steps
           WHERE step = 'requested' GROUP BY mcid) e
  ON o.mcid = e.mcid
