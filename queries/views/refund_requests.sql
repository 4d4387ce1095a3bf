-- refund_requests: each refund as last sent (a refund sent again with
-- corrections is a new row in `refunds`; the latest arrival wins).
-- Grain: refund_id. Inputs: refunds. UDFs: last_by (the row of the latest
-- arrival, where a row_number() window costs several times more).
-- Maintained by: refund_id
CREATE VIEW refund_requests AS
SELECT refund_id,
       latest['channel'] AS channel,
       latest['order_id'] AS order_id,
       latest['requested_at'] AS requested_at,
       latest['amount'] AS amount,
       latest['reason'] AS reason,
       latest['sku_category'] AS sku_category,
       latest['member_level'] AS member_level,
       latest['cross_border'] AS cross_border,
       latest['arrived_at'] AS arrived_at
FROM (SELECT refund_id,
             last_by(named_struct(
                 'channel', channel, 'order_id', order_id, 'requested_at', requested_at,
                 'amount', amount, 'reason', reason, 'sku_category', sku_category,
                 'member_level', member_level, 'cross_border', cross_border,
                 'arrived_at', arrived_at), arrived_at) AS latest
      FROM refunds
      GROUP BY refund_id)
