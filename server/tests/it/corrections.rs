//! Corrections of identity over HTTP: support and admins split, merge,
//! unlink, link and undo; a contradicting correction is refused with 409;
//! each is audited; they hold across a checkpoint and a restart.

use std::sync::Arc;

use ordergraph_server::access::Logins;
use reqwest::Method;
use serde_json::json;

use crate::auth::users;
use crate::{HEADER, TestServer, call};

/// A couple sharing one phone and nothing else (P1-P4), one buyer who
/// changed phone (C1, C2), and strangers whose orders a shop typed its own
/// phone on (S1, S2).
fn orders() -> String {
    let rows = [
        "P1,jd,2026-03-01T10:00:00+08:00,,13971829364,,,,10.00,paid,,,,",
        "P2,jd,2026-03-05T10:00:00+08:00,,13971829364,,,,20.00,paid,,,,",
        "P3,jd,2026-03-09T10:00:00+08:00,,13971829364,,,,30.00,paid,,,,",
        "P4,jd,2026-03-12T10:00:00+08:00,,13971829364,,,,40.00,paid,,,,",
        "C1,tmall,2026-03-01T10:00:00+08:00,,13700000001,old@qq.com,,,50.00,paid,,,,",
        "C2,tmall,2026-04-01T10:00:00+08:00,,18600000002,new@163.com,,,60.00,paid,,,,",
        "S1,shopify,2026-03-02T10:00:00+08:00,alice,13811112222,,,,70.00,paid,,,,",
        "S2,shopify,2026-03-03T10:00:00+08:00,bob,13811112222,,,,80.00,paid,,,,",
    ];
    format!("{HEADER}{}\n", rows.join("\n"))
}

async fn mcid(s: &TestServer, order_id: &str) -> String {
    let (status, body) = call(
        s,
        "admin",
        Method::POST,
        "/v1/sql",
        Some(json!({"sql": format!("SELECT mcid FROM orders WHERE order_id = '{order_id}'")})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[0]["mcid"].as_str().unwrap().to_string()
}

async fn same(s: &TestServer, a: &str, b: &str) -> bool {
    mcid(s, a).await == mcid(s, b).await
}

/// The corrections `identity_evidence` shows: `(number, decision, rule,
/// order keys)`, and each one's detail.
async fn corrections_evidence(s: &TestServer) -> (Vec<String>, Vec<String>) {
    let sql = "SELECT value, decision, rule, order_keys, detail FROM identity_evidence \
               WHERE kind = 'correction' ORDER BY value, order_keys";
    let (status, rows) = call(
        s,
        "admin",
        Method::POST,
        "/v1/sql",
        Some(json!({"sql": sql})),
    )
    .await;
    assert_eq!(status, 200, "{rows}");
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {} {} {}",
                    r["value"].as_str().unwrap(),
                    r["decision"].as_str().unwrap(),
                    r["rule"].as_str().unwrap(),
                    r["order_keys"]
                ),
                r["detail"].as_str().unwrap().to_string(),
            )
        })
        .unzip()
}

async fn start(dir: &std::path::Path) -> TestServer {
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    TestServer::start_with(dir, Some(logins)).await
}

#[tokio::test]
async fn people_correct_who_is_who_and_the_corrections_last() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path()).await;
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .basic_auth("admin-user", Some("admin secret"))
        .header("content-type", "text/csv")
        .body(orders())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(same(&s, "P1", "P3").await && same(&s, "S1", "S2").await);
    assert!(!same(&s, "C1", "C2").await);
    let couple = mcid(&s, "P1").await;

    // Split: P2 and P4 are the partner's.
    let split = json!({
        "orders": [{"channel": "jd", "order_id": "P2"}, {"channel": "jd", "order_id": "P4"}],
        "reason": "the partner's orders, she called",
        "ticket": "T-1",
    });
    let path = format!("/v1/customers/{couple}/split");
    let (status, body) = call(&s, "support", Method::POST, &path, Some(split.clone())).await;
    assert_eq!(status, 201, "{body}");
    let split_id = body["correction_id"].as_i64().unwrap();
    assert_eq!(body["mcids"].as_array().unwrap().len(), 2);
    assert!(same(&s, "P1", "P3").await && same(&s, "P2", "P4").await);
    assert!(!same(&s, "P1", "P2").await);
    assert_eq!(
        mcid(&s, "P1").await,
        couple,
        "the earlier side keeps its MCID"
    );
    // The lineage says who made it and why.
    let lineage_path = format!("/v1/customers/{couple}/lineage");
    let (status, lineage) = call(&s, "support", Method::GET, &lineage_path, None).await;
    assert_eq!(status, 200, "{lineage}");
    let made = &lineage["corrections"][0];
    assert_eq!(
        (&made["action"], &made["actor"], &made["ticket"]),
        (&json!("split"), &json!("support-user"), &json!("T-1")),
        "{lineage}"
    );
    // So does identity_evidence, for both sides.
    let (shown, details) = corrections_evidence(&s).await;
    assert_eq!(
        shown,
        [
            format!(r#"{split_id} corrected manual_split ["jd:P1","jd:P3"]"#),
            format!(r#"{split_id} corrected manual_split ["jd:P2","jd:P4"]"#),
        ]
    );
    assert!(
        details[0].contains("support-user: the partner's orders, she called (ticket T-1)"),
        "{details:?}"
    );
    // Sent again, it is the same correction.
    let (status, body) = call(&s, "support", Method::POST, &path, Some(split)).await;
    assert_eq!((status, body["already"].as_bool()), (200, Some(true)));

    // Merge: the buyer who changed phone.
    let (c1, c2) = (mcid(&s, "C1").await, mcid(&s, "C2").await);
    let merge = json!({"mcids": [c1, c2], "reason": "same person, new phone"});
    let (status, body) = call(
        &s,
        "admin",
        Method::POST,
        "/v1/customers/merge",
        Some(merge),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let merge_id = body["correction_id"].as_i64().unwrap();
    assert_eq!(mcid(&s, "C2").await, c1);
    let aliases = call(
        &s,
        "admin",
        Method::POST,
        "/v1/sql",
        Some(json!({"sql": format!("SELECT new_mcid, reason FROM mcid_aliases WHERE old_mcid = '{c2}'")})),
    )
    .await
    .1;
    assert_eq!(aliases[0]["reason"], "manual_merge", "{aliases}");

    // A merge of the couple's two sides contradicts the split: 409 naming it.
    let (p1, p2) = (mcid(&s, "P1").await, mcid(&s, "P2").await);
    let (status, body) = call(
        &s,
        "support",
        Method::POST,
        "/v1/customers/merge",
        Some(json!({"mcids": [p1, p2], "reason": "one person after all?"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["detail"]["conflicts_with"], split_id);

    // Unlink: the shop's phone links nobody.
    let unlink =
        json!({"kind": "phone", "value": "+86 138-1111-2222", "reason": "the shop's own phone"});
    let (status, body) = call(
        &s,
        "support",
        Method::POST,
        "/v1/identifiers/unlink",
        Some(unlink),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(!same(&s, "S1", "S2").await);
    // Link of the same value contradicts it.
    let link = json!({"kind": "phone", "value": "13811112222", "reason": "no, personal"});
    let (status, _) = call(
        &s,
        "support",
        Method::POST,
        "/v1/identifiers/link",
        Some(link),
    )
    .await;
    assert_eq!(status, 409);

    // Bad requests are 4xx with their cause.
    let cases = [
        (
            json!({"orders": [{"channel": "jd", "order_id": "C1"}], "reason": "x"}),
            422,
        ),
        (json!({"orders": [], "reason": "x"}), 422),
        (
            json!({"orders": [{"channel": "jd", "order_id": "P1"}], "reason": " "}),
            400,
        ),
        (
            json!({"orders": [{"channel": "jd", "order_id": "P1"}]}),
            400,
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = call(&s, "support", Method::POST, &path, Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (status, _) = call(
        &s,
        "support",
        Method::POST,
        "/v1/customers/MC000000000000000000000000/split",
        Some(json!({"orders": [{"channel": "jd", "order_id": "P1"}], "reason": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &s,
        "support",
        Method::POST,
        "/v1/identifiers/unlink",
        Some(json!({"kind": "phone", "value": "13800000000", "reason": "placeholder"})),
    )
    .await;
    assert_eq!(status, 422, "a placeholder links nobody already");
    // Analysts and marketing may not correct.
    for role in ["analyst", "marketing", "ingest"] {
        let (status, _) = call(&s, role, Method::GET, "/v1/corrections", None).await;
        assert_eq!(status, 403, "{role}");
    }

    // Listed, audited, and an analyst reads the unlinked phone masked.
    let (status, list) = call(&s, "support", Method::GET, "/v1/corrections", None).await;
    assert_eq!(status, 200);
    let listed = list["corrections"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{list}");
    assert_eq!(listed[0]["ticket"], "T-1");
    assert_eq!(listed[0]["actor"], "support-user");
    let (_, audit) = call(
        &s,
        "admin",
        Method::POST,
        "/v1/sql",
        Some(json!({"sql": "SELECT action FROM audit_log WHERE action LIKE 'identity_%' ORDER BY at"})),
    )
    .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["identity_split", "identity_merge", "identity_unlink"]
    );
    let (_, seen) = call(
        &s,
        "analyst",
        Method::POST,
        "/v1/sql",
        Some(json!({"sql": "SELECT value FROM identity_corrections WHERE kind = 'phone'"})),
    )
    .await;
    let value = seen[0]["value"].as_str().unwrap();
    assert!(!value.contains("11112222"), "{value}");

    // A checkpoint and a restart keep every correction and every MCID.
    let before: Vec<String> = {
        let mut v = Vec::new();
        for o in ["P1", "P2", "P3", "P4", "C1", "C2", "S1", "S2"] {
            v.push(mcid(&s, o).await);
        }
        v
    };
    s.engine.checkpoint().unwrap();
    s.stop().await;
    let s = start(dir.path()).await;
    let mut after = Vec::new();
    for o in ["P1", "P2", "P3", "P4", "C1", "C2", "S1", "S2"] {
        after.push(mcid(&s, o).await);
    }
    assert_eq!(after, before);
    let (shown, details) = corrections_evidence(&s).await;
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(
        shown[2],
        format!(r#"{merge_id} corrected manual_merge ["tmall:C1","tmall:C2"]"#)
    );
    assert!(
        details[2].contains("admin-user: same person, new phone"),
        "{details:?}"
    );

    // Undone, the merge gives both customers back; undoing again records
    // nothing; an unknown correction is 404.
    let path = format!("/v1/corrections/{merge_id}");
    let why = json!({"reason": "two people after all"});
    let (status, body) = call(&s, "admin", Method::DELETE, &path, Some(why.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(mcid(&s, "C2").await, c2);
    let (status, _) = call(&s, "admin", Method::DELETE, &path, Some(why.clone())).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &s,
        "admin",
        Method::DELETE,
        "/v1/corrections/999",
        Some(why),
    )
    .await;
    assert_eq!(status, 404);
    let (_, list) = call(&s, "admin", Method::GET, "/v1/corrections", None).await;
    assert!(list["corrections"][1]["undone_by"].is_i64(), "{list}");
    assert_eq!(
        corrections_evidence(&s).await.0.len(),
        2,
        "the merge is gone"
    );
    // The restart after the undo keeps it undone.
    s.stop().await;
    let s = start(dir.path()).await;
    assert!(!same(&s, "C1", "C2").await);
    assert!(!same(&s, "P1", "P2").await);
    s.stop().await;
    // Other identity settings resolve every order again: the corrections
    // still hold.
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[identity]\nmax_accounts = 9\n",
    )
    .unwrap();
    let s = start(dir.path()).await;
    assert!(same(&s, "P1", "P3").await && same(&s, "P2", "P4").await);
    assert!(!same(&s, "P1", "P2").await && !same(&s, "S1", "S2").await);
    s.stop().await;
}

/// A correction and an erasure answered by the real server survive a
/// SIGKILL right after the answer, and its log never holds an erased value.
#[tokio::test]
async fn corrections_and_erasures_survive_sigkill() {
    use crate::erasure::{WRITTEN, found_in, person};
    use crate::process::Process;

    let dir = tempfile::tempdir().unwrap();
    let client = crate::client();
    let post = |base: &str, path: &str, body: serde_json::Value| {
        client.post(format!("{base}{path}")).json(&body).send()
    };
    let sql = |base: String, query: String| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/v1/sql"))
                .body(query)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let mcid_of = |base: String, order: &str| {
        let query = format!("SELECT mcid FROM orders WHERE order_id = '{order}'");
        async move {
            sql(base, query).await[0]["mcid"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let process = Process::start(dir.path());
    let ingest = |base: String, csv: String| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{base}/v1/ingest/orders"))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    };
    ingest(process.base.clone(), orders()).await;
    for csv in person() {
        ingest(process.base.clone(), csv).await;
    }
    let couple = mcid_of(process.base.clone(), "P1").await;
    let split = json!({
        "orders": [{"channel": "jd", "order_id": "P2"}, {"channel": "jd", "order_id": "P4"}],
        "reason": "the partner's orders",
    });
    let r = post(
        &process.base,
        &format!("/v1/customers/{couple}/split"),
        split,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let mut log = process.log.lock().unwrap().clone();
    process.kill();

    let process = Process::start(dir.path());
    let base = process.base.clone();
    assert_ne!(
        mcid_of(base.clone(), "P1").await,
        mcid_of(base.clone(), "P2").await
    );
    assert_eq!(
        mcid_of(base.clone(), "P2").await,
        mcid_of(base.clone(), "P4").await
    );
    let erased = mcid_of(base.clone(), "E1").await;
    let r = post(
        &base,
        &format!("/v1/customers/{erased}/erase"),
        json!({"reason": "PIPL art. 47 request", "request_id": "REQ-7"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    log.extend(process.log.lock().unwrap().iter().cloned());
    process.kill();

    let process = Process::start(dir.path());
    let base = process.base.clone();
    let tomb = sql(
        base.clone(),
        format!("SELECT erased_at FROM customers WHERE mcid = '{erased}'"),
    )
    .await;
    assert!(tomb[0]["erased_at"].is_string(), "{tomb}");
    assert_ne!(
        mcid_of(base.clone(), "P1").await,
        mcid_of(base.clone(), "P2").await
    );
    let left = found_in(dir.path());
    assert!(left.is_empty(), "erased values left on disk: {left:?}");
    log.extend(process.log.lock().unwrap().iter().cloned());
    process.kill();
    let log = log.join("\n");
    for value in WRITTEN {
        assert!(!log.contains(value), "{value} in the server's log");
    }
}
