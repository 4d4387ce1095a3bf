-- customer_contacts: each customer's latest phone, email and WeChat
-- unionID: the value on their most recent order that carries one, among
-- the identifiers that linked (a placeholder or shared value never counts
-- as a contact).
-- Grain: mcid (customers with at least one such identifier). Inputs:
-- order_identifiers.
-- Maintained by: mcid
CREATE VIEW customer_contacts AS
-- first_value(... ORDER BY) has a grouped accumulator; an ordered
-- array_agg keeps and sorts a list per customer.
SELECT mcid,
       first_value(value ORDER BY ordered_at DESC, value)
           FILTER (WHERE kind = 'phone') AS phone,
       first_value(value ORDER BY ordered_at DESC, value)
           FILTER (WHERE kind = 'email') AS email,
       first_value(value ORDER BY ordered_at DESC, value)
           FILTER (WHERE kind = 'unionid') AS wechat_unionid
FROM order_identifiers
WHERE used AND kind IN ('phone', 'email', 'unionid')
GROUP BY mcid
