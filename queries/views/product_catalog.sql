-- product_catalog: each SKU's current product name and category (the
-- latest `products` row for it: a renamed product keeps one row).
-- Grain: sku. Inputs: products.
CREATE VIEW product_catalog AS
SELECT sku,
       first_value(name ORDER BY arrived_at DESC, name) AS name,
       first_value(category ORDER BY arrived_at DESC, name) AS category,
       max(arrived_at) AS updated_at
FROM products
GROUP BY sku
