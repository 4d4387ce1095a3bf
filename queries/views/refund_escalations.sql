-- refund_escalations: open refunds stuck at a node, with whom to notify.
-- Grain: (refund_id, node). Inputs: refund_node_dwell, refund_requests, report_config.
-- A refund open at a node for at least escalate_group_lead_hours (2) goes to
-- the group lead (tier '2h'), at least escalate_director_hours (4) to the
-- finance director ('4h'), at least escalate_ticket_hours (24) becomes a
-- ticket ('24h'); exactly 2 h is escalated. A refund that has completed
-- (a `complete` event) is never stuck.
CREATE VIEW refund_escalations AS
WITH completed AS (
    SELECT DISTINCT refund_id FROM refund_events WHERE action = 'complete'
), stuck AS (
    SELECT d.*
    FROM refund_node_dwell d
    LEFT JOIN completed done ON done.refund_id = d.refund_id
    WHERE d.open AND done.refund_id IS NULL
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
       s.dwell_hours > s.timeout_hours AS over_timeout
FROM stuck s
CROSS JOIN report_config c
LEFT JOIN refund_requests r ON r.refund_id = s.refund_id
WHERE s.dwell_hours >= c.escalate_group_lead_hours
