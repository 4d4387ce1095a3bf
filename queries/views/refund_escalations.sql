-- refund_escalations: open refunds stuck at a node, with whom to notify.
-- Grain: (refund_id, node). Inputs: refund_node_dwell, refund_requests,
-- refund_template_nodes, refund_nodes, refund_events, report_config. UDF:
-- last_by.
-- A refund is stuck in a node it entered and nobody decided, or stuck
-- before the node its path expects next when nobody entered it (the
-- previous node approved, skipped or overridden, "approved, and finance
-- never paid"; or applied for and the first node never entered): it then
-- waits since the previous node was left (or since it was requested), and
-- awaiting_entry says so. A refund rejected for good, completed (a
-- `complete` event), or at the end of its path waits for nothing.
-- Stuck for at least escalate_group_lead_hours (2) goes to the group lead
-- (tier '2h'), at least escalate_director_hours (4) to the finance
-- director ('4h'), at least escalate_ticket_hours (24) becomes a ticket
-- ('24h'); exactly 2 h is escalated.
CREATE VIEW refund_escalations AS
WITH completed AS (
    SELECT DISTINCT refund_id FROM refund_events WHERE action = 'complete'
), in_node AS (
    SELECT d.refund_id, d.node, d.entered_at, d.dwell_hours, d.escalations,
           d.timeout_hours, d.approver_role, FALSE AS awaiting_entry
    FROM refund_node_dwell d
    LEFT JOIN completed done ON done.refund_id = d.refund_id
    WHERE d.open AND done.refund_id IS NULL
), reached AS (
    -- How far each refund got, and the outcome of the node it left last.
    SELECT r.refund_id,
           r.requested_at,
           coalesce(max(d.position), 0) AS position,
           max(d.left_at) AS left_at,
           coalesce(bool_or(d.open), FALSE) AS any_open,
           last_by(d.outcome, named_struct('left_at', d.left_at, 'position', d.position))
               FILTER (WHERE NOT d.open) AS last_outcome
    FROM refund_requests r
    LEFT JOIN refund_node_dwell d ON d.refund_id = r.refund_id
    GROUP BY r.refund_id, r.requested_at
), next_position AS (
    SELECT r.refund_id, min(t.position) AS position
    FROM reached r
    JOIN refund_template_nodes t ON t.refund_id = r.refund_id AND t.position > r.position
    GROUP BY r.refund_id
), awaiting AS (
    SELECT r.refund_id,
           t.node,
           coalesce(r.left_at, r.requested_at) AS entered_at,
           (date_part('epoch', c.now) - date_part('epoch', coalesce(r.left_at, r.requested_at))) / 3600.0 AS dwell_hours,
           CAST(0 AS BIGINT) AS escalations,
           n.timeout_hours,
           n.approver_role,
           TRUE AS awaiting_entry
    FROM reached r
    JOIN next_position x ON x.refund_id = r.refund_id
    JOIN refund_template_nodes t ON t.refund_id = x.refund_id AND t.position = x.position
    CROSS JOIN report_config c
    LEFT JOIN refund_nodes n ON n.node = t.node
    LEFT JOIN completed done ON done.refund_id = r.refund_id
    WHERE NOT r.any_open
      AND done.refund_id IS NULL
      AND r.last_outcome IS DISTINCT FROM 'rejected'
), stuck AS (
    SELECT * FROM in_node
    UNION ALL
    SELECT * FROM awaiting
)
SELECT s.refund_id,
       r.channel,
       r.order_id,
       r.amount,
       s.node,
       s.entered_at,
       s.dwell_hours AS stuck_hours,
       CASE WHEN s.dwell_hours >= c.escalate_ticket_hours THEN '24h'
            WHEN s.dwell_hours >= c.escalate_director_hours THEN '4h'
            ELSE '2h' END AS tier,
       CASE WHEN s.dwell_hours >= c.escalate_ticket_hours THEN 'ticket'
            WHEN s.dwell_hours >= c.escalate_director_hours THEN 'finance_director'
            ELSE 'group_lead' END AS notify_role,
       s.approver_role,
       s.escalations AS escalations_logged,
       s.dwell_hours > s.timeout_hours AS over_timeout,
       s.awaiting_entry
FROM stuck s
CROSS JOIN report_config c
LEFT JOIN refund_requests r ON r.refund_id = s.refund_id
WHERE s.dwell_hours >= c.escalate_group_lead_hours
