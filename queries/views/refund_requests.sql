-- refund_requests: each refund as last sent (a refund sent again with
-- corrections is a new row in `refunds`; the latest arrival wins).
-- Grain: refund_id. Inputs: refunds.
-- Maintained by: refund_id
CREATE VIEW refund_requests AS
SELECT refund_id, channel, order_id, requested_at, amount, reason, sku_category,
       member_level, cross_border, arrived_at
FROM (SELECT *,
             row_number() OVER (PARTITION BY refund_id ORDER BY arrived_at DESC) AS arrival_rank
      FROM refunds)
WHERE arrival_rank = 1
