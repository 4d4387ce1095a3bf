-- refund_node_dwell: one row per refund and node it reached: when it entered,
-- when it left, how long it dwelt, and how it left.
-- Grain: (refund_id, node). Inputs: refund_events, refund_nodes, report_config.
-- UDFs: last_by.
-- entered_at is the first `enter` (or the first event, when the node was
-- never formally entered). The node is left by its last decisive event
-- (approve, complete, reject, skip, manual); a node entered again after that
-- event (re-submitted after a rejection), or never decided, is open, and its
-- dwell runs to report_config.now. outcome: approved (approve or complete),
-- rejected, skipped, manual; NULL while open. note is the decisive event's
-- note (the reason of a skip or a manual override).
-- Maintained by: refund_id
-- Refreshed every: 5m (an open node's dwell grows with the report clock)
CREATE VIEW refund_node_dwell AS
WITH decisive AS (
    -- The last decisive event; of two at one instant, the action first in
    -- alphabetical order (approve, complete, manual, reject, skip).
    SELECT refund_id, node,
           last_by(named_struct('action', action, 'actor', actor, 'actor_role', actor_role,
                                'at', at, 'note', note),
                   named_struct('at', at,
                                'precedence', CASE action WHEN 'approve' THEN 5
                                                          WHEN 'complete' THEN 4
                                                          WHEN 'manual' THEN 3
                                                          WHEN 'reject' THEN 2
                                                          ELSE 1 END)) AS decision
    FROM refund_events
    WHERE action IN ('approve', 'complete', 'reject', 'skip', 'manual')
    GROUP BY refund_id, node
), per_node AS (
    SELECT refund_id,
           node,
           coalesce(min(CASE WHEN action = 'enter' THEN at END), min(at)) AS entered_at,
           max(CASE WHEN action = 'enter' THEN at END) AS last_entered_at,
           sum(CASE WHEN action = 'reject' THEN 1 ELSE 0 END) AS rejections,
           sum(CASE WHEN action = 'escalate' THEN 1 ELSE 0 END) AS escalations,
           bool_or(action = 'manual') AS manual
    FROM refund_events
    GROUP BY refund_id, node
), decided AS (
    SELECT p.*,
           d.decision['action'] AS last_action,
           d.decision['at'] AS decided_at,
           d.decision['actor'] AS actor,
           d.decision['actor_role'] AS actor_role,
           d.decision['note'] AS note,
           d.decision['at'] IS NULL OR p.last_entered_at > d.decision['at'] AS open
    FROM per_node p
    LEFT JOIN decisive d ON d.refund_id = p.refund_id AND d.node = p.node
)
SELECT d.refund_id,
       d.node,
       n.position,
       d.entered_at,
       CASE WHEN d.open THEN NULL ELSE d.decided_at END AS left_at,
       (date_part('epoch', CASE WHEN d.open THEN c.now ELSE d.decided_at END)
        - date_part('epoch', d.entered_at)) / 3600.0 AS dwell_hours,
       d.open,
       CASE WHEN d.open THEN NULL
            WHEN d.last_action IN ('approve', 'complete') THEN 'approved'
            WHEN d.last_action = 'reject' THEN 'rejected'
            WHEN d.last_action = 'skip' THEN 'skipped'
            ELSE 'manual' END AS outcome,
       CASE WHEN d.open THEN NULL ELSE d.note END AS note,
       CASE WHEN d.open THEN NULL ELSE d.actor END AS decided_by,
       CASE WHEN d.open THEN NULL ELSE d.actor_role END AS decided_by_role,
       d.rejections,
       d.escalations,
       d.manual,
       n.timeout_hours,
       n.approver_role
FROM decided d
CROSS JOIN report_config c
LEFT JOIN refund_nodes n ON n.node = d.node
