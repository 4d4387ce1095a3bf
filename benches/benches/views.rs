//! Every analytics view on generated data (default 2.38M orders of 620k
//! people): loads the orders and the 15 input tables into an engine the way
//! `serve --demo` does, exports every table the views read as Parquet,
//! and times, for each view of [`ordergraph_queries::VIEWS`], `SELECT *
//! FROM <view>` fully collected: computed from its SQL (the full
//! recompute), and for a maintained view, read from its current rows.
//! Each view's result goes to `results/<view>.parquet` and the timings to
//! `views.json`; `benches/duckdb/views.py`, run at the end when Python has
//! `duckdb`, runs the same views in DuckDB and prints the side-by-side
//! table, with the results compared row for row.
//!
//! Last, the orders held back from the load (`INCREMENT`, 10,000) arrive
//! with a status event each and an event for as many refunds, and the bench
//! times their ingest and the refresh of every maintained view. Then one
//! order of a known customer is written `READS` times before each of a few
//! queries of `customers`, `identity_evidence` and `shared_identifiers`
//! (lookups of the customer, aggregates of the whole view), timed as the
//! first query after the write.
//!
//! `cargo bench --workspace --bench views` (release build).
//! Size with `ORDERS=238000 CUSTOMERS=62000`; `RUNS` per recompute (3)
//! and `READS` per maintained read (5), medians reported;
//! `VIEWS=customers,order_risk` runs only those; `EXPORT_DIR` (default
//! `$TMPDIR/ordergraph-views-export`) receives `<table>.parquet`,
//! `results/` and `views.json`; `DUCKDB=0` skips the DuckDB run;
//! `EXPLAIN=1` also writes each recompute's `EXPLAIN ANALYZE` to
//! `explain/<view>.txt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::SessionContext;
use ordergraph_benches::{peak_rss_mib, quantile, rss_mib, timed};
use ordergraph_datasets::{GenConfig, generate, write_ops_csv};
use ordergraph_engine::{Engine, Format, SessionOptions};
use ordergraph_queries::VIEWS;
use tokio::runtime::Runtime;

/// Large tables on 2 MiB pages: see `huge_pages`.
#[global_allocator]
static ALLOC: ordergraph_engine::huge_pages::HugePageAlloc =
    ordergraph_engine::huge_pages::HugePageAlloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let orders = env_usize("ORDERS", 2_380_000);
    let customers = env_usize("CUSTOMERS", orders * 62 / 238);
    let runs = env_usize("RUNS", 3).max(1);
    let reads = env_usize("READS", 5).max(1);
    let increment = env_usize("INCREMENT", 10_000).min(orders / 2);
    let export = std::env::var_os("EXPORT_DIR").map_or_else(
        || std::env::temp_dir().join("ordergraph-views-export"),
        PathBuf::from,
    );
    println!(
        "ordergraph views benchmark: {orders} orders of {customers} people, {runs} runs a view"
    );
    let config = GenConfig {
        customers,
        orders,
        seed: 1,
        ..GenConfig::default()
    };

    // The engine reads the report clock when it opens; the generated stuck
    // refunds, expiring credentials and stock snapshots are placed relative
    // to the horizon's end, so the views report as of then (as `serve
    // --demo` does).
    let data = tempfile::tempdir().unwrap();
    let now = config.report_now().to_rfc3339();
    std::fs::write(
        data.path().join("ordergraph.toml"),
        format!("[report]\nnow = \"{now}\"\n"),
    )
    .unwrap();
    let engine = Engine::open(data.path(), vec![ordergraph_queries::hook()]).unwrap();

    let (dataset, gen_s) = timed(|| generate(&config));
    println!("generate orders             {gen_s:>8.2} s");
    let mut batches = dataset.to_record_batches(65_536).unwrap();
    let held_back = hold_back(&mut batches, increment);
    let (_, orders_s) = timed(|| engine.ingest_batches("orders", batches).unwrap());
    println!(
        "ingest + resolve orders     {orders_s:>8.2} s  ({} customers)",
        engine.customer_count()
    );
    // The input tables go through their CSV contract, as a user's would.
    let ops = data.path().join("ops");
    std::fs::create_dir_all(&ops).unwrap();
    let (tables, ops_gen_s) = timed(|| write_ops_csv(&config, &dataset, &ops).unwrap());
    drop(dataset);
    println!("generate input tables (CSV) {ops_gen_s:>8.2} s");
    let ((), ops_s) = timed(|| {
        for (table, _) in &tables {
            let path = ops.join(format!("{}.csv", table.name()));
            engine.ingest_file(table.name(), &path).unwrap();
        }
    });
    let input_rows: u64 = tables.iter().map(|(_, rows)| rows).sum();
    println!("ingest input tables         {ops_s:>8.2} s  ({input_rows} rows in 15 tables)");
    let load_s = gen_s + orders_s + ops_gen_s + ops_s;
    println!("data load in all            {load_s:>8.2} s");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let load_peak = peak_rss_mib().unwrap_or(0.0);
    let load_rss = rss_mib().unwrap_or(0.0);

    // Exported before the views run, so the DuckDB side has its tables even
    // when a view fails below.
    std::fs::create_dir_all(&export).unwrap();
    let (exported, export_s) = timed(|| export_tables(&runtime, &engine, &export));
    println!(
        "export {} tables as Parquet {export_s:>6.2} s  to {}",
        exported.len(),
        export.display()
    );

    let only: Option<Vec<String>> = std::env::var("VIEWS")
        .ok()
        .map(|v| v.split(',').map(|n| n.trim().to_string()).collect());
    let maintained: Vec<&str> = VIEWS
        .iter()
        .filter(|v| v.maintenance().unwrap().is_some())
        .map(|v| v.name)
        .collect();
    let explain = std::env::var("EXPLAIN").is_ok_and(|v| v == "1");
    let results_dir = export.join("results");
    std::fs::create_dir_all(&results_dir).unwrap();
    println!(
        "\n{:<26} {:>12} {:>12} {:>12} {:>10}",
        "view", "recompute ms", "build ms", "read ms", "rows"
    );
    let mut results = Vec::new();
    let (mut recompute_total, mut read_total) = (0.0, 0.0);
    for view in VIEWS {
        if only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|n| n == view.name))
        {
            continue;
        }
        // A failing view is reported and the others still run: the table
        // is the benchmark's product, and one view's error is a finding.
        let recompute = time_view(&runtime, &engine, view.name, runs, true);
        if explain {
            explain_view(&runtime, &engine, view.name, &export.join("explain"));
        }
        let read = maintained
            .contains(&view.name)
            .then(|| time_view(&runtime, &engine, view.name, reads + 1, false));
        results.push(match (recompute, read.transpose()) {
            (Ok(t), Ok(read)) => {
                let ms = |t: Option<&Timing>, f: fn(&Timing) -> f64| {
                    t.map_or(String::new(), |t| format!("{:.1}", f(t)))
                };
                println!(
                    "{:<26} {:>12.1} {:>12} {:>12} {:>10}",
                    view.name,
                    t.median_ms,
                    ms(read.as_ref(), |r| r.first_ms),
                    ms(read.as_ref(), |r| r.median_after_first_ms),
                    t.rows
                );
                recompute_total += t.median_ms;
                read_total += read
                    .as_ref()
                    .map_or(t.median_ms, |r| r.median_after_first_ms);
                write_result(&runtime, &engine, view.name, &results_dir);
                serde_json::json!({
                    "name": view.name,
                    "median_ms": t.median_ms,
                    "first_ms": t.first_ms,
                    "runs_ms": t.runs_ms,
                    "rows": t.rows,
                    "maintained": read.as_ref().map(|r| serde_json::json!({
                        "build_ms": r.first_ms,
                        "read_ms": r.median_after_first_ms,
                        "rows": r.rows,
                    })),
                })
            }
            (Err(error), _) | (_, Err(error)) => {
                println!("{:<26} failed: {error}", view.name);
                serde_json::json!({ "name": view.name, "error": error })
            }
        });
    }
    println!(
        "{:<26} {recompute_total:>12.1} {:>12} {read_total:>12.1}",
        "views run (sum of medians)", ""
    );
    let state: Vec<_> = engine.maintained_views();
    let state_mib = state.iter().map(|v| v.bytes).sum::<usize>() as f64 / (1 << 20) as f64;
    println!(
        "maintained state            {state_mib:>8.0} MiB  ({} views, order_identifiers and shared_identifiers; the process held {load_rss:.0} MiB after the load)",
        state.len() - 2
    );

    let increment_report = apply_increment(&runtime, &engine, &held_back);
    let after_write = first_queries_after_a_write(&runtime, &engine, &held_back, reads);
    let peak = peak_rss_mib().unwrap_or(0.0);
    let report = serde_json::json!({
        "orders": orders,
        "customers": customers,
        "report_now": now,
        "runs": runs,
        "load_s": {
            "generate_orders": gen_s,
            "ingest_orders": orders_s,
            "generate_input_tables": ops_gen_s,
            "ingest_input_tables": ops_s,
            "total": load_s,
        },
        "export_s": export_s,
        "peak_rss_mib_after_load": load_peak,
        "rss_mib_after_load": load_rss,
        "maintained_state_mib": state_mib,
        "maintained_views": state,
        "increment": increment_report,
        "first_query_after_a_write": after_write,
        "peak_rss_mib": peak,
        "tables": exported,
        "views": results,
    });
    let json = export.join("views.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\ntimings                     {}", json.display());
    println!("peak memory                 {peak:>8.0} MiB  ({load_peak:.0} MiB after the load)");
    drop(engine);
    drop(runtime);
    compare_with_duckdb(&export);
}

/// Takes the last `n` orders out of `batches`, to arrive later.
fn hold_back(batches: &mut Vec<RecordBatch>, n: usize) -> RecordBatch {
    let schema = batches[0].schema();
    let all = concat_batches(&schema, batches.iter()).unwrap();
    let kept = all.num_rows() - n;
    *batches = vec![all.slice(0, kept)];
    all.slice(kept, n)
}

/// Ingests the held-back orders, a status event for each, and an event
/// for as many refunds, then refreshes every maintained view; prints and
/// returns the timings.
fn apply_increment(
    runtime: &Runtime,
    engine: &Arc<Engine>,
    orders: &RecordBatch,
) -> serde_json::Value {
    let n = orders.num_rows();
    let at = "2100-01-01T00:00:00Z";
    let channels = orders.column_by_name("channel").unwrap().as_string::<i32>();
    let ids = orders
        .column_by_name("order_id")
        .unwrap()
        .as_string::<i32>();
    let mut status = String::from("channel,order_id,system,status_code,updated_at\n");
    for i in 0..n {
        let (channel, id) = (channels.value(i), ids.value(i));
        status.push_str(&format!("{channel},{id},crm,signed,{at}\n"));
    }
    let refunds = runtime.block_on(async {
        let df = engine
            .query(&format!(
                "SELECT DISTINCT refund_id FROM refunds ORDER BY refund_id LIMIT {n}"
            ))
            .await
            .unwrap();
        df.collect().await.unwrap()
    });
    let mut events = String::from("refund_id,node,action,actor,at\n");
    for b in &refunds {
        let ids = b.column(0).as_string::<i32>();
        for i in 0..b.num_rows() {
            events.push_str(&format!(
                "{},auto_review,escalate,bench,{at}\n",
                ids.value(i)
            ));
        }
    }
    let ((), ingest_s) = timed(|| {
        engine
            .ingest_batches("orders", vec![orders.clone()])
            .unwrap();
        engine
            .ingest("status_events", Format::Csv, "increment", status.into())
            .unwrap();
        engine
            .ingest("refund_events", Format::Csv, "increment", events.into())
            .unwrap();
    });
    let before = engine.maintained_views();
    let ((), refresh_s) = timed(|| runtime.block_on(engine.refresh_views()).unwrap());
    println!(
        "\nincrement: {n} orders, {n} status events, {} refund events",
        refunds.iter().map(RecordBatch::num_rows).sum::<usize>()
    );
    println!("  ingest                    {:>8.1} ms", ingest_s * 1e3);
    println!("  refresh maintained views  {:>8.1} ms", refresh_s * 1e3);
    println!("    {:<26} {:>10}  {:>10}", "view", "refresh", "of it plan");
    let views = engine.maintained_views();
    for (v, was) in views.iter().zip(&before) {
        let how = if v.builds > was.builds {
            "rebuilt whole"
        } else if v.updates > was.updates {
            "by key"
        } else {
            "untouched"
        };
        let (ms, plan) = if how == "untouched" {
            (String::new(), String::new())
        } else if v.view {
            (
                format!("{:.1} ms", v.last_refresh_ms),
                format!("{:.1} ms", v.last_plan_ms),
            )
        } else {
            (format!("{:.1} ms", v.last_refresh_ms), String::new())
        };
        println!("    {:<26} {ms:>10}  {plan:>10}  {how}", v.name);
    }
    serde_json::json!({
        "orders": n,
        "ingest_ms": ingest_s * 1e3,
        "refresh_ms": refresh_s * 1e3,
        "views": views,
    })
}

/// The queries a support agent and a board run on the identity tables,
/// each timed as the first query after a write of one order of a known
/// customer: the refresh it waits for included.
const AFTER_A_WRITE: [(&str, &str); 5] = [
    ("customers", "SELECT * FROM customers WHERE mcid = '{mcid}'"),
    (
        "customers",
        "SELECT count(*), sum(orders), sum(total_amount) FROM customers",
    ),
    (
        "identity_evidence",
        "SELECT * FROM identity_evidence WHERE mcid = '{mcid}'",
    ),
    (
        "identity_evidence",
        "SELECT decision, rule, count(*) FROM identity_evidence GROUP BY decision, rule",
    ),
    (
        "shared_identifiers",
        "SELECT reason, count(*), sum(orders) FROM shared_identifiers GROUP BY reason",
    ),
];

/// Times each query of [`AFTER_A_WRITE`] as the first after a write, `n`
/// times: each write is one order, a copy of a held-back order (so of a
/// known customer) under a new order number.
fn first_queries_after_a_write(
    runtime: &Runtime,
    engine: &Arc<Engine>,
    orders: &RecordBatch,
    n: usize,
) -> serde_json::Value {
    println!("\nfirst query after a write of one order ({n} writes each), ms");
    println!("    median      max   no write");
    let mut out = Vec::new();
    for (q, (view, sql)) in AFTER_A_WRITE.iter().enumerate() {
        let mut ms = Vec::with_capacity(n);
        let mut last_mcid = String::new();
        for i in 0..n {
            let row = orders.slice((q * n + i) % orders.num_rows(), 1);
            let at = row.schema().index_of("order_id").unwrap();
            let mut columns = row.columns().to_vec();
            columns[at] = Arc::new(datafusion::arrow::array::StringArray::from(vec![format!(
                "after-write-{q}-{i}"
            )]));
            let row = RecordBatch::try_new(row.schema(), columns).unwrap();
            engine.ingest_batches("orders", vec![row.clone()]).unwrap();
            let channel = row.column_by_name("channel").unwrap().as_string::<i32>();
            let mcid = runtime.block_on(async {
                let df = engine
                    .query(&format!(
                        "SELECT mcid FROM orders WHERE channel = '{}' AND order_id = 'after-write-{q}-{i}'",
                        channel.value(0)
                    ))
                    .await
                    .unwrap();
                let b = df.collect().await.unwrap();
                b[0].column(0).as_string::<i32>().value(0).to_string()
            });
            // The lookup above reads `orders` by key alone: the write's
            // refresh is still ahead of the timed query (no background
            // refresher runs here).
            let sql = sql.replace("{mcid}", &mcid);
            last_mcid = mcid;
            let (rows, s) = timed(|| {
                runtime
                    .block_on(async { engine.query(&sql).await.unwrap().collect().await.unwrap() })
            });
            assert!(
                rows.iter().map(RecordBatch::num_rows).sum::<usize>() > 0,
                "{sql}"
            );
            ms.push(s * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        let (median, max) = (quantile(&ms, 0.5), ms[ms.len() - 1]);
        // The same query again, with nothing written before it.
        let sql = sql.replace("{mcid}", &last_mcid);
        let mut again: Vec<f64> = (0..n)
            .map(|_| {
                timed(|| {
                    runtime.block_on(async {
                        engine.query(&sql).await.unwrap().collect().await.unwrap()
                    })
                })
                .1 * 1e3
            })
            .collect();
        again.sort_by(f64::total_cmp);
        let unwritten = quantile(&again, 0.5);
        println!("  {median:>8.1} {max:>8.1} {unwritten:>10.1}   {view}: {sql}");
        out.push(serde_json::json!({
            "view": view, "sql": sql, "median_ms": median, "max_ms": max, "runs_ms": ms,
            "no_write_median_ms": unwritten,
        }));
    }
    serde_json::Value::Array(out)
}

/// Writes the view's result, as a reader gets it, to `<dir>/<view>.parquet`.
fn write_result(runtime: &Runtime, engine: &Arc<Engine>, view: &str, dir: &Path) {
    let ctx = engine.session().unwrap();
    write_parquet(runtime, &ctx, view, &dir.join(format!("{view}.parquet")));
}

/// Writes every row of the table or view `name` to `path`, one file.
fn write_parquet(runtime: &Runtime, ctx: &SessionContext, name: &str, path: &Path) {
    runtime.block_on(async {
        ctx.table(name)
            .await
            .unwrap()
            .write_parquet(
                path.to_str().expect("a UTF-8 export path"),
                DataFrameWriteOptions::new().with_single_file_output(true),
                None,
            )
            .await
            .unwrap()
    });
}

/// Runs `benches/duckdb/views.py` on the export, unless `DUCKDB=0` or
/// Python lacks `duckdb`.
fn compare_with_duckdb(export: &Path) {
    if std::env::var("DUCKDB").is_ok_and(|v| v == "0") {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("duckdb/views.py");
    let has_duckdb = std::process::Command::new("python3")
        .args(["-c", "import duckdb, pyarrow, numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_duckdb {
        println!(
            "\nDuckDB side: `pip install duckdb pyarrow numpy`, then python3 {} --export {}",
            script.display(),
            export.display()
        );
        return;
    }
    println!();
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg("--export")
        .arg(export)
        .status()
        .unwrap();
    if !status.success() {
        println!("views.py: {status}");
    }
}

/// Writes `<dir>/<table>.parquet` for every table and generated view of
/// the session that is not one of [`VIEWS`]: what the views read (orders
/// with mcid, order_versions, the identity tables, report_config,
/// refund_nodes, refund_template_nodes and the 15 input tables with
/// arrived_at). Returns their names.
fn export_tables(runtime: &Runtime, engine: &Arc<Engine>, dir: &Path) -> Vec<String> {
    let ctx = engine.session().unwrap();
    let schema = ctx
        .catalog("ordergraph")
        .and_then(|c| c.schema("public"))
        .expect("the engine's default schema");
    let mut names: Vec<String> = schema
        .table_names()
        .into_iter()
        .filter(|name| VIEWS.iter().all(|v| v.name != name))
        .collect();
    names.sort();
    for name in &names {
        write_parquet(runtime, &ctx, name, &dir.join(format!("{name}.parquet")));
    }
    names
}

/// Writes `<dir>/<view>.txt`: the recompute's plan with the metrics of
/// one run, or the error that ended it.
fn explain_view(runtime: &Runtime, engine: &Arc<Engine>, view: &str, dir: &Path) {
    let options = SessionOptions {
        recompute: true,
        ..SessionOptions::default()
    };
    let text = runtime.block_on(async {
        let df = engine
            .query_with(&format!("EXPLAIN ANALYZE SELECT * FROM {view}"), options)
            .await
            .map_err(|e| e.to_string())?;
        let batches = df.collect().await.map_err(|e| e.to_string())?;
        let plan = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(plan.to_string())
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{view}.txt")), text.unwrap_or_else(|e| e)).unwrap();
}

/// `runs` runs of `SELECT * FROM <view>`, each fully collected.
#[derive(Debug)]
struct Timing {
    /// Every run, fastest first.
    runs_ms: Vec<f64>,
    median_ms: f64,
    /// The first run also builds the engine's cached derived tables
    /// (order_identifiers and the like), and a maintained view's rows, so
    /// it is kept apart.
    first_ms: f64,
    /// The median of the runs after the first.
    median_after_first_ms: f64,
    rows: usize,
}

/// Times `view`; the first error (a panic in a query task included) ends
/// its runs.
fn time_view(
    runtime: &Runtime,
    engine: &Arc<Engine>,
    view: &str,
    runs: usize,
    recompute: bool,
) -> Result<Timing, String> {
    let sql = format!("SELECT * FROM {view}");
    let options = SessionOptions {
        recompute,
        ..SessionOptions::default()
    };
    let mut runs_ms = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let (batches, s) = timed(|| {
            runtime.block_on(async {
                let df = engine
                    .query_with(&sql, options)
                    .await
                    .map_err(|e| e.to_string())?;
                df.collect().await.map_err(|e| e.to_string())
            })
        });
        let batches = batches.map_err(|e| e.replace('\n', " "))?;
        rows = batches.iter().map(RecordBatch::num_rows).sum();
        runs_ms.push(s * 1e3);
    }
    let first_ms = runs_ms[0];
    let mut after_first = runs_ms[1.min(runs_ms.len() - 1)..].to_vec();
    after_first.sort_by(f64::total_cmp);
    runs_ms.sort_by(f64::total_cmp);
    Ok(Timing {
        median_ms: quantile(&runs_ms, 0.5),
        median_after_first_ms: quantile(&after_first, 0.5),
        runs_ms,
        first_ms,
        rows,
    })
}
