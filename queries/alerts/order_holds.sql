-- description: orders a fraud rule holds before shipping, for review
-- every: 60s
SELECT 'hold:' || channel || ':' || order_id || ':' || rule AS alert_key,
       'warning' AS severity,
       '风控拦截 ' || channel || ' 订单 ' || order_id AS title,
       '规则 ' || rule || '：' || coalesce(detail, '') || '；请在发货前复核' AS message,
       'risk' AS route
FROM order_risk
WHERE held
