//! Segments: the versions of one ingest as an Arrow batch, and the
//! `orders` and `order_versions` tables read from them.

use super::*;

/// The schema of `order_versions`: the input columns, `version`, `arrived_at`.
pub fn versions_schema() -> SchemaRef {
    ORDERS.schema_with([
        Field::new("version", DataType::UInt32, false),
        Field::new("arrived_at", timestamp_type(), false),
    ])
}

/// The schema of `orders`: the input columns and `mcid`.
pub fn orders_schema() -> SchemaRef {
    ORDERS.schema_with([Field::new("mcid", DataType::Utf8, false)])
}

#[derive(Debug)]
pub(super) struct Segment {
    /// Rows in [`versions_schema`].
    pub(super) batch: RecordBatch,
    /// Dense order number of each row.
    pub(super) orders: Vec<u32>,
    /// Rows superseded by a later version.
    pub(super) dead: RoaringBitmap,
    /// The current rows with MCIDs, until a row dies or an MCID changes.
    pub(super) current: Mutex<Option<RecordBatch>>,
}

impl Segment {
    pub(super) fn invalidate(&self) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The rows to keep when superseded versions that arrived before
    /// `expire_before` go; `None` if every row stays.
    pub(super) fn kept_rows(&self, expire_before: i64) -> Option<Vec<u32>> {
        let arrived = self
            .batch
            .column(ORDERS.columns.len() + 1)
            .as_primitive::<TimestampMicrosecondType>();
        // Rows are in arrival order: the first is the oldest.
        if self.dead.is_empty() || arrived.is_empty() || arrived.value(0) >= expire_before {
            return None;
        }
        let kept: Vec<u32> = (0..self.batch.num_rows() as u32)
            .filter(|&r| !self.dead.contains(r) || arrived.value(r as usize) >= expire_before)
            .collect();
        (kept.len() < self.batch.num_rows()).then_some(kept)
    }
}

impl OrderStore {
    /// All versions, in arrival order.
    pub fn version_batches(&self) -> Vec<RecordBatch> {
        self.segments.iter().map(|s| s.batch.clone()).collect()
    }

    /// Sets `columns` to NULL in every version of `orders`; returns how
    /// many versions it changed.
    pub(crate) fn redact_versions(
        &mut self,
        orders: &std::collections::HashSet<u32>,
        columns: &[&str],
    ) -> Result<usize> {
        let schema = versions_schema();
        let at: Vec<usize> = columns
            .iter()
            .map(|c| schema.index_of(c))
            .collect::<std::result::Result<_, _>>()?;
        let mut changed = 0;
        for s in &mut self.segments {
            let hit: BooleanArray = s.orders.iter().map(|o| Some(orders.contains(o))).collect();
            let hits = hit.true_count();
            if hits == 0 {
                continue;
            }
            let mut fields = s.batch.columns().to_vec();
            for &c in &at {
                fields[c] = datafusion::arrow::compute::nullif(&fields[c], &hit)?;
            }
            s.batch = RecordBatch::try_new(s.batch.schema(), fields)?;
            s.invalidate();
            changed += hits;
        }
        Ok(changed)
    }

    /// The values of `column` in every version of `orders`.
    pub(crate) fn version_values(
        &self,
        orders: &std::collections::HashSet<u32>,
        column: &str,
    ) -> Result<Vec<String>> {
        Ok(self
            .version_pairs(orders, column, column)?
            .into_iter()
            .map(|(v, _)| v)
            .collect())
    }

    /// The values of columns `a` and `b` in every version of `orders`
    /// where both have one.
    pub(crate) fn version_pairs(
        &self,
        orders: &std::collections::HashSet<u32>,
        a: &str,
        b: &str,
    ) -> Result<Vec<(String, String)>> {
        let schema = versions_schema();
        let (a, b) = (schema.index_of(a)?, schema.index_of(b)?);
        let mut values = Vec::new();
        for s in &self.segments {
            let (x, y) = (
                s.batch.column(a).as_string::<i32>(),
                s.batch.column(b).as_string::<i32>(),
            );
            for (row, o) in s.orders.iter().enumerate() {
                if orders.contains(o) && x.is_valid(row) && y.is_valid(row) {
                    values.push((x.value(row).to_string(), y.value(row).to_string()));
                }
            }
        }
        Ok(values)
    }

    /// The current version of every order, with its MCID.
    pub fn current_batches(&self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::with_capacity(self.segments.len());
        for s in &self.segments {
            let mut cached = s.current.lock().unwrap_or_else(|e| e.into_inner());
            if cached.is_none() {
                *cached = Some(self.materialize(s)?);
            }
            let batch = cached.as_ref().expect("just filled");
            if batch.num_rows() > 0 {
                out.push(batch.clone());
            }
        }
        Ok(out)
    }

    /// The MCID of an order's customer; `None` if there is no such order.
    pub fn order_mcid(&self, channel: &str, order_id: &str) -> Option<String> {
        let order = self.order_number(channel, order_id)?;
        let key = self.graph.mcid_of_order(order)?;
        Some(mcid_of(key))
    }

    /// The current version of one order, with its MCID: no rows if there
    /// is no such order.
    pub fn current_row(&self, channel: &str, order_id: &str) -> Result<Vec<RecordBatch>> {
        let Some(order) = self.order_number(channel, order_id) else {
            return Ok(Vec::new());
        };
        Ok(vec![self.current_rows(&[order])?])
    }

    /// The current versions of `orders` (dense numbers, each known), with
    /// their MCIDs, in the order they are stored.
    pub(crate) fn current_rows(&self, orders: &[u32]) -> Result<RecordBatch> {
        if orders.is_empty() {
            return Ok(RecordBatch::new_empty(orders_schema()));
        }
        let mut at: Vec<(u32, u32, u32)> = orders
            .iter()
            .map(|&o| {
                let (seg, row) = self.location[o as usize];
                (seg, row, o)
            })
            .collect();
        at.sort_unstable();
        let input_columns: Vec<usize> = (0..ORDERS.columns.len()).collect();
        let mut parts = Vec::new();
        for rows in at.chunk_by(|a, b| a.0 == b.0) {
            let batch = self.segments[rows[0].0 as usize]
                .batch
                .project(&input_columns)?;
            let take = UInt32Array::from_iter_values(rows.iter().map(|r| r.1));
            parts.push(take_record_batch(&batch, &take)?);
        }
        let mut mcids = StringBuilder::with_capacity(at.len(), at.len() * 15);
        for &(_, _, o) in &at {
            let m = self.graph.mcid_of_order(o).unwrap_or_default();
            mcids.append_value(mcid_str(&mcid_bytes(m)));
        }
        let rows = concat_batches(&parts[0].schema(), &parts)?;
        let mut columns = rows.columns().to_vec();
        columns.push(Arc::new(mcids.finish()) as ArrayRef);
        Ok(RecordBatch::try_new(orders_schema(), columns)?)
    }

    pub(super) fn materialize(&self, s: &Segment) -> Result<RecordBatch> {
        let n = s.batch.num_rows();
        let mut mcids = StringBuilder::with_capacity(
            n - s.dead.len() as usize,
            (n - s.dead.len() as usize) * 15,
        );
        let mut keep = Vec::with_capacity(n);
        for (row, &order) in s.orders.iter().enumerate() {
            let live = !s.dead.contains(row as u32);
            keep.push(live);
            if live {
                let m = self.graph.mcid_of_order(order).unwrap_or_default();
                mcids.append_value(mcid_str(&mcid_bytes(m)));
            }
        }
        let projected = s
            .batch
            .project(&(0..ORDERS.columns.len()).collect::<Vec<_>>())?;
        let live = if s.dead.is_empty() {
            projected
        } else {
            filter_record_batch(&projected, &keep.into())?
        };
        let mut columns = live.columns().to_vec();
        columns.push(Arc::new(mcids.finish()) as ArrayRef);
        Ok(RecordBatch::try_new(orders_schema(), columns)?)
    }
}

impl OrderStore {
    /// The orders (dense numbers) of the versions accepted since `seen`
    /// versions were read, in arrival order; moves `seen` to now.
    pub(crate) fn orders_since(&self, seen: &mut usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut start = 0;
        for s in &self.segments {
            let rows = s.orders.len();
            let from = (*seen).max(start) - start;
            if from < rows {
                out.extend_from_slice(&s.orders[from..]);
            }
            start += rows;
        }
        *seen = start;
        out
    }
}
