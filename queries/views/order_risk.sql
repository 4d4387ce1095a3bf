-- order_risk(channel, order_id, rule, detail, held): orders a fraud
-- circuit-breaker rule fires on, up to report_config.now.
-- Grain: (channel, order_id, rule). Inputs: orders, accounts,
-- browse_events, report_config. UDFs: first_by, last_by.
-- Rules:
-- * scalper: one IP placed more than scalper_orders_per_hour (5) orders
--   within one hour (both ends included) to at least scalper_min_addresses
--   (3) different ship addresses (trimmed; missing ones do not count).
--   Every order of such an hour is flagged.
-- * new_account_high_value: an account's first order, placed at most
--   new_account_hours (24, included) after the account was registered, is
--   over high_value_amount (5000 CNY; exactly 5000 is not over) and the
--   account browsed nothing before it. Its detail gives the account's age
--   in tenths of an hour, halves rounded up (from its seconds, in one step,
--   so no engine's rounding of a double decides the figure).
-- held: the breaker holds an order that has not shipped yet (created or
-- paid) when its rule is one of report_config.hold_rules (both by default);
-- a shipped order can only be reviewed. order_holds keeps each hold and its
-- review.
CREATE VIEW order_risk AS
WITH placed AS (
    SELECT o.*
    FROM orders o
    CROSS JOIN report_config c
    WHERE o.ordered_at <= c.now
), busy_ips AS (
    SELECT p.ip
    FROM placed p
    CROSS JOIN report_config c
    WHERE p.ip IS NOT NULL
    GROUP BY p.ip, c.scalper_orders_per_hour
    HAVING count(*) > c.scalper_orders_per_hour
), ip_orders AS (
    SELECT p.channel, p.order_id, p.ip, p.ordered_at, p.status, trim(p.ship_address) AS address
    FROM placed p
    JOIN busy_ips b ON b.ip = p.ip
), hours AS (
    -- The hour that starts at each order of a busy IP.
    SELECT s.ip, s.ordered_at AS hour_start, count(*) AS orders, count(DISTINCT e.address) AS addresses
    FROM ip_orders s
    JOIN ip_orders e
      ON e.ip = s.ip AND e.ordered_at >= s.ordered_at
     AND e.ordered_at <= s.ordered_at + INTERVAL '1 hour'
    GROUP BY s.channel, s.order_id, s.ip, s.ordered_at
), bursts AS (
    SELECT h.*
    FROM hours h
    CROSS JOIN report_config c
    WHERE h.orders > c.scalper_orders_per_hour AND h.addresses >= c.scalper_min_addresses
), scalper AS (
    SELECT e.channel, e.order_id, e.status, e.ip,
           min(b.hour_start) AS hour_start,
           max(b.orders) AS orders,
           max(b.addresses) AS addresses
    FROM bursts b
    JOIN ip_orders e
      ON e.ip = b.ip AND e.ordered_at >= b.hour_start
     AND e.ordered_at <= b.hour_start + INTERVAL '1 hour'
    GROUP BY e.channel, e.order_id, e.status, e.ip
), registered AS (
    SELECT channel, account_id, last_by(created_at, arrived_at) AS created_at
    FROM accounts
    GROUP BY channel, account_id
), qualifying AS (
    -- Orders over the amount placed within the window after their account
    -- was registered.
    SELECT p.channel, p.account_id, p.order_id, a.created_at
    FROM placed p
    JOIN registered a ON a.channel = p.channel AND a.account_id = p.account_id
    CROSS JOIN report_config c
    WHERE p.amount > c.high_value_amount
      AND p.ordered_at >= a.created_at
      AND p.ordered_at <= a.created_at + CAST(CAST(c.new_account_hours AS VARCHAR) || ' hours' AS INTERVAL)
), first_orders AS (
    -- The first order (by time, then order id) of each account with a
    -- qualifying order: only those accounts' can be one.
    SELECT channel, account_id,
           earliest['order_id'] AS order_id,
           earliest['status'] AS status,
           earliest['amount'] AS amount,
           earliest['ordered_at'] AS ordered_at
    FROM (SELECT p.channel, p.account_id,
                 first_by(named_struct('order_id', p.order_id, 'status', p.status,
                                       'amount', p.amount, 'ordered_at', p.ordered_at),
                          named_struct('ordered_at', p.ordered_at, 'order_id', p.order_id)) AS earliest
          FROM placed p
          JOIN (SELECT DISTINCT channel, account_id FROM qualifying) k
            ON k.channel = p.channel AND k.account_id = p.account_id
          GROUP BY p.channel, p.account_id)
), new_account AS (
    SELECT f.channel, f.order_id, f.status, f.amount,
           date_part('epoch', f.ordered_at) - date_part('epoch', q.created_at) AS account_age_seconds
    FROM first_orders f
    JOIN qualifying q ON q.channel = f.channel AND q.order_id = f.order_id
    WHERE NOT EXISTS (SELECT 1 FROM browse_events b
                      WHERE b.channel = f.channel AND b.account_id = f.account_id
                        AND b.at < f.ordered_at)
)
SELECT f.channel, f.order_id, f.rule, f.detail,
       f.unshipped AND array_has(c.hold_rules, f.rule) AS held
FROM (
    SELECT channel, order_id, 'scalper' AS rule,
           'ip ' || ip || ': ' || CAST(orders AS VARCHAR) || ' orders to '
               || CAST(addresses AS VARCHAR) || ' addresses within 1 h from '
               || to_char(hour_start, '%Y-%m-%dT%H:%M:%SZ') AS detail,
           coalesce(status IN ('created', 'paid'), FALSE) AS unshipped
    FROM scalper
    UNION ALL
    SELECT channel, order_id, 'new_account_high_value' AS rule,
           'first order of ' || CAST(amount AS VARCHAR) || ' CNY '
               || CAST(floor((account_age_seconds + 180) / 360.0) / 10.0 AS VARCHAR)
               || ' h after the account was registered, no browsing before it' AS detail,
           coalesce(status IN ('created', 'paid'), FALSE) AS unshipped
    FROM new_account
) f
CROSS JOIN report_config c
