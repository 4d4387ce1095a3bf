-- description: the week's customer records to look at (mcid_health_tasks), once a week
-- every: 1h
-- resolved: no
--
-- One alert per ISO week (the key names the week's Monday) while
-- mcid_health_tasks has rows; it is sent once and never resolved.
SELECT 'mcid-health:' || to_char(date_trunc('week', business_time(max(c.now))), '%Y-%m-%d') AS alert_key,
       'info' AS severity,
       '本周客户档案待处理 ' || CAST(count(*) AS VARCHAR) || ' 项' AS title,
       '手机号可能过期 ' || CAST(sum(CASE WHEN t.problem = 'newer_phone' THEN 1 ELSE 0 END) AS VARCHAR)
           || '，邮箱退信或停用 ' || CAST(sum(CASE WHEN t.problem LIKE 'email_%' THEN 1 ELSE 0 END) AS VARCHAR)
           || '，只有打码手机 ' || CAST(sum(CASE WHEN t.problem = 'masked_phone_only' THEN 1 ELSE 0 END) AS VARCHAR)
           || '；明细见 mcid_health_tasks' AS message,
       'data_steward' AS route
FROM mcid_health_tasks t
CROSS JOIN report_config c
HAVING count(*) > 0
