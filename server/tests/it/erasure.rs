//! Erasure: an admin erases a customer's personal information; after a
//! checkpoint, a compaction and a restart no file of the data directory
//! holds any of it, in any form, while amounts and the tombstone remain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ordergraph_server::access::Logins;
use reqwest::Method;
use serde_json::json;

use crate::auth::users;
use crate::{HEADER, TestServer, call};

/// The person to erase, with values found nowhere else, in the forms they
/// were written in and the forms ingest normalizes them to.
pub(crate) const WRITTEN: [&str; 8] = [
    "+86 139-1234-0987",
    "zhang.Erase@Example.cn",
    "o6_bmERASEME000000001",
    "5F1A9C3E-7B2D-4E8F-9A6C-1D2E3F4A5B6C",
    "erase_acct_77",
    "北京市朝阳区擦除路88号",
    "203.0.113.77",
    "13912340987",
];
const NORMALIZED: [&str; 3] = [
    "+8613912340987",
    "zhang.erase@example.cn",
    "5f1a9c3e-7b2d-4e8f-9a6c-1d2e3f4a5b6c",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The erased values found in the data directory: in the bytes of every
/// file, and in the decoded rows of every Parquet file (its pages are
/// compressed).
pub(crate) fn found_in(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut all = Vec::new();
    files(dir, &mut all);
    let mut found = Vec::new();
    for path in all {
        let bytes = std::fs::read(&path).unwrap();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if bytes.starts_with(b"PAR1") {
            let reader =
                ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
                    .unwrap()
                    .build()
                    .unwrap();
            let batches: Vec<_> = reader.map(Result::unwrap).collect();
            text.push_str(&pretty_format_batches(&batches).unwrap().to_string());
        }
        for value in WRITTEN.iter().chain(&NORMALIZED) {
            if text.contains(value) || text.to_lowercase().contains(&value.to_lowercase()) {
                found.push((value.to_string(), path.clone()));
            }
        }
    }
    found
}

async fn start(dir: &Path) -> TestServer {
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    TestServer::start_with(dir, Some(logins)).await
}

async fn ingest(s: &TestServer, table: &str, csv: String) {
    let r = s
        .client
        .post(s.url(&format!("/v1/ingest/{table}")))
        .basic_auth("admin-user", Some("admin secret"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{table}: {}", r.text().await.unwrap());
}

async fn sql(s: &TestServer, query: &str) -> serde_json::Value {
    let (status, body) = call(
        s,
        "admin",
        Method::POST,
        "/v1/sql",
        Some(json!({"sql": query})),
    )
    .await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

#[tokio::test]
async fn an_erased_customer_leaves_no_trace_on_disk_and_keeps_its_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    for csv in person() {
        ingest(&s, "orders", csv).await;
    }
    ingest(
        &s,
        "orders",
        format!("{HEADER}K1,jd,2026-03-02T10:00:00+08:00,,13700001111,keep@qq.com,,,70.00,paid,上海市,上海市徐汇区1号,,\n"),
    )
    .await;
    ingest(&s, "accounts", "channel,account_id,created_at\ndouyin,erase_acct_77,2026-02-01T00:00:00Z\njd,keep_me,2026-02-01T00:00:00Z\n".into()).await;
    ingest(
        &s,
        "browse_events",
        "channel,account_id,at\ndouyin,erase_acct_77,2026-02-28T00:00:00Z\n".into(),
    )
    .await;
    ingest(&s, "email_status", "email,status,at\nZhang.Erase@example.cn,ok,2026-03-01T00:00:00Z\nkeep@qq.com,ok,2026-03-01T00:00:00Z\n".into()).await;
    let mcid = sql(&s, "SELECT mcid FROM orders WHERE order_id = 'E1'").await[0]["mcid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sql(
            &s,
            &format!("SELECT count(*) AS n FROM orders WHERE mcid = '{mcid}'")
        )
        .await[0]["n"],
        2
    );
    let total = sql(
        &s,
        "SELECT CAST(sum(amount) AS VARCHAR) AS total FROM orders",
    )
    .await[0]["total"]
        .clone();
    s.engine.checkpoint().unwrap();
    // The search finds what is there.
    let before = found_in(dir.path());
    for value in WRITTEN.iter().chain(&NORMALIZED) {
        assert!(
            before.iter().any(|(v, _)| v == value),
            "{value} not found before erasure"
        );
    }

    let path = format!("/v1/customers/{mcid}/erase");
    let ask = json!({"reason": "PIPL art. 47 request", "request_id": "REQ-2026-0042"});
    let (status, _) = call(&s, "support", Method::POST, &path, Some(ask.clone())).await;
    assert_eq!(status, 403, "support may not erase");
    let (status, _) = call(
        &s,
        "admin",
        Method::POST,
        &path,
        Some(json!({"reason": "x"})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = call(&s, "admin", Method::POST, &path, Some(ask.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["mcid"].as_str(), body["orders"].as_i64()),
        (Some(mcid.as_str()), Some(2))
    );
    let (status, body) = call(&s, "admin", Method::POST, &path, Some(ask)).await;
    assert_eq!((status, body["already"].as_bool()), (200, Some(true)));

    // What queries see: no value, the same totals, a tombstone.
    let versions = sql(&s, "SELECT phone, email, wechat_unionid, device_id, account_id, ship_address, ip FROM order_versions WHERE order_id IN ('E1', 'E2')").await;
    for row in versions.as_array().unwrap() {
        for (column, value) in row.as_object().unwrap() {
            assert!(value.is_null(), "{column}: {value}");
        }
    }
    assert_eq!(
        sql(
            &s,
            "SELECT CAST(sum(amount) AS VARCHAR) AS total FROM orders"
        )
        .await[0]["total"],
        total
    );
    let tomb = sql(
        &s,
        &format!("SELECT orders, erased_at FROM customers WHERE mcid = '{mcid}'"),
    )
    .await;
    assert_eq!(tomb[0]["orders"], 2, "{tomb}");
    assert!(tomb[0]["erased_at"].is_string(), "{tomb}");
    let erasures = sql(
        &s,
        "SELECT mcid, request_id, actor, requested_at, completed_at FROM erasures",
    )
    .await;
    assert_eq!(erasures.as_array().unwrap().len(), 1, "{erasures}");
    assert_eq!(
        (
            &erasures[0]["mcid"],
            &erasures[0]["request_id"],
            &erasures[0]["actor"]
        ),
        (&json!(mcid), &json!("REQ-2026-0042"), &json!("admin-user"))
    );
    assert!(erasures[0]["completed_at"].is_string(), "{erasures}");
    assert_eq!(
        sql(&s, "SELECT count(*) AS n FROM accounts").await[0]["n"],
        1
    );
    assert_eq!(
        sql(&s, "SELECT count(*) AS n FROM email_status").await[0]["n"],
        1
    );
    assert_eq!(
        sql(&s, "SELECT count(*) AS n FROM browse_events").await[0]["n"],
        0
    );
    let evidence = sql(
        &s,
        &format!("SELECT count(*) AS n FROM order_identifiers WHERE mcid = '{mcid}'"),
    )
    .await;
    assert_eq!(evidence[0]["n"], 0, "{evidence}");
    let (status, lineage) = call(
        &s,
        "admin",
        Method::GET,
        &format!("/v1/customers/{mcid}/lineage"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(lineage["summary"]["erased_at"].is_string(), "{lineage}");
    // A correction of the tombstone is refused.
    let (status, _) = call(
        &s,
        "admin",
        Method::POST,
        &format!("/v1/customers/{mcid}/split"),
        Some(json!({"orders": [{"channel": "jd", "order_id": "E2"}], "reason": "x"})),
    )
    .await;
    assert_eq!(status, 422);

    s.engine.compact().unwrap();
    s.stop().await;
    let s = start(dir.path()).await;
    let left = found_in(dir.path());
    assert!(left.is_empty(), "erased values left on disk: {left:?}");
    // An erased order sent again comes in without its personal columns.
    ingest(&s, "orders", person()[1].clone()).await;
    let versions = sql(
        &s,
        "SELECT phone, email, account_id, ship_address FROM order_versions WHERE order_id = 'E1'",
    )
    .await;
    for row in versions.as_array().unwrap() {
        for (column, value) in row.as_object().unwrap() {
            assert!(value.is_null(), "{column}: {value}");
        }
    }
    assert!(
        found_in(dir.path()).is_empty(),
        "a re-sent order brought values back"
    );
    // The tombstone and its orders stay; the person coming back with the
    // phone is a new customer.
    assert_eq!(
        sql(&s, "SELECT mcid FROM orders WHERE order_id = 'E2'").await[0]["mcid"],
        json!(mcid)
    );
    ingest(
        &s,
        "orders",
        format!("{HEADER}E3,jd,2026-05-01T10:00:00+08:00,,13912340987,,,,30.00,paid,,,,\n"),
    )
    .await;
    let new = sql(&s, "SELECT mcid FROM orders WHERE order_id = 'E3'").await[0]["mcid"].clone();
    assert_ne!(new, json!(mcid));
    s.stop().await;
}

/// The orders of the person to erase, two versions of E1 among them.
pub(crate) fn person() -> [String; 2] {
    let device = WRITTEN[3];
    [
        format!(
            "{HEADER}E1,douyin,2026-03-01T10:00:00+08:00,erase_acct_77,+86 139-1234-0987,zhang.Erase@Example.cn,o6_bmERASEME000000001,{device},100.00,paid,北京市,北京市朝阳区擦除路88号,203.0.113.77,\n\
             E2,jd,2026-03-05T10:00:00+08:00,,13912340987,,,,50.00,paid,北京市,北京市朝阳区擦除路88号,,\n"
        ),
        format!(
            "{HEADER}E1,douyin,2026-03-01T10:00:00+08:00,erase_acct_77,13912340987,zhang.erase@example.cn,o6_bmERASEME000000001,{device},100.00,signed,北京市,北京市朝阳区擦除路88号,203.0.113.77,\n"
        ),
    ]
}

/// An erasure recorded but not carried out (the process died right after
/// recording it) is carried out when the engine opens again.
#[tokio::test]
async fn an_erasure_cut_short_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    for csv in person() {
        ingest(&s, "orders", csv).await;
    }
    let mcid = sql(&s, "SELECT mcid FROM orders WHERE order_id = 'E1'").await[0]["mcid"]
        .as_str()
        .unwrap()
        .to_string();
    s.engine.checkpoint().unwrap();
    let row = json!({
        "mcid": mcid,
        "request_id": "REQ-1",
        "step": "requested",
        "orders": r#"[["douyin","E1"],["jd","E2"]]"#,
        "reason": "PIPL art. 47 request",
        "actor": "admin-user",
        "role": "admin",
    });
    s.engine
        .record("erasure_steps", format!("{row}\n").into())
        .unwrap();
    assert!(!found_in(dir.path()).is_empty(), "not erased yet");
    let waiting = sql(&s, "SELECT completed_at FROM erasures").await;
    assert!(waiting[0]["completed_at"].is_null(), "{waiting}");
    s.stop().await;
    let s = start(dir.path()).await;
    let left = found_in(dir.path());
    assert!(left.is_empty(), "erased values left on disk: {left:?}");
    let tomb = sql(
        &s,
        &format!("SELECT orders, erased_at FROM customers WHERE mcid = '{mcid}'"),
    )
    .await;
    assert_eq!(tomb[0]["orders"], 2, "{tomb}");
    let erasures = sql(&s, "SELECT completed_at FROM erasures").await;
    assert!(erasures[0]["completed_at"].is_string(), "{erasures}");
    s.stop().await;
}
