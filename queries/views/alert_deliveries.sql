-- alert_deliveries: each notification of an alert to a target, and how
-- its delivery stands. state: pending (recorded, not tried yet), failed
-- (tried, to be tried again), sent, gave_up (after [alerts] max_attempts,
-- or refused for good by the target). error is the last failed attempt's
-- while not sent.
-- Grain: (notification_id, target). Inputs: alert_notifications,
-- alert_attempts.
CREATE VIEW alert_deliveries AS
WITH tries AS (
    SELECT notification_id,
           target,
           count(*) AS attempts,
           max(arrived_at) AS last_at,
           bool_or(outcome = 'sent') AS sent,
           bool_or(outcome = 'gave_up') AS gave_up,
           last_value(error ORDER BY attempt) AS error
    FROM alert_attempts
    GROUP BY notification_id, target
)
SELECT n.notification_id,
       n.alert,
       n.alert_key,
       n.transition,
       n.severity,
       n.title,
       n.route,
       n.target,
       CASE WHEN t.sent THEN 'sent'
            WHEN t.gave_up THEN 'gave_up'
            WHEN t.attempts > 0 THEN 'failed'
            ELSE 'pending' END AS state,
       coalesce(t.attempts, 0) AS attempts,
       n.arrived_at AS first_at,
       coalesce(t.last_at, n.arrived_at) AS last_at,
       CASE WHEN t.sent THEN NULL ELSE t.error END AS error,
       n.fired_at
FROM alert_notifications n
LEFT JOIN tries t ON t.notification_id = n.notification_id AND t.target = n.target
WHERE n.target IS NOT NULL
