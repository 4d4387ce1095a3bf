-- description: orders a fraud rule holds before shipping, waiting for review
-- every: 60s
--
-- One alert per held order and rule of order_holds; a release or a
-- confirmation (POST /v1/holds/...) resolves it.
SELECT 'hold:' || channel || ':' || order_id || ':' || rule AS alert_key,
       'warning' AS severity,
       '风控拦截 ' || channel || ' 订单 ' || order_id AS title,
       '规则 ' || rule || '：' || coalesce(detail, '') || '；请在发货前复核' AS message,
       'risk' AS route
FROM order_holds
WHERE state = 'held'
