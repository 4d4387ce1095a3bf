//! Sustained-load benchmark of the real server: concurrent HTTP clients
//! ingest generated orders at a target rate, with a status event and a
//! refund for the last order of each request (every tenth request's
//! probed), while another client runs
//! analytic queries; reports sustained orders/s, ingest latency, freshness
//! (from a 2xx to the order being visible in `SELECT ... FROM orders`, and
//! to the status event and the refund being visible in the maintained
//! views `status_consistency` and `refund_paths`), query latency, refusals
//! (503) and the server's peak memory.
//!
//! Build the server first, then run:
//! ```sh
//! cargo build --release --workspace --all-targets
//! cargo bench --workspace --bench load
//! ```
//! Settings (env): `RATE` orders/s (20000), `CLIENTS` (8), `BATCH` orders
//! per request (200), `SECONDS` (30), `PRELOAD` orders ingested before the
//! clock starts (238000), `COMPACT_EVERY` seconds between the server's
//! background compactions (10, so that the load meets some),
//! `ORDERGRAPH_BIN` (default: the release binary in `$CARGO_TARGET_DIR`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ordergraph_benches::{peak_rss_mib_of, quantile};
use ordergraph_datasets::{GenConfig, generate};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn server_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ORDERGRAPH_BIN") {
        return bin.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("release/ordergraph")
}

/// Starts `ordergraph serve` on a free port; returns it, its base URL and
/// the count of checkpoints it has written.
fn start_server(data: &std::path::Path) -> (Child, String, Arc<AtomicUsize>) {
    let mut child = Command::new(server_binary())
        .arg("--data")
        .arg(data)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pg-listen",
            "off",
            "--flight-listen",
            "off",
        ])
        .env(
            "RUST_LOG",
            std::env::var("SERVER_LOG").unwrap_or_else(|_| "info".into()),
        )
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary (build it first, or set ORDERGRAPH_BIN)");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(at) = line
            .contains("listening")
            .then(|| line.find("127.0.0.1:"))
            .flatten()
        {
            break line[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                .collect::<String>();
        }
    };
    let checkpoints = Arc::new(AtomicUsize::new(0));
    let counted = checkpoints.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(|l| l.ok()) {
            if line.contains("checkpoint written") {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            if let Ok(path) = std::env::var("SERVER_LOG_FILE") {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap();
                let _ = writeln!(f, "{line}");
            }
        }
    });
    (child, format!("http://{address}"), checkpoints)
}

/// Request bodies: the generated orders as CSV, `batch` rows each.
fn request_bodies(orders: usize, batch: usize) -> (String, Vec<(String, String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    let dataset = generate(&GenConfig {
        customers: orders / 4,
        orders,
        seed: 7,
        ..GenConfig::default()
    });
    dataset.write_csv(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    let bodies = rows
        .chunks(batch)
        .map(|chunk| {
            // The last order of each request is the one whose freshness is
            // measured: its channel and id.
            let last: Vec<&str> = chunk.last().unwrap().splitn(3, ',').collect();
            let mut body = header.clone();
            body.push('\n');
            for row in chunk {
                body.push_str(row);
                body.push('\n');
            }
            (body, last[1].to_string(), last[0].to_string())
        })
        .collect();
    (header, bodies)
}

#[derive(Default)]
struct Samples {
    ingest_ms: Vec<f64>,
    fresh_ms: Vec<f64>,
    event_ms: Vec<f64>,
    view_fresh_ms: Vec<f64>,
    query_ms: Vec<f64>,
    orders: usize,
    refused: usize,
}

async fn post_orders(client: &reqwest::Client, base: &str, csv: &str) -> reqwest::Response {
    post_csv(client, base, "orders", csv).await
}

async fn post_csv(
    client: &reqwest::Client,
    base: &str,
    table: &str,
    csv: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/v1/ingest/{table}"))
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
}

async fn sql(client: &reqwest::Client, base: &str, sql: String) -> serde_json::Value {
    let r = client
        .post(format!("{base}/v1/sql"))
        .body(sql)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "query failed: {}", r.status());
    r.json().await.unwrap()
}

/// One ingesting client: sends its share of the bodies at its share of the
/// rate; after each 2xx a probe polls until the request's last order is
/// visible, while the client goes on.
async fn ingest_client(
    base: String,
    bodies: Vec<(String, String, String)>,
    requests_per_second: f64,
    deadline: Instant,
    samples: Arc<Mutex<Samples>>,
) {
    let client = {
        ordergraph_server::install_crypto_provider();
        reqwest::Client::new()
    };
    let started = Instant::now();
    for (n, (body, channel, order_id)) in bodies.into_iter().enumerate() {
        let due = started + Duration::from_secs_f64(n as f64 / requests_per_second);
        // A client that falls behind stops at the deadline all the same:
        // the achieved rate is what is reported.
        if due > deadline || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let rows = body.lines().count() - 1;
        loop {
            let sent = Instant::now();
            let r = post_orders(&client, &base, &body).await;
            if r.status() == 503 {
                samples.lock().unwrap().refused += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            assert!(r.status().is_success(), "ingest failed: {}", r.status());
            let acked = Instant::now();
            let ingest_ms = (acked - sent).as_secs_f64() * 1e3;
            {
                let mut s = samples.lock().unwrap();
                s.ingest_ms.push(ingest_ms);
                s.orders += rows;
            }
            // Freshness is probed beside the client, which goes on sending.
            let lookup = format!(
                "select mcid from orders where channel = '{channel}' and order_id = '{order_id}'"
            );
            tokio::spawn(probe(
                client.clone(),
                base.clone(),
                lookup,
                Duration::ZERO,
                samples.clone(),
                acked,
                |s| &mut s.fresh_ms,
            ));
            // A status event and a refund for the same order, sent beside
            // the client, so that the orders keep their schedule; every
            // tenth request's are probed in the maintained views.
            tokio::spawn(send_events(
                client.clone(),
                base.clone(),
                channel.clone(),
                order_id.clone(),
                samples.clone(),
                n % 10 == 0,
            ));
            break;
        }
    }
}

/// Ingests a status event and a refund for one order, and probes each in
/// the maintained view that shows it.
async fn send_events(
    client: reqwest::Client,
    base: String,
    channel: String,
    order_id: String,
    samples: Arc<Mutex<Samples>>,
    probed: bool,
) {
    let status = format!(
        "channel,order_id,system,status_code,updated_at\n{channel},{order_id},crm,signed,2026-06-30T00:00:00Z\n"
    );
    let refund = format!(
        "refund_id,channel,order_id,requested_at\nR-{order_id},{channel},{order_id},2026-06-30T00:00:00Z\n"
    );
    for (table, csv, lookup) in [
        (
            "status_events",
            status,
            format!(
                "select crm_status from status_consistency where channel = '{channel}' and order_id = '{order_id}'"
            ),
        ),
        (
            "refunds",
            refund,
            format!("select refund_id from refund_paths where refund_id = 'R-{order_id}'"),
        ),
    ] {
        let (sent, acked) = loop {
            let sent = Instant::now();
            let r = post_csv(&client, &base, table, &csv).await;
            if r.status() == 503 {
                samples.lock().unwrap().refused += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            assert!(r.status().is_success(), "{table} failed: {}", r.status());
            break (sent, Instant::now());
        };
        samples
            .lock()
            .unwrap()
            .event_ms
            .push((acked - sent).as_secs_f64() * 1e3);
        if !probed {
            continue;
        }
        // Polled as a dashboard or a connector would, every 20 ms.
        tokio::spawn(probe(
            client.clone(),
            base.clone(),
            lookup,
            Duration::from_millis(20),
            samples.clone(),
            acked,
            |s| &mut s.view_fresh_ms,
        ));
    }
}

/// Polls `lookup` every `poll` until it returns a row, then records the
/// time since `acked` in the samples `into` picks.
async fn probe(
    client: reqwest::Client,
    base: String,
    lookup: String,
    poll: Duration,
    samples: Arc<Mutex<Samples>>,
    acked: Instant,
    into: fn(&mut Samples) -> &mut Vec<f64>,
) {
    while sql(&client, &base, lookup.clone())
        .await
        .as_array()
        .is_none_or(|a| a.is_empty())
    {
        tokio::time::sleep(poll).await;
    }
    let ms = acked.elapsed().as_secs_f64() * 1e3;
    into(&mut samples.lock().unwrap()).push(ms);
}

/// Analytic queries, one after another, while the load runs.
async fn query_client(base: String, deadline: Instant, samples: Arc<Mutex<Samples>>) {
    let client = {
        ordergraph_server::install_crypto_provider();
        reqwest::Client::new()
    };
    let queries = [
        "select channel, count(*) as orders, count(distinct mcid) as customers from orders group by channel",
        "select * from drift_rate_monthly",
        "select count(*) from customers where orders >= 3",
    ];
    for q in queries.iter().cycle() {
        if Instant::now() >= deadline {
            break;
        }
        let t = Instant::now();
        sql(&client, &base, q.to_string()).await;
        samples
            .lock()
            .unwrap()
            .query_ms
            .push(t.elapsed().as_secs_f64() * 1e3);
    }
}

fn summary(name: &str, values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<28} p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms   (n = {})",
        quantile(values, 0.5),
        quantile(values, 0.99),
        values.last().copied().unwrap_or(f64::NAN),
        values.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rate = env_usize("RATE", 20_000) as f64;
    let clients = env_usize("CLIENTS", 8);
    let batch = env_usize("BATCH", 200);
    let seconds = env_usize("SECONDS", 30);
    let preload = env_usize("PRELOAD", 238_000);
    let compact_every = env_usize("COMPACT_EVERY", 10);
    let total = preload + (rate as usize) * seconds;
    eprintln!("generating {total} orders");
    let (_, mut bodies) = request_bodies(total, batch);
    let load = bodies.split_off(preload.div_ceil(batch));

    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("ordergraph.toml"),
        format!("[storage]\ncheckpoint_interval_s = {compact_every}\n"),
    )
    .unwrap();
    let (mut server, base, checkpoints) = start_server(data.path());
    let client = {
        ordergraph_server::install_crypto_provider();
        reqwest::Client::new()
    };
    eprintln!("preloading {preload} orders");
    for (body, _, _) in &bodies {
        assert!(
            post_orders(&client, &base, body)
                .await
                .status()
                .is_success()
        );
    }

    eprintln!("load: {rate} orders/s from {clients} clients, {batch} per request, {seconds} s");
    let checkpoints_before = checkpoints.load(Ordering::SeqCst);
    let samples = Arc::new(Mutex::new(Samples::default()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds as u64);
    let mut shares: Vec<Vec<_>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, body) in load.into_iter().enumerate() {
        shares[i % clients].push(body);
    }
    let per_client = rate / batch as f64 / clients as f64;
    let mut tasks: Vec<_> = shares
        .into_iter()
        .map(|share| {
            tokio::spawn(ingest_client(
                base.clone(),
                share,
                per_client,
                deadline,
                samples.clone(),
            ))
        })
        .collect();
    tasks.push(tokio::spawn(query_client(
        base.clone(),
        deadline,
        samples.clone(),
    )));
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let compactions = checkpoints.load(Ordering::SeqCst) - checkpoints_before;
    // Let the last freshness probes finish.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peak = peak_rss_mib_of(server.id());
    server.kill().unwrap();
    server.wait().unwrap();

    let mut s = samples.lock().unwrap();
    println!(
        "sustained ingest             {:.0} orders/s ({} orders in {elapsed:.1} s; target {rate})",
        s.orders as f64 / elapsed,
        s.orders
    );
    summary("ingest latency (2xx)", &mut s.ingest_ms);
    summary("freshness (2xx to visible)", &mut s.fresh_ms);
    summary("event ingest latency (2xx)", &mut s.event_ms);
    summary("maintained view freshness", &mut s.view_fresh_ms);
    summary("analytic query latency", &mut s.query_ms);
    println!("refused (503)                {}", s.refused);
    println!(
        "background compactions      {compactions} finished during the load (one every {compact_every} s)"
    );
    if let Some(peak) = peak {
        println!("server peak memory           {peak:.0} MiB");
    }
}
