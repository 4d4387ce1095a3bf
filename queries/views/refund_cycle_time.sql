-- refund_cycle_time: application to payout, per month ('YYYY-MM', in the
-- business time zone) of the payout.
-- Grain: month. Inputs: refund_requests, refund_events.
-- A refund is paid out at its first `complete` event; refunds not yet
-- complete are not counted. Percentiles are interpolated (percentile_cont).
CREATE VIEW refund_cycle_time AS
WITH paid AS (
    SELECT refund_id, min(at) AS paid_at
    FROM refund_events
    WHERE action = 'complete'
    GROUP BY refund_id
), cycles AS (
    SELECT p.paid_at,
           (date_part('epoch', p.paid_at) - date_part('epoch', r.requested_at)) / 3600.0 AS hours
    FROM paid p
    JOIN refund_requests r ON r.refund_id = p.refund_id
)
SELECT to_char(business_time(paid_at), '%Y-%m') AS month,
       count(*) AS refunds,
       avg(hours) AS avg_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90_hours
FROM cycles
GROUP BY to_char(business_time(paid_at), '%Y-%m')
