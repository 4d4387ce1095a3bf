//! The `ordergraph` binary itself: gen, ingest, sql, eval on real files.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn ordergraph(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ordergraph"));
    c.arg("--data").arg(data).env("RUST_LOG", "warn");
    c
}

pub(crate) fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A generated set (300 customers, 1,200 orders, every input table) in
/// `dir/set`, and a data directory `dir/data` whose `ordergraph.toml` has
/// an admin `ops` with password `s3cret`, then `extra_config`. Nothing is
/// ingested. Returns (data, set).
pub(crate) fn generated_with_ops(dir: &Path, extra_config: &str) -> (PathBuf, PathBuf) {
    let (data, set) = (dir.join("data"), dir.join("set"));
    run(ordergraph(&data)
        .args(["gen", "--customers", "300", "--orders", "1200", "--out"])
        .arg(&set));
    std::fs::create_dir_all(&data).unwrap();
    let hash = ordergraph_server::access::hash_password("s3cret").unwrap();
    std::fs::write(
        data.join("ordergraph.toml"),
        format!(
            "[[users]]\nname = \"ops\"\nrole = \"admin\"\npassword_hash = \"{hash}\"\n{extra_config}"
        ),
    )
    .unwrap();
    (data, set)
}

/// `ordergraph ARGS` sent to the server at `base` as `ops`.
pub(crate) fn as_ops(data: &Path, base: &str, args: &[&str]) -> Command {
    let mut c = ordergraph(data);
    c.args(args)
        .args(["--server", base, "--user", "ops"])
        .env("ORDERGRAPH_PASSWORD", "s3cret");
    c
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

/// With `[retention] order_versions_days = 0`, the checkpoint that ends an
/// ingest keeps only each order's current version; the next run reads that.
#[test]
fn retention_leaves_superseded_versions_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let header = "order_id,channel,ordered_at,phone,amount,status\n";
    let versions = [
        "A1,jd,2026-03-01T10:00:00+08:00,13800000001,100.00,paid\nB1,jd,2026-03-01T11:00:00+08:00,13800000002,20.00,paid\n",
        "A1,jd,2026-03-01T10:00:00+08:00,13800000001,100.00,shipped\n",
        "A1,jd,2026-03-01T10:00:00+08:00,13800000001,100.00,signed\n",
    ];
    let count = || {
        run(ordergraph(&data).args([
            "sql",
            "SELECT order_id, count(*) AS n, max(version) AS v FROM order_versions GROUP BY order_id ORDER BY order_id",
            "--format",
            "csv",
        ]))
    };
    for (i, rows) in versions.iter().enumerate() {
        let file = dir.path().join(format!("v{i}.csv"));
        std::fs::write(&file, format!("{header}{rows}")).unwrap();
        run(ordergraph(&data).args(["ingest", "orders"]).arg(&file));
        if i == 1 {
            // Without retention every version stays.
            assert_eq!(count(), "order_id,n,v\nA1,2,2\nB1,1,1\n");
            std::fs::write(
                data.join("ordergraph.toml"),
                "[retention]\norder_versions_days = 0\n",
            )
            .unwrap();
        }
    }
    assert_eq!(count(), "order_id,n,v\nA1,1,3\nB1,1,1\n");
    let status = run(ordergraph(&data).args([
        "sql",
        "SELECT status FROM orders WHERE order_id = 'A1'",
        "--format",
        "csv",
    ]));
    assert_eq!(status, "status\nsigned\n");
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

/// `sql`, `ingest` and `export` with `--server` talk to a running server
/// (which holds the data directory) and log in as the user given; without
/// it they say to use it.
#[test]
fn commands_talk_to_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (data, set) = generated_with_ops(dir.path(), "");
    let server = crate::process::Process::start(&data);
    let client = |args: &[&str]| as_ops(&data, &server.base, args);

    let local = ordergraph(&data)
        .args(["sql", "select 1"])
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&local.stderr);
    assert!(!local.status.success());
    assert!(error.contains("--server"), "{error}");

    let out = client(&["ingest", "orders", set.join("orders.csv").to_str().unwrap()])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1200 rows, 1200 inserted, 0 updated"), "{log}");
    let out = client(&[
        "ingest",
        "orders",
        set.join("orders.parquet").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("0 inserted, 0 updated, 1200 unchanged"),
        "{log}"
    );

    // A bad row is named by its file, line and column; nothing of it is kept.
    let bad = dir.path().join("bad.csv");
    let csv = std::fs::read_to_string(set.join("orders.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    let amount = header.split(',').position(|c| c == "amount").unwrap();
    let mut row: Vec<String> = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    row[0] = "NEW-1".into();
    let good = row.join(",");
    row[0] = "NEW-2".into();
    row[amount] = "lots".into();
    std::fs::write(&bad, format!("{header}\n{good}\n{}\n", row.join(","))).unwrap();
    let out = client(&["ingest", "orders", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(error.contains("bad.csv: line 3, column amount"), "{error}");

    let count = "select count(*) as n, count(distinct mcid) > 0 as ok from orders";
    assert_eq!(
        run(&mut client(&["sql", count, "--format", "csv"])),
        "n,ok\n1200,true\n"
    );
    let table = run(&mut client(&["sql", count]));
    assert!(table.contains("| 1200 | true |"), "{table}");
    let parquet = dir.path().join("orders.parquet");
    run(&mut client(&[
        "sql",
        "select order_id, mcid from orders order by order_id",
        "--format",
        "parquet",
        "--out",
        parquet.to_str().unwrap(),
    ]));
    let rows: usize =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&parquet).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum();
    assert_eq!(rows, 1200);
    let ndjson = run(&mut client(&[
        "sql",
        "select order_id from orders order by order_id limit 2",
        "--format",
        "ndjson",
    ]));
    assert_eq!(ndjson.lines().count(), 2, "{ndjson}");
    let refused = client(&["sql", "drop table orders"]).output().unwrap();
    assert!(!refused.status.success());
    let wrong = ordergraph(&data)
        .args(["sql", "select 1", "--server", &server.base, "--user", "ops"])
        .env("ORDERGRAPH_PASSWORD", "wrong")
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success());
    assert!(error.contains("401"), "{error}");

    // An export over HTTP is the same as one from the data directory.
    let remote_segment = run(&mut client(&["export", "segment", "high_value_prospects"]));
    let remote_writeback = run(&mut client(&["export", "writeback", "--format", "ndjson"]));
    assert!(
        remote_writeback.lines().count() >= 1200,
        "every order waits for its note"
    );
    server.kill();
    let local_segment = run(ordergraph(&data).args(["export", "segment", "high_value_prospects"]));
    assert_eq!(remote_segment, local_segment);
    assert!(remote_segment.starts_with("mcid,"), "{remote_segment}");
    let local_writeback =
        run(ordergraph(&data).args(["export", "writeback", "--format", "ndjson"]));
    assert_eq!(remote_writeback, local_writeback);
}

/// README's command-line examples, run as written against `serve --demo`.
#[test]
fn readme_command_line_examples_run_against_the_demo() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let examples: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("scripts/ordergraph ") && l.contains("--server"))
        .collect();
    assert!(examples.len() >= 2, "{examples:?}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = crate::process::Process::start_with(&data, &["--demo"]);
    for example in examples {
        let line = example.replace("http://127.0.0.1:7878", &server.base);
        let out = Command::new("bash")
            .arg("-c")
            .arg(line.replacen("scripts/ordergraph", env!("CARGO_BIN_EXE_ordergraph"), 1))
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .env_remove("ORDERGRAPH_DATA")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{example}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = line.split_once("--out ").map(|(_, f)| f.trim());
        let written = match file {
            Some(file) => std::fs::metadata(dir.path().join(file)).unwrap().len(),
            None => out.stdout.len() as u64,
        };
        assert!(written > 100, "{example}: {written} bytes");
    }
    server.kill();
}
