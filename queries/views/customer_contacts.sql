-- customer_contacts: each customer's latest phone, email and WeChat
-- unionID: the value on their most recent order that carries one, among
-- the identifiers that linked (a placeholder or shared value never counts
-- as a contact).
-- Grain: mcid (customers with at least one such identifier). Inputs:
-- order_identifiers.
CREATE VIEW customer_contacts AS
SELECT mcid,
       array_element(array_agg(CASE WHEN kind = 'phone' THEN value END
                               ORDER BY ordered_at DESC, value)
                     FILTER (WHERE kind = 'phone'), 1) AS phone,
       array_element(array_agg(CASE WHEN kind = 'email' THEN value END
                               ORDER BY ordered_at DESC, value)
                     FILTER (WHERE kind = 'email'), 1) AS email,
       array_element(array_agg(CASE WHEN kind = 'unionid' THEN value END
                               ORDER BY ordered_at DESC, value)
                     FILTER (WHERE kind = 'unionid'), 1) AS wechat_unionid
FROM order_identifiers
WHERE used AND kind IN ('phone', 'email', 'unionid')
GROUP BY mcid
