//! The ordergraph engine: durable order storage, ingestion, the identity
//! graph, and the one function that builds a DataFusion session over them
//! ([`Engine::session`]).
//!
//! Tables every session has: `orders` (the current version of each order
//! with its `mcid`), `order_versions`, `order_identifiers`,
//! `shared_identifiers` and `mcid_aliases`, plus the identity UDFs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

mod append;
mod checkpoint;
mod codec;
mod config;
pub mod decode;
mod evidence;
pub mod huge_pages;
pub mod identity;
mod key_index;
mod log;
mod mask;
mod memory;
mod normalizer;
mod parallel;
mod provider;
mod refund;
mod report;
pub mod source;
pub mod store;
pub mod table;

pub use config::{
    CONFIG_FILE, EngineConfig, FlightSettings, IdentitySettings, Limits, PostgresSettings,
    QueryLimits, Role, RoleLimits, SourceSettings, StorageSettings, User,
};
pub use decode::{DecodeError, Format};
pub use memory::{QUERY_CAP_EXCEEDED, QueryPool, cap_query_memory};
/// The UDF crate, for the MCID helpers (`mcid_of`, `parse_mcid`).
pub use ordergraph_udfs as udfs;
pub use refund::{RefundNode, RefundTemplate, TEMPLATE_FILE};
pub use report::ReportSettings;
pub use store::IngestReport;

use append::AppendTable;
use provider::{Rows, SnapshotTable};
use store::OrderStore;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a table's contract: the caller's mistake.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Ingest into a table that does not exist.
    #[error("unknown table '{0}'; ingestible tables: {tables}", tables = table::tables().iter().map(|t| t.name).collect::<Vec<_>>().join(", "))]
    UnknownTable(String),
    /// A file whose format cannot be told from its name.
    #[error("cannot tell the format of {0}: use a .csv, .ndjson/.jsonl or .parquet extension")]
    UnknownFormat(PathBuf),
    /// Planning or running a query.
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    /// Building Arrow data.
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// Reading or writing a file.
    #[error("i/o on {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A stored file that cannot be read back.
    #[error("stored file {path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A configuration file that cannot be used.
    #[error("configuration {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &Path, e: impl std::fmt::Display) -> Self {
        Error::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }

    /// Whether the error is the caller's mistake (bad input, bad SQL), as
    /// opposed to a failure of the engine.
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::Decode(_) | Error::UnknownTable(_) | Error::UnknownFormat(_) => true,
            Error::DataFusion(e) => is_user_datafusion_error(e),
            _ => false,
        }
    }
}

/// Plan, SQL and schema errors come from the query text; the rest from running it.
pub fn is_user_datafusion_error(e: &DataFusionError) -> bool {
    match e.find_root() {
        DataFusionError::Plan(_)
        | DataFusionError::SQL(..)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Execution(_) => true,
        DataFusionError::Context(_, inner) => is_user_datafusion_error(inner),
        // Values the query itself makes invalid: `CAST('abc' AS INT)`, `1/0`.
        DataFusionError::ArrowError(e, _) => {
            use datafusion::arrow::error::ArrowError as A;
            matches!(
                e.as_ref(),
                A::CastError(_)
                    | A::ParseError(_)
                    | A::DivideByZero
                    | A::ArithmeticOverflow(_)
                    | A::InvalidArgumentError(_)
                    | A::ComputeError(_)
            )
        }
        _ => false,
    }
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Called on every new session, e.g. to register the SQL views.
pub type SessionHook = Arc<dyn Fn(&SessionContext) -> datafusion::error::Result<()> + Send + Sync>;

/// Cached derived tables, valid for one generation of the data.
type DerivedCache = Mutex<HashMap<&'static str, (u64, Arc<Vec<RecordBatch>>)>>;

/// The engine: one per data directory.
pub struct Engine {
    /// Held while the engine is open: one process per data directory.
    _lock: std::fs::File,
    dir: PathBuf,
    config: EngineConfig,
    refund_template: RefundTemplate,
    /// Shared by every session, so the memory limit bounds all queries
    /// together.
    runtime: Arc<RuntimeEnv>,
    /// What every session starts from; set once at open.
    base: OnceLock<SessionState>,
    /// The same, with contact details masked (see [`mask`]).
    restricted_base: OnceLock<SessionState>,
    store: RwLock<OrderStore>,
    /// The append-only input tables, by name.
    inputs: HashMap<&'static str, RwLock<AppendTable>>,
    /// Serializes writers, so an ingest is checked and applied against one state.
    ingest: Mutex<()>,
    /// Serializes checkpoints.
    checkpointing: Mutex<()>,
    /// Orders requests waiting to be committed together.
    commit_queue: Mutex<Vec<QueuedOrders>>,
    generation: AtomicU64,
    derived: DerivedCache,
    hooks: Vec<SessionHook>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// An orders request waiting for the group commit, and where to answer.
struct QueuedOrders {
    input: RecordBatch,
    reply: std::sync::mpsc::Sender<Result<IngestReport>>,
}

/// The `orders` input contract's schema, built once.
static ORDERS_SCHEMA: std::sync::LazyLock<SchemaRef> =
    std::sync::LazyLock::new(|| table::ORDERS.schema());

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

/// Takes the data directory's lock, so that two processes never write one
/// log. The operating system releases it when the process dies.
fn lock_data_dir(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Config {
            path,
            reason: "the data directory is in use by another ordergraph process".into(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

/// A fingerprint of everything the identity state depends on, the
/// resolution rules' version among it: a checkpoint made under another
/// identity configuration or other rules is resolved again on load.
fn identity_fingerprint(config: &EngineConfig) -> String {
    let rules = format!("rules {} {:?}", identity::RULES_VERSION, config.identity);
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(rules.as_bytes()))
}

/// The order store's part of a loaded checkpoint.
fn store_checkpoint(
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

/// The statements a query may be: no DDL, DML or `SET`.
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

impl Engine {
    /// Opens (or creates) the engine in `dir`, replaying stored data.
    pub fn open(dir: impl AsRef<Path>, hooks: Vec<SessionHook>) -> Result<Arc<Engine>> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let lock = lock_data_dir(&dir)?;
        let config = EngineConfig::load(&dir)?;
        let refund_template = RefundTemplate::load(&dir)?;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(config.limits.memory_limit_mib << 20, 1.0)
            .build_arc()?;
        let loaded = checkpoint::open(&dir)?;
        let store = OrderStore::open_from(
            &dir,
            config.identity_config(),
            loaded
                .as_ref()
                .map(|c| store_checkpoint(c, &config))
                .transpose()?,
        )?;
        let mut inputs = HashMap::new();
        for def in table::tables()
            .into_iter()
            .filter(|t| t.name != table::ORDERS.name)
            .chain(table::recorded_tables())
        {
            // A table added after the checkpoint was written (an upgrade)
            // has no rows in it: it starts from its log alone.
            let rows = match &loaded {
                Some(c) => match c.manifest.logs.get(def.name) {
                    Some(&seq) => Some((seq, c.rows(def.name, &append::stored_schema(def))?)),
                    None => None,
                },
                None => None,
            };
            inputs.insert(def.name, RwLock::new(AppendTable::open(&dir, def, rows)?));
        }
        let engine = Arc::new(Engine {
            _lock: lock,
            dir,
            config,
            refund_template,
            runtime,
            base: OnceLock::new(),
            restricted_base: OnceLock::new(),
            store: RwLock::new(store),
            inputs,
            ingest: Mutex::new(()),
            checkpointing: Mutex::new(()),
            commit_queue: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            derived: Mutex::new(HashMap::new()),
            hooks,
        });
        // Plan every table and view once, here, so a template condition
        // naming an unknown column, or a broken view, stops start-up with
        // its cause, and queries do not plan views again.
        let base = engine.base_state(false)?;
        let _ = engine.base.set(base);
        let restricted = engine.base_state(true)?;
        let _ = engine.restricted_base.set(restricted);
        Ok(engine)
    }

    /// Writes a checkpoint from the live state: every table as Parquet plus
    /// the resolved identity state, then removes the log files it covers.
    /// Ingest waits while the order index and graph are encoded (0.5 s at
    /// 2.4M orders, the "ingest paused" of
    /// `cargo bench --workspace --bench resolve`); queries never
    /// wait. For when writers are idle (the end of a load, a shutdown);
    /// [`Engine::compact`] never stops them.
    pub fn checkpoint(&self) -> Result<CheckpointReport> {
        let _one = self.checkpointing.lock().unwrap_or_else(|e| e.into_inner());
        let started = std::time::Instant::now();
        let (orders, inputs) = {
            let _writers = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
            (self.read().checkpoint()?, self.input_rows())
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
        let started = std::time::Instant::now();
        let through = self.read().last_log_seq();
        let inputs = self.input_rows();
        let previous = checkpoint::open(&self.dir)?
            .map(|c| store_checkpoint(&c, &self.config))
            .transpose()?;
        let orders =
            OrderStore::rebuild(&self.dir, self.config.identity_config(), previous, through)?
                .checkpoint()?;
        self.write_checkpoint(started, 0, orders, inputs)
    }

    /// Every append table's rows with the last log file they include.
    fn input_rows(&self) -> Vec<(&'static str, u64, Vec<RecordBatch>)> {
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
    fn write_checkpoint(
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

    /// The refund lifecycle template in use.
    pub fn refund_template(&self) -> &RefundTemplate {
        &self.refund_template
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration in use.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, OrderStore> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of orders stored.
    pub fn order_count(&self) -> usize {
        self.read().len()
    }

    /// Number of customers (live MCIDs).
    pub fn customer_count(&self) -> usize {
        self.read().graph().customers()
    }

    /// The MCID of an order's customer now; `None` if there is no such order.
    pub fn order_mcid(&self, channel: &str, order_id: &str) -> Option<String> {
        self.read().order_mcid(channel, order_id)
    }

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
        if table::table(table).is_none() {
            return Err(Error::UnknownTable(table.to_string()));
        }
        match self.inputs.get(table) {
            Some(input) => self.append(input, batches),
            None => self.ingest_orders(batches),
        }
    }

    /// Records the outcome of an API action (a write-back acknowledgement,
    /// a sync command) in one of [`table::recorded_tables`]: NDJSON rows,
    /// durable when this returns. A row identical to a stored one is a
    /// repeat and changes nothing.
    pub fn record(&self, table: &str, ndjson: Bytes) -> Result<IngestReport> {
        let def = table::recorded_tables()
            .into_iter()
            .find(|t| t.name == table)
            .ok_or_else(|| Error::UnknownTable(table.to_string()))?;
        let batches = decode::decode(def, Format::Ndjson, "request", ndjson)?;
        self.append(&self.inputs[def.name], batches)
    }

    /// Checks, logs and applies rows of an append-only table.
    fn append(
        &self,
        input: &RwLock<AppendTable>,
        batches: Vec<RecordBatch>,
    ) -> Result<IngestReport> {
        let _writer = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
        let arrived_at = chrono::Utc::now().timestamp_micros();
        let prepared = {
            let rows = input.read().unwrap_or_else(|e| e.into_inner());
            let prepared = rows.prepare(batches, arrived_at)?;
            rows.log(&prepared)?;
            prepared
        };
        let report = prepared.report;
        input
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(prepared);
        // Input tables are read live; the derived-table caches (and so
        // `generation`) depend on orders only.
        Ok(report)
    }

    /// Group commit: a request joins the queue, then waits for the writer
    /// lock. Whoever gets it first commits every request queued by then as
    /// one log write, one fsync and one graph update, and answers each with
    /// its own report; the others find their answer waiting. Under
    /// concurrent load this turns many small writes into a few larger ones.
    fn ingest_orders(&self, batches: Vec<RecordBatch>) -> Result<IngestReport> {
        // A request that cannot be combined fails alone, before queueing.
        let input = concat_batches(&ORDERS_SCHEMA, &batches)?;
        let (reply, answer) = std::sync::mpsc::channel();
        self.commit_queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(QueuedOrders { input, reply });
        let _writer = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(done) = answer.try_recv() {
            return done;
        }
        let group =
            std::mem::take(&mut *self.commit_queue.lock().unwrap_or_else(|e| e.into_inner()));
        self.commit_orders(group);
        answer
            .recv()
            .expect("a request queued before the lock was taken is in the group")
    }

    /// Commits queued requests together; on a failure each is committed
    /// alone, so each gets its own answer.
    fn commit_orders(&self, group: Vec<QueuedOrders>) {
        let inputs: Vec<RecordBatch> = group.iter().map(|q| q.input.clone()).collect();
        match self.commit_orders_once(inputs) {
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
                        .commit_orders_once(vec![q.input])
                        .map(|(report, _)| report);
                    let _ = q.reply.send(report);
                }
            }
            Err(e) => {
                for q in group {
                    let _ = q.reply.send(Err(Error::Io {
                        path: self.dir.clone(),
                        source: std::io::Error::other(e.to_string()),
                    }));
                }
            }
        }
    }

    /// Checks, logs and applies one write of orders. Check and log run
    /// under the read lock, so queries go on during the fsync; only the
    /// in-memory apply takes the write lock. The caller holds `ingest`, so
    /// the state cannot change in between.
    fn commit_orders_once(
        &self,
        inputs: Vec<RecordBatch>,
    ) -> Result<(IngestReport, store::RowReports)> {
        let arrived_at = chrono::Utc::now().timestamp_micros();
        let mut prepared = {
            let store = self.read();
            let prepared = store.prepare(inputs, arrived_at)?;
            store.log(&prepared)?;
            prepared
        };
        let (report, rows) = (prepared.report, prepared.take_row_reports());
        self.store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(prepared);
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok((report, rows))
    }

    /// A table derived from the store, rebuilt only when data changed.
    fn derived(
        &self,
        name: &'static str,
        build: fn(&OrderStore) -> Result<Vec<RecordBatch>>,
    ) -> datafusion::error::Result<Vec<RecordBatch>> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some((g, rows)) = self
            .derived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            && *g == generation
        {
            return Ok(rows.as_ref().clone());
        }
        let rows =
            Arc::new(build(&self.read()).map_err(|e| DataFusionError::External(Box::new(e)))?);
        self.derived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, (generation, rows.clone()));
        Ok(rows.as_ref().clone())
    }

    /// A new session with every table, UDF and view registered, reporting
    /// at the configured clock (`report.now`, else the wall clock).
    pub fn session(self: &Arc<Self>) -> Result<SessionContext> {
        self.session_at(None)
    }

    /// The report time a session uses: `now` if given, else `report.now`
    /// from the configuration, else the wall clock.
    pub fn report_now(&self, now: Option<i64>) -> i64 {
        now.or(self.config.report_now)
            .unwrap_or_else(|| chrono::Utc::now().timestamp_micros())
    }

    /// A new session whose views report as of `now` (microseconds since the
    /// epoch, UTC): for tests and back-dated reports. Sessions share the
    /// tables and views planned once at open; only the clock is their own.
    pub fn session_at(self: &Arc<Self>, now: Option<i64>) -> Result<SessionContext> {
        self.session_as(now, false)
    }

    /// [`Engine::session_at`] for a reader who may or may not see contact
    /// details: with `restricted`, every phone and email is masked
    /// (`138****5678`, `z***@qq.com`) in every table and view.
    pub fn session_as(
        self: &Arc<Self>,
        now: Option<i64>,
        restricted: bool,
    ) -> Result<SessionContext> {
        let base = if restricted {
            &self.restricted_base
        } else {
            &self.base
        };
        let base = base
            .get()
            .expect("the base sessions are built at open")
            .clone();
        // Its own pool in front of the shared one, for a per-query cap.
        let mut state = memory::with_own_pool(base, &self.runtime)?;
        state
            .config_mut()
            .set_extension(Arc::new(report::ReportClock(self.report_now(now))));
        Ok(SessionContext::new_with_state(state))
    }

    /// `state` with a memory pool of its own in front of the shared one, so
    /// that [`cap_query_memory`] can cap its queries: for a session that
    /// outlives one query (a Postgres connection's).
    pub fn with_own_memory(&self, state: SessionState) -> Result<SessionState> {
        Ok(memory::with_own_pool(state, &self.runtime)?)
    }

    /// Sets the report clock of a session that outlives one query (a
    /// Postgres connection): each statement then reports as of its own start.
    pub fn restamp_clock(&self, session: &SessionContext, now: Option<i64>) {
        session
            .state_ref()
            .write()
            .config_mut()
            .set_extension(Arc::new(report::ReportClock(self.report_now(now))));
    }

    /// The session state every query starts from: UDFs, tables and views.
    /// Tables hold the engine weakly, so the engine can be dropped.
    /// With `restricted`, phone and email columns come out masked.
    fn base_state(self: &Arc<Self>, restricted: bool) -> Result<SessionState> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(self.config.target_partitions)
            .with_default_catalog_and_schema("ordergraph", "public");
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .build();
        let ctx = SessionContext::new_with_state(state);
        for udf in ordergraph_udfs::all() {
            ctx.register_udf(udf.as_ref().clone());
        }
        let shown = |name: &str, table: Arc<dyn datafusion::catalog::TableProvider>| {
            if restricted {
                mask::restricted(name, table)
            } else {
                Ok(table)
            }
        };
        let weak = Arc::downgrade(self);
        let rows = |read: fn(&Engine) -> datafusion::error::Result<Vec<RecordBatch>>| -> Rows {
            let weak = weak.clone();
            Arc::new(move |_| {
                let engine = weak.upgrade().ok_or_else(|| {
                    DataFusionError::Execution("the engine has been closed".into())
                })?;
                read(&engine)
            })
        };
        let tables: [(&str, SchemaRef, Rows); 5] = [
            (
                "orders",
                store::orders_schema(),
                rows(|e| {
                    e.read()
                        .current_batches()
                        .map_err(|e| DataFusionError::External(Box::new(e)))
                }),
            ),
            (
                "order_versions",
                store::versions_schema(),
                rows(|e| Ok(e.read().version_batches())),
            ),
            (
                "order_identifiers",
                evidence::order_identifiers_schema(),
                rows(|e| e.derived("order_identifiers", evidence::order_identifiers)),
            ),
            (
                "shared_identifiers",
                evidence::shared_identifiers_schema(),
                rows(|e| e.derived("shared_identifiers", evidence::shared_identifiers)),
            ),
            (
                "mcid_aliases",
                evidence::mcid_aliases_schema(),
                rows(|e| e.derived("mcid_aliases", evidence::mcid_aliases)),
            ),
        ];
        for (name, schema, rows) in tables {
            let mut table = SnapshotTable::new(schema, rows);
            if name == "orders" {
                let weak = weak.clone();
                table = table.with_key_lookup(Arc::new(move |channel, order_id| {
                    let engine = weak.upgrade().ok_or_else(|| {
                        DataFusionError::Execution("the engine has been closed".into())
                    })?;
                    let rows = engine.read().current_row(channel, order_id);
                    rows.map_err(|e| DataFusionError::External(Box::new(e)))
                }));
            }
            ctx.register_table(name, shown(name, Arc::new(table))?)?;
        }
        // The one row of thresholds, at the clock of the scanning session.
        let settings = self.config.report.clone();
        let default_now = self.config.report_now;
        let report_rows: Rows = Arc::new(move |session| {
            let now = session
                .config()
                .get_extension::<report::ReportClock>()
                .map(|c| c.0)
                .or(default_now)
                .unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
            Ok(vec![report::report_config_row(&settings, now)?])
        });
        ctx.register_table(
            "report_config",
            Arc::new(SnapshotTable::new(
                report::report_config_schema(),
                report_rows,
            )),
        )?;
        for &name in self.inputs.keys() {
            let weak = weak.clone();
            let schema =
                append::stored_schema(table::stored_table(name).expect("inputs are tables"));
            let rows: Rows = Arc::new(move |_| {
                let engine = weak.upgrade().ok_or_else(|| {
                    DataFusionError::Execution("the engine has been closed".into())
                })?;
                Ok(engine.inputs[name]
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .batches())
            });
            ctx.register_table(
                name,
                shown(name, Arc::new(SnapshotTable::new(schema, rows)))?,
            )?;
        }
        let template = refund::refund_nodes_batch(&self.refund_template)?;
        let template_rows: Rows = Arc::new(move |_| Ok(vec![template.clone()]));
        ctx.register_table(
            "refund_nodes",
            Arc::new(SnapshotTable::new(
                refund::refund_nodes_schema(),
                template_rows,
            )),
        )?;
        futures::executor::block_on(ctx.sql(&self.refund_template.paths_view_sql())).map_err(
            |e| Error::Config {
                path: self.dir.join(TEMPLATE_FILE),
                reason: e.to_string(),
            },
        )?;
        for hook in &self.hooks {
            hook(&ctx)?;
        }
        Ok(ctx.state())
    }

    /// Plans a read-only query: DDL, DML and `SET` are refused.
    pub async fn query(self: &Arc<Self>, sql: &str) -> Result<DataFrame> {
        self.query_at(sql, None).await
    }

    /// [`Engine::query`] with views reporting as of `now`.
    pub async fn query_at(self: &Arc<Self>, sql: &str, now: Option<i64>) -> Result<DataFrame> {
        self.query_as(sql, now, false, None).await
    }

    /// [`Engine::query_at`] in a restricted session if `restricted` (see
    /// [`Engine::session_as`]), holding at most `memory_cap` bytes of the
    /// shared pool (see [`cap_query_memory`]).
    pub async fn query_as(
        self: &Arc<Self>,
        sql: &str,
        now: Option<i64>,
        restricted: bool,
        memory_cap: Option<usize>,
    ) -> Result<DataFrame> {
        let ctx = self.session_as(now, restricted)?;
        cap_query_memory(&ctx, memory_cap);
        Ok(ctx.sql_with_options(sql, read_only()).await?)
    }
}

#[cfg(test)]
mod tests;
