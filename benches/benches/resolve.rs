//! End-to-end identity benchmark on generated data (default 2.38M orders of
//! 620k people): normalization + hashing throughput, full resolution from
//! in-memory Arrow batches, a 10k-order increment on top, durable ingest,
//! CSV file to queryable, and peak memory.
//!
//! `cargo bench --workspace --bench resolve` (release build).
//! Size with `ORDERS=238000 CUSTOMERS=62000`; `INCREMENTS=20` 10k-order
//! increments are timed one after another (fewer make a noisy median on a
//! shared machine); `STEPS=resolve` stops after them (for profiling).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use ordergraph_benches::{CpuUse, memory_latency_ns, peak_rss_mib, rss_mib, timed};
use ordergraph_datasets::{Dataset, GenConfig, generate};
use ordergraph_engine::identity::{IdentityColumns, extract_order};
use ordergraph_engine::store::OrderStore;
use ordergraph_engine::{Engine, EngineConfig};

/// Large tables on 2 MiB pages, as in the `ordergraph` binary.
#[global_allocator]
static ALLOC: ordergraph_engine::huge_pages::HugePageAlloc =
    ordergraph_engine::huge_pages::HugePageAlloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn normalize_all(batches: &[RecordBatch], config: &EngineConfig) -> usize {
    let identity = config.identity_config();
    let mut ids = 0;
    for b in batches {
        let columns = IdentityColumns::of(b).expect("orders carry identifier columns");
        // Values are written into a text, as ingest writes a chunk's (here
        // cleared after each order).
        let mut text = String::new();
        for r in 0..b.num_rows() {
            let raw = columns.row(r);
            text.clear();
            ids += extract_order(&raw, identity.region, &identity.blocklist, &mut text)
                .0
                .iter()
                .filter(|s| matches!(s, ordergraph_engine::identity::Slot::Id { .. }))
                .count();
        }
    }
    ids
}

fn main() {
    let orders = env_usize("ORDERS", 2_380_000);
    let customers = env_usize("CUSTOMERS", orders * 62 / 238);
    let increment = 10_000;
    let increments = env_usize("INCREMENTS", 20).max(1);
    println!(
        "ordergraph resolve benchmark: {orders} orders of {customers} people (+{increments} increments of {increment})"
    );
    let config = GenConfig {
        customers,
        // Increments for the in-memory and durable steps, and as many
        // again to ingest while a compaction runs.
        orders: orders + 2 * increments * increment,
        seed: 1,
        ..GenConfig::default()
    };
    let (dataset, gen_s) = timed(|| generate(&config));
    let (base, extra) = split(&dataset, orders, increment);
    println!("generate                {gen_s:>8.2} s");

    let engine_config = EngineConfig::default();
    // The phone library decodes its metadata at its first use: timed
    // apart, so that the normalize line reads only the machine's speed.
    let (_, load_s) =
        timed(|| ordergraph_udfs::normalize_phone("+852 5404 6490", ordergraph_udfs::Region::CN));
    println!("phone library load      {load_s:>8.2} s");
    let (ids, norm_s) = timed(|| normalize_all(&base, &engine_config));
    println!(
        "normalize + hash (1 core) {:>6.2} s  {:>10.0} orders/s  ({ids} identifiers)",
        norm_s,
        orders as f64 / norm_s
    );

    let dir = tempfile::tempdir().unwrap();
    let mut store = OrderStore::open(dir.path(), engine_config.identity_config()).unwrap();
    let rss_before = rss_mib().unwrap_or(0.0);
    let cpu_before = CpuUse::now();
    let (prepared, prep_s) = timed(|| store.prepare(base.clone(), 0).unwrap());
    let (_, apply_s) = timed(|| store.apply(prepared));
    let cpu = CpuUse::now().since(cpu_before);
    println!(
        "full resolution         {:>8.2} s  (check+normalize {prep_s:.2} s, graph {apply_s:.2} s)  {:>10.0} orders/s, {} customers",
        prep_s + apply_s,
        orders as f64 / (prep_s + apply_s),
        store.graph().customers()
    );
    println!(
        "  cpu of it               {:>6.2} s user, {:.2} s system, {} page faults",
        cpu.user_s, cpu.system_s, cpu.minor_faults
    );
    println!(
        "largest component       {:>8} orders (re-resolved whole when an increment touches it)",
        store.graph().largest_component()
    );
    println!(
        "memory held by the store  {:>7.0} MiB",
        rss_mib().unwrap_or(0.0) - rss_before
    );
    let (latency, in_flight) = memory_latency_ns();
    println!(
        "memory latency          {latency:>8.0} ns per dependent random load ({in_flight:.0} ns with 8 in flight): the increments wait on it"
    );
    // Each increment: the next 10k orders of the same people, applied on
    // top of everything before.
    let mut runs = Vec::new();
    for (i, batch) in extra.iter().enumerate().take(increments) {
        let (prepared, prep_s) =
            timed(|| store.prepare(vec![batch.clone()], 1 + i as i64).unwrap());
        let (stats, apply_s) = timed(|| store.apply(prepared));
        runs.push((prep_s + apply_s, prep_s, apply_s, stats.joined));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, prep_s, apply_s, joined) = runs[runs.len() / 2];
    println!(
        "increment of {increment}      {:>8.1} ms  median of {} (check+normalize {:.1} ms, graph {:.1} ms, {joined} joined a known customer directly; fastest {:.1} ms, slowest {:.1} ms)",
        total * 1e3,
        runs.len(),
        prep_s * 1e3,
        apply_s * 1e3,
        runs[0].0 * 1e3,
        runs[runs.len() - 1].0 * 1e3,
    );
    if std::env::var("STEPS").as_deref() == Ok("resolve") {
        return;
    }
    drop(store);

    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let (_, durable_s) = timed(|| engine.ingest_batches("orders", base.clone()).unwrap());
    println!(
        "durable ingest (log+fsync) {:>5.2} s  {:>10.0} orders/s",
        durable_s,
        orders as f64 / durable_s
    );
    let mut durable: Vec<f64> = extra[..increments]
        .iter()
        .map(|batch| {
            let (_, s) = timed(|| {
                engine
                    .ingest_batches("orders", vec![batch.clone()])
                    .unwrap()
            });
            s * 1e3
        })
        .collect();
    durable.sort_by(f64::total_cmp);
    println!(
        "durable increment of {increment} {:>5.1} ms  median of {} (fastest {:.1} ms, slowest {:.1} ms)",
        durable[durable.len() / 2],
        durable.len(),
        durable[0],
        durable[durable.len() - 1]
    );
    let customers_before = engine.customer_count();
    drop(engine);
    let (engine, reopen_s) = timed(|| Engine::open(dir.path(), vec![]).unwrap());
    println!(
        "restart (replay log)    {:>8.2} s  {} orders",
        reopen_s,
        engine.order_count()
    );
    let (report, checkpoint_s) = timed(|| engine.checkpoint().unwrap());
    println!(
        "checkpoint (Parquet + state) {:>4.2} s  (ingest paused {} ms)",
        checkpoint_s, report.ingest_paused_ms
    );
    drop(engine);
    let (reopened, reopen_s) = timed(|| Engine::open(dir.path(), vec![]).unwrap());
    assert_eq!(reopened.customer_count(), customers_before);
    println!(
        "restart (checkpoint)    {:>8.2} s  {} orders, {} customers",
        reopen_s,
        reopened.order_count(),
        reopened.customer_count()
    );
    // Compaction beside a writer: the next increments are ingested while
    // it rebuilds and writes the state; none of them waits for it.
    let reopened = Arc::new(reopened);
    let compacting = Arc::clone(&reopened);
    let compaction = std::thread::spawn(move || timed(|| compacting.compact().unwrap()));
    let mut during = Vec::new();
    for batch in &extra[increments..] {
        if compaction.is_finished() {
            break;
        }
        let (_, s) = timed(|| {
            reopened
                .ingest_batches("orders", vec![batch.clone()])
                .unwrap()
        });
        during.push(s * 1e3);
    }
    let (report, compact_s) = compaction.join().unwrap();
    during.sort_by(f64::total_cmp);
    println!(
        "compaction (checkpoint beside writers) {:>4.2} s  (ingest paused {} ms; {} durable increments of {increment} meanwhile, median {:.0} ms, slowest {:.0} ms)",
        compact_s,
        report.ingest_paused_ms,
        during.len(),
        during.get(during.len() / 2).copied().unwrap_or(0.0),
        during.last().copied().unwrap_or(0.0),
    );
    drop(reopened);

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    let small = Dataset {
        rows: dataset.rows[..orders].to_vec(),
    };
    small.write_csv(&csv).unwrap();
    let size = std::fs::metadata(&csv).unwrap().len() as f64 / (1 << 20) as f64;
    let engine = Engine::open(dir.path().join("data"), vec![]).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (count, csv_s) = timed(|| {
        engine.ingest_file("orders", &csv).unwrap();
        runtime.block_on(async {
            Arc::clone(&engine)
                .query("select count(distinct mcid) from orders")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap()
        })
    });
    println!(
        "CSV file ({size:.0} MiB) to queryable {:>5.2} s  {:>10.0} orders/s  ({} rows)",
        csv_s,
        orders as f64 / csv_s,
        count[0].num_rows()
    );
    println!(
        "peak memory             {:>8.0} MiB",
        peak_rss_mib().unwrap_or(0.0)
    );
}

/// The first `at` orders as batches, then the rest in batches of `increment`.
fn split(dataset: &Dataset, at: usize, increment: usize) -> (Vec<RecordBatch>, Vec<RecordBatch>) {
    let head = Dataset {
        rows: dataset.rows[..at].to_vec(),
    };
    let tail = Dataset {
        rows: dataset.rows[at..].to_vec(),
    };
    (
        head.to_record_batches(65_536).unwrap(),
        tail.to_record_batches(increment).unwrap(),
    )
}
