-- erasures: one row per customer whose personal information was erased
-- on request: when it was asked for and by whom, why, the request's id,
-- the orders erased (a JSON array of `[channel, order_id]` pairs), and
-- when nothing on disk held the values any more (`completed_at`; NULL
-- while an erasure cut short waits for the next start to finish it).
-- Grain: one row per erasure. Inputs: erasure_steps. UDFs: none.
CREATE VIEW erasures AS
SELECT r.mcid,
       r.request_id,
       r.arrived_at AS requested_at,
       c.completed_at,
       r.actor,
       r.role,
       r.reason,
       r.orders
FROM erasure_steps r
LEFT JOIN (SELECT mcid, min(arrived_at) AS completed_at
           FROM erasure_steps WHERE step = 'completed' GROUP BY mcid) c
  ON r.mcid = c.mcid
WHERE r.step = 'requested'
