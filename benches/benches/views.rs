//! Every analytics view on generated data (default 2.38M orders of 620k
//! people): loads the orders and the 15 input tables into an engine the way
//! `serve --demo` does, times `SELECT * FROM <view>` fully collected for
//! each view of [`ordergraph_queries::VIEWS`], then exports every table the
//! views read as Parquet, with the timings beside them in `views.json`, for
//! `benches/duckdb/views.py` to run the same views in DuckDB side by side.
//!
//! `cargo bench -p ordergraph-benches --bench views` (release build).
//! Size with `ORDERS=238000 CUSTOMERS=62000`; `RUNS` per view (3, the
//! median is reported); `EXPORT_DIR` (default
//! `$TMPDIR/ordergraph-views-export`) receives `<table>.parquet` and
//! `views.json`.

use std::path::PathBuf;

use datafusion::dataframe::DataFrameWriteOptions;
use ordergraph_benches::{peak_rss_mib, quantile, timed};
use ordergraph_datasets::{GenConfig, generate, write_ops_csv};
use ordergraph_engine::Engine;
use ordergraph_queries::VIEWS;

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
    println!(
        "\n{:<26} {:>10} {:>10} {:>10} {:>10}",
        "view", "median ms", "min ms", "first ms", "rows"
    );
    let mut results = Vec::new();
    for view in VIEWS {
        let sql = format!("SELECT * FROM {}", view.name);
        let mut ms = Vec::with_capacity(runs);
        let mut rows = 0;
        for _ in 0..runs {
            let (batches, s) = timed(|| {
                runtime
                    .block_on(async { engine.query(&sql).await.unwrap().collect().await.unwrap() })
            });
            rows = batches.iter().map(|b| b.num_rows()).sum::<usize>();
            ms.push(s * 1e3);
        }
        // The first run also builds the engine's cached derived tables
        // (order_identifiers and the like), so it is shown apart.
        let first = ms[0];
        ms.sort_by(f64::total_cmp);
        let median = quantile(&ms, 0.5);
        println!(
            "{:<26} {median:>10.1} {:>10.1} {first:>10.1} {rows:>10}",
            view.name, ms[0]
        );
        results.push(serde_json::json!({
            "name": view.name,
            "median_ms": median,
            "runs_ms": ms,
            "first_ms": first,
            "rows": rows,
        }));
    }
    let total: f64 = results
        .iter()
        .map(|r| r["median_ms"].as_f64().unwrap_or(0.0))
        .sum();
    println!("{:<26} {total:>10.1}", "all views (sum of medians)");
    let views_peak = peak_rss_mib().unwrap_or(0.0);

    // Every table and generated view of the session that is not one of
    // VIEWS is something a view reads: orders (with mcid), order_versions,
    // the identity tables, report_config, refund_nodes,
    // refund_template_nodes and the 15 input tables with arrived_at.
    std::fs::create_dir_all(&export).unwrap();
    let ctx = engine.session().unwrap();
    let schema = ctx
        .catalog("ordergraph")
        .and_then(|c| c.schema("public"))
        .expect("the engine's default schema");
    let mut exported: Vec<String> = schema
        .table_names()
        .into_iter()
        .filter(|name| VIEWS.iter().all(|v| v.name != name))
        .collect();
    exported.sort();
    let ((), export_s) = timed(|| {
        for name in &exported {
            let path = export.join(format!("{name}.parquet"));
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
    });
    println!(
        "\nexport {} tables as Parquet {export_s:>6.2} s  to {}",
        exported.len(),
        export.display()
    );

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
        "peak_rss_mib_after_views": views_peak,
        "peak_rss_mib": peak,
        "tables": exported,
        "views": results,
    });
    let json = export.join("views.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("timings                     {}", json.display());
    println!(
        "peak memory                 {peak:>8.0} MiB  ({views_peak:.0} MiB before the export)"
    );
}
