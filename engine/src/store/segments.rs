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
}

impl OrderStore {
    /// All versions, in arrival order.
    pub fn version_batches(&self) -> Vec<RecordBatch> {
        self.segments.iter().map(|s| s.batch.clone()).collect()
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
        let (seg, row) = self.location[order as usize];
        let segment = &self.segments[seg as usize];
        let row = segment
            .batch
            .slice(row as usize, 1)
            .project(&(0..ORDERS.columns.len()).collect::<Vec<_>>())?;
        let mcid = self.graph.mcid_of_order(order).unwrap_or_default();
        let mcid = mcid_of(mcid);
        let mut columns = row.columns().to_vec();
        columns.push(Arc::new(StringArray::from(vec![mcid])) as ArrayRef);
        Ok(vec![RecordBatch::try_new(orders_schema(), columns)?])
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

/// The schema of [`OrderStore::changes_since`]'s rows.
pub(crate) fn order_changes_schema() -> SchemaRef {
    Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
        Field::new("channel", DataType::Utf8, false),
        Field::new("order_id", DataType::Utf8, false),
        Field::new("mcid", DataType::Utf8, false),
    ]))
}

impl OrderStore {
    /// What changed since `seen` versions were read and the orders' MCID
    /// keys were `mcids`, as rows of [`order_changes_schema`]: one per new
    /// version, with its order's MCID now, and two per older order whose
    /// MCID changed, with the old MCID and the new. Moves `seen` and
    /// `mcids` to now; `None` if nothing changed.
    pub(crate) fn changes_since(
        &self,
        seen: &mut usize,
        mcids: &mut Vec<u64>,
    ) -> Result<Option<RecordBatch>> {
        let mut channel = StringBuilder::new();
        let mut order_id = StringBuilder::new();
        let mut mcid = StringBuilder::new();
        let now = self.graph.mcids();
        let mut push = |(ch, id): (&str, &str), key: u64| {
            channel.append_value(ch);
            order_id.append_value(id);
            mcid.append_value(mcid_str(&mcid_bytes(key)));
        };
        for (order, (before, &after)) in mcids.iter_mut().zip(now).enumerate() {
            if *before != after {
                if let Some((ch, id)) = self.order_key_of(order as u32) {
                    push((&ch, &id), *before);
                    push((&ch, &id), after);
                }
                *before = after;
            }
        }
        let mut start = 0;
        for s in &self.segments {
            let rows = s.batch.num_rows();
            let from = (*seen).max(start) - start;
            if from < rows {
                let channels = s.batch.column(c::CHANNEL).as_string::<i32>();
                let ids = s.batch.column(c::ORDER_ID).as_string::<i32>();
                for row in from..rows {
                    let key = now.get(s.orders[row] as usize).copied().unwrap_or_default();
                    push((channels.value(row), ids.value(row)), key);
                }
            }
            start += rows;
        }
        *seen = start;
        if let Some(new) = now.get(mcids.len()..) {
            mcids.extend_from_slice(new);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(channel.finish()),
            Arc::new(order_id.finish()),
            Arc::new(mcid.finish()),
        ];
        let batch = RecordBatch::try_new(order_changes_schema(), columns)?;
        Ok((batch.num_rows() > 0).then_some(batch))
    }
}
