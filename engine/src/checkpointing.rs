//! Checkpoints of a running engine: the live state copied out while
//! writers wait, written while they go on, and loaded at open.

use super::*;

/// What [`Engine::checkpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CheckpointReport {
    /// Order versions written.
    pub orders: usize,
    /// How long ingest waited while the state was copied out.
    pub ingest_paused_ms: u64,
    /// How long the whole checkpoint took.
    pub elapsed_ms: u64,
}

/// A fingerprint of everything the identity state depends on, the
/// resolution rules' version among it: a checkpoint made under another
/// identity configuration or other rules is resolved again on load.
pub(super) fn identity_fingerprint(config: &EngineConfig) -> String {
    let rules = format!("rules {} {:?}", identity::RULES_VERSION, config.identity);
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(rules.as_bytes()))
}

/// The order store's part of a loaded checkpoint.
pub(super) fn store_checkpoint(
    c: &checkpoint::Loaded,
    config: &EngineConfig,
) -> Result<store::StoreCheckpoint> {
    let same_identity = c.manifest.identity == identity_fingerprint(config);
    if !same_identity {
        tracing::warn!(checkpoint = %c.dir.display(), "the identity configuration changed since the checkpoint: resolving its orders again");
    }
    Ok(store::StoreCheckpoint {
        path: c.dir.clone(),
        log_seq: c
            .manifest
            .logs
            .get(table::ORDERS.name)
            .copied()
            .unwrap_or(0),
        versions: c.rows_concat(table::ORDERS.name, &store::versions_schema())?,
        state: same_identity
            .then(|| c.state(checkpoint::ORDERS_STATE))
            .transpose()?,
    })
}

impl Engine {
    /// Writes a checkpoint from the live state: every table as Parquet plus
    /// the resolved identity state, then removes the log files it covers.
    /// Ingest waits while the order index and graph are encoded (0.5 s at
    /// 2.4M orders, the "ingest paused" of
    /// `cargo bench --workspace --bench resolve`); queries never
    /// wait. For when writers are idle (the end of a load, a shutdown);
    /// [`Engine::compact`] never stops them.
    pub fn checkpoint(&self) -> Result<CheckpointReport> {
        let _one = self.checkpointing.lock().unwrap_or_else(|e| e.into_inner());
        // Before any log file (and the positions in its footer) is removed.
        crate::positions::write(&self.dir, &self.source_positions())?;
        let started = std::time::Instant::now();
        let (orders, inputs) = {
            let _writers = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
            (
                self.read().checkpoint(self.versions_expire_before())?,
                self.input_rows(),
            )
        };
        let paused_ms = started.elapsed().as_millis() as u64;
        self.write_checkpoint(started, paused_ms, orders, inputs)
    }

    /// Writes a checkpoint without stopping writers or queries: the orders
    /// state as of the last log file is rebuilt beside the live one, from
    /// the current checkpoint and the log after it (what a restart would
    /// load), and written out; then the log files it covers are removed.
    /// The cost is a second copy of the order store while it runs, and the
    /// CPU of replaying the log since the last checkpoint.
    pub fn compact(&self) -> Result<CheckpointReport> {
        let _one = self.checkpointing.lock().unwrap_or_else(|e| e.into_inner());
        crate::positions::write(&self.dir, &self.source_positions())?;
        let started = std::time::Instant::now();
        let through = self.read().last_log_seq();
        let inputs = self.input_rows();
        let previous = checkpoint::open(&self.dir)?
            .map(|c| store_checkpoint(&c, &self.config))
            .transpose()?;
        let orders =
            OrderStore::rebuild(&self.dir, self.config.identity_config(), previous, through)?
                .checkpoint(self.versions_expire_before())?;
        self.write_checkpoint(started, 0, orders, inputs)
    }

    /// When superseded order versions expire (`[retention]`), as of now.
    fn versions_expire_before(&self) -> Option<i64> {
        let now = chrono::Utc::now().timestamp_micros();
        self.config.retention.expire_before(now)
    }

    /// Every append table's rows with the last log file they include.
    pub(super) fn input_rows(&self) -> Vec<(&'static str, u64, Vec<RecordBatch>)> {
        self.inputs
            .iter()
            .map(|(name, t)| {
                let (seq, rows) = t.read().unwrap_or_else(|e| e.into_inner()).checkpoint();
                (*name, seq, rows)
            })
            .collect()
    }

    /// Writes a checkpoint of `orders` (last log file, versions, state) and
    /// `inputs`, makes it current, and removes the log files it covers.
    pub(super) fn write_checkpoint(
        &self,
        started: std::time::Instant,
        paused_ms: u64,
        orders: (u64, Vec<RecordBatch>, Vec<u8>),
        inputs: Vec<(&'static str, u64, Vec<RecordBatch>)>,
    ) -> Result<CheckpointReport> {
        let mut manifest = checkpoint::Manifest {
            format: 1,
            identity: identity_fingerprint(&self.config),
            logs: Default::default(),
        };
        let writing = checkpoint::Writing::start(&self.dir)?;
        let (orders_seq, versions, state) = orders;
        let rows = versions.iter().map(RecordBatch::num_rows).sum();
        writing.rows(table::ORDERS.name, &store::versions_schema(), &versions)?;
        writing.state(checkpoint::ORDERS_STATE, &state)?;
        manifest
            .logs
            .insert(table::ORDERS.name.to_string(), orders_seq);
        for (name, seq, batches) in &inputs {
            let def = table::stored_table(name).expect("inputs are tables");
            writing.rows(name, &append::stored_schema(def), batches)?;
            manifest.logs.insert(name.to_string(), *seq);
        }
        let dir = writing.commit(&manifest)?;
        // The checkpoint is durable: the log files it covers can go. No
        // table is held meanwhile, so writers do not wait on the deletes.
        let orders_log = self.read().log_handle();
        orders_log.remove_through(orders_seq)?;
        for (name, seq, _) in &inputs {
            let log = self.inputs[name]
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .log_handle();
            log.remove_through(*seq)?;
        }
        let report = CheckpointReport {
            orders: rows,
            ingest_paused_ms: paused_ms,
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        tracing::info!(dir = %dir.display(), versions = report.orders, ingest_paused_ms = report.ingest_paused_ms, elapsed_ms = report.elapsed_ms, "checkpoint written");
        metrics::histogram!("ordergraph_checkpoint_seconds").record(started.elapsed());
        metrics::histogram!("ordergraph_checkpoint_ingest_paused_seconds")
            .record(paused_ms as f64 / 1e3);
        metrics::gauge!("ordergraph_checkpoint_last_timestamp_seconds")
            .set(chrono::Utc::now().timestamp_micros() as f64 / 1e6);
        Ok(report)
    }

    /// Log files (accepted writes) of all tables not yet in a checkpoint.
    pub fn writes_since_checkpoint(&self) -> u64 {
        self.read().log_files_since_checkpoint()
            + self
                .inputs
                .values()
                .map(|t| {
                    t.read()
                        .unwrap_or_else(|e| e.into_inner())
                        .log_files_since_checkpoint()
                })
                .sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compaction takes no writer lock: it finishes while a writer holds it.
    #[test]
    fn compaction_finishes_while_a_writer_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path(), vec![]).unwrap();
        let csv =
            "order_id,channel,ordered_at\n1,jd,2026-01-01T00:00:00Z\n2,jd,2026-01-02T00:00:00Z\n";
        engine
            .ingest("orders", Format::Csv, "o.csv", Bytes::from(csv))
            .unwrap();
        let writer = engine.ingest.lock().unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        let compacting = engine.clone();
        std::thread::spawn(move || done.send(compacting.compact()));
        let report = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("compaction finishes while a writer holds the lock")
            .unwrap();
        drop(writer);
        assert_eq!((report.orders, report.ingest_paused_ms), (2, 0));
    }
}
