//! `/metrics`, `/readyz` and `/v1/version` of a real server process: the
//! series move with ingest and queries, and Prometheus' own `promtool`
//! accepts the exposition.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::process::Process;
use super::{HEADER, client};

/// The value of the series `name` with every label of `labels`; `None`
/// when there is no such line.
fn value(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            return None;
        }
        let wanted = labels
            .iter()
            .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        wanted.then(|| rest.rsplit(' ').next()?.parse().ok())?
    })
}

async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let r = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_ingest_and_queries_and_promtool_accepts_them() {
    let dir = tempfile::tempdir().unwrap();
    let process = Process::start(dir.path());
    let (client, base) = (client(), process.base.clone());

    // Ready once every maintained view has been built.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = client.get(format!("{base}/readyz")).send().await.unwrap();
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(
            Instant::now() < deadline,
            "not ready: {}",
            r.text().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let version: serde_json::Value = client
        .get(format!("{base}/v1/version"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert!(version["identity_rules_version"].as_u64().is_some());

    let before = scrape(&client, &base).await;
    assert_eq!(value(&before, "ordergraph_orders", &[]), Some(0.0));

    let mut body = HEADER.to_string();
    for k in 0..3 {
        body.push_str(&format!(
            "m{k},tmall,2026-01-01T10:0{k}:00+08:00,,1379450099{k},,,,1.00,paid,,,,\n"
        ));
    }
    let r = client
        .post(format!("{base}/v1/ingest/orders"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (sql, status) in [
        ("SELECT count(*) FROM customers", 200),
        ("SELECT nothing FROM nowhere", 400),
    ] {
        let r = client
            .post(format!("{base}/v1/sql"))
            .json(&serde_json::json!({ "sql": sql }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{sql}");
    }

    let after = scrape(&client, &base).await;
    let moved = [
        ("ordergraph_orders", vec![], 3.0),
        ("ordergraph_customers", vec![], 3.0),
        (
            "ordergraph_ingest_rows_total",
            vec![("table", "orders"), ("outcome", "inserted")],
            3.0,
        ),
        (
            "ordergraph_ingest_requests_total",
            vec![("table", "orders"), ("status", "200")],
            1.0,
        ),
        (
            "ordergraph_commit_seconds_count",
            vec![("table", "orders")],
            1.0,
        ),
        ("ordergraph_fsync_seconds_count", vec![], 1.0),
        ("ordergraph_identity_orders_total", vec![], 3.0),
        (
            "ordergraph_queries_total",
            vec![("protocol", "http"), ("role", "admin")],
            2.0,
        ),
        (
            "ordergraph_query_errors_total",
            vec![("protocol", "http"), ("class", "sql")],
            1.0,
        ),
        (
            "ordergraph_query_seconds_count",
            vec![("protocol", "http"), ("role", "admin")],
            1.0,
        ),
        (
            "ordergraph_http_requests_total",
            vec![("route", "/v1/sql"), ("status", "400")],
            1.0,
        ),
        (
            "ordergraph_maintained_rows",
            vec![("view", "customers")],
            3.0,
        ),
    ];
    for (name, labels, at_least) in moved {
        let was = value(&before, name, &labels).unwrap_or(0.0);
        let now = value(&after, name, &labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{after}"));
        assert!(now - was >= at_least, "{name} {labels:?}: {was} -> {now}");
    }

    // Each request has its line in the access log. The line is written as
    // the response ends and read from the server's output by another
    // thread, so it may arrive a little after the client has its answer.
    let refused_sql_logged = || {
        process.log.lock().unwrap().iter().any(|l| {
            l.contains("ordergraph::access")
                && l.contains("path=/v1/sql")
                && l.contains("status=400")
                && l.contains("method=POST")
        })
    };
    let waited = std::time::Instant::now();
    while !refused_sql_logged() && waited.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let log = process.log.lock().unwrap().join("\n");
    assert!(
        refused_sql_logged(),
        "no access log line of the refused query in:\n{log}"
    );

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/test installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(after.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The example dashboard in `docs/` reads only series the server has
/// (a histogram's through its `_bucket`, `_sum` and `_count`).
#[test]
fn the_grafana_dashboard_reads_only_series_the_server_has() {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/grafana-dashboard.json")).unwrap();
    let known: Vec<&str> = ordergraph_server::metrics::series().collect();
    let mut read = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for name in expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("ordergraph_"))
            {
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| known.contains(b)))
                    .unwrap_or(name);
                assert!(known.contains(&base), "{}: {name}", panel["title"]);
                read += 1;
            }
        }
    }
    assert!(read >= 10, "the dashboard reads {read} series");
}

/// With `--log-format json` every log line is one JSON object, the access
/// log's with its method, path, status, time, user and size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let process = Process::start_with(dir.path(), &["--log-format", "json"]);
    let r = client()
        .get(format!("{}/v1/version", process.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let access = loop {
        let objects: Vec<serde_json::Value> = process
            .log
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        if let Some(access) = objects
            .into_iter()
            .find(|o| o["target"] == "ordergraph::access")
        {
            break access;
        }
        assert!(Instant::now() < deadline, "no access log line");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(access["method"], "GET");
    assert_eq!(access["path"], "/v1/version");
    assert_eq!(access["status"], 200);
    assert_eq!(access["user"], "-");
    assert!(access["ms"].as_f64().is_some());
}
