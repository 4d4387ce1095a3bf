//! Arrow Flight SQL with the ADBC driver from Python
//! (`server/tests/python/flight_clients.py`; .ci/run installs it): logins,
//! roles, masking, read-only, parameters, and a million rows streamed.

use std::process::Command;

use crate::pg::{PgProcess, prepare};

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_clients_query_over_flight_sql() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    let before = peak_rss_kib(server.pid());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/flight_clients.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .env("FLIGHT_PORT", server.flight_port.to_string())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A million rows of ~1 KB went through: about 1 GiB. Streamed, the
    // server's peak grows by its sessions and a few batches in flight,
    // far below the result.
    let grew_mib = (peak_rss_kib(server.pid()) - before) / 1024;
    assert!(grew_mib < 256, "the server's peak RSS grew {grew_mib} MiB");
    eprintln!(
        "{}server peak RSS grew {grew_mib} MiB",
        String::from_utf8_lossy(&out.stdout)
    );
}
