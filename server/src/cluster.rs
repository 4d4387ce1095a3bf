//! The product's SQL on an Apache Ballista cluster (docs/cluster.md).
//!
//! The scheduler and the executors are Ballista's own, run by `ordergraph
//! scheduler` and `ordergraph executor` with ordergraph's functions in their
//! registries. A cluster session reads the tables of an export (`export
//! tables`: Delta Lake tables, through the files of their current version,
//! or Parquet files) and creates the views from the same view files as the
//! server, so a view on the cluster is the view the server computes, over
//! the data of that export.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use ballista::prelude::SessionContextExt;
use ballista_core::config::BALLISTA_ADAPTIVE_PLANNER_ENABLED;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::datasource::ViewTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{LogicalPlanBuilder, cast, lit};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::open_tables::{MANIFEST, Manifest, TableFormat};

/// The port a scheduler listens on unless told otherwise.
pub const SCHEDULER_PORT: u16 = 50050;

/// `state` with ordergraph's functions, `business_time` in `timezone`.
fn with_functions(mut state: SessionState, timezone: &str) -> Result<SessionState> {
    ordergraph_udfs::register(&mut state, timezone)?;
    Ok(state)
}

/// A session of a cluster process: Ballista's, with ordergraph's functions.
fn process_session(config: SessionConfig, timezone: &str) -> Result<SessionState> {
    with_functions(default_session_builder(config)?, timezone)
}

/// Runs a Ballista scheduler on `bind` until the process is stopped.
/// `external_host` is the name executors and clients reach it by.
pub async fn run_scheduler(bind: SocketAddr, external_host: String, timezone: &str) -> Result<()> {
    ordergraph_udfs::check_zone(timezone).map_err(|e| anyhow::anyhow!("--timezone: {e}"))?;
    let timezone = timezone.to_string();
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host,
        ..SchedulerConfig::default()
    }
    .with_override_session_builder(Arc::new(move |config| {
        process_session(config, &timezone)
            .map_err(|e| datafusion::error::DataFusionError::External(e.into()))
    }));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, bind, Arc::new(config)).await?;
    Ok(())
}

/// What `ordergraph executor` runs.
#[derive(Debug, Clone)]
pub struct ExecutorSpec {
    /// The scheduler, `HOST:PORT` or `df://HOST:PORT`.
    pub scheduler: String,
    /// The address the executor's two listeners bind to.
    pub bind: std::net::IpAddr,
    /// The name the scheduler and the other executors reach it by.
    pub external_host: Option<String>,
    /// Arrow Flight port, for the shuffle data other executors fetch.
    pub flight_port: u16,
    /// gRPC port, for the scheduler's calls.
    pub grpc_port: u16,
    /// Tasks run at once.
    pub slots: usize,
    /// Where shuffle files go (a temporary directory if not given).
    pub work_dir: Option<PathBuf>,
    /// The business time zone, as the scheduler's and the server's.
    pub timezone: String,
}

/// Runs a Ballista executor that registers with the scheduler, until the
/// process is stopped.
pub async fn run_executor(spec: ExecutorSpec) -> Result<()> {
    ordergraph_udfs::check_zone(&spec.timezone).map_err(|e| anyhow::anyhow!("--timezone: {e}"))?;
    let (scheduler_host, scheduler_port) = host_and_port(&spec.scheduler)?;
    let functions = process_session(SessionConfig::new_with_ballista(), &spec.timezone)?;
    let config = ExecutorProcessConfig {
        bind_host: spec.bind.to_string(),
        external_host: spec.external_host,
        port: spec.flight_port,
        grpc_port: spec.grpc_port,
        scheduler_host,
        scheduler_port,
        vcores: spec.slots,
        work_dir: spec.work_dir.map(|d| d.to_string_lossy().into_owned()),
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&functions))),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}

/// `HOST:PORT` of a scheduler given as `df://HOST:PORT`, `HOST:PORT` or
/// `HOST` (port 50050).
fn host_and_port(scheduler: &str) -> Result<(String, u16)> {
    let bare = scheduler.strip_prefix("df://").unwrap_or(scheduler);
    let bare = bare.trim_end_matches('/');
    match bare.rsplit_once(':') {
        Some((host, port)) => {
            let port = port
                .parse()
                .with_context(|| format!("scheduler {scheduler}: the port is not a number"))?;
            Ok((host.to_string(), port))
        }
        None if !bare.is_empty() => Ok((bare.to_string(), SCHEDULER_PORT)),
        None => bail!("scheduler: give HOST:PORT or df://HOST:PORT"),
    }
}

/// The manifest of the last export to `dir`.
fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "{} holds no export (no {MANIFEST}): write one with `ordergraph export tables --to {}`",
            dir.display(),
            dir.display()
        )
    })?;
    serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))
}

/// A session whose queries run on the cluster at `scheduler`, over the
/// tables exported to `dir`, with every view of the product.
pub async fn session(scheduler: &str, dir: &Path, timezone: &str) -> Result<SessionContext> {
    session_over(scheduler, dir, &read_manifest(dir)?, timezone).await
}

async fn session_over(
    scheduler: &str,
    dir: &Path,
    manifest: &Manifest,
    timezone: &str,
) -> Result<SessionContext> {
    let (host, port) = host_and_port(scheduler)?;
    let dir = std::fs::canonicalize(dir)?;

    // Ballista 55's adaptive planner leaves a job waiting for ever when it
    // would cancel a stage (`refund_escalations`: "there are stages to be
    // cancelled but its not implemented", then a task metrics size
    // mismatch), so jobs run with the static distributed planner.
    let mut config = SessionConfig::new_with_ballista()
        .with_information_schema(true)
        .set_bool(BALLISTA_ADAPTIVE_PLANNER_ENABLED, false);
    // As in the server's sessions (see `ordergraph_engine`'s session).
    config
        .options_mut()
        .execution
        .skip_physical_aggregate_schema_check = true;
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let remote = SessionContext::remote_with_state(&format!("df://{host}:{port}"), state).await?;
    // Ballista's client state replaces the function list with its own.
    let ctx = SessionContext::new_with_state(with_functions(remote.state(), timezone)?);

    let views: HashSet<&str> = ordergraph_queries::all_views().map(|v| v.name).collect();
    for table in manifest
        .tables
        .iter()
        .filter(|t| !views.contains(t.table.as_str()))
    {
        let provider = match manifest.format {
            TableFormat::Parquet => {
                let path = dir.join(&table.path);
                ctx.register_parquet(
                    &table.table,
                    path.to_string_lossy().as_ref(),
                    ParquetReadOptions::default(),
                )
                .await
                .with_context(|| format!("reading {}", path.display()))?;
                continue;
            }
            TableFormat::Delta => delta_files(&ctx, &dir.join(&table.path)).await?,
        };
        ctx.register_table(table.table.as_str(), provider)?;
    }
    // A view whose tables the export left out (`--tables`) is not created;
    // any other failure is the view's and is said.
    for view in ordergraph_queries::all_views() {
        match ctx.sql(view.sql).await {
            Ok(_) => {}
            Err(e) if e.to_string().contains("not found") => {
                tracing::debug!(view = view.name, error = %e, "view not created on the cluster");
            }
            Err(e) => return Err(e).with_context(|| format!("creating view {}", view.name)),
        }
    }
    Ok(ctx)
}

/// The cluster a server sends queries to (`[cluster]`), over its exports.
pub struct Cluster {
    scheduler: String,
    tables: PathBuf,
    timezone: String,
    /// The session over the last export read, by when that export started.
    current: tokio::sync::Mutex<Option<(String, SessionContext)>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("scheduler", &self.scheduler)
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// The cluster at `scheduler`, reading the exports written to `tables`.
    pub fn new(scheduler: String, tables: PathBuf, timezone: String) -> Self {
        Self {
            scheduler,
            tables,
            timezone,
            current: tokio::sync::Mutex::new(None),
        }
    }

    /// A session over the last export, made again once a newer one lands.
    pub async fn session(&self) -> Result<SessionContext> {
        let manifest = read_manifest(&self.tables)?;
        let mut current = self.current.lock().await;
        if let Some((started_at, ctx)) = current.as_ref()
            && *started_at == manifest.started_at
        {
            return Ok(ctx.clone());
        }
        let ctx = session_over(&self.scheduler, &self.tables, &manifest, &self.timezone).await?;
        *current = Some((manifest.started_at, ctx.clone()));
        Ok(ctx)
    }
}

/// The Delta table at `root` as it stands: the Parquet files of its
/// current version, without the partition columns, which live in the
/// table's log and not in its files. A table without files is an empty
/// relation of its columns.
async fn delta_files(ctx: &SessionContext, root: &Path) -> Result<Arc<dyn TableProvider>> {
    let url = url::Url::from_directory_path(root)
        .map_err(|_| anyhow::anyhow!("{}: not an absolute path", root.display()))?;
    let mut table = deltalake::DeltaTable::try_from_url(url).await?;
    table
        .load()
        .await
        .with_context(|| format!("reading the Delta log of {}", root.display()))?;
    let files: Vec<String> = table.get_file_uris()?.collect();
    if files.is_empty() {
        let snapshot = table.snapshot()?.snapshot();
        let partitions = snapshot.metadata().partition_columns().to_vec();
        let schema = snapshot.arrow_schema();
        let columns = schema
            .fields()
            .iter()
            .filter(|f| !partitions.contains(f.name()))
            .map(|f| cast(lit(ScalarValue::Null), f.data_type().clone()).alias(f.name()))
            .collect::<Vec<_>>();
        let empty = LogicalPlanBuilder::empty(true)
            .project(columns)?
            .limit(0, Some(0))?
            .build()?;
        return Ok(Arc::new(ViewTable::new(empty, None)));
    }
    let urls = files
        .iter()
        .map(ListingTableUrl::parse)
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()));
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .infer_schema(&ctx.state())
        .await?;
    Ok(Arc::new(ListingTable::try_new(config)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedulers_are_named_with_or_without_the_scheme() {
        assert_eq!(
            host_and_port("df://10.0.0.5:50050").unwrap(),
            ("10.0.0.5".to_string(), 50050)
        );
        assert_eq!(
            host_and_port("sched:7000").unwrap(),
            ("sched".to_string(), 7000)
        );
        assert_eq!(
            host_and_port("df://sched").unwrap(),
            ("sched".to_string(), SCHEDULER_PORT)
        );
        assert!(host_and_port("sched:port").is_err());
        assert!(host_and_port("df://").is_err());
    }
}
