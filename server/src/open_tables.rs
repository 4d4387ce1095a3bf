//! Open tables: what ordergraph holds and computes (orders with their
//! MCIDs, every order version, every input table, the identity tables and
//! every view) written under one directory as Delta Lake tables, or as
//! plain Parquet files, at stable paths, so that DuckDB, Spark, delta-rs or
//! Polars read the answers and not only the raw input.
//!
//! Each export rewrites each table whole in one commit: a Delta reader sees
//! the previous export or this one, never a mix, and can read any earlier
//! version still kept. `orders` and `order_versions` are partitioned by
//! `ordered_month`, the month of `ordered_at` in the business time zone.
//! Tables are read one after another, each from the engine's state when
//! its read starts; `_ordergraph_export.json` names the version of every
//! table an export wrote.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use deltalake::DeltaTable;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TableReference};
use deltalake::kernel::{Action, StructType};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::{StreamExt, TryStreamExt};
use ordergraph_engine::Engine;
use serde::{Deserialize, Serialize};

/// The tables partitioned by the business month of `ordered_at`.
const BY_MONTH: &[&str] = &["orders", "order_versions"];

/// The partition column of `orders` and `order_versions`.
pub const MONTH_COLUMN: &str = "ordered_month";

/// The commit information key holding the rows a Delta commit wrote.
pub const ROWS_KEY: &str = "ordergraph.rows";

/// The file naming each table's version of the last export.
pub const MANIFEST: &str = "_ordergraph_export.json";

/// How tables are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// A Delta Lake table per table: `DIR/<table>/` with its `_delta_log`.
    #[default]
    Delta,
    /// One Parquet file per table, `DIR/<table>.parquet`, replaced whole.
    Parquet,
}

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// The directory the tables go under (created if missing).
    pub to: PathBuf,
    pub format: TableFormat,
    /// Only these tables and views; all if `None`.
    pub tables: Option<Vec<String>>,
    /// Delta files an export replaced are deleted once they have been
    /// replaced this long (time travel reaches back this far); `None`
    /// keeps them all.
    pub keep: Option<Duration>,
}

/// One table written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exported {
    pub table: String,
    pub rows: u64,
    /// The Delta version this export committed (Parquet: none).
    pub version: Option<u64>,
    /// Where it is, relative to the export directory.
    pub path: String,
}

/// What `_ordergraph_export.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// When the export started (RFC 3339).
    pub started_at: String,
    pub seconds: f64,
    pub format: TableFormat,
    pub tables: Vec<Exported>,
}

/// The exports of a running server: `[export]` of ordergraph.toml, run
/// every `every` and on `POST /v1/export`, one at a time.
#[derive(Debug)]
pub struct Exporter {
    spec: ExportSpec,
    running: tokio::sync::Mutex<()>,
}

impl Exporter {
    pub fn new(spec: ExportSpec) -> Self {
        Self {
            spec,
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Exports now, after any export running; `tables` instead of the
    /// configured ones if given.
    pub async fn run(
        &self,
        engine: &Arc<Engine>,
        tables: Option<Vec<String>>,
    ) -> anyhow::Result<Manifest> {
        let _one_at_a_time = self.running.lock().await;
        let mut spec = self.spec.clone();
        if tables.is_some() {
            spec.tables = tables;
        }
        let result = export(engine, &spec).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("ordergraph_exports_total", "result" => outcome).increment(1);
        if let Ok(manifest) = &result {
            metrics::gauge!("ordergraph_export_seconds").set(manifest.seconds);
            metrics::gauge!("ordergraph_export_last_success_timestamp_seconds")
                .set(chrono::Utc::now().timestamp() as f64);
        }
        result
    }

    /// Exports every `every` until `stopped`; a failed export is logged
    /// and tried again at the next tick.
    pub async fn run_periodically(
        self: Arc<Self>,
        engine: Arc<Engine>,
        every: Duration,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopped.changed() => return,
            }
            match self.run(&engine, None).await {
                Ok(m) => tracing::info!(
                    to = %self.spec.to.display(),
                    tables = m.tables.len(),
                    seconds = m.seconds,
                    "exported"
                ),
                Err(e) => tracing::error!(to = %self.spec.to.display(), "export failed: {e:#}"),
            }
        }
    }
}

/// Writes the tables `spec` names, one after another, then the manifest.
pub async fn export(engine: &Arc<Engine>, spec: &ExportSpec) -> anyhow::Result<Manifest> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    std::fs::create_dir_all(&spec.to).with_context(|| format!("creating {}", spec.to.display()))?;
    let dir = std::fs::canonicalize(&spec.to)?;
    let names = table_names(engine, spec.tables.as_deref()).await?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let written = match spec.format {
            TableFormat::Delta => write_delta(engine, &dir, &name, spec.keep).await,
            TableFormat::Parquet => write_parquet(engine, &dir, &name).await,
        };
        tables.push(written.with_context(|| format!("exporting {name}"))?);
    }
    let manifest = Manifest {
        started_at,
        seconds: started.elapsed().as_secs_f64(),
        format: spec.format,
        tables,
    };
    replace_file(&dir.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// The tables and views of the catalog, or those of `wanted` (each must
/// be one), by name.
pub async fn table_names(
    engine: &Arc<Engine>,
    wanted: Option<&[String]>,
) -> anyhow::Result<Vec<String>> {
    let batches = engine
        .query(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY table_name",
        )
        .await?
        .collect()
        .await?;
    let mut all = Vec::new();
    for batch in &batches {
        let names = cast(batch.column(0), &DataType::Utf8)?;
        let names = datafusion::arrow::array::AsArray::as_string::<i32>(&names);
        all.extend(names.iter().flatten().map(str::to_string));
    }
    let Some(wanted) = wanted else {
        return Ok(all);
    };
    if let Some(unknown) = wanted.iter().find(|w| !all.contains(w)) {
        bail!(
            "no table or view '{unknown}'; there are: {}",
            all.join(", ")
        );
    }
    Ok(all.into_iter().filter(|n| wanted.contains(n)).collect())
}

/// The query that reads `table` as exported: with its partition column if
/// it has one.
fn read_sql(table: &str) -> String {
    if BY_MONTH.contains(&table) {
        format!(
            "SELECT *, to_char(business_time(ordered_at), '%Y-%m') AS {MONTH_COLUMN} FROM \"{table}\""
        )
    } else {
        format!("SELECT * FROM \"{table}\"")
    }
}

/// `table`'s rows as a stream of batches in the types open tables hold.
async fn read(
    engine: &Arc<Engine>,
    table: &str,
) -> anyhow::Result<(
    SchemaRef,
    impl futures::Stream<Item = anyhow::Result<RecordBatch>>,
)> {
    let frame = engine.query(&read_sql(table)).await?;
    let schema = open_schema(frame.schema().as_arrow())?;
    let stream = frame.execute_stream().await?;
    let target = schema.clone();
    let batches = stream.map(move |batch| to_open(&batch?, &target));
    Ok((schema, batches))
}

/// The Delta-readable type of `data_type`: strings and binaries as plain
/// `Utf8` and `Binary`, every timestamp in microseconds as a UTC instant,
/// unsigned integers as the signed type that holds them, dictionaries as
/// their values; nested types likewise.
fn open_type(data_type: &DataType) -> anyhow::Result<DataType> {
    Ok(match data_type {
        DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => {
            DataType::Binary
        }
        DataType::Timestamp(_, _) | DataType::Date64 => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Float16 => DataType::Float32,
        DataType::Decimal256(p, s) if *p <= 38 => DataType::Decimal128(*p, *s),
        DataType::Dictionary(_, values) => open_type(values)?,
        DataType::List(item)
        | DataType::LargeList(item)
        | DataType::ListView(item)
        | DataType::LargeListView(item)
        | DataType::FixedSizeList(item, _) => DataType::List(Arc::new(open_field(item)?)),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| open_field(f))
                .collect::<anyhow::Result<Fields>>()?,
        ),
        DataType::Map(entries, sorted) => DataType::Map(Arc::new(open_field(entries)?), *sorted),
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::Binary
        | DataType::Date32
        | DataType::Decimal128(_, _) => data_type.clone(),
        other => bail!("a column of type {other} has no Delta Lake type"),
    })
}

fn open_field(field: &Field) -> anyhow::Result<Field> {
    let data_type =
        open_type(field.data_type()).with_context(|| format!("column {}", field.name()))?;
    // Every column may be null: a view's nullability is not a promise.
    Ok(Field::new(field.name(), data_type, true))
}

fn open_schema(schema: &Schema) -> anyhow::Result<SchemaRef> {
    let fields = schema
        .fields()
        .iter()
        .map(|f| open_field(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// `batch` in the types of `schema` (its [`open_schema`]).
fn to_open(batch: &RecordBatch, schema: &SchemaRef) -> anyhow::Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| -> anyhow::Result<ArrayRef> {
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                cast(column, field.data_type()).with_context(|| format!("column {}", field.name()))
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Replaces `DIR/<table>/` with the table's rows in one Delta commit:
/// every file of the current version removed, the new ones added. A table
/// whose columns changed since the last export is replaced with its new
/// schema (still one commit).
async fn write_delta(
    engine: &Arc<Engine>,
    dir: &Path,
    table: &str,
    keep: Option<Duration>,
) -> anyhow::Result<Exported> {
    let location = dir.join(table);
    std::fs::create_dir_all(&location)?;
    let url = url::Url::from_directory_path(&location)
        .map_err(|()| anyhow::anyhow!("{} is not an absolute path", location.display()))?;
    let (schema, batches) = read(engine, table).await?;
    let partitions: Vec<String> = if BY_MONTH.contains(&table) {
        vec![MONTH_COLUMN.to_string()]
    } else {
        Vec::new()
    };
    let mut writer = RecordBatchWriter::try_new(
        url.as_str(),
        schema.clone(),
        (!partitions.is_empty()).then(|| partitions.clone()),
        None,
    )?;
    let mut rows = 0u64;
    let mut batches = std::pin::pin!(batches);
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        if batch.num_rows() > 0 {
            rows += batch.num_rows() as u64;
            writer.write(batch).await?;
        }
    }
    let added: Vec<Action> = writer.flush().await?.into_iter().map(Action::Add).collect();

    // Each commit records its rows, so a reader can check what it read.
    let properties = CommitProperties::default()
        .with_metadata([(ROWS_KEY.to_string(), serde_json::json!(rows))]);
    let columns: StructType = schema.as_ref().try_into_kernel()?;
    let mut current = DeltaTable::try_from_url(url.clone()).await?;
    let same_columns = current.snapshot().is_ok_and(|s| {
        *s.schema() == columns && s.metadata().partition_columns() == partitions.as_slice()
    });
    let version = if same_columns {
        let snapshot = current.snapshot()?;
        let log_store = current.log_store();
        let mut actions: Vec<Action> = snapshot
            .snapshot()
            .file_views(log_store.as_ref(), None)
            .map_ok(|f| Action::Remove(f.remove_action(true)))
            .try_collect()
            .await?;
        actions.extend(added);
        let operation = DeltaOperation::Write {
            mode: SaveMode::Overwrite,
            partition_by: (!partitions.is_empty()).then(|| partitions.clone()),
            predicate: None,
        };
        CommitBuilder::from(properties)
            .with_actions(actions)
            .build(
                Some(snapshot as &dyn TableReference),
                log_store.clone(),
                operation,
            )
            .await?
            .version()
    } else {
        // New, or its columns changed: create (or replace) it with the rows.
        let replaced = current
            .create()
            .with_table_name(table)
            .with_columns(columns.fields().cloned())
            .with_partition_columns(partitions.clone())
            .with_save_mode(SaveMode::Overwrite)
            .with_commit_properties(properties)
            .with_actions(added)
            .await?;
        replaced.version().unwrap_or(0)
    };
    if let Some(keep) = keep {
        current.update_state().await?;
        current
            .vacuum()
            .with_retention_period(chrono::Duration::from_std(keep)?)
            .with_enforce_retention_duration(false)
            .await?;
    }
    Ok(Exported {
        table: table.to_string(),
        rows,
        version: Some(version as u64),
        path: table.to_string(),
    })
}

/// Replaces `DIR/<table>.parquet` with the table's rows: written beside
/// it, then renamed over it, so a reader opens the old file or the new.
async fn write_parquet(engine: &Arc<Engine>, dir: &Path, table: &str) -> anyhow::Result<Exported> {
    let name = format!("{table}.parquet");
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));
    let (schema, batches) = read(engine, table).await?;
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&partial)?, schema, None)?;
    let mut rows = 0u64;
    let mut batches = std::pin::pin!(batches);
    while let Some(batch) = batches.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    writer.into_inner()?.sync_all()?;
    std::fs::rename(&partial, &path)?;
    Ok(Exported {
        table: table.to_string(),
        rows,
        version: None,
        path: name,
    })
}

/// Writes `bytes` to `path` through a file beside it and a rename.
fn replace_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_types_are_those_delta_lake_has() {
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        for (from, to) in [
            (DataType::Utf8View, DataType::Utf8),
            (DataType::UInt32, DataType::Int64),
            (
                DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into())),
                utc.clone(),
            ),
            (DataType::Timestamp(TimeUnit::Second, None), utc.clone()),
            (
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8View)),
                DataType::Utf8,
            ),
            (
                DataType::List(Arc::new(Field::new("item", DataType::Utf8View, false))),
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            ),
            (DataType::Decimal128(12, 2), DataType::Decimal128(12, 2)),
        ] {
            assert_eq!(open_type(&from).unwrap(), to, "{from}");
        }
        let error = open_type(&DataType::Struct(Fields::from(vec![Field::new(
            "took",
            DataType::Duration(TimeUnit::Second),
            true,
        )])))
        .unwrap_err();
        assert!(format!("{error:#}").contains("column took"), "{error:#}");
    }
}
