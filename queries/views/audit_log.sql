-- audit_log: every action taken through the API, who took it (user and
-- role) and when: force-sync commands, their acknowledgements, MCID
-- write-back acknowledgements, hold decisions, alert silences,
-- corrections of identity and their undoing, erasures (requested and
-- completed), and what
-- the server does itself (actor `ordergraph`, role `system`): holds placed
-- and every attempt to deliver an alert. Each action is one
-- durable row of its own table, so an action and its audit entry cannot
-- part: this view reads them, it keeps no copy. A repeated identical
-- request is no new action.
-- Grain: one row per action. Inputs: sync_commands, sync_acks,
-- writeback_acks, holds_placed, hold_decisions, alert_silences,
-- alert_attempts, identity_corrections, erasure_steps.
CREATE VIEW audit_log AS
SELECT arrived_at AS at, actor, role, 'force_sync' AS action,
       channel || ':' || order_id AS target,
       concat_ws(' ', 'command=' || command_id, 'status=' || status,
                 'tracking_no=' || tracking_no, 'wms_outbound_id=' || wms_outbound_id,
                 'crm_delivery_node=' || crm_delivery_node, 'waived=' || waived,
                 'reason=' || reason) AS detail
FROM sync_commands
UNION ALL
SELECT arrived_at, actor, role, 'sync_ack', command_id,
       concat_ws(' ', 'system=' || system, 'outcome=' || outcome, 'detail=' || detail)
FROM sync_acks
UNION ALL
SELECT arrived_at, actor, role, 'writeback_ack', channel || ':' || order_id,
       'note=MCID:' || mcid
FROM writeback_acks
UNION ALL
SELECT arrived_at, 'ordergraph', 'system', 'hold_placed', channel || ':' || order_id,
       concat_ws(' ', 'rule=' || rule, 'detail=' || detail)
FROM holds_placed
UNION ALL
SELECT arrived_at, actor, role, 'hold_' || decision, channel || ':' || order_id,
       'note=' || note
FROM hold_decisions
UNION ALL
SELECT arrived_at, actor, role, 'alert_silence',
       coalesce(alert, '*') || ':' || coalesce(alert_key, '*'),
       concat_ws(' ', 'silence=' || silence_id, 'until=' || CAST(ends_at AS VARCHAR),
                 'reason=' || reason)
FROM alert_silences
UNION ALL
SELECT arrived_at, 'ordergraph', 'system', 'alert_' || outcome, target,
       concat_ws(' ', 'notification=' || notification_id,
                 'attempt=' || CAST(attempt AS VARCHAR), 'error=' || error)
FROM alert_attempts
UNION ALL
SELECT arrived_at, actor, role, 'identity_' || action,
       coalesce(mcid, kind || ':' || value, 'correction ' || CAST(undoes AS VARCHAR)),
       concat_ws(' ', 'correction=' || CAST(correction_id AS VARCHAR), 'ticket=' || ticket,
                 'reason=' || reason)
FROM identity_corrections
UNION ALL
SELECT arrived_at, actor, role, 'erase_' || step, mcid,
       concat_ws(' ', 'request=' || request_id, 'reason=' || reason)
FROM erasure_steps
