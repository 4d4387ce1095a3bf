-- order_holds: the review queue of orders a fraud rule holds before
-- shipping, and how each was decided.
-- Grain: (channel, order_id, rule). Inputs: holds_placed, order_risk,
-- hold_decisions.
-- A hold is placed when order_risk holds the order (held); the server
-- records it (holds_placed) when it first sees it, so the hold stays after
-- the order ships or the data that raised it changes. held_at is when it
-- was recorded (report_config.now for a hold not recorded yet). state:
-- held until a decision, then released (free to ship) or confirmed (fraud:
-- never ships); the latest decision on the order stands for every rule
-- that holds it.
CREATE VIEW order_holds AS
WITH placed AS (
    SELECT channel, order_id, rule,
           first_value(detail ORDER BY arrived_at) AS detail,
           min(arrived_at) AS held_at
    FROM holds_placed
    GROUP BY channel, order_id, rule
), seen AS (
    SELECT * FROM placed
    UNION ALL
    SELECT r.channel, r.order_id, r.rule, r.detail, c.now
    FROM order_risk r
    CROSS JOIN report_config c
    LEFT JOIN placed p
      ON p.channel = r.channel AND p.order_id = r.order_id AND p.rule = r.rule
    WHERE r.held AND p.order_id IS NULL
), decided AS (
    SELECT channel, order_id, decision, note, actor, role, arrived_at
    FROM (SELECT *, row_number() OVER (PARTITION BY channel, order_id
                                       ORDER BY arrived_at DESC, decision) AS recency
          FROM hold_decisions)
    WHERE recency = 1
)
SELECT s.channel,
       s.order_id,
       s.rule,
       s.detail,
       s.held_at,
       CASE d.decision WHEN 'release' THEN 'released'
                       WHEN 'confirm' THEN 'confirmed'
                       ELSE 'held' END AS state,
       d.actor AS decided_by,
       d.role AS decided_by_role,
       d.arrived_at AS decided_at,
       d.note
FROM seen s
LEFT JOIN decided d ON d.channel = s.channel AND d.order_id = s.order_id
