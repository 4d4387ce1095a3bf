//! Ingest: rows decoded, checked, logged and applied, with orders
//! committed in groups so that concurrent requests share one fsync.

use super::*;

impl Engine {
    /// Decodes and ingests `data` into `table`. Either every row is accepted
    /// or, on the first bad value, none is.
    pub fn ingest(
        &self,
        table: &str,
        format: Format,
        source: &str,
        data: Bytes,
    ) -> Result<IngestReport> {
        let def = table::table(table).ok_or_else(|| Error::UnknownTable(table.to_string()))?;
        let batches = decode::decode(def, format, source, data)?;
        self.ingest_batches(table, batches)
    }

    /// Ingests a file, its format told by its extension.
    pub fn ingest_file(&self, table: &str, path: &Path) -> Result<IngestReport> {
        let format =
            Format::from_path(path).ok_or_else(|| Error::UnknownFormat(path.to_path_buf()))?;
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let source = path.display().to_string();
        self.ingest(table, format, &source, Bytes::from(data))
    }

    /// Ingests batches already in the table's schema.
    pub fn ingest_batches(&self, table: &str, batches: Vec<RecordBatch>) -> Result<IngestReport> {
        self.ingest_batches_at(table, batches, Positions::new())
    }

    /// Ingests batches from a source that has read up to `positions`: the
    /// positions are stored in the same durable write as the rows (see
    /// [`crate::positions`]), and [`Engine::source_positions`] gives them
    /// back, after a restart too.
    pub fn ingest_batches_at(
        &self,
        table: &str,
        batches: Vec<RecordBatch>,
        positions: Positions,
    ) -> Result<IngestReport> {
        if table::table(table).is_none() {
            return Err(Error::UnknownTable(table.to_string()));
        }
        match self.inputs.get(table) {
            Some(input) => self.append(input, batches, &positions),
            None => self.ingest_orders(batches, positions),
        }
    }

    /// How far each source has been read: the positions of every commit so
    /// far.
    pub fn source_positions(&self) -> Positions {
        self.positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes in the positions of a commit that succeeded.
    fn advance_positions(&self, positions: &Positions) {
        if !positions.is_empty() {
            let mut all = self.positions.lock().unwrap_or_else(|e| e.into_inner());
            crate::positions::advance(&mut all, positions);
        }
    }

    /// Records the outcome of an API action (a write-back acknowledgement,
    /// a sync command) in one of [`table::recorded_tables`]: NDJSON rows,
    /// durable when this returns. A row identical to a stored one is a
    /// repeat and changes nothing.
    pub fn record(&self, table: &str, ndjson: Bytes) -> Result<IngestReport> {
        self.record_at(table, ndjson, Positions::new())
    }

    /// [`Engine::record`] for a source that has read up to `positions`,
    /// stored in the same durable write.
    pub fn record_at(
        &self,
        table: &str,
        ndjson: Bytes,
        positions: Positions,
    ) -> Result<IngestReport> {
        let def = table::recorded_tables()
            .into_iter()
            .find(|t| t.name == table)
            .ok_or_else(|| Error::UnknownTable(table.to_string()))?;
        let batches = decode::decode(def, Format::Ndjson, "request", ndjson)?;
        self.append(&self.inputs[def.name], batches, &positions)
    }

    /// Checks, logs and applies rows of an append-only table.
    pub(super) fn append(
        &self,
        input: &RwLock<AppendTable>,
        batches: Vec<RecordBatch>,
        positions: &Positions,
    ) -> Result<IngestReport> {
        let _writer = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
        let started = std::time::Instant::now();
        let arrived_at = chrono::Utc::now().timestamp_micros();
        let prepared = {
            let rows = input.read().unwrap_or_else(|e| e.into_inner());
            let prepared = rows.prepare(batches, arrived_at)?;
            rows.log(&prepared, positions)?;
            prepared
        };
        let report = prepared.report;
        let mut rows = input.write().unwrap_or_else(|e| e.into_inner());
        let table = rows.name();
        rows.apply(prepared);
        drop(rows);
        self.advance_positions(positions);
        committed_metrics(table, &report, started);
        // Input tables are read live; the derived-table caches (and so
        // `generation`) depend on orders only.
        self.committed();
        Ok(report)
    }

    /// Group commit: a request joins the queue, then waits for the writer
    /// lock. Whoever gets it first commits every request queued by then as
    /// one log write, one fsync and one graph update, and answers each with
    /// its own report; the others find their answer waiting. Under
    /// concurrent load this turns many small writes into a few larger ones.
    pub(super) fn ingest_orders(
        &self,
        batches: Vec<RecordBatch>,
        positions: Positions,
    ) -> Result<IngestReport> {
        // A request that cannot be combined fails alone, before queueing.
        let input = concat_batches(&ORDERS_SCHEMA, &batches)?;
        let (reply, answer) = std::sync::mpsc::channel();
        {
            let mut queue = self.commit_queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.push(QueuedOrders {
                input,
                positions,
                reply,
            });
            metrics::gauge!("ordergraph_commit_queue_requests").set(queue.len() as f64);
        }
        let _writer = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(done) = answer.try_recv() {
            return done;
        }
        let group =
            std::mem::take(&mut *self.commit_queue.lock().unwrap_or_else(|e| e.into_inner()));
        metrics::gauge!("ordergraph_commit_queue_requests").set(0.0);
        metrics::histogram!("ordergraph_group_commit_requests").record(group.len() as f64);
        self.commit_orders(group);
        answer
            .recv()
            .expect("a request queued before the lock was taken is in the group")
    }

    /// Commits queued requests together; on a failure each is committed
    /// alone, so each gets its own answer.
    pub(super) fn commit_orders(&self, group: Vec<QueuedOrders>) {
        let inputs: Vec<RecordBatch> = group.iter().map(|q| q.input.clone()).collect();
        let mut positions = Positions::new();
        for q in &group {
            crate::positions::advance(&mut positions, &q.positions);
        }
        match self.commit_orders_once(inputs, &positions) {
            Ok((_, rows_done)) => {
                let mut start = 0;
                for q in group {
                    let rows = q.input.num_rows();
                    let _ = q.reply.send(Ok(rows_done.report_for(start..start + rows)));
                    start += rows;
                }
            }
            Err(_) if group.len() > 1 => {
                for q in group {
                    let report = self
                        .commit_orders_once(vec![q.input], &q.positions)
                        .map(|(report, _)| report);
                    let _ = q.reply.send(report);
                }
            }
            Err(e) => {
                // One request: it gets the error whole, its cause included.
                if let Some(q) = group.into_iter().next() {
                    let _ = q.reply.send(Err(e));
                }
            }
        }
    }

    /// Checks, logs and applies one write of orders. Check and log run
    /// under the read lock, so queries go on during the fsync; only the
    /// in-memory apply takes the write lock. The caller holds `ingest`, so
    /// the state cannot change in between.
    pub(super) fn commit_orders_once(
        &self,
        inputs: Vec<RecordBatch>,
        positions: &Positions,
    ) -> Result<(IngestReport, store::RowReports)> {
        let started = std::time::Instant::now();
        let arrived_at = chrono::Utc::now().timestamp_micros();
        let inputs = self.strip_erased(inputs)?;
        let mut prepared = {
            let store = self.read();
            let prepared = store.prepare(inputs, arrived_at)?;
            store.log(&prepared, positions)?;
            prepared
        };
        let (report, rows) = (prepared.report, prepared.take_row_reports());
        self.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(prepared);
        self.advance_positions(positions);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.committed();
        committed_metrics("orders", &report, started);
        Ok((report, rows))
    }

    /// Counts a commit and wakes the maintained views' refresher.
    pub(crate) fn committed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.maintained.committed();
    }
}

/// Records a commit of `table` that started at `started`: its duration,
/// and its rows by outcome.
fn committed_metrics(table: &'static str, report: &IngestReport, started: std::time::Instant) {
    metrics::histogram!("ordergraph_commit_seconds", "table" => table).record(started.elapsed());
    for (outcome, rows) in [
        ("inserted", report.inserted),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
    ] {
        metrics::counter!("ordergraph_ingest_rows_total", "table" => table, "outcome" => outcome)
            .increment(rows as u64);
    }
}
