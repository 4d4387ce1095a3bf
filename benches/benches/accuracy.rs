//! The accuracy grid: identity resolution scored against ground truth on
//! both generators, every trap rate at x0.3, x1 and x3, heavy buyers at
//! x0.3, x1 and x3, at 60k, 238k and 2.38M orders. Prints one row per cell
//! and, last, the worst cell: the figure that counts.
//!
//! `cargo bench --workspace --bench accuracy` (release build; add
//! `--profile dev` to reuse the test build's dependencies).
//! `SIZES=60000,238000` picks the sizes, `SEED=3` the seed, and
//! `CELLS="lives x3 x0.3;traps x3 x1"` only the cells named by generator,
//! rates and heavy buyers. `SHOW=5` prints, after each cell, the five
//! customers holding the most false pairs and the five people losing the
//! most same-person pairs, with their orders. `EXPORT=DIR` writes each
//! cell's orders, truth and MCIDs there as CSV (`<cell>.orders.csv`,
//! `<cell>.truth.csv`, `<cell>.mcids.csv`), to read in other tools.

use ordergraph_datasets::Truth;
use ordergraph_eval::{Cell, accuracy, failures, resolve_in};

fn main() {
    let sizes: Vec<usize> = std::env::var("SIZES")
        .unwrap_or_else(|_| "60000,238000,2380000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("SIZES is a list of order counts"))
        .collect();
    let seed = std::env::var("SEED").map_or(1, |s| s.parse().expect("SEED is a number"));
    let only = std::env::var("CELLS").ok();
    let export = std::env::var_os("EXPORT").map(std::path::PathBuf::from);
    let show: usize = std::env::var("SHOW").map_or(0, |s| s.parse().expect("SHOW is a number"));
    let chosen = |cell: &Cell| {
        let name = format!("{} x{} x{}", cell.generator.name(), cell.rates, cell.heavy);
        only.as_deref()
            .is_none_or(|only| only.split(';').any(|c| c.trim() == name))
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "| generator | orders | rates | heavy | precision | linkable recall | recall | false pairs | missed linkable pairs | customers / people |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let (mut precision, mut linkable_recall) = (1.0f64, 1.0f64);
    for cell in Cell::grid(&sizes, seed).into_iter().filter(chosen) {
        let dataset = cell.dataset();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let resolved = rt
            .block_on(resolve_in(dir.path(), &dataset))
            .expect("the cell resolves");
        let a = accuracy(&Truth::from_dataset(&dataset), &resolved);
        let row = format!(
            "| {} | {} | x{} | x{} | {:.5} | {:.5} | {:.4} | {} | {} | {} / {} |",
            cell.generator.name(),
            cell.orders,
            cell.rates,
            cell.heavy,
            a.precision,
            a.linkable_recall,
            a.recall,
            a.false_pairs,
            a.missed_linkable_pairs,
            a.customers,
            a.people
        );
        println!("{row}");
        if let Some(dir) = &export {
            let name = format!(
                "{}-{}-x{}-x{}",
                cell.generator.name(),
                cell.orders,
                cell.rates,
                cell.heavy
            );
            std::fs::create_dir_all(dir).expect("EXPORT is a writable directory");
            dataset
                .write_csv(&dir.join(format!("{name}.orders.csv")))
                .expect("orders written");
            dataset
                .write_truth(&dir.join(format!("{name}.truth.csv")))
                .expect("truth written");
            let mut mcids = String::from("channel,order_id,mcid\n");
            for r in &resolved {
                mcids.push_str(&format!("{},{},{}\n", r.channel, r.order_id, r.mcid));
            }
            std::fs::write(dir.join(format!("{name}.mcids.csv")), mcids).expect("MCIDs written");
        }
        if show > 0 {
            println!("\n{}", failures(&dataset, &resolved, show));
        }
        precision = precision.min(a.precision);
        linkable_recall = linkable_recall.min(a.linkable_recall);
    }
    println!("\nworst cells: precision {precision:.5}, linkable recall {linkable_recall:.5}");
}
