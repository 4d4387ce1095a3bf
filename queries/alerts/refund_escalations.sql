-- description: refunds stuck at a node (or before the next one) for 2 h, 4 h or 24 h, each tier to its role
-- every: 60s
--
-- One alert per refund, node and tier of refund_escalations: a refund that
-- moves up a tier resolves the lower tier's alert and fires the next, to
-- the next role (group_lead, finance_director, ticket).
SELECT 'refund:' || refund_id || ':' || node || ':' || tier AS alert_key,
       CASE tier WHEN '24h' THEN 'critical' WHEN '4h' THEN 'warning' ELSE 'info' END AS severity,
       '退款 ' || refund_id || ' 卡在 ' || node || ' 超过 ' || tier AS title,
       '退款 ' || refund_id || '（' || coalesce(channel, '?') || ' 订单 ' || coalesce(order_id, '?')
           || '，' || coalesce(CAST(amount AS VARCHAR), '?') || ' 元）'
           || CASE WHEN awaiting_entry THEN '等待进入节点 ' ELSE '停在节点 ' END || node
           || ' 已 ' || CAST(round(stuck_hours, 1) AS VARCHAR) || ' 小时'
           || CASE WHEN over_timeout THEN '，超过节点时限' ELSE '' END
           || '；审批角色 ' || coalesce(approver_role, '?') AS message,
       notify_role AS route
FROM refund_escalations
