//! The demo dataset and the evaluator, for `serve --demo`, `gen` and
//! `eval`. Behind the `demo` feature (on by default): a production build
//! can leave the generators and the evaluator out with
//! `--no-default-features`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use ordergraph_datasets::{GenConfig, Truth, generate, write_ops_csv};
use ordergraph_engine::Engine;

use crate::progress::spinner;

/// Fills an empty data directory with the demo dataset (62,000 people,
/// 238,000 orders and the operational tables to match) and checkpoints it.
/// The report clock is set to the end of the generated horizon when the
/// directory has no `ordergraph.toml`; the engine reads it at open, so it
/// is opened again with `open`.
pub fn fill(
    engine: Arc<Engine>,
    data: &Path,
    open: impl Fn(&Path) -> Result<Arc<Engine>>,
) -> Result<Arc<Engine>> {
    let config = GenConfig::default();
    let engine = if write_demo_config(&config, data)? {
        drop(engine);
        open(data)?
    } else {
        engine
    };
    load_demo(&engine, &config, data)?;
    engine.checkpoint()?;
    Ok(engine)
}

/// Writes a generated dataset to `out`: the orders as CSV, NDJSON and
/// Parquet, the ground truth, and every operational input table as CSV.
pub fn write_dataset(config: &GenConfig, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let bar = spinner(format!("generating {} orders", config.orders));
    let dataset = generate(config);
    bar.set_message("writing orders.csv");
    dataset.write_csv(&out.join("orders.csv"))?;
    bar.set_message("writing orders.ndjson");
    dataset.write_ndjson(&out.join("orders.ndjson"))?;
    bar.set_message("writing orders.parquet");
    dataset.write_parquet(&out.join("orders.parquet"))?;
    dataset.write_truth(&out.join("truth.csv"))?;
    bar.set_message("writing the operational tables");
    let tables = write_ops_csv(config, &dataset, out)?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} orders of {} people to {} (orders.csv, orders.ndjson, orders.parquet, truth.csv)",
        dataset.rows.len(),
        config.customers,
        out.display()
    );
    eprintln!(
        "and the operational tables (report time {}):",
        config.report_now().to_rfc3339()
    );
    for (table, rows) in tables {
        eprintln!("  {:<28} {rows:>10} rows", format!("{}.csv", table.name()));
    }
    Ok(())
}

/// Sets the report clock to the demo horizon's end in a data directory
/// that has no `ordergraph.toml` yet; returns whether it wrote one.
fn write_demo_config(config: &GenConfig, data: &Path) -> Result<bool> {
    let path = data.join("ordergraph.toml");
    if path.exists() {
        return Ok(false);
    }
    let now = config.report_now().to_rfc3339();
    std::fs::write(&path, format!("[report]\nnow = \"{now}\"\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

fn load_demo(engine: &Engine, config: &GenConfig, data: &Path) -> Result<()> {
    let bar = spinner(format!(
        "loading the demo dataset: {} orders of {} people",
        config.orders, config.customers
    ));
    let started = Instant::now();
    let dataset = generate(config);
    dataset.write_truth(&data.join("demo-truth.csv"))?;
    let report = engine.ingest_batches("orders", dataset.to_record_batches(65_536)?)?;
    // The input tables go through their CSV contract, as a user's would.
    let dir = data.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (table, _) in write_ops_csv(config, &dataset, &dir)? {
        let path = dir.join(format!("{}.csv", table.name()));
        bar.set_message(format!("loading the demo dataset: {}", table.name()));
        engine
            .ingest_file(table.name(), &path)
            .with_context(|| format!("ingesting {}", path.display()))?;
    }
    bar.finish_and_clear();
    tracing::info!(orders = report.inserted, customers = engine.customer_count(), elapsed_ms = started.elapsed().as_millis() as u64, truth = %data.join("demo-truth.csv").display(), tables = %dir.display(), "demo dataset loaded");
    Ok(())
}

/// Prints how well the stored MCIDs match the ground truth at `truth_path`.
pub async fn eval(engine: &Arc<Engine>, truth_path: &Path) -> Result<()> {
    let truth =
        Truth::read_csv(truth_path).with_context(|| format!("reading {}", truth_path.display()))?;
    println!("{}", ordergraph_eval::score_engine(engine, &truth).await?);
    Ok(())
}
