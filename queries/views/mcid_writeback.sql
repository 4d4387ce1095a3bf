-- mcid_writeback: the outbox of MCID write-back. One row per order whose
-- current MCID no connector has written into the platform's order note
-- yet, or whose MCID changed since it was written (customers merged).
-- A connector writes `note` (`MCID:<mcid>`) into the order's note, then
-- acknowledges with POST /v1/writeback/ack; the order leaves the outbox.
-- The latest acknowledgement of an order is what its note says now.
-- Grain: (channel, order_id). Inputs: orders, writeback_acks.
-- Maintained by: channel, order_id
CREATE VIEW mcid_writeback AS
WITH written AS (
    SELECT channel, order_id,
           first_value(mcid ORDER BY arrived_at DESC, mcid) AS mcid,
           max(arrived_at) AS written_at
    FROM writeback_acks
    GROUP BY channel, order_id
)
SELECT o.channel, o.order_id, o.mcid, 'MCID:' || o.mcid AS note,
       w.mcid AS written_mcid, w.written_at
FROM orders o
LEFT JOIN written w ON w.channel = o.channel AND w.order_id = o.order_id
WHERE w.mcid IS NULL OR w.mcid <> o.mcid
