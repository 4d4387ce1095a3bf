//! Every analytics view on generated data (default 2.38M orders of 620k
//! people): loads the orders and the 15 input tables into an engine the way
//! `serve --demo` does, exports every table the views read as Parquet,
//! times `SELECT * FROM <view>` fully collected for each view of
//! [`ordergraph_queries::VIEWS`] and writes the timings beside the tables
//! in `views.json`, for `benches/duckdb/views.py` to run the same views in
//! DuckDB side by side.
//!
//! `cargo bench --workspace --bench views` (release build).
//! Size with `ORDERS=238000 CUSTOMERS=62000`; `RUNS` per view (3, the
//! median is reported); `VIEWS=customers,order_risk` runs only those;
//! `EXPORT_DIR` (default `$TMPDIR/ordergraph-views-export`) receives
//! `<table>.parquet` and `views.json`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::dataframe::DataFrameWriteOptions;
use ordergraph_benches::{peak_rss_mib, quantile, timed};
use ordergraph_datasets::{GenConfig, generate, write_ops_csv};
use ordergraph_engine::Engine;
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
    let (_, orders_s) = timed(|| {
        engine
            .ingest_batches("orders", dataset.to_record_batches(65_536).unwrap())
            .unwrap()
    });
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
    println!(
        "\n{:<26} {:>10} {:>10} {:>10} {:>10}",
        "view", "median ms", "min ms", "first ms", "rows"
    );
    let mut results = Vec::new();
    let mut total_ms = 0.0;
    for view in VIEWS {
        if only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|n| n == view.name))
        {
            continue;
        }
        // A failing view is reported and the others still run: the table
        // is the benchmark's product, and one view's error is a finding.
        results.push(match time_view(&runtime, &engine, view.name, runs) {
            Ok(t) => {
                println!(
                    "{:<26} {:>10.1} {:>10.1} {:>10.1} {:>10}",
                    view.name, t.median_ms, t.runs_ms[0], t.first_ms, t.rows
                );
                total_ms += t.median_ms;
                serde_json::json!({
                    "name": view.name,
                    "median_ms": t.median_ms,
                    "first_ms": t.first_ms,
                    "runs_ms": t.runs_ms,
                    "rows": t.rows,
                })
            }
            Err(error) => {
                println!("{:<26} failed: {error}", view.name);
                serde_json::json!({ "name": view.name, "error": error })
            }
        });
    }
    println!("{:<26} {total_ms:>10.1}", "views run (sum of medians)");

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
        "peak_rss_mib": peak,
        "tables": exported,
        "views": results,
    });
    let json = export.join("views.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\ntimings                     {}", json.display());
    println!("peak memory                 {peak:>8.0} MiB  ({load_peak:.0} MiB after the load)");
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
        let path = dir.join(format!("{name}.parquet"));
        runtime.block_on(async {
            ctx.table(name.as_str())
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
    names
}

/// `runs` runs of `SELECT * FROM <view>`, each fully collected.
#[derive(Debug)]
struct Timing {
    /// Every run, fastest first.
    runs_ms: Vec<f64>,
    median_ms: f64,
    /// The first run also builds the engine's cached derived tables
    /// (order_identifiers and the like), so it is kept apart.
    first_ms: f64,
    rows: usize,
}

/// Times `view`; the first error (a panic in a query task included) ends
/// its runs.
fn time_view(
    runtime: &Runtime,
    engine: &Arc<Engine>,
    view: &str,
    runs: usize,
) -> Result<Timing, String> {
    let sql = format!("SELECT * FROM {view}");
    let mut runs_ms = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let (batches, s) = timed(|| {
            runtime.block_on(async {
                let df = engine.query(&sql).await.map_err(|e| e.to_string())?;
                df.collect().await.map_err(|e| e.to_string())
            })
        });
        let batches = batches.map_err(|e| e.replace('\n', " "))?;
        rows = batches.iter().map(RecordBatch::num_rows).sum();
        runs_ms.push(s * 1e3);
    }
    let first_ms = runs_ms[0];
    runs_ms.sort_by(f64::total_cmp);
    Ok(Timing {
        median_ms: quantile(&runs_ms, 0.5),
        runs_ms,
        first_ms,
        rows,
    })
}
