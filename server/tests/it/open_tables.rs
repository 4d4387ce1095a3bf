//! `ordergraph export tables` and `[export]`: every table and view written
//! as Delta Lake tables (or Parquet files), then read back by delta-rs,
//! pyarrow, DuckDB and Spark (`tests/open_tables/check.py`, with what
//! `scripts/install-deps` installs) and compared with ordergraph's own
//! answers;
//! time travel to the previous export; and a reader that never sees half
//! an export while the server exports as orders arrive.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::{as_ops, generated_with_ops, ordergraph, run};

const CHECK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/open_tables/check.py");

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("_ordergraph_export.json")).unwrap()).unwrap()
}

fn version_of(manifest: &Value, table: &str) -> u64 {
    manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .unwrap_or_else(|| panic!("{table} not in {manifest}"))["version"]
        .as_u64()
        .unwrap()
}

/// A data directory holding a generated dataset, every input table
/// ingested, and an admin `ops` with password `s3cret`.
pub(crate) fn generated(dir: &Path, extra_config: &str) -> std::path::PathBuf {
    let (data, set) = generated_with_ops(
        dir,
        &format!("\n[report]\nnow = \"2026-06-30T00:00:00+08:00\"\n{extra_config}"),
    );
    run(ordergraph(&data)
        .args(["ingest", "orders"])
        .arg(set.join("orders.csv")));
    for table in ordergraph_datasets::OpsTable::ALL {
        run(ordergraph(&data)
            .args(["ingest", table.name()])
            .arg(set.join(format!("{}.csv", table.name()))));
    }
    data
}

const HEADER: &str = "order_id,channel,ordered_at,account_id,phone,email,wechat_unionid,device_id,amount,status,ship_city,ship_address,ip,coupon\n";

fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(CHECK)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check.py {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn exported_tables_read_alike_in_delta_rs_pyarrow_duckdb_and_spark() {
    let dir = tempfile::tempdir().unwrap();
    // Alerts off: a server evaluating them records notifications, and the
    // tables read back must be the ones exported.
    let data = generated(dir.path(), "\n[alerts]\nenabled = false\n");
    let (delta, parquet) = (dir.path().join("delta"), dir.path().join("parquet"));

    let printed = run(ordergraph(&data)
        .args(["export", "tables", "--to"])
        .arg(&delta));
    let first = manifest(&delta);
    let tables = first["tables"].as_array().unwrap();
    let names: Vec<&str> = tables
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    for wanted in [
        "orders",
        "order_versions",
        "refunds",
        "identity_links",
        "mcid_aliases",
        "customers",
        "status_consistency",
        "refund_heatmap",
        "high_value_prospects",
    ] {
        assert!(names.contains(&wanted), "{wanted} not exported: {names:?}");
    }
    assert!(printed.contains("orders"), "{printed}");
    assert!(
        delta.join("orders/_delta_log").is_dir(),
        "orders is a Delta table"
    );
    // Partitioned by the business month of ordered_at.
    assert!(delta.join("orders/ordered_month=2026-03").is_dir());

    run(ordergraph(&data)
        .args([
            "export",
            "tables",
            "--format",
            "parquet",
            "--tables",
            "orders,customers,refund_heatmap",
            "--to",
        ])
        .arg(&parquet));
    assert!(parquet.join("customers.parquet").is_file());
    assert_eq!(manifest(&parquet)["tables"].as_array().unwrap().len(), 3);

    let bad = ordergraph(&data)
        .args(["export", "tables", "--tables", "orders,nope", "--to"])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("no table or view 'nope'"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    // Read back by other engines, compared with ordergraph's answers.
    let server = crate::process::Process::start(&data);
    let said = python(&[
        "tables",
        delta.to_str().unwrap(),
        &server.base,
        "ops",
        "s3cret",
    ]);
    assert!(
        said.contains(&format!("{} tables equal", tables.len())),
        "{said}"
    );
    python(&[
        "tables",
        parquet.to_str().unwrap(),
        &server.base,
        "ops",
        "s3cret",
    ]);

    // More orders, a second export: the previous one is still readable.
    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        format!(
            "{HEADER}X-1,jd,2026-06-01T10:00:00+08:00,,13911112222,,,,10.00,paid,,,,\n\
             X-2,jd,2026-06-02T10:00:00+08:00,,13911112222,,,,12.00,paid,,,,\n"
        ),
    )
    .unwrap();
    run(&mut as_ops(
        &data,
        &server.base,
        &["ingest", "orders", more.to_str().unwrap()],
    ));
    server.kill();
    run(ordergraph(&data)
        .args(["export", "tables", "--tables", "orders,customers", "--to"])
        .arg(&delta));
    let second = manifest(&delta);
    assert_eq!(
        version_of(&second, "orders"),
        version_of(&first, "orders") + 1
    );
    let versions: Value = serde_json::from_str(&python(&[
        "versions",
        delta.join("orders").to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(versions, serde_json::json!([[0, 1200], [1, 1202]]));
}

#[test]
fn a_reader_sees_whole_exports_while_orders_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    let data = generated(
        dir.path(),
        &format!(
            "\n[export]\nto = \"{}\"\nevery = \"1s\"\ntables = [\"orders\", \"customers\"]\n",
            open.display()
        ),
    );
    let server = crate::process::Process::start(&data);
    let reader = Command::new("python3")
        .arg(CHECK)
        .args(["snapshots", open.to_str().unwrap(), "8"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut batch = 0;
    let file = dir.path().join("batch.csv");
    while started.elapsed() < Duration::from_secs(7) {
        let mut csv = String::from(HEADER);
        for k in 0..50 {
            csv.push_str(&format!(
                "L-{batch}-{k},tmall,2026-06-10T10:00:00+08:00,,139{:08},,,,10.00,paid,,,,\n",
                batch * 50 + k
            ));
        }
        std::fs::write(&file, csv).unwrap();
        run(&mut as_ops(
            &data,
            &server.base,
            &["ingest", "orders", file.to_str().unwrap()],
        ));
        batch += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = reader.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Vec<(u64, u64)> = serde_json::from_slice(&out.stdout).unwrap();
    let versions: std::collections::BTreeSet<u64> = seen.iter().map(|s| s.0).collect();
    assert!(versions.len() >= 3, "versions read: {seen:?}");
    // Each version holds one number of orders, and later ones more.
    for pair in seen.windows(2) {
        assert!(pair[0].1 <= pair[1].1, "{seen:?}");
        assert!(pair[0].0 < pair[1].0 || pair[0].1 == pair[1].1, "{seen:?}");
    }

    // An export on request (`POST /v1/export`), as the admin.
    let printed = run(&mut as_ops(
        &data,
        &server.base,
        &["export", "tables", "--tables", "customers"],
    ));
    assert!(printed.contains("customers"), "{printed}");
    assert_eq!(manifest(&open)["tables"][0]["table"], "customers");
    let bad = as_ops(
        &data,
        &server.base,
        &["export", "tables", "--tables", "nope"],
    )
    .output()
    .unwrap();
    assert!(!bad.status.success());
    let error = String::from_utf8_lossy(&bad.stderr);
    assert!(error.contains("400") && error.contains("nope"), "{error}");
    let log = server.log.lock().unwrap().join("\n");
    server.kill();
    assert!(log.contains("exported"), "{log}");
}
