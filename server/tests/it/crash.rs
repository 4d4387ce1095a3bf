//! Crash safety: the real `ordergraph serve` process is killed with SIGKILL
//! while concurrent clients ingest, then restarted on the same data. Every
//! acknowledged request must be there exactly once, every other request
//! wholly there or wholly absent, and MCIDs must survive a kill unchanged,
//! also when the kill lands while a checkpoint is being written.
//! `CRASH_ROUNDS` (default 3) sets the number of kill points; the soak
//! script `benches/soak/crash.sh` runs many.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::HEADER;
use crate::process::Process;

/// The rows of one request: `per_request` orders with ids `r<round>-c<client>-<n>-<k>`.
/// Phones repeat across requests, so requests merge customers.
fn request_body(id: &str, per_request: usize, seed: usize) -> String {
    let mut body = HEADER.to_string();
    for k in 0..per_request {
        let phone = 13_800_000_000u64 + ((seed * 7 + k * 13) % 400) as u64 * 1_111;
        body.push_str(&format!(
            "{id}-{k},tmall,2026-01-01T10:{:02}:00+08:00,,{phone},,,,1.00,paid,,,,\n",
            k % 60
        ));
    }
    body
}

async fn order_mcids(client: &reqwest::Client, base: &str) -> BTreeMap<String, String> {
    let rows: Value = client
        .post(format!("{base}/v1/sql"))
        .body("select order_id, mcid from orders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["order_id"].as_str().unwrap().to_string(),
                r["mcid"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs `clients` concurrent ingesting clients until the process is killed
/// after `load_for`; returns the acknowledged and the unanswered request ids.
async fn load_then_kill(
    process: Process,
    round: usize,
    clients: usize,
    load_for: Duration,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let unanswered = Arc::new(Mutex::new(BTreeSet::new()));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (acked, unanswered, base) = (acked.clone(), unanswered.clone(), process.base.clone());
        tasks.push(tokio::spawn(async move {
            let client = crate::client();
            for n in 0.. {
                let id = format!("r{round}-c{c}-{n}");
                let sent = client
                    .post(format!("{base}/v1/ingest/orders"))
                    .header("content-type", "text/csv")
                    .body(request_body(&id, 20, round * 1000 + c * 100 + n))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => {
                        acked.lock().unwrap().insert(id);
                    }
                    Ok(r) => panic!("{id}: unexpected {}", r.status()),
                    Err(_) => {
                        // The process died with this request in flight.
                        unanswered.lock().unwrap().insert(id);
                        break;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(load_for).await;
    process.kill();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let unanswered = unanswered.lock().unwrap().clone();
    (acked, unanswered)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_ingest_loses_no_acknowledged_row() {
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    // Checkpoints every second, so that kills also land while one is
    // being written.
    std::fs::write(
        dir.path().join(ordergraph_engine::CONFIG_FILE),
        "[storage]\ncheckpoint_interval_s = 1\n",
    )
    .unwrap();
    let client = crate::client();
    let mut all_acked = BTreeSet::new();
    for round in 0..rounds {
        // Kill points spread over the first three seconds of load: a
        // compaction starts at one second and takes a while (it replays
        // the log), so some kills land in one and some after it.
        let load_for = Duration::from_millis(100 + (round as u64 * 1400) % 2900);
        let process = Process::start(dir.path());
        let (acked, unanswered) = load_then_kill(process, round, 4, load_for).await;
        all_acked.extend(acked.iter().cloned());

        let process = Process::start(dir.path());
        let mcids = order_mcids(&client, &process.base).await;
        let mut rows_per_request: BTreeMap<&str, usize> = BTreeMap::new();
        for order_id in mcids.keys() {
            let request = order_id.rsplit_once('-').unwrap().0;
            *rows_per_request.entry(request).or_default() += 1;
        }
        for id in &all_acked {
            assert_eq!(
                rows_per_request.get(id.as_str()),
                Some(&20),
                "round {round}: acknowledged request {id} is not wholly there"
            );
        }
        for (request, rows) in &rows_per_request {
            assert_eq!(*rows, 20, "round {round}: request {request} is torn");
            assert!(
                all_acked.contains(*request)
                    || unanswered.contains(*request)
                    || !request.starts_with(&format!("r{round}-")),
                "round {round}: {request} was never sent"
            );
        }
        // Requests in flight at the kill that made it count as acknowledged
        // from now on: they are durable.
        for id in &unanswered {
            if rows_per_request.contains_key(id.as_str()) {
                all_acked.insert(id.clone());
            }
        }

        // MCIDs built incrementally by a live server are the MCIDs a
        // restart rebuilds from the log: more requests merge into the
        // customers above, then a kill with nothing in flight.
        for n in 0..5 {
            let id = format!("r{round}-after-{n}");
            let r = client
                .post(format!("{}/v1/ingest/orders", process.base))
                .header("content-type", "text/csv")
                .body(request_body(&id, 20, round * 1000 + 900 + n))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            all_acked.insert(id);
        }
        let live = order_mcids(&client, &process.base).await;
        if round + 1 == rounds {
            // The periodic compaction has run by now on a fast machine; a
            // loaded one gets time, so the check below is about whether it
            // runs at all, not how fast.
            let started = std::time::Instant::now();
            while !dir.path().join("checkpoint/CURRENT").exists()
                && started.elapsed() < Duration::from_secs(30)
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        process.kill();
        let process = Process::start(dir.path());
        assert_eq!(
            order_mcids(&client, &process.base).await,
            live,
            "round {round}: MCIDs changed across a kill"
        );
        process.kill();
        eprintln!(
            "round {round}: killed after {load_for:?}, {} requests acknowledged so far, {} in flight",
            all_acked.len(),
            unanswered.len()
        );
    }
    assert!(!all_acked.is_empty(), "the load acknowledged nothing");
    if rounds >= 3 {
        assert!(
            dir.path().join("checkpoint/CURRENT").exists(),
            "the server never wrote a checkpoint"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_requests_checkpoints_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(ordergraph_engine::CONFIG_FILE),
        "[source]\nwatch_dir = \"inbox\"\npoll_ms = 20\n",
    )
    .unwrap();
    let client = crate::client();
    let process = Process::start(dir.path());
    for n in 0..5 {
        let r = client
            .post(format!("{}/v1/ingest/orders", process.base))
            .header("content-type", "text/csv")
            .body(request_body(&format!("t-{n}"), 20, n))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // The directory source runs in the real server too.
    let inbox = dir.path().join("inbox/orders");
    std::fs::create_dir_all(&inbox).unwrap();
    // Written aside, then renamed in, as connectors are told to.
    std::fs::write(inbox.join(".f.csv"), request_body("file", 20, 99)).unwrap();
    std::fs::rename(inbox.join(".f.csv"), inbox.join("f.csv")).unwrap();
    let started = std::time::Instant::now();
    while order_mcids(&client, &process.base).await.len() != 120 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the dropped file was not ingested"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = order_mcids(&client, &process.base).await;

    let status = Command::new("kill")
        .args(["-TERM", &process.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = process.wait();
    assert!(exit.success(), "exit status {exit}");
    assert!(
        dir.path().join("checkpoint/CURRENT").exists(),
        "a checkpoint at shutdown"
    );
    let logged = std::fs::read_dir(dir.path().join("orders/log"))
        .unwrap()
        .count();
    assert_eq!(logged, 0, "the checkpoint holds the whole log");

    let process = Process::start(dir.path());
    assert_eq!(order_mcids(&client, &process.base).await, before);
    process.kill();
}
