//! Limits keep the server up: oversized bodies, too many ingests in flight,
//! and queries that need more memory than the pool has are refused with
//! clear errors, and the server goes on answering.

use std::path::Path;

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::{HEADER, TestServer};

fn write_limits(dir: &Path, limits: &str) {
    std::fs::write(
        dir.join(ordergraph_engine::CONFIG_FILE),
        format!("[limits]\n{limits}\n"),
    )
    .unwrap();
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let dir = tempfile::tempdir().unwrap();
    write_limits(dir.path(), "max_body_mib = 1");
    let s = TestServer::start(dir.path()).await;
    let row = "1,tmall,2026-01-01T10:00:00+08:00,,,,,,1.00,paid,,,,\n";
    let big = format!("{HEADER}{}", row.repeat((2 << 20) / row.len()));
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "text/csv")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "too_large", "{body}");
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .body(format!("select 1 -- {}", "x".repeat(2 << 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        s.sql_json("select count(*) as n from orders").await[0]["n"],
        0
    );
    s.stop().await;
}

#[tokio::test]
async fn ingest_beyond_the_pending_limit_is_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    write_limits(dir.path(), "max_pending_ingests = 1");
    let s = TestServer::start(dir.path()).await;
    // A client that sends its headers and only part of its body holds the
    // one slot.
    let body = format!("{HEADER}1,tmall,2026-01-01T10:00:00+08:00,,,,,,1.00,paid,,,,\n");
    let mut slow = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /v1/ingest/orders HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..10]).await.unwrap();
    slow.flush().await.unwrap();

    let mut refused = None;
    // A probe that got in before the slow request held the slot ingested
    // the same order.
    let mut probe_ingested = false;
    for _ in 0..500 {
        let r = s
            .client
            .post(s.url("/v1/ingest/orders"))
            .header("content-type", "text/csv")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            refused = Some(r);
            break;
        }
        probe_ingested |= r.status() == 200;
        // The slow request may not have reached the handler yet.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let refused = refused.expect("a second ingest is refused while the slot is held");
    assert_eq!(refused.headers()["retry-after"], "1");
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"], "overloaded");
    // Queries are not ingests: they still run.
    assert_eq!(
        s.sql_json("select count(*) as n from orders").await[0]["n"],
        u64::from(probe_ingested)
    );

    // The slow client finishes; its request is applied and frees the slot.
    slow.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::io::AsyncReadExt::read(&mut slow, &mut answer)
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        s.sql_json("select count(*) as n from orders").await[0]["n"],
        1
    );
    s.stop().await;
}

#[tokio::test]
async fn a_query_beyond_the_memory_pool_fails_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write_limits(dir.path(), "memory_limit_mib = 1");
    let s = TestServer::start(dir.path()).await;
    // A hash join's build side cannot spill: two million rows do not fit.
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .body("select count(*) from range(0, 2000000) a(x) join range(0, 2000000) b(y) on x = y")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "resources_exhausted", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("memory_limit_mib"),
        "{body}"
    );
    assert_eq!(s.sql_json("select 1 as one").await[0]["one"], 1);
    s.stop().await;
}
