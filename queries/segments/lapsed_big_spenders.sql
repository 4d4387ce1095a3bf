-- description: customers who spent 2,000 yuan or more and have not ordered for 90 days (a win-back list)
-- entered_at: lapsed_at
--
-- lapsed_big_spenders: an example of a segment defined by one file under
-- queries/segments/. Money counts on paid, shipped and signed orders; a
-- customer lapses 90 days after their last order of any status.
-- Grain: mcid. Inputs: orders, report_config (the export adds contacts).
CREATE VIEW lapsed_big_spenders AS
SELECT o.mcid,
       sum(o.amount) FILTER (WHERE o.status IN ('paid', 'shipped', 'signed')) AS spent,
       count(*) AS orders,
       max(o.ordered_at) AS last_order_at,
       max(o.ordered_at) + INTERVAL '90 days' AS lapsed_at
FROM orders o
CROSS JOIN report_config c
WHERE o.ordered_at <= c.now
GROUP BY o.mcid
HAVING sum(o.amount) FILTER (WHERE o.status IN ('paid', 'shipped', 'signed')) >= 2000
   AND max(o.ordered_at) + INTERVAL '90 days' <= max(c.now)
