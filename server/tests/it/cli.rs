//! The `ordergraph` binary itself: gen, ingest, sql, eval on real files.

use std::process::Command;

fn ordergraph(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ordergraph"));
    c.arg("--data").arg(data).env("RUST_LOG", "warn");
    c
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gen_ingest_sql_eval() {
    let dir = tempfile::tempdir().unwrap();
    let (data, set) = (dir.path().join("data"), dir.path().join("set"));
    run(ordergraph(&data)
        .args([
            "gen",
            "--customers",
            "300",
            "--orders",
            "1200",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&set));
    for file in ["orders.csv", "orders.ndjson", "orders.parquet", "truth.csv"] {
        assert!(set.join(file).exists(), "{file}");
    }
    run(ordergraph(&data)
        .args(["ingest", "orders"])
        .arg(set.join("orders.csv")));
    // The same orders again in the other formats change nothing.
    let out = ordergraph(&data)
        .args(["ingest", "orders"])
        .arg(set.join("orders.parquet"))
        .arg(set.join("orders.ndjson"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("0 inserted, 0 updated, 1200 unchanged"),
        "{log}"
    );

    let csv = run(ordergraph(&data).args([
        "sql",
        "select count(*) as n, count(distinct mcid) > 0 as ok from orders",
        "--format",
        "csv",
    ]));
    assert_eq!(csv, "n,ok\n1200,true\n");
    let json = run(ordergraph(&data).args(["sql", "select 1 as one", "--format", "json"]));
    assert_eq!(json.trim(), "[{\"one\":1}]");

    let eval = run(ordergraph(&data)
        .arg("eval")
        .arg("--truth")
        .arg(set.join("truth.csv")));
    let precision: f64 = eval
        .lines()
        .find_map(|l| l.strip_prefix("precision"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(precision > 0.99, "{eval}");

    let bad = ordergraph(&data)
        .args(["sql", "drop table orders"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn gen_writes_every_input_table_and_ingest_takes_each() {
    let dir = tempfile::tempdir().unwrap();
    let (data, set) = (dir.path().join("data"), dir.path().join("set"));
    let out = ordergraph(&data)
        .args(["gen", "--customers", "500", "--orders", "2000", "--out"])
        .arg(&set)
        .output()
        .unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stderr);
    assert!(listing.contains("2026-06-30T00:00:00+08:00"), "{listing}");
    run(ordergraph(&data)
        .args(["ingest", "orders"])
        .arg(set.join("orders.csv")));
    for table in ordergraph_datasets::OpsTable::ALL {
        let file = set.join(format!("{}.csv", table.name()));
        assert!(
            listing.contains(&format!("{}.csv", table.name())),
            "{listing}"
        );
        let rows = std::fs::read_to_string(&file).unwrap().lines().count() - 1;
        assert!(rows > 0, "{} is empty", table.name());
        let out = ordergraph(&data)
            .args(["ingest", table.name()])
            .arg(&file)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {log}", table.name());
        assert!(
            log.contains(&format!(": {rows} rows, ")),
            "{}: {log}",
            table.name()
        );
        let csv = run(ordergraph(&data).args([
            "sql",
            &format!("select count(*) as n from {}", table.name()),
            "--format",
            "csv",
        ]));
        assert_eq!(csv, format!("n\n{rows}\n"), "{}", table.name());
    }
}

/// A password piped in (scripts, the Postgres tests) is read as a line:
/// the hash printed is of it, line end excluded, and stdout holds nothing
/// else.
#[test]
fn hash_password_reads_a_piped_line() {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};
    use std::io::Write;
    use std::process::Stdio;
    let hash = |input: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ordergraph"))
            .arg("hash-password")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let out = hash("correct horse\r\n");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("correct horse"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout.strip_suffix('\n').expect("one line");
    assert!(!line.contains('\n'), "{stdout}");
    let parsed = PasswordHash::new(line).unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok()
    );
    assert!(!hash("\n").status.success(), "an empty password is refused");
}
