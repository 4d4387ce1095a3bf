-- sync_command_status: where each force-sync command stands on each
-- system (platform, erp, wms, crm): `pending` until a connector
-- acknowledges it, then the outcome of its latest acknowledgement
-- (`applied` or `failed`; a failed one is retried and acknowledged again).
-- Connectors consume the rows whose state is not `applied`.
-- Grain: (command_id, system). Inputs: sync_commands, sync_acks.
-- Maintained by: command_id
CREATE VIEW sync_command_status AS
WITH systems AS (
    SELECT system
    FROM (VALUES ('platform'), ('erp'), ('wms'), ('crm')) AS v(system)
),
latest AS (
    SELECT command_id, system,
           first_value(outcome ORDER BY arrived_at DESC, outcome) AS outcome,
           first_value(detail ORDER BY arrived_at DESC, outcome) AS detail,
           max(arrived_at) AS acked_at
    FROM sync_acks
    GROUP BY command_id, system
)
SELECT c.command_id, c.channel, c.order_id, c.status, s.system,
       coalesce(l.outcome, 'pending') AS state, l.detail, l.acked_at,
       c.arrived_at AS requested_at, c.actor AS requested_by, c.reason
FROM sync_commands c
CROSS JOIN systems s
LEFT JOIN latest l ON l.command_id = c.command_id AND l.system = s.system
