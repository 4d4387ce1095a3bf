//! Maintained views: a view registered with [`maintain_view`] (the views
//! whose header says `-- Maintained by: <key columns>`) is kept
//! materialized. A commit is not recomputed whole: the keys it touched are,
//! by the view's own SQL restricted to those keys, and their rows are
//! replaced: while the refresh's query runs, every table that has the
//! key's columns yields only the touched keys' rows (see [`Restriction`]),
//! so a maintained view's key must be one its rows depend on alone: the
//! rows of a key are computed from the input rows of that key and from
//! tables without the key's columns. Reads scan the current rows.
//!
//! The keys a commit touches, for a view keyed by `K`, come from each table
//! the view reads (through other views too):
//! - an input table's new rows, projected on `K`, when it has every column
//!   of `K`;
//! - `orders` and `order_versions`: the new versions' `(channel, order_id,
//!   mcid)`, and both MCIDs of every order whose customer changed,
//!   projected on `K` when `K` is among those columns;
//! - `order_identifiers`: the same for every order of every customer whose
//!   identifier rows were restated (see `changes`), whose linking evidence
//!   moves with other customers' orders;
//! - `report_config` and `refund_nodes` change only at start-up.
//!
//! A change the key cannot follow (a table without the key's columns,
//! `shared_identifiers` or `mcid_aliases` after any change to the orders,
//! a touched key that is NULL) rebuilds the view whole. Every maintained
//! view is tested equal to its full recompute after random sequences of
//! ingests (`queries/tests/maintained_views.rs`).
//!
//! A read first applies the changes committed before it, so it sees what a
//! plain view would; [`Engine::spawn_view_refresher`] applies them in the
//! background as they arrive, so that reads rarely wait. A view that ages
//! with the report clock (`ages every 5m`) is also rebuilt that often by
//! the refresher. A session reporting at another time than now, or opened
//! with [`SessionOptions::recompute`](crate::SessionOptions), computes the
//! view from its SQL instead.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::DataFusionError;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{ViewTable, source_as_provider};
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::execute_stream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::Engine;
use crate::changes::OrderChanges;

mod materialized;
mod restriction;
mod row_index;
mod table;

pub(crate) use materialized::{KeyRows, KeySet, Materialized};
pub(crate) use restriction::Restriction;
pub(crate) use row_index::RowIndex;
use table::MaintainedTable;

/// Tables whose changes are the orders' changes.
const ORDER_TABLES: [&str; 2] = ["orders", "order_versions"];

/// Tables derived from the identity graph as a whole: any change to the
/// orders may change any of their rows.
const FOLLOWS_ORDERS: [&str; 2] = ["shared_identifiers", "mcid_aliases"];

/// How a session reads maintained views: the current rows, or (for a
/// report at another time, or to measure) recomputed from the SQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewReads {
    pub(crate) recompute: bool,
}

/// Every maintained view of an engine, and where change collection stands.
#[derive(Default)]
pub(crate) struct Maintained {
    engine: std::sync::OnceLock<Weak<Engine>>,
    views: Mutex<Vec<Arc<MaintainedView>>>,
    watermark: Mutex<Watermark>,
    /// The engine's change count the views' pending changes cover.
    collected: AtomicU64,
    /// Woken on each commit, for the background refresher.
    commits: tokio::sync::Notify,
}

impl std::fmt::Debug for Maintained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Maintained").finish_non_exhaustive()
    }
}

/// How far into the engine's tables changes have been collected.
#[derive(Default)]
struct Watermark {
    started: bool,
    tables: HashMap<&'static str, usize>,
}

/// Changes waiting to be applied to one view.
#[derive(Default)]
enum Pending {
    #[default]
    Nothing,
    Keys(Vec<RecordBatch>),
    Whole,
}

/// How a maintained view stands, for reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MaintainedStatus {
    /// The view.
    pub name: String,
    /// Its key columns.
    pub key: Vec<String>,
    /// Whether it is a view, which the background refresher builds at
    /// start, rather than an identity table kept from the graph, built on
    /// first read.
    pub view: bool,
    /// Rows held; `None` until first built.
    pub rows: Option<usize>,
    /// Bytes held by the rows and the key index.
    pub bytes: usize,
    /// Whether its rows were dropped because they did not fit in `[limits]
    /// maintained_memory_mib`: every read computes it from its SQL.
    pub released: bool,
    /// Whole builds so far (the first, changes the key cannot follow, ageing).
    pub builds: u64,
    /// Key-restricted refreshes so far.
    pub updates: u64,
    /// Duration of the last refresh of either kind, in milliseconds.
    pub last_refresh_ms: f64,
    /// Of it, the time spent planning the view's SQL, building its table
    /// scans included, which look up the touched keys' input rows (0 for an
    /// identity table, which has no SQL).
    pub last_plan_ms: f64,
}

struct MaintainedView {
    name: String,
    key: Vec<String>,
    ages: Option<Duration>,
    /// The view's SQL, for builds, updates and recomputing reads.
    view: Arc<ViewTable>,
    schema: SchemaRef,
    /// Base tables it reads, through other views too.
    inputs: Vec<String>,
    /// Maintained views it reads, brought up to date before it.
    depends_on: Vec<Arc<MaintainedView>>,
    pending: Mutex<Pending>,
    rows: RwLock<Option<Materialized>>,
    /// Set once its rows did not fit in the memory maintained views may
    /// hold: from then on it is computed from its SQL on each read.
    released: AtomicBool,
    built_at: Mutex<Option<Instant>>,
    /// One refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
    counts: Mutex<Counts>,
}

/// What a maintained view has done, for [`MaintainedStatus`].
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    builds: u64,
    updates: u64,
    /// The last refresh's duration, and of it the time spent planning, in
    /// milliseconds.
    last_ms: f64,
    plan_ms: f64,
}

/// Keeps the view `name`, just created on `ctx`, materialized by the key
/// columns `key`, rebuilt whole every `ages` if it ages with the report
/// clock. On a session that does not maintain views (a restricted
/// reader's, or one built outside an engine), the view stays as it is.
pub async fn maintain_view(
    ctx: &SessionContext,
    name: &str,
    key: &[&str],
    ages: Option<Duration>,
) -> Result<()> {
    let Some(maintained) = ctx.state().config().get_extension::<Maintained>() else {
        return Ok(());
    };
    let provider = ctx
        .table_provider(name)
        .await
        .map_err(|e| DataFusionError::Plan(format!("maintained view {name}: {e}")))?;
    let Some(view) = provider.downcast_ref::<ViewTable>() else {
        return Err(DataFusionError::Plan(format!(
            "maintained view {name}: not a view"
        )));
    };
    let schema = view.schema();
    for k in key {
        if schema.field_with_name(k).is_err() {
            return Err(DataFusionError::Plan(format!(
                "maintained view {name}: its key column {k} is not one of its columns"
            )));
        }
    }
    let mut inputs = HashSet::new();
    let mut depends_on = Vec::new();
    read_by(view.logical_plan(), &mut inputs, &mut depends_on)?;
    let mut inputs: Vec<String> = inputs.into_iter().collect();
    inputs.sort();
    let state = Arc::new(MaintainedView {
        name: name.to_string(),
        key: key.iter().map(|k| k.to_string()).collect(),
        ages,
        view: Arc::new(ViewTable::new(
            view.logical_plan().clone(),
            view.definition().cloned(),
        )),
        schema,
        inputs,
        depends_on,
        pending: Mutex::new(Pending::Whole),
        rows: RwLock::new(None),
        released: AtomicBool::new(false),
        built_at: Mutex::new(None),
        refreshing: tokio::sync::Mutex::new(()),
        counts: Mutex::new(Counts::default()),
    });
    lock(&maintained.views).push(state.clone());
    ctx.deregister_table(name)?;
    ctx.register_table(
        name,
        Arc::new(MaintainedTable::new(state, Arc::downgrade(&maintained))),
    )?;
    Ok(())
}

/// The base tables `plan` reads and the maintained views it reads, through
/// views and subqueries.
fn read_by(
    plan: &LogicalPlan,
    inputs: &mut HashSet<String>,
    depends_on: &mut Vec<Arc<MaintainedView>>,
) -> Result<()> {
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let provider = source_as_provider(&scan.source)?;
            if let Some(view) = provider.downcast_ref::<ViewTable>() {
                read_by(view.logical_plan(), inputs, depends_on)?;
            } else if let Some(table) = provider.downcast_ref::<MaintainedTable>() {
                let view = table.view();
                inputs.extend(view.inputs.iter().cloned());
                if !depends_on.iter().any(|d| Arc::ptr_eq(d, view)) {
                    depends_on.push(view.clone());
                }
            } else {
                inputs.insert(scan.table_name.table().to_string());
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl Maintained {
    /// Sets the engine whose views these are, once, when it opens.
    pub(crate) fn attach(&self, engine: Weak<Engine>) {
        let _ = self.engine.set(engine);
    }

    /// The engine, unless it has been dropped.
    pub(crate) fn engine(&self) -> Result<Arc<Engine>> {
        self.engine
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| DataFusionError::Execution("the engine has been closed".into()))
    }

    /// Wakes the refresher: called after every commit.
    pub(crate) fn committed(&self) {
        self.commits.notify_one();
    }

    /// Rebuilds every view whole at its next refresh, each input table's
    /// watermark moved to its rows now: after rows were rewritten in place
    /// (an erasure), which no change follows.
    pub(crate) fn rebuild_all(&self, engine: &Engine) {
        let mut mark = lock(&self.watermark);
        for (&name, input) in &engine.inputs {
            let rows = input.read().unwrap_or_else(|e| e.into_inner()).rows();
            mark.tables.insert(name, rows);
        }
        for view in self.views() {
            *lock(&view.pending) = Pending::Whole;
        }
        drop(mark);
        self.committed();
    }

    fn views(&self) -> Vec<Arc<MaintainedView>> {
        lock(&self.views).clone()
    }

    /// Bytes held by every view's rows.
    fn held(&self) -> usize {
        self.views().iter().map(|v| v.memory()).sum()
    }

    /// Hands the changes committed since the last call to every view.
    fn collect(&self, engine: &Engine) -> Result<()> {
        let mut mark = lock(&self.watermark);
        let count = engine.changes.load(Ordering::SeqCst);
        if mark.started && count == self.collected.load(Ordering::SeqCst) {
            return Ok(());
        }
        let orders = engine
            .order_changes
            .take_for_views(&engine.read())
            .map_err(external)?;
        let mut tables = HashMap::new();
        for (&name, input) in &engine.inputs {
            let seen = mark.tables.entry(name).or_default();
            let rows = input
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .rows_since(seen);
            if !rows.is_empty() {
                tables.insert(name, rows);
            }
        }
        // Views start pending a whole build; the first collection only
        // sets the watermark.
        if mark.started {
            for view in self.views() {
                view.note(&orders, &tables)?;
            }
        }
        mark.started = true;
        self.collected.store(count, Ordering::SeqCst);
        Ok(())
    }

    /// Brings every view up to date, and rebuilds those whose age is due.
    /// A view that fails does not hold up the others; the first error is
    /// returned.
    pub(crate) async fn refresh(&self, engine: &Arc<Engine>, ageing: bool) -> Result<()> {
        let mut first_error = None;
        for view in self.views() {
            if ageing
                && let Some(every) = view.ages
                && lock(&view.built_at).is_some_and(|at| at.elapsed() >= every)
            {
                *lock(&view.pending) = Pending::Whole;
            }
            if let Err(e) = view.bring_up_to_date(engine, self).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub(crate) fn status(&self) -> Vec<MaintainedStatus> {
        self.views()
            .iter()
            .map(|v| {
                let rows = v.rows.read().unwrap_or_else(|e| e.into_inner());
                let counts = *lock(&v.counts);
                MaintainedStatus {
                    name: v.name.clone(),
                    key: v.key.clone(),
                    view: true,
                    rows: rows.as_ref().map(Materialized::rows),
                    bytes: rows.as_ref().map_or(0, Materialized::memory),
                    released: v.is_released(),
                    builds: counts.builds,
                    updates: counts.updates,
                    last_refresh_ms: counts.last_ms,
                    last_plan_ms: counts.plan_ms,
                }
            })
            .collect()
    }
}

impl MaintainedView {
    /// Records what the orders' changes and the input tables' new `tables`
    /// rows touch.
    fn note(
        &self,
        orders: &OrderChanges,
        tables: &HashMap<&'static str, Vec<RecordBatch>>,
    ) -> Result<()> {
        let mut pending = lock(&self.pending);
        if matches!(*pending, Pending::Whole) || self.is_released() {
            return Ok(());
        }
        let mut touched = Vec::new();
        let mut whole = false;
        for input in &self.inputs {
            let name = input.as_str();
            let changed: &[RecordBatch] = if ORDER_TABLES.contains(&name) {
                orders.orders.as_slice()
            } else if name == "order_identifiers" {
                orders.identifiers.as_slice()
            } else if FOLLOWS_ORDERS.contains(&name) {
                // Changes with the orders, but not by any key of theirs.
                whole |= orders.orders.is_some();
                &[]
            } else {
                tables.get(name).map(Vec::as_slice).unwrap_or_default()
            };
            for batch in changed {
                match self.keys_of(batch)? {
                    Some(keys) => touched.push(keys),
                    None => whole = true,
                }
            }
        }
        if whole {
            *pending = Pending::Whole;
        } else if !touched.is_empty() {
            match &mut *pending {
                Pending::Keys(keys) => keys.extend(touched),
                _ => *pending = Pending::Keys(touched),
            }
        }
        Ok(())
    }

    /// `batch`'s values of the key columns, as the view types them; `None`
    /// if it lacks one of them.
    fn keys_of(&self, batch: &RecordBatch) -> Result<Option<RecordBatch>> {
        let mut columns = Vec::with_capacity(self.key.len());
        let mut fields = Vec::with_capacity(self.key.len());
        for k in &self.key {
            let Ok(at) = batch.schema().index_of(k) else {
                return Ok(None);
            };
            let field = self.schema.field_with_name(k)?;
            columns.push(cast(batch.column(at), field.data_type())?);
            fields.push(field.clone());
        }
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
        Ok(Some(RecordBatch::try_new(schema, columns)?))
    }

    /// Applies the pending changes, after those of the views it reads.
    async fn bring_up_to_date(
        self: &Arc<Self>,
        engine: &Arc<Engine>,
        maintained: &Maintained,
    ) -> Result<()> {
        maintained.collect(engine)?;
        for view in &self.depends_on {
            Box::pin(view.bring_up_to_date(engine, maintained)).await?;
        }
        let _one = self.refreshing.lock().await;
        if self.is_released() {
            return Ok(());
        }
        let pending = std::mem::take(&mut *lock(&self.pending));
        let cap = engine.config().limits.maintained_memory_mib << 20;
        // What a whole build may hold: past it, building on would only take
        // memory for rows that cannot be kept.
        let others = maintained.held().saturating_sub(self.memory());
        let room = cap.saturating_sub(others);
        let started = Instant::now();
        let (done, how) = match pending {
            Pending::Nothing => return Ok(()),
            Pending::Whole => (self.build(engine, room).await, "whole"),
            Pending::Keys(keys) => (self.update(engine, keys, room).await, "by key"),
        };
        let done = done.map(|fits| {
            if !fits {
                self.release(others, cap);
            }
        });
        if let Err(e) = done {
            // Nothing is lost: the next read or refresh builds it whole.
            *lock(&self.pending) = Pending::Whole;
            return Err(e);
        }
        let held = maintained.held();
        if held > cap {
            self.release(held, cap);
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let plan_ms = {
            let mut counts = lock(&self.counts);
            counts.last_ms = ms;
            counts.plan_ms
        };
        metrics::histogram!("ordergraph_view_refresh_seconds", "view" => self.name.clone(), "how" => how)
            .record(started.elapsed());
        tracing::debug!(view = %self.name, how, ms, plan_ms, "maintained view refreshed");
        Ok(())
    }

    /// The view's rows computed by its SQL, from the rows of the touched
    /// keys alone when `restriction` is given; `None` as soon as they take
    /// more than `room` bytes.
    async fn compute(
        &self,
        engine: &Arc<Engine>,
        restriction: Option<Restriction>,
        room: usize,
    ) -> Result<Option<Vec<RecordBatch>>> {
        let mut state = engine.session().map_err(external)?.state();
        if let Some(restriction) = restriction {
            state.config_mut().set_extension(Arc::new(restriction));
        }
        let planning = Instant::now();
        let plan = self.view.scan(&state, None, &[], None).await?;
        lock(&self.counts).plan_ms = planning.elapsed().as_secs_f64() * 1e3;
        let mut stream = execute_stream(plan, state.task_ctx())?;
        let (mut rows, mut bytes) = (Vec::new(), 0usize);
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            bytes += batch.get_array_memory_size();
            if bytes > room {
                return Ok(None);
            }
            rows.push(batch);
        }
        Ok(Some(rows))
    }

    fn key_rows(&self) -> Result<KeyRows> {
        let columns = self
            .key
            .iter()
            .map(|k| self.schema.index_of(k))
            .collect::<std::result::Result<_, _>>()?;
        KeyRows::new(&self.schema, columns)
    }

    /// Builds the rows whole; false if they take more than `room` bytes.
    async fn build(&self, engine: &Arc<Engine>, room: usize) -> Result<bool> {
        if room == 0 {
            return Ok(false);
        }
        let Some(rows) = self.compute(engine, None, room).await? else {
            return Ok(false);
        };
        let built = Materialized::new(self.schema.clone(), self.key_rows()?, &rows)?;
        *self.rows.write().unwrap_or_else(|e| e.into_inner()) = Some(built);
        *lock(&self.built_at) = Some(Instant::now());
        lock(&self.counts).builds += 1;
        Ok(true)
    }

    /// Replaces the rows of the touched `keys`, or builds the rows whole
    /// where keys cannot find them (false if they take more than `room`).
    async fn update(
        &self,
        engine: &Arc<Engine>,
        keys: Vec<RecordBatch>,
        room: usize,
    ) -> Result<bool> {
        let Some(first) = keys.first() else {
            return Ok(true);
        };
        let keys = concat_batches(&first.schema(), &keys)?;
        let built = self
            .rows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if !built {
            return self.build(engine, room).await;
        }
        // A NULL key matches no row by key: only a whole build finds its rows.
        if keys.columns().iter().any(|c| c.null_count() > 0) {
            return self.build(engine, room).await;
        }
        let key_rows = self.key_rows()?;
        let touched = KeyRows::set(&key_rows.keys(keys.columns())?);
        // Unbounded: never `None`. What the rows hold is checked after.
        let fresh = self
            .compute(engine, Some(Restriction::new(keys)), usize::MAX)
            .await?
            .unwrap_or_default();
        let fresh = fresh
            .iter()
            .map(|b| key_rows.only(&touched, b))
            .collect::<Result<Vec<_>>>()?;
        if let Some(rows) = self
            .rows
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            rows.replace(&touched, &fresh)?;
        }
        lock(&self.counts).updates += 1;
        Ok(true)
    }

    /// The current rows of one key, given as a value per key column; `None`
    /// until the view is built.
    fn lookup(&self, key: &[&str]) -> Result<Option<Vec<RecordBatch>>> {
        let columns = self
            .key
            .iter()
            .zip(key)
            .map(|(k, v)| {
                let value = datafusion::arrow::array::StringArray::from(vec![*v]);
                let field = self.schema.field_with_name(k)?;
                Ok(cast(&value, field.data_type())?)
            })
            .collect::<Result<Vec<_>>>()?;
        self.lookup_keys(&columns)
    }

    /// The current rows of the keys given as key columns; `None` until the
    /// view is built.
    fn lookup_keys(
        &self,
        keys: &[datafusion::arrow::array::ArrayRef],
    ) -> Result<Option<Vec<RecordBatch>>> {
        self.rows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|rows| rows.lookup(keys))
            .transpose()
    }

    fn is_released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }

    /// Bytes held by its rows and their key index.
    fn memory(&self) -> usize {
        self.rows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, Materialized::memory)
    }

    /// Drops its rows for good, `held` bytes being held by the views (its
    /// own included, if any), at or over the `cap`: reads compute it from
    /// its SQL from now on.
    fn release(&self, held: usize, cap: usize) {
        let own = self.memory();
        self.released.store(true, Ordering::Release);
        *self.rows.write().unwrap_or_else(|e| e.into_inner()) = None;
        *lock(&self.pending) = Pending::Nothing;
        tracing::warn!(
            view = %self.name,
            own_mib = own >> 20,
            held_mib = held >> 20,
            cap_mib = cap >> 20,
            "a maintained view does not fit in [limits] maintained_memory_mib: \
             it is computed from its SQL on each read from now on"
        );
    }

    fn snapshot(&self) -> Option<Arc<Vec<RecordBatch>>> {
        self.rows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(Materialized::snapshot)
    }
}

impl Engine {
    /// Applies every change committed so far to every maintained view (the
    /// background refresher also rebuilds those whose age is due).
    pub async fn refresh_views(self: &Arc<Self>) -> crate::Result<()> {
        Ok(self.maintained.refresh(self, false).await?)
    }

    /// Keeps the maintained views up to date in the background, on the
    /// current Tokio runtime: after a commit, at most once every `pause`,
    /// and every `pause` for views that age. Stops when the engine is
    /// dropped.
    pub fn spawn_view_refresher(self: &Arc<Self>, pause: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(engine) = weak.upgrade() else { return };
                let maintained = engine.maintained.clone();
                drop(engine);
                let _ = tokio::time::timeout(pause, maintained.commits.notified()).await;
                let Some(engine) = weak.upgrade() else { return };
                if let Err(e) = maintained.refresh(&engine, true).await {
                    tracing::warn!(error = %e, "refreshing maintained views");
                }
                drop(engine);
                tokio::time::sleep(pause).await;
            }
        });
    }

    /// Every maintained view, and the identity tables kept from the graph
    /// (`order_identifiers`, `shared_identifiers`): rows, memory, refreshes.
    pub fn maintained_views(&self) -> Vec<MaintainedStatus> {
        let mut status = self.maintained.status();
        status.extend(self.order_changes.status());
        status
    }
}
