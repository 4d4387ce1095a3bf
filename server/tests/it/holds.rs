//! Holds that hold: a fraud rule's hold is a durable review queue, stops a
//! force-sync to shipped, shows in the WMS connector's outbox, and is
//! decided by support or admins, audited.

use std::sync::Arc;

use ordergraph_server::access::Logins;
use reqwest::Method;
use serde_json::{Value, json};

use crate::auth::users;
use crate::{HEADER, TestServer, call};

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

async fn sql(s: &TestServer, query: &str) -> Value {
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .basic_auth("admin-user", Some("admin secret"))
        .body(query.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

fn orders(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|h| {
            format!(
                "{}:{}",
                h["order_id"].as_str().unwrap(),
                h["state"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_held_order_waits_for_review_and_does_not_ship_until_released() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\nnow = \"2026-03-03T00:00:00Z\"\n",
    )
    .unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    ingest(
        &s,
        "accounts",
        "channel,account_id,created_at\njd,h1,2026-03-01T00:00:00Z\n".into(),
    )
    .await;
    ingest(
        &s,
        "orders",
        format!("{HEADER}H1,jd,2026-03-01T01:00:00Z,h1,,,,,6000.00,paid,,,,\n"),
    )
    .await;

    let (status, queue) = call(&s, "support", Method::GET, "/v1/holds", None).await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(orders(queue["holds"].as_array().unwrap()), ["H1:held"]);
    // Looking at the queue recorded the hold: it outlives the order shipping.
    let placed = sql(&s, "SELECT order_id, rule FROM holds_placed").await;
    assert_eq!(
        placed,
        json!([{"order_id": "H1", "rule": "new_account_high_value"}])
    );

    let shipped = json!({"status": "shipped", "reason": "客户催单", "tracking_no": "SF1",
                         "wms_outbound_id": "OUT-1", "crm_delivery_node": "DN-1"});
    let path = "/v1/orders/jd/H1/force-sync";
    let (status, refused) = call(&s, "support", Method::POST, path, Some(shipped.clone())).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "order_held");
    assert_eq!(
        refused["detail"]["holds"][0]["rule"],
        "new_account_high_value"
    );
    // Other statuses are not the hold's business.
    let (status, _) = call(
        &s,
        "support",
        Method::POST,
        path,
        Some(json!({"status": "paid", "reason": "对账"})),
    )
    .await;
    assert_eq!(status, 201);

    let (status, outbox) = call(
        &s,
        "ingest",
        Method::GET,
        "/v1/sync-commands?system=wms",
        None,
    )
    .await;
    assert_eq!(status, 200, "{outbox}");
    assert_eq!(orders(outbox["holds"].as_array().unwrap()), ["H1:held"]);
    let (_, erp) = call(
        &s,
        "ingest",
        Method::GET,
        "/v1/sync-commands?system=erp",
        None,
    )
    .await;
    assert_eq!(erp["holds"], json!([]));

    for (role, body, expected) in [
        ("marketing", json!({"note": "x"}), 403),
        ("support", json!({"note": "  "}), 400),
        ("support", json!({}), 400),
    ] {
        let (status, answer) = call(
            &s,
            role,
            Method::POST,
            "/v1/holds/jd/H1/release",
            Some(body),
        )
        .await;
        assert_eq!(status, expected, "{role}: {answer}");
    }
    let (status, _) = call(
        &s,
        "support",
        Method::POST,
        "/v1/holds/jd/NOPE/release",
        Some(json!({"note": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&s, "support", Method::GET, "/v1/holds?state=maybe", None).await;
    assert_eq!(status, 400);

    let (status, released) = call(
        &s,
        "support",
        Method::POST,
        "/v1/holds/jd/H1/release",
        Some(json!({"note": "电话核实本人"})),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(
        orders(released["holds"].as_array().unwrap()),
        ["H1:released"]
    );
    let (_, queue) = call(&s, "support", Method::GET, "/v1/holds", None).await;
    assert_eq!(queue["holds"], json!([]));
    let (_, all) = call(&s, "admin", Method::GET, "/v1/holds?state=all", None).await;
    assert_eq!(all["holds"][0]["decided_by"], "support-user");
    let (status, made) = call(&s, "support", Method::POST, path, Some(shipped)).await;
    assert_eq!(status, 201, "{made}");

    let audit = sql(
        &s,
        "SELECT action, actor, role FROM audit_log WHERE action LIKE 'hold%' ORDER BY at",
    )
    .await;
    assert_eq!(
        audit,
        json!([
            {"action": "hold_placed", "actor": "ordergraph", "role": "system"},
            {"action": "hold_release", "actor": "support-user", "role": "support"}
        ])
    );
}
