//! The product's SQL on an Apache Ballista cluster: a scheduler and two
//! executors (`ordergraph scheduler`, `ordergraph executor`) started on
//! loopback, every view run on the cluster over an export and on the
//! server itself, and the two answers compared row by row.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{ordergraph, run};
use crate::open_tables::generated;

/// A cluster process, stopped when dropped.
struct Member(Child);

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &Path, args: &[&str]) -> Member {
    Member(
        ordergraph(data)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Waits until something listens on `port`.
fn listening(port: u16, member: &mut Member) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            member.0.try_wait().unwrap().is_none(),
            "a cluster process exited before listening on {port}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A scheduler on `port` of loopback and two executors working for it.
fn cluster(data: &Path, port: u16) -> Vec<Member> {
    let address = format!("127.0.0.1:{port}");
    let mut scheduler = start(data, &["scheduler", "--listen", &address]);
    listening(port, &mut scheduler);
    let mut members = vec![scheduler];
    for _ in 0..2 {
        let (flight, grpc) = (free_port().to_string(), free_port().to_string());
        let mut executor = start(
            data,
            &[
                "executor",
                "--scheduler",
                &format!("df://{address}"),
                "--flight-port",
                &flight,
                "--grpc-port",
                &grpc,
                "--slots",
                "2",
            ],
        );
        listening(grpc.parse().unwrap(), &mut executor);
        members.push(executor);
    }
    members
}

/// `value` with every timestamp as microseconds since the epoch and every
/// number as a float: the exported tables hold instants in UTC and signed
/// integers, so the same answer may be spelt apart.
fn canonical(value: &Value) -> Value {
    match value {
        Value::String(s) => {
            let instant = chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_micros())
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                        .map(|t| t.and_utc().timestamp_micros())
                });
            match instant {
                Ok(micros) => Value::from(micros as f64),
                Err(_) => value.clone(),
            }
        }
        Value::Number(n) => Value::from(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A canonical row as text to sort by, numbers to three decimals.
fn sort_key(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("{:.3}", n.as_f64().unwrap() + 0.0),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(sort_key).collect::<Vec<_>>().join(",")
        ),
        Value::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{k}:{}", sort_key(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// Whether two canonical values are the same, floats within a relative
/// 1e-9: sums over partitions add in another order on the cluster.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The rows of `sql` run by the server, on the cluster if `engine` says so,
/// canonical and sorted.
async fn rows(base: &str, sql: &str, engine: &str) -> Result<Vec<Value>, String> {
    rows_as("ops", base, sql, engine).await
}

/// [`rows`] as `user`.
async fn rows_as(user: &str, base: &str, sql: &str, engine: &str) -> Result<Vec<Value>, String> {
    let answer = reqwest::Client::new()
        .post(format!("{base}/v1/sql"))
        .basic_auth(user, Some("s3cret"))
        .header("X-Ordergraph-Engine", engine)
        .header("Accept", "application/json")
        .body(sql.to_string())
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body = answer.text().await.unwrap();
    if !status.is_success() {
        return Err(format!("{status}: {body}"));
    }
    let Value::Array(rows) = serde_json::from_str(&body).unwrap() else {
        panic!("{sql}: not rows: {body}");
    };
    let mut rows: Vec<(String, Value)> = rows
        .iter()
        .map(|r| {
            let r = canonical(r);
            (sort_key(&r), r)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_on_a_ballista_cluster_equals_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    let scheduler_port = free_port();
    let analyst = ordergraph_server::access::hash_password("s3cret").unwrap();
    let data = generated(
        dir.path(),
        &format!(
            "\n[[users]]\nname = \"reader\"\nrole = \"analyst\"\npassword_hash = \"{analyst}\"\n[alerts]\nenabled = false\n[export]\nto = \"{}\"\n[cluster]\nscheduler = \"df://127.0.0.1:{scheduler_port}\"\n",
            open.display()
        ),
    );
    run(ordergraph(&data).args(["export", "tables"]));
    let _members = cluster(&data, scheduler_port);
    let scheduler = format!("df://127.0.0.1:{scheduler_port}");
    let server = crate::process::Process::start(&data);

    let mut compared = Vec::new();
    for view in ordergraph_queries::all_views() {
        let started = Instant::now();
        let sql = format!("SELECT * FROM {}", view.name);
        let local = rows(&server.base, &sql, "local").await.unwrap();
        let distributed = rows(&server.base, &sql, "cluster")
            .await
            .unwrap_or_else(|e| panic!("{} on the cluster: {e}", view.name));
        assert_eq!(
            local.len(),
            distributed.len(),
            "{}: rows here and on the cluster",
            view.name
        );
        if let Some((here, there)) = local.iter().zip(&distributed).find(|(a, b)| !same(a, b)) {
            panic!("{}: here {here}\non the cluster {there}", view.name);
        }
        println!(
            "{}: {} rows equal, {:.1} s",
            view.name,
            local.len(),
            started.elapsed().as_secs_f64()
        );
        compared.push((view.name, local.len()));
    }
    // Not vacuous: the views compared hold rows.
    let filled = compared.iter().filter(|(_, n)| *n > 0).count();
    assert!(filled >= 20, "views with rows: {compared:?}");

    // `cluster-sql` from the command line, over the same export.
    let printed = run(ordergraph(&data).args([
        "cluster-sql",
        "--scheduler",
        &scheduler,
        "--format",
        "csv",
        "SELECT count(*) AS n FROM orders",
    ]));
    assert_eq!(printed.trim(), "n\n1200", "{printed}");
    // A statement that writes is refused there too.
    let refused = ordergraph(&data)
        .args([
            "cluster-sql",
            "--scheduler",
            &scheduler,
            "DROP VIEW customers",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());

    // A header that names no engine is the caller's mistake.
    let bad = rows(&server.base, "SELECT 1", "elsewhere")
        .await
        .unwrap_err();
    assert!(bad.starts_with("400"), "{bad}");
    // The export holds contacts unmasked: an analyst, who sees them
    // masked, is not sent there.
    let masked = rows_as("reader", &server.base, "SELECT 1", "cluster")
        .await
        .unwrap_err();
    assert!(masked.starts_with("403"), "{masked}");
    server.kill();
}

#[test]
fn a_cluster_without_an_export_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = ordergraph(&data)
        .args([
            "cluster-sql",
            "--tables",
            dir.path().join("nothing").to_str().unwrap(),
            "SELECT 1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("export tables --to"), "{said}");
}
