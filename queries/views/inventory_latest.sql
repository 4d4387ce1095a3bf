-- inventory_latest: each sku's stock per warehouse in its latest snapshot
-- taken at or before report_config.now (later snapshots are the future of
-- a back-dated report).
-- Grain: (sku, warehouse). Inputs: inventory, report_config.
CREATE VIEW inventory_latest AS
SELECT sku, warehouse, available, as_of
FROM (SELECT i.*,
             row_number() OVER (PARTITION BY i.sku, i.warehouse
                                ORDER BY i.as_of DESC, i.arrived_at DESC) AS recency
      FROM inventory i
      CROSS JOIN report_config c
      WHERE i.as_of <= c.now)
WHERE recency = 1
