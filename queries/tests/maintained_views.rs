//! Maintained views against their full recompute: after any sequence of
//! ingests (orders that merge and split customers, new versions of
//! orders, status events, refunds, refund events, write-back
//! acknowledgements, sync commands and acknowledgements), every maintained
//! view holds exactly the rows its SQL computes from scratch.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use ordergraph_engine::{Engine, Format, SessionOptions};
use ordergraph_queries::all_views;
use proptest::prelude::*;

const CHANNELS: [&str; 2] = ["tmall", "jd"];
const STATUSES: [&str; 4] = ["paid", "shipped", "cancelled", "signed"];
const COUPONS: [&str; 3] = ["NEWCUST", "newuser ", "SALE"];
const SYSTEMS: [&str; 4] = ["platform", "erp", "wms", "crm"];
const ACTIONS: [&str; 5] = ["enter", "approve", "reject", "escalate", "complete"];
const NODES: [&str; 3] = ["auto_review", "warehouse_check", "finance_payout"];

/// An order's picks from the pools: key, phone, account, status, coupon,
/// minute, amount, unionID.
type OrderPicks = (u8, u8, u8, u8, u8, u8, u8, u8);

/// One ingest, from small pools so that keys repeat: orders share phones
/// and accounts (customers merge, and split when a new order shows a
/// shared value), come again with changes, and get events.
#[derive(Debug, Clone)]
enum Step {
    Orders(Vec<OrderPicks>),
    StatusEvents(Vec<(u8, u8, u8, u8, u8)>),
    Refunds(Vec<(u8, u8, u8)>),
    RefundEvents(Vec<(u8, u8, u8, u8)>),
    WritebackAcks(Vec<(u8, u8)>),
    SyncCommands(Vec<(u8, u8, u8)>),
    SyncAcks(Vec<(u8, u8, u8)>),
}

fn step() -> impl Strategy<Value = Step> {
    let n = 1..6usize;
    let b = || 0..u8::MAX;
    prop_oneof![
        3 => proptest::collection::vec((b(), b(), b(), b(), b(), b(), b(), b()), n.clone()).prop_map(Step::Orders),
        2 => proptest::collection::vec((b(), b(), b(), b(), b()), n.clone()).prop_map(Step::StatusEvents),
        1 => proptest::collection::vec((b(), b(), b()), n.clone()).prop_map(Step::Refunds),
        2 => proptest::collection::vec((b(), b(), b(), b()), n.clone()).prop_map(Step::RefundEvents),
        1 => proptest::collection::vec((b(), b()), n.clone()).prop_map(Step::WritebackAcks),
        1 => proptest::collection::vec((b(), b(), b()), n.clone()).prop_map(Step::SyncCommands),
        1 => proptest::collection::vec((b(), b(), b()), n).prop_map(Step::SyncAcks),
    ]
}

fn pick<'a>(pool: &[&'a str], i: u8) -> &'a str {
    pool[i as usize % pool.len()]
}

fn order_key(i: u8) -> (String, String) {
    (pick(&CHANNELS, i / 16).to_string(), format!("O{}", i % 12))
}

fn at(minute: u8) -> String {
    format!(
        "2026-03-01T{:02}:{:02}:00Z",
        8 + minute / 60 % 10,
        minute % 60
    )
}

/// The NDJSON of a step, and the table it goes to.
fn rows(step: &Step) -> (&'static str, String) {
    let lines = |rows: Vec<serde_json::Value>| {
        rows.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    match step {
        Step::Orders(rows) => (
            "orders",
            lines(
                rows.iter()
                    .map(|&(key, phone, account, status, coupon, minute, amount, unionid)| {
                        let (channel, order_id) = order_key(key);
                        serde_json::json!({
                            "order_id": order_id,
                            "channel": channel,
                            "ordered_at": at(minute),
                            "account_id": format!("acct{}", account % 5),
                            "phone": match phone % 7 {
                                0 => None,
                                // Masked by the platform: refused, per order.
                                1 => Some(format!("138****000{}", phone % 3)),
                                _ => Some(format!("1380013800{}", phone % 6)),
                            },
                            // Two unionIDs on one phone are two people: the
                            // phone splits between their customers.
                            "wechat_unionid": (unionid % 3 != 0).then(|| format!("oWX{}", unionid % 4)),
                            "amount": format!("{}.50", amount % 40),
                            "status": pick(&STATUSES, status),
                            "coupon": if coupon % 3 == 0 { None } else { Some(pick(&COUPONS, coupon)) },
                        })
                    })
                    .collect(),
            ),
        ),
        Step::StatusEvents(rows) => (
            "status_events",
            lines(
                rows.iter()
                    .map(|&(key, system, status, minute, confirmed)| {
                        let (channel, order_id) = order_key(key);
                        serde_json::json!({
                            "channel": channel,
                            "order_id": order_id,
                            "system": pick(&SYSTEMS, system),
                            "status_code": pick(&STATUSES, status),
                            "updated_at": at(minute),
                            "confirmed_at": (confirmed % 2 == 0).then(|| at(confirmed)),
                        })
                    })
                    .collect(),
            ),
        ),
        Step::Refunds(rows) => (
            "refunds",
            lines(
                rows.iter()
                    .map(|&(refund, key, amount)| {
                        let (channel, order_id) = order_key(key);
                        serde_json::json!({
                            "refund_id": format!("R{}", refund % 6),
                            "channel": channel,
                            "order_id": order_id,
                            "requested_at": at(amount),
                            "amount": format!("{}.00", amount % 30),
                            "reason": "damaged",
                            "cross_border": amount % 4 == 0,
                        })
                    })
                    .collect(),
            ),
        ),
        Step::RefundEvents(rows) => (
            "refund_events",
            lines(
                rows.iter()
                    .map(|&(refund, node, action, minute)| {
                        serde_json::json!({
                            "refund_id": format!("R{}", refund % 6),
                            "node": pick(&NODES, node),
                            "action": pick(&ACTIONS, action),
                            "actor": "clerk",
                            "at": at(minute),
                        })
                    })
                    .collect(),
            ),
        ),
        Step::WritebackAcks(rows) => (
            "writeback_acks",
            lines(
                rows.iter()
                    .map(|&(key, mcid)| {
                        let (channel, order_id) = order_key(key);
                        serde_json::json!({
                            "channel": channel,
                            "order_id": order_id,
                            "mcid": format!("MC{:013}", mcid % 3),
                            "actor": "crm",
                        })
                    })
                    .collect(),
            ),
        ),
        Step::SyncCommands(rows) => (
            "sync_commands",
            lines(
                rows.iter()
                    .map(|&(command, key, status)| {
                        let (channel, order_id) = order_key(key);
                        serde_json::json!({
                            "command_id": format!("C{}", command % 4),
                            "channel": channel,
                            "order_id": order_id,
                            "status": pick(&STATUSES, status),
                            "reason": "stuck",
                            "actor": "support",
                        })
                    })
                    .collect(),
            ),
        ),
        Step::SyncAcks(rows) => (
            "sync_acks",
            lines(
                rows.iter()
                    .map(|&(command, system, outcome)| {
                        serde_json::json!({
                            "command_id": format!("C{}", command % 4),
                            "system": pick(&SYSTEMS, system),
                            "outcome": if outcome % 2 == 0 { "applied" } else { "failed" },
                            "actor": "connector",
                        })
                    })
                    .collect(),
            ),
        ),
    }
}

fn apply(engine: &Engine, step: &Step) {
    let (table, ndjson) = rows(step);
    let data = Bytes::from(ndjson);
    let recorded = matches!(table, "writeback_acks" | "sync_commands" | "sync_acks");
    let done = if recorded {
        engine.record(table, data)
    } else {
        engine.ingest(table, Format::Ndjson, "test", data)
    };
    done.unwrap_or_else(|e| panic!("{table}: {e}"));
}

/// Every row of `batches` as text, sorted.
fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for b in batches {
        let columns: Vec<_> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            let row: Vec<String> = columns.iter().map(|c| c.value(r).to_string()).collect();
            rows.push(row.join(" | "));
        }
    }
    rows.sort();
    rows
}

fn maintained() -> Vec<&'static str> {
    all_views()
        .filter(|v| v.maintenance().unwrap().is_some())
        .map(|v| v.name)
        .collect()
}

async fn read(engine: &Arc<Engine>, view: &str, recompute: bool) -> Vec<String> {
    select(engine, &format!("SELECT * FROM {view}"), recompute).await
}

async fn select(engine: &Arc<Engine>, sql: &str, recompute: bool) -> Vec<String> {
    let options = SessionOptions {
        recompute,
        ..SessionOptions::default()
    };
    let df = engine.query_with(sql, options).await.unwrap();
    sorted_rows(&df.collect().await.unwrap())
}

/// An engine on `dir`, where a phone seen with a third account is shared,
/// so that phones become shared, and no longer shared when a re-sent order
/// takes an account back.
fn open(dir: &std::path::Path) -> Arc<Engine> {
    std::fs::write(
        dir.join("ordergraph.toml"),
        "[report]\nnow = \"2026-03-02T00:00:00Z\"\n[identity]\nmax_accounts = 2\n",
    )
    .unwrap();
    Engine::open(dir, vec![ordergraph_queries::hook()]).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_maintained_view_equals_its_recompute(
        steps in proptest::collection::vec((step(), any::<bool>()), 1..14)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let engine = open(dir.path());
        let views = maintained();
        let runtime = runtime();
        // The identity tables kept from the graph are read as every view
        // reads them: their rows are checked against a fresh engine's below.
        let identity = ["order_identifiers", "shared_identifiers"];
        let tables: Vec<&str> = views.iter().copied().chain(identity).collect();
        let kept = runtime.block_on(async {
            for (i, (step, check)) in steps.iter().enumerate() {
                apply(&engine, step);
                // Reads in between make later changes apply key by key.
                if *check || i + 1 == steps.len() {
                    for table in identity {
                        read(&engine, table, false).await;
                    }
                    for view in &views {
                        let kept = read(&engine, view, false).await;
                        let computed = read(&engine, view, true).await;
                        prop_assert_eq!(kept, computed, "{} after step {}: {:?}", view, i, step);
                    }
                }
            }
            let mut kept = Vec::new();
            for table in &tables {
                kept.push(read(&engine, table, false).await);
            }
            Ok(kept)
        })?;
        drop(engine);
        // Opened again, the engine builds everything from the stored orders.
        let engine = open(dir.path());
        runtime.block_on(async {
            for (table, kept) in tables.iter().zip(kept) {
                let fresh = read(&engine, table, true).await;
                prop_assert_eq!(kept, fresh, "{} against a fresh engine", table);
            }
            Ok(())
        })?;
    }
}

/// After the first build, a commit is applied to each maintained view and
/// table it touches by its keys, not by a rebuild.
#[test]
fn changes_are_applied_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let views = maintained();
    assert!(views.len() >= 5, "maintained views: {views:?}");
    runtime().block_on(async {
        let steps = |base: u8| {
            vec![
                Step::Orders(vec![
                    (base, 2, 1, 0, 1, 3, 9, 0),
                    (base + 1, 2, 2, 1, 2, 4, 9, 0),
                ]),
                Step::StatusEvents(vec![(base, 0, 0, 5, 0), (base, 1, 1, 6, 1)]),
                Step::Refunds(vec![(base, base, 7)]),
                Step::RefundEvents(vec![(base, 0, 0, 8), (base, 0, 1, 9)]),
                Step::WritebackAcks(vec![(base, 0)]),
                Step::SyncCommands(vec![(base, base, 1)]),
                Step::SyncAcks(vec![(base, 0, 0)]),
            ]
        };
        for step in steps(0) {
            apply(&engine, &step);
        }
        // The views, and the identity tables kept from the graph.
        for status in engine.maintained_views() {
            read(&engine, &status.name, false).await;
        }
        for step in steps(1) {
            apply(&engine, &step);
        }
        engine.refresh_views().await.unwrap();
        // A filter on the whole key is answered from the key index.
        for sql in [
            "SELECT * FROM status_consistency WHERE channel = 'tmall' AND order_id = 'O1'",
            "SELECT * FROM refund_paths WHERE refund_id = 'R1'",
            "SELECT order_id FROM refund_paths WHERE refund_id = 'R1' AND channel = 'nowhere'",
        ] {
            let kept = select(&engine, sql, false).await;
            assert_eq!(kept, select(&engine, sql, true).await, "{sql}");
            assert_eq!(kept.len(), usize::from(!sql.contains("nowhere")), "{sql}");
        }
        for status in engine.maintained_views() {
            assert_eq!(status.builds, 1, "{status:?}");
            assert!(status.updates >= 1, "{status:?}");
            assert_eq!(
                read(&engine, &status.name, false).await,
                read(&engine, &status.name, true).await,
                "{}",
                status.name
            );
        }
    });
}

/// A recycled phone: its new holder's order, half a year on, splits it
/// between two customers, and the rows of the first, whose orders did not
/// change, say so too (`rule = 'split'`), in `order_identifiers` and the
/// views over it; and say `linked` again once that order, sent again,
/// shows another phone.
#[test]
fn a_recycled_phone_restates_its_first_holder() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path());
    let views = maintained();
    runtime().block_on(async {
        let order = |id: &str, at: &str, email: &str, phone: &str| {
            serde_json::json!({
                "order_id": id, "channel": "shopify", "ordered_at": at,
                "phone": phone, "email": email, "amount": "1.00",
            })
            .to_string()
        };
        let (phone, later) = ("13912340001", "2026-08-01T08:00:00Z");
        let first = order("A", "2026-01-05T08:00:00Z", "old.owner@163.com", phone);
        engine
            .ingest("orders", Format::Ndjson, "test", first.into())
            .unwrap();
        for view in &views {
            read(&engine, view, false).await;
        }
        let rules = "SELECT order_id, rule FROM order_identifiers WHERE kind = 'phone'";
        assert_eq!(select(&engine, rules, false).await, ["A | linked"]);
        // The new holder's order; then the same order sent again with
        // another phone.
        for (second, expected) in [
            (phone, ["A | split", "B | split"]),
            ("13912340002", ["A | linked", "B | linked"]),
        ] {
            let second = order("B", later, "new.owner@qq.com", second);
            engine
                .ingest("orders", Format::Ndjson, "test", second.into())
                .unwrap();
            assert_eq!(select(&engine, rules, false).await, expected);
            for view in &views {
                assert_eq!(
                    read(&engine, view, false).await,
                    read(&engine, view, true).await,
                    "{view}"
                );
            }
        }
    });
}

/// Views whose rows do not fit in `[limits] maintained_memory_mib` are
/// released, the first that pushes the total over it and every later one
/// that would: their reads compute them from their SQL, before and after
/// further commits, while the views that fit are still kept and updated.
#[test]
fn views_over_the_memory_budget_are_computed_on_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\nnow = \"2026-03-02T00:00:00Z\"\n[limits]\nmaintained_memory_mib = 1\n",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![ordergraph_queries::hook()]).unwrap();
    let orders = |from: usize, to: usize| -> String {
        (from..to)
            .map(|i| {
                serde_json::json!({
                    "order_id": format!("B{i}"),
                    "channel": pick(&CHANNELS, i as u8),
                    "ordered_at": at((i % 250) as u8),
                    "account_id": format!("buyer{}", i / 3),
                    "phone": format!("139{:08}", i / 3),
                    "amount": format!("{}.00", 10 + i % 90),
                    "status": pick(&STATUSES, (i % 7) as u8),
                })
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let ingest = |ndjson: String| {
        engine
            .ingest("orders", Format::Ndjson, "test", Bytes::from(ndjson))
            .unwrap();
    };
    let views = maintained();
    runtime().block_on(async {
        ingest(orders(0, 12_000));
        engine.refresh_views().await.unwrap();
        let status = engine.maintained_views();
        let released: Vec<_> = status.iter().filter(|s| s.released).collect();
        let kept: Vec<_> = status.iter().filter(|s| s.view && !s.released).collect();
        assert!(!released.is_empty() && !kept.is_empty(), "{status:#?}");
        for s in &released {
            assert_eq!((s.rows, s.bytes), (None, 0), "{s:?}");
        }
        let held: usize = kept.iter().map(|s| s.bytes).sum();
        assert!(held <= 1 << 20, "{held} bytes held: {kept:#?}");
        ingest(orders(11_990, 12_100));
        engine.refresh_views().await.unwrap();
        for view in &views {
            assert_eq!(
                read(&engine, view, false).await,
                read(&engine, view, true).await,
                "{view}"
            );
        }
        let after = engine.maintained_views();
        for s in after.iter().filter(|s| s.view && !s.released) {
            assert!(
                kept.iter().any(|k| k.name == s.name),
                "{} was released first, then kept",
                s.name
            );
        }
        assert!(
            after
                .iter()
                .any(|s| s.view && !s.released && s.updates >= 1),
            "{after:#?}"
        );
    });
}

/// With `maintained_memory_mib = 0` no view is built at all: each is
/// released at its first refresh and read from its SQL.
#[test]
fn a_budget_of_nothing_builds_no_view() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\nnow = \"2026-03-02T00:00:00Z\"\n[limits]\nmaintained_memory_mib = 0\n",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![ordergraph_queries::hook()]).unwrap();
    runtime().block_on(async {
        apply(&engine, &Step::Orders(vec![(1, 2, 1, 0, 1, 3, 9, 0)]));
        engine.refresh_views().await.unwrap();
        for status in engine.maintained_views().iter().filter(|s| s.view) {
            assert!(status.released, "{status:?}");
            assert_eq!((status.builds, status.rows), (0, None), "{status:?}");
        }
        for view in maintained() {
            assert_eq!(
                read(&engine, view, false).await,
                read(&engine, view, true).await,
                "{view}"
            );
        }
    });
}
