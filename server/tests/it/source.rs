//! The watched directory source behind a running server: a dropped file
//! becomes queryable over HTTP, a bad one is quarantined.

use std::time::{Duration, Instant};

use ordergraph_server::{open_directory_source, watch_directory};

use crate::{HEADER, TestServer};

#[tokio::test]
async fn a_dropped_file_is_queryable_and_a_bad_one_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(ordergraph_engine::CONFIG_FILE),
        "[source]\nwatch_dir = \"inbox\"\npoll_ms = 20\n",
    )
    .unwrap();
    let inbox = dir.path().join("inbox/orders");
    std::fs::create_dir_all(&inbox).unwrap();
    // Left from before the start: taken before the server answers.
    std::fs::write(
        inbox.join("early.csv"),
        format!("{HEADER}0,jd,2026-01-01T10:00:00+08:00,,,,,,1.00,paid,,,,\n"),
    )
    .unwrap();
    let s = TestServer::start(dir.path()).await;
    let source = open_directory_source(&s.engine)
        .unwrap()
        .expect("configured");
    assert_eq!(
        s.sql_json("select count(*) as n from orders").await[0]["n"],
        1
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(watch_directory(source, Duration::from_millis(20), stopped));

    // Written under a temporary name, then renamed into place.
    let body = format!("{HEADER}1,tmall,2026-01-01T10:00:00+08:00,,13812345678,,,,1.00,paid,,,,\n");
    std::fs::write(inbox.join(".a.csv"), &body).unwrap();
    std::fs::rename(inbox.join(".a.csv"), inbox.join("a.csv")).unwrap();
    std::fs::write(inbox.join(".bad.csv"), "order_id,channel\n2,tmall\n").unwrap();
    std::fs::rename(inbox.join(".bad.csv"), inbox.join("bad.csv")).unwrap();
    let started = Instant::now();
    while s.sql_json("select count(*) as n from orders").await[0]["n"] != 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the file was not ingested"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    while !inbox.join("quarantine/bad.csv.error.txt").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "bad.csv was not quarantined"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let error = std::fs::read_to_string(inbox.join("quarantine/bad.csv.error.txt")).unwrap();
    assert!(error.contains("bad.csv"), "{error}");
    assert!(inbox.join("done/a.csv").exists() && inbox.join("done/early.csv").exists());
    stop.send(true).unwrap();
    watcher.await.unwrap();
    s.stop().await;
}
