//! The accuracy grid: identity resolution scored against ground truth on
//! both generators, every trap rate at x0.3, x1 and x3, heavy buyers at
//! x0.3, x1 and x3, at 60k, 238k and 2.38M orders. Prints one row per cell
//! and, last, the worst cell: the figure that counts.
//!
//! `cargo bench --workspace --bench accuracy` (release build; add
//! `--profile dev` to reuse the test build's dependencies).
//! `SIZES=60000,238000` picks the sizes, `SEED=3` the seed, and
//! `CELLS="lives x3 x0.3;traps x3 x1"` only the cells named by generator,
//! rates and heavy buyers.

use ordergraph_eval::{Cell, evaluate};

fn main() {
    let sizes: Vec<usize> = std::env::var("SIZES")
        .unwrap_or_else(|_| "60000,238000,2380000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("SIZES is a list of order counts"))
        .collect();
    let seed = std::env::var("SEED").map_or(1, |s| s.parse().expect("SEED is a number"));
    let only = std::env::var("CELLS").ok();
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
        let a = rt
            .block_on(evaluate(&cell.dataset()))
            .expect("the cell resolves");
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
        precision = precision.min(a.precision);
        linkable_recall = linkable_recall.min(a.linkable_recall);
    }
    println!("\nworst cells: precision {precision:.5}, linkable recall {linkable_recall:.5}");
}
