//! Ingest: input rows checked against the current state (new, changed or
//! repeated), logged, then applied to the orders and the identity graph.

use super::*;

/// What an ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IngestReport {
    /// Rows received.
    pub rows: usize,
    /// Orders seen for the first time.
    pub inserted: usize,
    /// Rows that changed an existing order (a new version).
    pub updated: usize,
    /// Rows identical to the order's current version.
    pub unchanged: usize,
}

/// An ingest checked against the current state, ready to be logged and applied.
#[derive(Debug)]
pub struct Prepared {
    /// Accepted rows in [`versions_schema`]; `None` if nothing changed.
    pub(super) batch: Option<RecordBatch>,
    /// Order number per accepted row.
    pub(super) orders: Vec<u32>,
    /// Keys of orders seen for the first time, with their numbers.
    pub(super) new_keys: Vec<(u64, u32)>,
    /// Identity input for the last accepted version of each order, being
    /// normalized; `None` if nothing changed.
    pub(super) identity: Option<Normalizing>,
    pub(super) arrived_at: i64,
    /// Counts for the caller.
    pub report: IngestReport,
    /// What happened to each input row, for the reports of requests
    /// committed together.
    pub(super) outcomes: Vec<RowOutcome>,
}

/// What an ingest did with one input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RowOutcome {
    Unchanged,
    Inserted,
    Updated,
}

/// What happened to each input row of a prepared ingest.
#[derive(Debug, Default)]
pub struct RowReports {
    pub(super) outcomes: Vec<RowOutcome>,
}

impl Prepared {
    /// Takes the per-row outcomes, for requests committed together.
    pub fn take_row_reports(&mut self) -> RowReports {
        RowReports {
            outcomes: std::mem::take(&mut self.outcomes),
        }
    }
}

impl RowReports {
    /// The report of the input rows in `rows` alone.
    pub fn report_for(&self, rows: std::ops::Range<usize>) -> IngestReport {
        let mut report = IngestReport {
            rows: rows.len(),
            ..Default::default()
        };
        for outcome in &self.outcomes[rows] {
            match outcome {
                RowOutcome::Unchanged => report.unchanged += 1,
                RowOutcome::Inserted => report.inserted += 1,
                RowOutcome::Updated => report.updated += 1,
            }
        }
        report
    }
}

impl OrderStore {
    /// Checks input batches (in [`ORDERS`] schema) against the current state:
    /// which rows are new orders, new versions, or repeats.
    pub fn prepare(&self, inputs: Vec<RecordBatch>, arrived_at: i64) -> Result<Prepared> {
        let input = match <[RecordBatch; 1]>::try_from(inputs) {
            Ok([one]) => one,
            Err(many) => concat_batches(&ORDERS.schema(), &many)?,
        };
        let rows = input.num_rows();
        let mut report = IngestReport {
            rows,
            ..Default::default()
        };
        let order_ids = input.column(c::ORDER_ID).as_string::<i32>();
        let channels = input.column(c::CHANNEL).as_string::<i32>();
        let same_key = |a: usize, b: usize| {
            channels.value(a) == channels.value(b) && order_ids.value(a) == order_ids.value(b)
        };
        // The orders of this input so far, one entry each, found by key hash.
        let mut pending = PendingKeys::with_capacity(rows);
        // Nearly every key of a bulk load is new: growing this would copy it
        // at each doubling, into fresh pages.
        let mut new_keys = Vec::with_capacity(rows);
        let mut outcomes = Vec::with_capacity(rows);
        let mut accepted: Vec<u32> = Vec::with_capacity(rows);
        let mut orders = Vec::with_capacity(rows);
        let mut versions = Vec::with_capacity(rows);
        let mut next_order = self.location.len() as u32;
        let row_keys = Arc::new(key_hashes(channels, order_ids));
        let mut identity =
            Normalizing::start(input.clone(), Arc::clone(&row_keys), self.graph.config());
        for (row, &key) in row_keys.iter().enumerate() {
            if let Some(&ahead) = row_keys.get(row + PREFETCH_AHEAD) {
                self.index.prefetch(ahead);
            }
            let in_input = pending.find(key, |p| {
                same_key(accepted[p.position as usize] as usize, row)
            });
            let (order, version) = match in_input {
                Some((p, _)) => {
                    let before = accepted[p.position as usize] as usize;
                    if same_row(&input, before, &input, row) {
                        report.unchanged += 1;
                        outcomes.push(RowOutcome::Unchanged);
                        continue;
                    }
                    (p.order, p.version + 1)
                }
                None => match self.lookup(key, channels.value(row), order_ids.value(row)) {
                    Some(order) => {
                        let (seg, at) = self.location[order as usize];
                        let stored = &self.segments[seg as usize].batch;
                        if same_row(stored, at as usize, &input, row) {
                            report.unchanged += 1;
                            outcomes.push(RowOutcome::Unchanged);
                            continue;
                        }
                        (order, self.versions[order as usize] + 1)
                    }
                    None => {
                        report.inserted += 1;
                        outcomes.push(RowOutcome::Inserted);
                        let order = next_order;
                        next_order += 1;
                        new_keys.push((key, order));
                        (order, 1)
                    }
                },
            };
            if version > 1 {
                report.updated += 1;
                outcomes.push(RowOutcome::Updated);
            }
            let entry = Pending {
                position: accepted.len() as u32,
                order,
                version,
            };
            match in_input {
                Some((_, at)) => pending.replace(at, entry),
                None => pending.add(key, entry),
            }
            accepted.push(row as u32);
            orders.push(order);
            versions.push(version);
        }
        if accepted.is_empty() {
            return Ok(Prepared {
                batch: None,
                orders,
                new_keys,
                identity: None,
                arrived_at,
                report,
                outcomes,
            });
        }
        let mut columns = if accepted.len() == rows {
            input.columns().to_vec()
        } else {
            take_record_batch(&input, &UInt32Array::from(accepted.clone()))?
                .columns()
                .to_vec()
        };
        columns.push(Arc::new(UInt32Array::from(versions)) as ArrayRef);
        columns.push(Arc::new(
            TimestampMicrosecondArray::from(vec![arrived_at; accepted.len()]).with_timezone("UTC"),
        ));
        let batch = RecordBatch::try_new(versions_schema(), columns)?;
        // Only each order's last version in this input feeds the graph.
        let mut order_of_row = vec![NONE; rows];
        for position in pending.last_positions() {
            order_of_row[accepted[position] as usize] = orders[position];
        }
        identity.select(order_of_row);
        Ok(Prepared {
            batch: Some(batch),
            orders,
            new_keys,
            identity: Some(identity),
            arrived_at,
            report,
            outcomes,
        })
    }

    /// Writes a prepared ingest to the log and syncs it to disk. After this
    /// returns the rows survive a crash.
    pub fn log(&self, prepared: &Prepared, positions: &crate::positions::Positions) -> Result<()> {
        match &prepared.batch {
            Some(batch) => self.log.append(batch, positions),
            None => Ok(()),
        }
    }

    /// Applies a prepared (and logged) ingest to memory; says what the
    /// identity graph did.
    pub fn apply(&mut self, prepared: Prepared) -> ApplyStats {
        let Some(batch) = prepared.batch else {
            return ApplyStats::default();
        };
        let seg = self.segments.len() as u32;
        self.order_count += prepared.new_keys.len();
        self.index.reserve(prepared.new_keys.len());
        for (i, &(key, order)) in prepared.new_keys.iter().enumerate() {
            if let Some(&(ahead, _)) = prepared.new_keys.get(i + PREFETCH_AHEAD) {
                self.index.prefetch(ahead);
            }
            self.index.insert(key, order);
        }
        let needed = self.order_count;
        self.location.resize(needed, (u32::MAX, 0));
        self.versions.resize(needed, 0);
        for (row, &order) in prepared.orders.iter().enumerate() {
            let o = order as usize;
            let (old_seg, old_row) = self.location[o];
            if old_seg != u32::MAX {
                // A version superseded within this same input is marked below.
                if let Some(s) = self.segments.get_mut(old_seg as usize) {
                    s.dead.insert(old_row);
                    s.invalidate();
                }
            }
            self.location[o] = (seg, row as u32);
            self.versions[o] += 1;
        }
        let mut dead = RoaringBitmap::new();
        // Versions superseded within this same segment.
        for (row, &order) in prepared.orders.iter().enumerate() {
            if self.location[order as usize] != (seg, row as u32) {
                dead.insert(row as u32);
            }
        }
        self.segments.push(Segment {
            batch,
            orders: prepared.orders,
            dead,
            current: Mutex::new(None),
        });
        let resolving = std::time::Instant::now();
        let stats = match prepared.identity {
            Some(identity) => {
                self.graph
                    .apply_chunks(identity.len(), identity.into_chunks(), prepared.arrived_at)
            }
            None => ApplyStats::default(),
        };
        metrics::histogram!("ordergraph_identity_apply_seconds").record(resolving.elapsed());
        metrics::counter!("ordergraph_identity_orders_total").increment(stats.orders as u64);
        self.invalidate_moved();
        stats
    }

    /// Forgets the cached current rows of the segments holding orders
    /// whose MCID changed.
    fn invalidate_moved(&mut self) {
        for order in self.graph.take_changed() {
            let (s, _) = self.location[order as usize];
            if let Some(segment) = self.segments.get(s as usize) {
                segment.invalidate();
            }
        }
    }

    /// See [`IdentityGraph::pin_mcid`].
    pub(crate) fn pin_mcid(&mut self, mcid: u64) {
        self.graph.pin_mcid(mcid);
    }

    /// See [`IdentityGraph::forget`].
    pub(crate) fn forget(&mut self, orders: &[u32], values: &std::collections::HashSet<String>) {
        self.graph.forget(orders, values);
    }

    /// Puts corrections of identity in force (see
    /// [`IdentityGraph::set_constraints`]), with who made each and why.
    pub(crate) fn set_constraints(
        &mut self,
        constraints: Constraints,
        notes: HashMap<u64, String>,
        correction: u64,
        at: i64,
    ) -> ApplyStats {
        self.graph.set_correction_notes(notes);
        let stats = self.graph.set_constraints(constraints, correction, at);
        self.invalidate_moved();
        stats
    }
}
