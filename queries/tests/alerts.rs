//! Each built-in alert run on a real engine whose data makes it fire: the
//! keys, severities and routes it returns, with a title and a message.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use ordergraph_engine::{Engine, Format};
use ordergraph_queries::alerts::{ALERT_COLUMNS, built_in};

fn ingest(engine: &Engine, table: &str, csv: &str) {
    engine
        .ingest(table, Format::Csv, table, csv.to_string().into())
        .unwrap_or_else(|e| panic!("{table}: {e}"));
}

/// (alert, alert_key, severity, route) of every row of every built-in
/// alert; every row also has a title and a message.
async fn fired(engine: &Arc<Engine>) -> BTreeSet<(String, String, String, String)> {
    let mut rows = BTreeSet::new();
    for alert in built_in() {
        let batches = engine
            .query(&alert.sql)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", alert.name))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", alert.name));
        for batch in batches {
            let columns: Vec<_> = ALERT_COLUMNS
                .iter()
                .map(|c| cast(batch.column_by_name(c).unwrap(), &DataType::Utf8).unwrap())
                .collect();
            for i in 0..batch.num_rows() {
                let value = |c: usize| {
                    let column = columns[c].as_string::<i32>();
                    assert!(
                        column.is_valid(i),
                        "{}: {} is NULL",
                        alert.name,
                        ALERT_COLUMNS[c]
                    );
                    column.value(i).to_string()
                };
                assert!(
                    !value(2).is_empty() && !value(3).is_empty(),
                    "{}",
                    alert.name
                );
                rows.insert((alert.name.clone(), value(0), value(1), value(4)));
            }
        }
    }
    rows
}

#[tokio::test]
async fn every_built_in_alert_fires_on_what_it_watches() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\nnow = \"2026-03-10T12:00:00Z\"\n",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![ordergraph_queries::hook()]).unwrap();
    assert_eq!(
        fired(&engine).await,
        BTreeSet::new(),
        "nothing fires on no data"
    );

    // A refund nobody took up for 3 h.
    ingest(
        &engine,
        "refunds",
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n\
         R1,tmall,N1,2026-03-10T09:00:00Z,50.00,少发,美妆,普通,false\n",
    );
    // A token an hour from expiry whose last refresh failed.
    ingest(
        &engine,
        "credentials",
        "platform,shop,name,expires_at,last_refresh_at,last_refresh_ok\n\
         tmall,旗舰店,access_token,2026-03-10T13:00:00Z,2026-03-10T11:00:00Z,false\n",
    );
    // Sku A sells every day; its warehouse has been empty since the 03-08
    // count, so the request is 52 h old and unconfirmed.
    let mut orders = String::from(
        "order_id,channel,ordered_at,account_id,phone,email,wechat_unionid,device_id,amount,status,ship_city,ship_address,ip,coupon\n",
    );
    let mut lines = String::from("channel,order_id,sku,qty,unit_price\n");
    for day in 8..=10 {
        orders += &format!("P{day},jd,2026-03-{day:02}T01:00:00Z,,,,,,100.00,paid,,,,\n");
        lines += &format!("jd,P{day},A,10,10.00\n");
    }
    // A new account's first order, over 5,000 an hour after it was made,
    // nothing browsed, only a masked phone.
    orders += "N1,tmall,2026-03-10T11:00:00Z,ACC1,138****5678,,,,6000.00,paid,,,,\n";
    ingest(&engine, "orders", &orders);
    ingest(&engine, "order_lines", &lines);
    ingest(
        &engine,
        "accounts",
        "channel,account_id,created_at\ntmall,ACC1,2026-03-10T10:00:00Z\n",
    );
    ingest(
        &engine,
        "inventory",
        "sku,warehouse,available,as_of\nA,WH,0,2026-03-08T08:00:00Z\nA,WH,0,2026-03-09T08:00:00Z\nA,WH,0,2026-03-10T08:00:00Z\n",
    );
    ingest(
        &engine,
        "suppliers",
        "sku,supplier,backup_supplier,lead_time_days,min_order_qty\nA,宁波厂,宁波备份厂,2,10\n",
    );
    // 20 orders the platform and the WMS both updated in the last hour;
    // 2 disagree (10 %, over the 5 % threshold).
    let mut events =
        String::from("channel,order_id,system,status_code,updated_at,confirmed_at,operator\n");
    for i in 1..=20 {
        let wms = if i <= 2 { "shipped" } else { "paid" };
        events += &format!("jd,D{i},platform,paid,2026-03-10T11:30:00Z,,\n");
        events += &format!("jd,D{i},wms,{wms},2026-03-10T11:30:00Z,,\n");
    }
    ingest(&engine, "status_events", &events);

    let fired = fired(&engine).await;
    let expected = [
        (
            "refund_escalations",
            "refund:R1:apply:2h",
            "info",
            "group_lead",
        ),
        (
            "credential_expiry",
            "credential:tmall:旗舰店:access_token:critical",
            "critical",
            "shop_ops",
        ),
        (
            "credential_expiry",
            "credential:tmall:旗舰店:access_token:refresh_failed",
            "critical",
            "shop_ops",
        ),
        (
            "purchase_escalations",
            "purchase:PR-A-WH-20260308",
            "warning",
            "buyer:宁波备份厂",
        ),
        ("status_drift", "drift:platform", "warning", "status_sync"),
        ("status_drift", "drift:wms", "warning", "status_sync"),
        (
            "order_holds",
            "hold:tmall:N1:new_account_high_value",
            "warning",
            "risk",
        ),
        (
            "mcid_health_digest",
            "mcid-health:2026-03-09",
            "info",
            "data_steward",
        ),
    ]
    .map(|(a, k, s, r)| (a.into(), k.into(), s.into(), r.into()));
    assert_eq!(fired, BTreeSet::from(expected));
}
