-- refund_paths: for each refund, the lifecycle nodes its template applies to
-- it, in order (a node's condition, e.g. customs_filing only when
-- cross_border, is evaluated on the refund's latest row); path is that list
-- joined with ' > ' ('' when no node applies, nodes then NULL).
-- Grain: refund_id. Inputs: refund_requests, refund_template_nodes (generated from
-- refund_template.toml, see refund_nodes). UDFs: array_agg_by.
-- Maintained by: refund_id
CREATE VIEW refund_paths AS
SELECT refund_id, channel, order_id, requested_at, cross_border, nodes,
       coalesce(array_to_string(nodes, ' > '), '') AS path,
       node_count
FROM (SELECT r.refund_id,
             r.channel,
             r.order_id,
             r.requested_at,
             r.cross_border,
             array_agg_by(t.node, t.position) FILTER (WHERE t.node IS NOT NULL) AS nodes,
             count(t.node) AS node_count
      FROM refund_requests r
      LEFT JOIN refund_template_nodes t ON t.refund_id = r.refund_id
      GROUP BY r.refund_id, r.channel, r.order_id, r.requested_at, r.cross_border)
