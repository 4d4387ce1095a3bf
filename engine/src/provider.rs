//! A table whose rows are computed from engine state when a query scans it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Result;
use datafusion::common::ScalarValue;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use crate::maintained::Restriction;

/// Rows per slice a scan hands to a partition.
const SCAN_SLICE_ROWS: usize = 65_536;

/// Produces a table's rows at scan time, for the scanning session.
pub(crate) type Rows = Arc<dyn Fn(&dyn Session) -> Result<Vec<RecordBatch>> + Send + Sync>;

/// Finds the rows with one `(channel, order_id)` without a scan.
pub(crate) type KeyLookup = Arc<dyn Fn(&str, &str) -> Result<Vec<RecordBatch>> + Send + Sync>;

/// Finds the rows of the keys a maintained view's refresh recomputes
/// without a scan; `None` when it cannot for these keys (see
/// [`Restriction`]).
pub(crate) type IndexLookup =
    Arc<dyn Fn(&Restriction, &SchemaRef) -> Result<Option<Vec<RecordBatch>>> + Send + Sync>;

/// A read-only table over a snapshot of engine state, taken at scan time.
pub(crate) struct SnapshotTable {
    schema: SchemaRef,
    rows: Rows,
    lookup: Option<KeyLookup>,
    indexed: Option<IndexLookup>,
}

impl SnapshotTable {
    pub(crate) fn new(schema: SchemaRef, rows: Rows) -> Self {
        Self {
            schema,
            rows,
            lookup: None,
            indexed: None,
        }
    }

    /// A table whose refreshes of maintained views find the touched keys'
    /// rows through an index.
    pub(crate) fn with_index(mut self, indexed: IndexLookup) -> Self {
        self.indexed = Some(indexed);
        self
    }

    /// A table that answers `channel = '..' AND order_id = '..'` from an
    /// index instead of scanning every row.
    pub(crate) fn with_key_lookup(mut self, lookup: KeyLookup) -> Self {
        self.lookup = Some(lookup);
        self
    }
}

/// The literal a filter `column = 'literal'` (either way round) compares
/// `column` with.
pub(crate) fn equality_literal<'a>(filter: &'a Expr, column: &str) -> Option<&'a str> {
    let Expr::BinaryExpr(b) = filter else {
        return None;
    };
    if b.op != Operator::Eq {
        return None;
    }
    let literal = |e: &'a Expr| match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(v))
            | ScalarValue::Utf8View(Some(v))
            | ScalarValue::LargeUtf8(Some(v)),
            _,
        ) => Some(v.as_str()),
        _ => None,
    };
    let is_column = |e: &Expr| matches!(e, Expr::Column(c) if c.name == column);
    match (b.left.as_ref(), b.right.as_ref()) {
        (l, r) if is_column(l) => literal(r),
        (l, r) if is_column(r) => literal(l),
        _ => None,
    }
}

impl fmt::Debug for SnapshotTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotTable")
            .field("schema", &self.schema)
            .finish()
    }
}

#[async_trait]
impl TableProvider for SnapshotTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // Key equalities are used to look rows up; DataFusion still applies
        // every filter after the scan.
        Ok(filters
            .iter()
            .map(|f| {
                let keyed = self.lookup.is_some()
                    && (equality_literal(f, "channel").is_some()
                        || equality_literal(f, "order_id").is_some());
                if keyed {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let key = self.lookup.as_ref().and_then(|lookup| {
            let channel = filters
                .iter()
                .find_map(|f| equality_literal(f, "channel"))?;
            let order_id = filters
                .iter()
                .find_map(|f| equality_literal(f, "order_id"))?;
            Some((lookup, channel, order_id))
        });
        // A maintained view's refresh reads the touched keys' rows alone.
        let restriction = state.config().get_extension::<Restriction>();
        let indexed = match (&restriction, &self.indexed) {
            (Some(r), Some(indexed)) => indexed(r, &self.schema)?,
            _ => None,
        };
        let batches = match (indexed, key) {
            (Some(rows), _) => rows,
            (None, Some((lookup, channel, order_id))) => lookup(channel, order_id)?,
            (None, None) => {
                let batches = (self.rows)(state)?;
                match restriction {
                    Some(r) => r.apply(&self.schema, batches)?,
                    None => batches,
                }
            }
        };
        scan_batches(state, &self.schema, &batches, projection)
    }
}

/// A scan of `batches`, spread over the session's partitions.
pub(crate) fn scan_batches(
    state: &dyn Session,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    projection: Option<&Vec<usize>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    // Slices, so a table stored as one huge batch (one bulk ingest) is
    // still read by every core. Slicing copies nothing.
    let slices: Vec<RecordBatch> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows())
                .step_by(SCAN_SLICE_ROWS)
                .map(|at| b.slice(at, SCAN_SLICE_ROWS.min(b.num_rows() - at)))
        })
        .collect();
    let n = state
        .config()
        .target_partitions()
        .max(1)
        .min(slices.len().max(1));
    let mut partitions = vec![Vec::new(); n];
    for (i, b) in slices.into_iter().enumerate() {
        partitions[i % n].push(b);
    }
    Ok(MemorySourceConfig::try_new_exec(
        &partitions,
        schema.clone(),
        projection.cloned(),
    )?)
}
