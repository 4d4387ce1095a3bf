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
mod changes;
mod checkpoint;
mod checkpointing;
mod codec;
mod config;
mod corrections;
pub mod decode;
mod erasure;
mod error;
mod evidence;
pub mod huge_pages;
pub mod identity;
mod ingest;
mod key_index;
mod log;
mod maintained;
mod mask;
mod memory;
mod normalizer;
mod parallel;
pub mod positions;
mod provider;
mod refund;
mod report;
mod session;
pub mod source;
pub mod store;

pub use checkpointing::CheckpointReport;
pub use config::{
    CONFIG_FILE, EngineConfig, IdentitySettings, Limits, QueryLimits, RetentionSettings, Role,
    RoleLimits, SourceSettings, StorageSettings, read_config,
};
pub use corrections::{Corrected, CorrectionNote, CorrectionRequest};
pub use decode::{DecodeError, Format};
pub use erasure::Erased;
pub use error::{Error, is_user_datafusion_error};
pub use maintained::{MaintainedStatus, maintain_view};
pub use memory::{QUERY_CAP_EXCEEDED, QueryPool, cap_query_memory};
/// The input table contracts.
pub use ordergraph_tables as table;
/// The UDF crate, for the MCID helpers (`mcid_of`, `parse_mcid`).
pub use ordergraph_udfs as udfs;
pub use positions::Positions;
pub use refund::{RefundNode, RefundTemplate, TEMPLATE_FILE};
pub use report::ReportSettings;
pub use session::{SessionOptions, read_only};
pub use store::IngestReport;

use append::AppendTable;
use checkpointing::store_checkpoint;
use provider::{Rows, SnapshotTable};
use store::OrderStore;

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
    /// Serializes corrections of identity, so each is checked against
    /// those in force.
    correcting: Mutex<()>,
    /// The keys of the orders erased (see [`erasure`]): their versions
    /// come in without personal information, however they are sent.
    erased_orders: RwLock<std::collections::HashSet<u64>>,
    /// Orders requests waiting to be committed together.
    commit_queue: Mutex<Vec<QueuedOrders>>,
    /// How far each source has been read (see [`positions`]).
    positions: Mutex<Positions>,
    generation: AtomicU64,
    /// Commits of any table so far, for the maintained views.
    changes: AtomicU64,
    maintained: Arc<maintained::Maintained>,
    /// What commits changed in orders and customers, `order_identifiers`
    /// kept by customer, and each customer's orders.
    order_changes: changes::Changes,
    /// `order_versions` by key, for maintained views' refreshes.
    version_indexes: Mutex<Vec<maintained::RowIndex>>,
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
    /// The source positions the rows carry.
    positions: Positions,
    reply: std::sync::mpsc::Sender<Result<IngestReport>>,
}

/// The `orders` input contract's schema, built once.
static ORDERS_SCHEMA: std::sync::LazyLock<SchemaRef> =
    std::sync::LazyLock::new(|| table::ORDERS.schema());

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
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::InUse(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

impl Engine {
    /// Opens (or creates) the engine in `dir`, replaying stored data, with
    /// the configuration in `dir`.
    pub fn open(dir: impl AsRef<Path>, hooks: Vec<SessionHook>) -> Result<Arc<Engine>> {
        let config = EngineConfig::load(dir.as_ref())?;
        Self::open_with(dir, hooks, config)
    }

    /// Opens (or creates) the engine in `dir` with `config`, as read by the
    /// program hosting it (see [`EngineConfig::parse`]).
    pub fn open_with(
        dir: impl AsRef<Path>,
        hooks: Vec<SessionHook>,
        config: EngineConfig,
    ) -> Result<Arc<Engine>> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let lock = lock_data_dir(&dir)?;
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
        let mut source_positions = positions::read(&dir)?;
        positions::advance(&mut source_positions, &store.log_handle().positions()?);
        for input in inputs.values() {
            let input = input.read().unwrap_or_else(|e| e.into_inner());
            positions::advance(&mut source_positions, &input.log_handle().positions()?);
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
            correcting: Mutex::new(()),
            erased_orders: RwLock::default(),
            commit_queue: Mutex::new(Vec::new()),
            positions: Mutex::new(source_positions),
            generation: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            maintained: Arc::default(),
            order_changes: changes::Changes::default(),
            version_indexes: Mutex::default(),
            derived: Mutex::new(HashMap::new()),
            hooks,
        });
        // Plan every table and view once, here, so a template condition
        // naming an unknown column, or a broken view, stops start-up with
        // its cause, and queries do not plan views again.
        engine.enforce_recorded()?;
        engine.finish_erasures()?;
        let base = engine.base_state(false)?;
        let _ = engine.base.set(base);
        let restricted = engine.base_state(true)?;
        let _ = engine.restricted_base.set(restricted);
        Ok(engine)
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

    /// Bytes the running queries hold of the shared memory pool.
    pub fn query_memory_reserved(&self) -> usize {
        self.runtime.memory_pool.reserved()
    }

    /// Number of customers (live MCIDs).
    pub fn customer_count(&self) -> usize {
        self.read().graph().customers()
    }

    /// The MCID of an order's customer now; `None` if there is no such order.
    pub fn order_mcid(&self, channel: &str, order_id: &str) -> Option<String> {
        self.read().order_mcid(channel, order_id)
    }
}
