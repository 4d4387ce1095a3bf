//! MCID write-back and force-sync over HTTP, as connectors, support agents
//! and admins call them, and the audit log they leave.

use std::sync::Arc;

use ordergraph_server::access::Logins;
use reqwest::Method;
use serde_json::{Value, json};

use crate::auth::users;
use crate::{HEADER, TestServer, call};

async fn start() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .basic_auth("ingest-user", Some("ingest secret"))
        .header("content-type", "text/csv")
        .body(format!(
            "{HEADER}W1,tmall,2026-01-01T00:00:00Z,,13811115001,,,,10.00,paid,,,,\n\
             W2,tmall,2026-01-02T00:00:00Z,,13811115002,,,,10.00,paid,,,,\n\
             W3,jd,2026-01-03T00:00:00Z,,13811115003,,,,10.00,paid,,,,\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (dir, s)
}

fn order_ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["channel"].as_str().unwrap(),
                r["order_id"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn connectors_page_through_the_writeback_outbox_and_acknowledge() {
    let (_dir, s) = start().await;
    // Two pages of two and one, by (channel, order_id).
    let r = s
        .client
        .get(s.url("/v1/writeback?limit=2"))
        .basic_auth("ingest-user", Some("ingest secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cursor = r.headers()["x-next-cursor"].to_str().unwrap().to_string();
    let first: Value = r.json().await.unwrap();
    assert_eq!(order_ids(&first), ["jd:W3", "tmall:W1"]);
    assert_eq!(cursor, "tmall:W1");
    let (status, second) = call(
        &s,
        "ingest",
        Method::GET,
        &format!("/v1/writeback?limit=2&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(order_ids(&second), ["tmall:W2"]);
    let w1 = &first[1];
    assert_eq!(w1["note"], format!("MCID:{}", w1["mcid"].as_str().unwrap()));

    let (_, tmall) = call(
        &s,
        "ingest",
        Method::GET,
        "/v1/writeback?channel=tmall",
        None,
    )
    .await;
    let acks: Vec<Value> = tmall
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({"channel": r["channel"], "order_id": r["order_id"], "mcid": r["mcid"]}))
        .collect();
    let (status, done) = call(
        &s,
        "ingest",
        Method::POST,
        "/v1/writeback/ack",
        Some(json!(acks)),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["recorded"], 2);
    assert_eq!(done["stale"], json!([]));
    // Idempotent: the same acknowledgements again record nothing.
    let (status, again) = call(
        &s,
        "ingest",
        Method::POST,
        "/v1/writeback/ack",
        Some(json!(acks)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (again["recorded"].clone(), again["repeated"].clone()),
        (json!(0), json!(2))
    );
    let (_, left) = call(&s, "ingest", Method::GET, "/v1/writeback", None).await;
    assert_eq!(order_ids(&left), ["jd:W3"]);

    // An unknown order refuses the whole request and records nothing.
    let w3 = &left[0];
    let (status, refused) = call(
        &s,
        "ingest",
        Method::POST,
        "/v1/writeback/ack",
        Some(json!([
            {"channel": "jd", "order_id": "W3", "mcid": w3["mcid"]},
            {"channel": "jd", "order_id": "NOPE", "mcid": w3["mcid"]},
        ])),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["detail"]["unknown"][0]["index"], 1);
    let (_, left) = call(&s, "ingest", Method::GET, "/v1/writeback", None).await;
    assert_eq!(order_ids(&left), ["jd:W3"]);
    for (body, why) in [
        (
            json!([{"channel": "jd", "order_id": "W3", "mcid": "not-an-mcid"}]),
            "bad mcid",
        ),
        (json!({"channel": "jd"}), "not an array"),
        (json!([{"channel": "jd", "order_id": "W3"}]), "no mcid"),
    ] {
        let (status, err) = call(&s, "ingest", Method::POST, "/v1/writeback/ack", Some(body)).await;
        assert!(status == 400 || status == 422, "{why}: {status} {err}");
        assert!(err["message"].is_string(), "{why}: {err}");
    }

    // A merge changes W2's MCID: its note is stale, it is back in the outbox.
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .basic_auth("ingest-user", Some("ingest secret"))
        .header("content-type", "text/csv")
        .body(format!(
            "{HEADER}W4,tmall,2026-01-04T00:00:00Z,,13811115001,w@qq.com,,,10.00,paid,,,,\n\
             W5,tmall,2026-01-05T00:00:00Z,,13811115002,w@qq.com,,,10.00,paid,,,,\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, left) = call(
        &s,
        "ingest",
        Method::GET,
        "/v1/writeback?channel=tmall",
        None,
    )
    .await;
    let stale: Vec<&Value> = left
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["written_mcid"].is_null())
        .collect();
    assert_eq!(stale.len(), 1, "{left}");
    assert_ne!(stale[0]["written_mcid"], stale[0]["mcid"]);

    // Analysts read SQL, not the outbox.
    let (status, _) = call(&s, "analyst", Method::GET, "/v1/writeback", None).await;
    assert_eq!(status, 403);
    s.stop().await;
}

#[tokio::test]
async fn force_sync_to_shipped_needs_evidence_or_an_admins_waiver() {
    let (_dir, s) = start().await;
    let path = "/v1/orders/tmall/W1/force-sync";
    let shipped =
        json!({"status": "shipped", "reason": "platform shows paid; parcel left on Monday"});

    // Support may force-sync, but not without the three pieces of evidence.
    let (status, refused) = call(&s, "support", Method::POST, path, Some(shipped.clone())).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "shipping_evidence_missing");
    for evidence in ["tracking_no", "wms_outbound_id", "crm_delivery_node"] {
        assert!(
            refused["message"].as_str().unwrap().contains(evidence),
            "{refused}"
        );
    }
    let mut waived = shipped.clone();
    waived["waive"] = json!(["wms_outbound_id", "crm_delivery_node"]);
    waived["tracking_no"] = json!("SF1234567890");
    let (status, _) = call(&s, "support", Method::POST, path, Some(waived.clone())).await;
    assert_eq!(status, 403, "only an admin waives");

    let mut full = shipped.clone();
    full["tracking_no"] = json!("SF1234567890");
    full["wms_outbound_id"] = json!("OUT-778");
    full["crm_delivery_node"] = json!("DN-12");
    full["request_id"] = json!("ticket-4411");
    let (status, made) = call(&s, "support", Method::POST, path, Some(full.clone())).await;
    assert_eq!(status, 201, "{made}");
    let id = made["command"]["command_id"].as_str().unwrap().to_string();
    // The same request again (a retry) names the same command.
    let (status, again) = call(&s, "support", Method::POST, path, Some(full.clone())).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["command"]["command_id"], id.as_str());
    assert_eq!(again["repeated"], true);
    // The same key for another order or with another body is refused, not
    // answered with the first command while the second is dropped.
    let mut other_reason = full.clone();
    other_reason["reason"] = json!("a different ticket reusing the number");
    let other_order = "/v1/orders/tmall/W2/force-sync";
    for (path, body) in [(path, other_reason), (other_order, full.clone())] {
        let (status, reused) = call(&s, "support", Method::POST, path, Some(body)).await;
        assert_eq!(status, 409, "{path}: {reused}");
        assert_eq!(reused["error"], "idempotency_key_reused");
    }

    let (status, admin) = call(&s, "admin", Method::POST, path, Some(waived)).await;
    assert_eq!(status, 201, "{admin}");
    assert_eq!(
        admin["command"]["waived"],
        "crm_delivery_node,wms_outbound_id"
    );

    for (body, status) in [
        (json!({"status": "teleported", "reason": "x"}), 400),
        (json!({"status": "signed", "reason": "  "}), 400),
        (
            json!({"status": "signed", "reason": "x", "waive": ["signature"]}),
            400,
        ),
        (json!({"status": "signed"}), 400),
    ] {
        let (got, err) = call(&s, "admin", Method::POST, path, Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {err}");
    }
    let (status, _) = call(
        &s,
        "admin",
        Method::POST,
        "/v1/orders/tmall/NOPE/force-sync",
        Some(json!({"status": "signed", "reason": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(&s, "marketing", Method::POST, path, Some(full)).await;
    assert_eq!(status, 403);

    // Connectors see each command on each system until they apply it.
    let (status, outbox) = call(
        &s,
        "ingest",
        Method::GET,
        "/v1/sync-commands?system=wms",
        None,
    )
    .await;
    assert_eq!(status, 200, "{outbox}");
    assert_eq!(outbox["commands"].as_array().unwrap().len(), 2);
    let ack = json!({"system": "wms", "outcome": "applied"});
    let (status, acked) = call(
        &s,
        "ingest",
        Method::POST,
        &format!("/v1/sync-commands/{id}/ack"),
        Some(ack.clone()),
    )
    .await;
    assert_eq!(status, 200, "{acked}");
    let (_, repeated) = call(
        &s,
        "ingest",
        Method::POST,
        &format!("/v1/sync-commands/{id}/ack"),
        Some(ack),
    )
    .await;
    assert_eq!(repeated["repeated"], true);
    let (_, outbox) = call(
        &s,
        "ingest",
        Method::GET,
        "/v1/sync-commands?system=wms",
        None,
    )
    .await;
    assert_eq!(outbox["commands"].as_array().unwrap().len(), 1);
    let (_, one) = call(
        &s,
        "ingest",
        Method::GET,
        &format!("/v1/sync-commands?command_id={id}"),
        None,
    )
    .await;
    let states: Vec<(&str, &str)> = one["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["system"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states.len(), 4);
    assert!(states.contains(&("wms", "applied")) && states.contains(&("crm", "pending")));
    let (status, _) = call(
        &s,
        "ingest",
        Method::POST,
        "/v1/sync-commands/SC0/ack",
        Some(json!({"system": "wms", "outcome": "applied"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &s,
        "ingest",
        Method::POST,
        &format!("/v1/sync-commands/{id}/ack"),
        Some(json!({"system": "fax", "outcome": "applied"})),
    )
    .await;
    assert_eq!(status, 400);

    // The audit log has each action once, with who and which role.
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .basic_auth("admin-user", Some("admin secret"))
        .body("SELECT actor, role, action, target FROM audit_log ORDER BY at")
        .send()
        .await
        .unwrap();
    let audit: Value = r.json().await.unwrap();
    let audit: Vec<(&str, &str, &str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap(),
                a["role"].as_str().unwrap(),
                a["action"].as_str().unwrap(),
                a["target"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        audit,
        [
            ("support-user", "support", "force_sync", "tmall:W1"),
            ("admin-user", "admin", "force_sync", "tmall:W1"),
            ("ingest-user", "ingest", "sync_ack", id.as_str()),
        ]
    );
    s.stop().await;
}

/// The quick start: a server with no `[[users]]` asks for no login, and an
/// action taken on it is recorded as `anonymous` with role `open`.
#[tokio::test]
async fn actions_on_a_server_without_users_are_recorded_as_anonymous() {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(&[], false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "text/csv")
        .body(format!(
            "{HEADER}Q1,tmall,2026-01-01T00:00:00Z,,13811115001,,,,10.00,paid,,,,\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s
        .client
        .post(s.url("/v1/orders/tmall/Q1/force-sync"))
        .json(&json!({"status": "signed", "reason": "customer confirmed by phone"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let made: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["command"]["actor"], "anonymous");
    assert_eq!(made["command"]["role"], "open");
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .body("SELECT actor, role, action FROM audit_log")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let audit: Value = r.json().await.unwrap();
    assert_eq!(
        audit,
        json!([{"actor": "anonymous", "role": "open", "action": "force_sync"}])
    );
}
