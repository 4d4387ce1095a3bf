-- drift_rate_monthly: share of orders whose systems disagree, by the month
-- ('YYYY-MM', in the business time zone) of the order's first status event.
-- Grain: month. Inputs: status_consistency. UDFs: business_time.
CREATE VIEW drift_rate_monthly AS
SELECT to_char(business_time(first_event_at), '%Y-%m') AS month,
       count(*) AS orders,
       sum(CASE WHEN consistent THEN 0 ELSE 1 END) AS drifted,
       CAST(sum(CASE WHEN consistent THEN 0 ELSE 1 END) AS DOUBLE) / count(*) AS drift_rate
FROM status_consistency
GROUP BY to_char(business_time(first_event_at), '%Y-%m')
