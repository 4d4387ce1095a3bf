//! Tests of the operational tables: determinism, consistency with the
//! orders, and that every trap the views look for is there.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use super::catalog::CATEGORIES;
use super::refund::NODES;
use super::*;
use crate::generate;
use crate::vocab::STATUSES;

/// The generated rows of every table, owned.
#[derive(Debug, Default, PartialEq)]
struct Collect {
    rows: HashMap<OpsTable, Vec<Vec<Value<'static>>>>,
}

fn owned(v: &Value<'_>) -> Value<'static> {
    match v {
        Value::Str(s) => Value::Owned(s.to_string()),
        Value::Owned(s) => Value::Owned(s.clone()),
        Value::Amount(a) => Value::Amount(*a),
        Value::Int(i) => Value::Int(*i),
        Value::Time(t, o) => Value::Time(*t, *o),
        Value::Bool(b) => Value::Bool(*b),
        Value::Null => Value::Null,
    }
}

impl Sink for Collect {
    fn row(&mut self, table: OpsTable, values: &[Value<'_>]) -> Result<()> {
        assert_eq!(values.len(), table.columns().len(), "{}", table.name());
        self.rows
            .entry(table)
            .or_default()
            .push(values.iter().map(owned).collect());
        Ok(())
    }
}

/// One table's rows, with access by column name.
struct Rows<'a> {
    table: OpsTable,
    rows: &'a [Vec<Value<'static>>],
}

/// A row with access by column name.
#[derive(Clone, Copy)]
struct Row<'a> {
    table: OpsTable,
    values: &'a [Value<'static>],
}

impl<'a> Row<'a> {
    fn get(&self, column: &str) -> &'a Value<'static> {
        let i = self
            .table
            .columns()
            .iter()
            .position(|c| c.name == column)
            .unwrap_or_else(|| panic!("{} has no column {column}", self.table.name()));
        &self.values[i]
    }

    fn text(&self, column: &str) -> &'a str {
        self.opt(column)
            .unwrap_or_else(|| panic!("{}.{column} is NULL", self.table.name()))
    }

    fn opt(&self, column: &str) -> Option<&'a str> {
        match self.get(column) {
            Value::Owned(s) => Some(s),
            Value::Null => None,
            other => panic!("{column} is not text: {other:?}"),
        }
    }

    fn time(&self, column: &str) -> i64 {
        match self.get(column) {
            Value::Time(t, _) => *t,
            other => panic!("{column} is not a time: {other:?}"),
        }
    }

    fn int(&self, column: &str) -> i64 {
        match self.get(column) {
            Value::Int(i) | Value::Amount(i) => *i,
            other => panic!("{column} is not a number: {other:?}"),
        }
    }

    fn flag(&self, column: &str) -> bool {
        match self.get(column) {
            Value::Bool(b) => *b,
            other => panic!("{column} is not a bool: {other:?}"),
        }
    }

    /// `(channel, order_id)`.
    fn order(&self) -> (&'a str, &'a str) {
        (self.text("channel"), self.text("order_id"))
    }
}

impl<'a> Rows<'a> {
    fn iter(&self) -> impl Iterator<Item = Row<'a>> + '_ {
        self.rows.iter().map(|values| Row {
            table: self.table,
            values,
        })
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

impl Collect {
    fn table(&self, table: OpsTable) -> Rows<'_> {
        Rows {
            table,
            rows: self.rows.get(&table).map_or(&[], Vec::as_slice),
        }
    }
}

fn cfg() -> GenConfig {
    GenConfig {
        customers: 5_000,
        orders: 20_000,
        ..GenConfig::default()
    }
}

struct Fixture {
    cfg: GenConfig,
    dataset: Dataset,
    ops: Collect,
}

impl Fixture {
    fn now(&self) -> i64 {
        self.cfg.report_now().timestamp()
    }

    fn orders(&self) -> HashMap<(&str, &str), &crate::OrderRow> {
        self.dataset
            .rows
            .iter()
            .map(|r| ((r.channel, r.order_id.as_str()), r))
            .collect()
    }

    fn t(&self, table: OpsTable) -> Rows<'_> {
        self.ops.table(table)
    }
}

/// One dataset shared by the tests: generating it is most of their time.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let cfg = cfg();
        let dataset = generate(&cfg);
        let mut ops = Collect::default();
        generate_ops(&cfg, &dataset, &mut ops).unwrap();
        Fixture { cfg, dataset, ops }
    })
}

#[test]
fn deterministic_per_seed_and_orders_untouched() {
    let f = fixture();
    let mut again = Collect::default();
    generate_ops(&f.cfg, &f.dataset, &mut again).unwrap();
    assert!(again == f.ops, "same config, different tables");
    // The orders are exactly what `generate` makes on its own.
    assert_eq!(f.dataset, generate(&f.cfg));

    let other_cfg = GenConfig {
        seed: 2,
        customers: 500,
        orders: 2_000,
        ..GenConfig::default()
    };
    let other = generate(&other_cfg);
    let mut a = Collect::default();
    generate_ops(&other_cfg, &other, &mut a).unwrap();
    let mut b = Collect::default();
    generate_ops(
        &GenConfig {
            seed: 3,
            ..other_cfg
        },
        &other,
        &mut b,
    )
    .unwrap();
    assert!(a != b, "the seed changes the tables");
}

#[test]
fn report_now_is_the_horizon_end() {
    let cfg = GenConfig::default();
    assert_eq!(cfg.report_now().to_rfc3339(), "2026-06-30T00:00:00+08:00");
    let clamped = GenConfig { days: 0, ..cfg };
    assert_eq!(
        clamped.report_now().to_rfc3339(),
        "2026-01-02T00:00:00+08:00"
    );
}

#[test]
fn every_table_has_rows_in_its_contract() {
    let f = fixture();
    for table in OpsTable::ALL {
        assert!(f.t(table).len() > 0, "{} is empty", table.name());
        let now = f.now();
        for row in f.t(table).iter() {
            for (column, v) in table.columns().iter().map(|c| c.name).zip(row.values) {
                // Stock arrives and credentials expire after now; nothing
                // else happens after it.
                if let Value::Time(t, offset) = v
                    && !matches!(column, "expected_at" | "expires_at")
                {
                    assert!(*t <= now, "{}.{column} after now", table.name());
                    assert_eq!(*offset, 8 * 3600);
                }
            }
        }
    }
    assert_eq!(f.t(OpsTable::SystemOwners).len(), 4);
    assert_eq!(f.t(OpsTable::Warehouses).len(), 4);
    assert_eq!(f.t(OpsTable::Credentials).len(), 20);
    assert_eq!(f.t(OpsTable::Suppliers).len(), super::catalog::SKUS);
    assert_eq!(f.t(OpsTable::Products).len(), super::catalog::SKUS);
    for p in f.t(OpsTable::Products).iter() {
        assert!(p.text("sku").starts_with("SKU-"));
        // Chinese names: the lineage PDF must render them.
        assert!(
            p.text("name")
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        );
        assert!(CATEGORIES.iter().any(|c| c.0 == p.text("category")));
    }
    for w in f.t(OpsTable::Warehouses).iter() {
        assert!((200..=1500).contains(&w.int("orders_per_hour")));
    }
    for s in f.t(OpsTable::Suppliers).iter() {
        assert!((2..=15).contains(&s.int("lead_time_days")));
        assert!((50..=1000).contains(&s.int("min_order_qty")));
        assert!(s.text("supplier").ends_with("有限公司"));
    }
    let backups = f.t(OpsTable::Suppliers);
    assert!(backups.iter().any(|s| s.opt("backup_supplier").is_none()));
    assert!(backups.iter().any(|s| s.opt("backup_supplier").is_some()));
}

#[test]
fn order_lines_add_up_to_the_amount() {
    let f = fixture();
    let orders = f.orders();
    let mut per_order: HashMap<(&str, &str), (i64, HashSet<&str>, usize)> = HashMap::new();
    let mut sku_units: HashMap<&str, i64> = HashMap::new();
    for l in f.t(OpsTable::OrderLines).iter() {
        assert!(orders.contains_key(&l.order()), "line of unknown order");
        let (qty, price) = (l.int("qty"), l.int("unit_price"));
        assert!(qty >= 1 && price >= 1);
        let e = per_order.entry(l.order()).or_default();
        e.0 += qty * price;
        assert!(e.1.insert(l.text("sku")), "sku twice in one order");
        e.2 += 1;
        *sku_units.entry(l.text("sku")).or_default() += qty;
    }
    assert_eq!(per_order.len(), orders.len(), "every order has lines");
    for (key, (sum, _, lines)) in &per_order {
        assert_eq!(*sum, orders[key].amount_cents, "{key:?}");
        assert!((1..=4).contains(lines));
    }
    assert!(per_order.values().any(|o| o.2 == 4));
    // Heavy tail: the best seller sells far more than the median SKU.
    let mut units: Vec<i64> = sku_units.values().copied().collect();
    units.sort_unstable();
    assert!(
        units[units.len() - 1] > 10 * units[units.len() / 2],
        "{units:?}"
    );
}

/// One system's report of an order, its status trimmed and lower-cased.
#[derive(Debug)]
struct Report<'a> {
    system: &'a str,
    status: String,
    updated: i64,
    confirmed: i64,
}

/// Each order's reports.
fn reports(f: &Fixture) -> HashMap<(&str, &str), Vec<Report<'_>>> {
    let mut by_order: HashMap<_, Vec<_>> = HashMap::new();
    for e in f.t(OpsTable::StatusEvents).iter() {
        by_order.entry(e.order()).or_default().push(Report {
            system: e.text("system"),
            status: e.text("status_code").trim().to_lowercase(),
            updated: e.time("updated_at"),
            confirmed: e.time("confirmed_at"),
        });
    }
    by_order
}

/// The latest report of each system of one order.
fn latest<'a>(reports: &'a [Report<'a>]) -> BTreeMap<&'a str, &'a Report<'a>> {
    let mut latest = BTreeMap::new();
    for r in reports {
        let slot = latest.entry(r.system).or_insert(r);
        if r.updated >= slot.updated {
            *slot = r;
        }
    }
    latest
}

#[test]
fn status_events_follow_the_orders() {
    let f = fixture();
    let orders = f.orders();
    let by_order = reports(f);
    assert_eq!(by_order.len(), orders.len(), "every order is reported");
    let total: usize = by_order.values().map(Vec::len).sum();
    let per_order = total as f64 / orders.len() as f64;
    assert!(
        (2.0..=4.5).contains(&per_order),
        "{per_order} events per order"
    );
    for (key, events) in &by_order {
        let order = orders[key];
        let latest = latest(events);
        assert_eq!(latest["platform"].status, order.status, "{key:?}");
        for e in events {
            assert!(["platform", "erp", "wms", "crm"].contains(&e.system));
            assert!(STATUSES.contains(&e.status.as_str()));
            assert!(e.updated >= order.ordered_at.timestamp() - 60);
            assert!(e.confirmed >= e.updated);
        }
    }
    let codes: Vec<&str> = f
        .t(OpsTable::StatusEvents)
        .iter()
        .map(|e| e.text("status_code"))
        .collect();
    assert!(
        codes
            .iter()
            .any(|c| c.chars().all(|ch| ch.is_ascii_uppercase()))
    );
    assert!(codes.iter().any(|c| c.trim() != *c));
    let lower = codes
        .iter()
        .filter(|c| c.chars().all(|ch| ch.is_ascii_lowercase()))
        .count();
    assert!(lower * 100 > codes.len() * 90);
}

#[test]
fn status_drift_of_each_kind() {
    let f = fixture();
    let by_order = reports(f);
    let (mut stale_wms, mut erp_late, mut crm_stuck, mut skew) = (0, 0, 0, 0);
    let mut drifted = 0;
    for events in by_order.values() {
        let latest = latest(events);
        let platform = latest["platform"];
        let statuses: HashSet<&str> = latest.values().map(|e| e.status.as_str()).collect();
        let spread = |time: fn(&Report<'_>) -> i64| {
            let times: Vec<i64> = latest.values().map(|e| time(e)).collect();
            times.iter().max().unwrap_or(&0) - times.iter().min().unwrap_or(&0)
        };
        if statuses.len() > 1 || spread(|e| e.updated) > 3 || spread(|e| e.confirmed) > 3 {
            drifted += 1;
        }
        // (a) the WMS said paid while the platform said shipped, then
        // caught up.
        let wms_at = |status: &str| {
            events
                .iter()
                .find(|e| e.system == "wms" && e.status == status)
                .map(|e| e.updated)
        };
        if let (Some(paid), Some(shipped)) = (wms_at("paid"), wms_at("shipped")) {
            assert!(shipped > paid);
            stale_wms += 1;
        }
        // (b) the ERP reports the refund hours late (or, past now, not yet).
        if platform.status == "refunded"
            && let Some(erp) = latest.get("erp")
            && (erp.status != "refunded" || erp.updated >= platform.updated + HOUR)
        {
            erp_late += 1;
        }
        // (c) the CRM stays at an earlier status.
        if latest
            .get("crm")
            .is_some_and(|crm| crm.status != platform.status)
        {
            crm_stuck += 1;
        }
        // (d) the same status, a clock 5–60 s off.
        if latest.values().any(|e| {
            e.status == platform.status && (5..=60).contains(&(e.updated - platform.updated).abs())
        }) {
            skew += 1;
        }
    }
    let share = drifted as f64 / by_order.len() as f64;
    assert!((0.025..=0.06).contains(&share), "{share}");
    for (kind, n) in [
        ("stale wms", stale_wms),
        ("late erp", erp_late),
        ("crm stuck", crm_stuck),
        ("skew", skew),
    ] {
        assert!(n > 0, "no drift of kind {kind}");
    }
}

#[test]
fn refunds_follow_their_orders() {
    let f = fixture();
    let orders = f.orders();
    let refunds = f.t(OpsTable::Refunds);
    let mut ids = HashSet::new();
    let mut refunded_orders = HashSet::new();
    let mut cross = 0;
    for r in refunds.iter() {
        assert!(ids.insert(r.text("refund_id")));
        let order = orders[&r.order()];
        assert!(r.time("requested_at") >= order.ordered_at.timestamp());
        let amount = r.int("amount");
        assert!(amount >= 1 && amount <= order.amount_cents);
        assert!(["refunded", "signed"].contains(&order.status));
        if order.status == "signed" {
            // After-sale refunds are partial.
            assert!(amount < order.amount_cents || order.amount_cents == 1);
        }
        refunded_orders.insert(r.order());
        assert!(["普通", "银卡", "金卡", "钻石"].contains(&r.text("member_level")));
        assert!(CATEGORIES.iter().any(|c| c.0 == r.text("sku_category")));
        assert!(!r.text("reason").is_ascii());
        cross += usize::from(r.flag("cross_border"));
    }
    for o in &f.dataset.rows {
        if o.status == "refunded" {
            assert!(refunded_orders.contains(&(o.channel, o.order_id.as_str())));
        }
    }
    assert!(
        refunds
            .iter()
            .any(|r| orders[&r.order()].status == "signed")
    );
    let share = cross as f64 / refunds.len() as f64;
    assert!((0.05..=0.12).contains(&share), "cross-border {share}");
}

/// The refund events of each refund, in written order.
fn refund_events(f: &Fixture) -> BTreeMap<&str, Vec<Row<'_>>> {
    let mut by_refund: BTreeMap<&str, Vec<Row<'_>>> = BTreeMap::new();
    for e in f.t(OpsTable::RefundEvents).iter() {
        by_refund.entry(e.text("refund_id")).or_default().push(e);
    }
    by_refund
}

#[test]
fn refund_events_walk_the_template() {
    let f = fixture();
    let refunds: HashMap<&str, Row<'_>> = f
        .t(OpsTable::Refunds)
        .iter()
        .map(|r| (r.text("refund_id"), r))
        .collect();
    let by_refund = refund_events(f);
    assert_eq!(by_refund.len(), refunds.len(), "every refund has events");
    let mut actions: HashMap<&str, usize> = HashMap::new();
    for (id, events) in &by_refund {
        let refund = refunds[id];
        let requested = refund.time("requested_at");
        assert_eq!(events[0].text("node"), "apply");
        assert_eq!(events[0].text("action"), "enter");
        let mut last_at = requested;
        let mut last_node = 0;
        let mut entered: HashSet<&str> = HashSet::new();
        for e in events {
            let (node, action, at) = (e.text("node"), e.text("action"), e.time("at"));
            *actions.entry(action).or_default() += 1;
            let position = NODES.iter().position(|n| *n == node).unwrap();
            assert!(position >= last_node, "{id}: {node} after a later node");
            assert!(at >= last_at, "{id}: {node} {action} goes back in time");
            assert!(
                action == "enter" || entered.contains(node),
                "{id}: {action} before enter"
            );
            if action == "skip" {
                assert!(e.opt("note").is_some(), "{id}: skip without a note");
            }
            if action == "manual" {
                assert!(e.opt("note").is_some());
                assert_eq!(e.text("actor_role"), "supervisor");
            }
            if node == "customs_filing" {
                assert!(refund.flag("cross_border"));
            }
            entered.insert(node);
            last_at = at;
            last_node = position;
        }
        let last = events[events.len() - 1];
        if last.text("action") == "complete" {
            assert_eq!(last.text("node"), "payout");
        }
    }
    for action in [
        "enter", "approve", "reject", "skip", "manual", "escalate", "complete",
    ] {
        assert!(actions.contains_key(action), "no {action}");
    }
    let notes: HashSet<&str> = f
        .t(OpsTable::RefundEvents)
        .iter()
        .filter(|e| e.text("action") == "skip")
        .map(|e| e.text("note"))
        .collect();
    assert!(notes.contains("小额免检"), "{notes:?}");
    // A rejection is followed by entering the same node again.
    assert!(by_refund.values().any(|events| events.windows(2).any(|w| {
        w[0].text("action") == "reject"
            && w[1].text("action") == "enter"
            && w[0].text("node") == w[1].text("node")
    })));
}

#[test]
fn some_refunds_are_stuck() {
    let f = fixture();
    let now = f.now();
    let decisive = ["approve", "reject", "skip", "manual", "complete"];
    let mut stuck = 0;
    let mut escalated = 0;
    for events in refund_events(f).values() {
        let mut open: Option<(&str, i64)> = None;
        for e in events {
            match e.text("action") {
                "enter" => open = Some((e.text("node"), e.time("at"))),
                a if decisive.contains(&a) => open = None,
                _ => {}
            }
        }
        if let Some((node, since)) = open
            && (now - 48 * HOUR..=now - HOUR).contains(&since)
        {
            stuck += 1;
            let escalations = events
                .iter()
                .filter(|e| e.text("action") == "escalate" && e.text("node") == node)
                .count();
            escalated += usize::from(escalations > 0);
        }
    }
    assert!(stuck >= 3, "{stuck} stuck refunds");
    assert!(
        escalated > 0 && escalated < stuck,
        "{escalated} of {stuck} escalated"
    );
}

#[test]
fn accounts_precede_their_orders() {
    let f = fixture();
    let accounts: HashMap<(&str, &str), i64> = f
        .t(OpsTable::Accounts)
        .iter()
        .map(|a| {
            (
                (a.text("channel"), a.text("account_id")),
                a.time("created_at"),
            )
        })
        .collect();
    assert_eq!(
        accounts.len(),
        f.t(OpsTable::Accounts).len(),
        "one row per account"
    );
    let mut first: HashMap<(&str, &str), &crate::OrderRow> = HashMap::new();
    for o in &f.dataset.rows {
        if let Some(a) = o.account_id.as_deref() {
            let created = accounts[&(o.channel, a)];
            assert!(created < o.ordered_at.timestamp());
            first.entry((o.channel, a)).or_insert(o);
        }
    }
    assert_eq!(first.len(), accounts.len(), "no account without orders");
    let mut browsed: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    for b in f.t(OpsTable::BrowseEvents).iter() {
        let key = (b.text("channel"), b.text("account_id"));
        assert!(b.time("at") > accounts[&key]);
        browsed.entry(key).or_default().push(b.time("at"));
    }
    assert!(f.t(OpsTable::BrowseEvents).len() <= f.dataset.rows.len());
    // New accounts with a big first order and no browsing before it are the
    // fraud rule's targets, and the only accounts under a day old.
    let mut targets = 0;
    for (key, order) in &first {
        let age = order.ordered_at.timestamp() - accounts[key];
        if age <= DAY {
            assert!(order.amount_cents > 500_000, "{key:?} is new but small");
            let before = browsed
                .get(key)
                .is_some_and(|at| at.iter().any(|t| *t < order.ordered_at.timestamp()));
            assert!(!before);
            targets += 1;
        }
    }
    assert!(targets > 0);
}

#[test]
fn credentials_expire_at_every_horizon() {
    let f = fixture();
    let now = f.now();
    let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failed_far = 0;
    let mut platforms = HashSet::new();
    for c in f.t(OpsTable::Credentials).iter() {
        platforms.insert(c.text("platform"));
        let left = c.time("expires_at") - now;
        let level = match left {
            l if l <= 0 => "expired",
            l if l < 2 * HOUR => "critical",
            l if l < DAY => "1d",
            l if l < 3 * DAY => "3d",
            l if l < 7 * DAY => "7d",
            _ => "ok",
        };
        *levels.entry(level).or_default() += 1;
        if !c.flag("last_refresh_ok") {
            assert_eq!(level, "ok");
            failed_far += 1;
        }
        assert!(c.time("last_refresh_at") < now);
    }
    for level in ["expired", "critical", "1d", "3d", "7d"] {
        assert_eq!(levels.get(level), Some(&1), "{levels:?}");
    }
    assert_eq!(failed_far, 1);
    assert_eq!(platforms.len(), 5);
}

#[test]
fn some_stock_needs_reordering() {
    let f = fixture();
    let now = f.now();
    let orders = f.orders();
    // Units sold per sku over the last 7 days.
    let mut sold: HashMap<&str, i64> = HashMap::new();
    for l in f.t(OpsTable::OrderLines).iter() {
        let o = orders[&l.order()];
        if now - o.ordered_at.timestamp() < 7 * DAY
            && ["paid", "shipped", "signed"].contains(&o.status)
        {
            *sold.entry(l.text("sku")).or_default() += l.int("qty");
        }
    }
    let lead: HashMap<&str, i64> = f
        .t(OpsTable::Suppliers)
        .iter()
        .map(|s| (s.text("sku"), s.int("lead_time_days")))
        .collect();
    let mut latest: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
    for i in f.t(OpsTable::Inventory).iter() {
        let key = (i.text("sku"), i.text("warehouse"));
        let entry = latest.entry(key).or_insert((i64::MIN, 0));
        if i.time("as_of") > entry.0 {
            *entry = (i.time("as_of"), i.int("available"));
        }
    }
    assert!(latest.values().any(|s| s.1 < 0) && latest.values().any(|s| s.1 == 0));
    assert!(latest.values().all(|s| s.0 > now - 3 * DAY && s.0 < now));
    let inbound = f.t(OpsTable::Inbound);
    let due: Vec<i64> = inbound
        .iter()
        .map(|i| i.time("expected_at") - now)
        .collect();
    assert_eq!(due.iter().filter(|d| **d == DAY).count(), 3);
    assert!(due.iter().any(|d| *d < DAY) && due.iter().any(|d| *d > DAY));
    assert!(due.iter().all(|d| *d > 0));
    let mut arriving: HashMap<(&str, &str), i64> = HashMap::new();
    for i in inbound
        .iter()
        .filter(|i| i.time("expected_at") <= now + DAY)
    {
        *arriving
            .entry((i.text("sku"), i.text("warehouse")))
            .or_default() += i.int("qty");
    }
    // Low: under the lead time and safety days of cover, counting what
    // arrives within a day. One low pair is covered by such an arrival.
    let short = |sku: &str, stock: i64| {
        let daily = sold.get(sku).copied().unwrap_or(0) as f64 / 7.0;
        daily > 0.0 && (stock as f64) < daily * (lead[sku] + 3) as f64
    };
    let covered = latest
        .iter()
        .filter(|((sku, w), (_, available))| {
            short(sku, *available)
                && !short(sku, available + arriving.get(&(*sku, *w)).unwrap_or(&0))
        })
        .count();
    assert!(covered >= 1);
    let low: HashSet<String> = latest
        .iter()
        .filter(|((sku, w), (_, available))| {
            short(sku, available + arriving.get(&(*sku, *w)).unwrap_or(&0))
        })
        .map(|((sku, warehouse), (as_of, _))| {
            let date = chrono::DateTime::from_timestamp(*as_of, 0).unwrap();
            format!("PR-{sku}-{warehouse}-{}", date.format("%Y%m%d"))
        })
        .collect();
    assert!((6..=30).contains(&low.len()), "{} low pairs", low.len());
    let confirmed: Vec<&str> = f
        .t(OpsTable::PurchaseConfirmations)
        .iter()
        .map(|c| c.text("request_id"))
        .collect();
    assert!(!confirmed.is_empty() && confirmed.len() < low.len());
    for id in &confirmed {
        assert!(low.contains(*id), "{id} confirms no expected request");
    }
}

#[test]
fn queue_and_emails_come_from_the_orders() {
    let f = fixture();
    let orders = f.orders();
    for q in f.t(OpsTable::WmsQueue).iter() {
        let o = orders[&q.order()];
        assert_eq!(o.status, "paid");
        assert!(q.time("enqueued_at") >= o.ordered_at.timestamp());
        assert!(q.text("warehouse").starts_with("WH-"));
    }
    let emails: HashSet<&str> = f
        .dataset
        .rows
        .iter()
        .filter_map(|r| r.email.as_deref())
        .collect();
    let statuses = f.t(OpsTable::EmailStatus);
    let mut seen = HashSet::new();
    for e in statuses.iter() {
        assert!(
            emails.contains(e.text("email")),
            "email as written in the orders"
        );
        assert!(seen.insert(e.text("email")));
        assert!(["bounced", "disabled", "ok"].contains(&e.text("status")));
    }
    let share = statuses.len() as f64 / emails.len() as f64;
    assert!((0.01..=0.03).contains(&share), "{share}");
}

#[test]
fn csv_files_have_the_contract_headers() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let written = write_ops_csv(&f.cfg, &f.dataset, dir.path()).unwrap();
    assert_eq!(written.len(), OpsTable::ALL.len());
    for (table, rows) in written {
        let text =
            std::fs::read_to_string(dir.path().join(format!("{}.csv", table.name()))).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(table.header().as_str()));
        assert_eq!(lines.count() as u64, rows, "{}", table.name());
        assert_eq!(rows as usize, f.t(table).len());
    }
    let events = std::fs::read_to_string(dir.path().join("status_events.csv")).unwrap();
    assert!(events.contains("+08:00,sync-bot\n"));
    // Padded status codes are quoted so the padding survives.
    assert!(events.contains(",\" paid\",") || events.contains(",\"shipped \","));
}
