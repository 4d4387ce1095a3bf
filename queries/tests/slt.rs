//! Runs every `slt/*.slt` file against a fresh engine in a temporary data
//! directory. Besides SQL, a statement may be
//!
//! ```text
//! statement ok
//! INGEST <table>
//! <CSV with header>
//! ```
//!
//! which ingests the CSV through the engine's real ingest path,
//!
//! ```text
//! statement ok
//! RECORD <table>
//! <NDJSON rows>
//! ```
//!
//! which records API actions (write-back acknowledgements, sync commands)
//! the way the server does; `RECORD <table> AS <query>` records the rows
//! of a query instead (values such as MCIDs that a test cannot spell), and
//!
//! ```text
//! statement ok
//! NOW 2026-02-01T00:00:00Z
//! ```
//!
//! which sets the report clock (`report_config.now`) of every later query in
//! the file; until then the views report at the wall clock.
//! `SLT_COMPLETE=1 cargo test -p ordergraph-queries --test slt -- <filter>`
//! rewrites the expected results in place (review the diff).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use ordergraph_engine::{Engine, Format};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

#[derive(Debug)]
struct TestError(String);

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TestError {}

struct Db {
    engine: Arc<Engine>,
    now: Option<i64>,
    _dir: tempfile::TempDir,
}

impl Db {
    fn new() -> Result<Self, TestError> {
        let dir = tempfile::tempdir().map_err(|e| TestError(e.to_string()))?;
        let engine = Engine::open(dir.path(), vec![ordergraph_queries::hook()])
            .map_err(|e| TestError(e.to_string()))?;
        Ok(Self {
            engine,
            now: None,
            _dir: dir,
        })
    }

    fn ingest(&self, command: &str) -> Result<DBOutput<DefaultColumnType>, TestError> {
        let (first, csv) = command.split_once('\n').unwrap_or((command, ""));
        let table = first
            .trim()
            .strip_prefix("INGEST")
            .unwrap_or_default()
            .trim();
        let report = self
            .engine
            .ingest(
                table,
                Format::Csv,
                "slt",
                bytes::Bytes::from(format!("{csv}\n")),
            )
            .map_err(|e| TestError(e.to_string()))?;
        Ok(DBOutput::StatementComplete(report.rows as u64))
    }

    async fn record(&self, command: &str) -> Result<DBOutput<DefaultColumnType>, TestError> {
        let (first, ndjson) = command.split_once('\n').unwrap_or((command, ""));
        let table = first
            .trim()
            .strip_prefix("RECORD")
            .unwrap_or_default()
            .trim();
        let (table, ndjson) = match table.split_once(" AS ") {
            Some((table, query)) => (table.trim(), self.query_ndjson(query).await?),
            None => (table, format!("{ndjson}\n").into_bytes()),
        };
        let report = self
            .engine
            .record(table, bytes::Bytes::from(ndjson))
            .map_err(|e| TestError(e.to_string()))?;
        Ok(DBOutput::StatementComplete(report.rows as u64))
    }

    /// The rows of a query as NDJSON.
    async fn query_ndjson(&self, sql: &str) -> Result<Vec<u8>, TestError> {
        let err = |e: &dyn std::fmt::Display| TestError(e.to_string());
        let df = self
            .engine
            .query_at(sql, self.now)
            .await
            .map_err(|e| err(&e))?;
        let batches = df.collect().await.map_err(|e| err(&e))?;
        let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(Vec::new());
        for b in &batches {
            writer.write(b).map_err(|e| err(&e))?;
        }
        writer.finish().map_err(|e| err(&e))?;
        Ok(writer.into_inner())
    }
}

fn cell(array: &dyn Array, row: usize) -> Result<String, TestError> {
    if array.is_null(row) {
        return Ok("NULL".into());
    }
    let options = FormatOptions::default();
    let f = ArrayFormatter::try_new(array, &options).map_err(|e| TestError(e.to_string()))?;
    let text = f.value(row).to_string();
    Ok(if text.is_empty() {
        "(empty)".into()
    } else {
        text
    })
}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => DefaultColumnType::Integer,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

fn rows(batches: &[RecordBatch]) -> Result<DBOutput<DefaultColumnType>, TestError> {
    let Some(first) = batches.first() else {
        return Ok(DBOutput::Rows {
            types: vec![],
            rows: vec![],
        });
    };
    let types = first
        .schema()
        .fields()
        .iter()
        .map(|f| column_type(f.data_type()))
        .collect();
    let mut out = Vec::new();
    for b in batches {
        for row in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| cell(c.as_ref(), row))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
    }
    Ok(DBOutput::Rows { types, rows: out })
}

#[async_trait]
impl AsyncDB for Db {
    type Error = TestError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        if sql.trim_start().starts_with("INGEST") {
            return self.ingest(sql.trim_start());
        }
        if sql.trim_start().starts_with("RECORD") {
            return self.record(sql.trim_start()).await;
        }
        if let Some(now) = sql.trim().strip_prefix("NOW ") {
            let now = ordergraph_engine::decode::parse_timestamp(now.trim()).map_err(TestError)?;
            self.now = Some(now);
            return Ok(DBOutput::StatementComplete(0));
        }
        let df = self
            .engine
            .query_at(sql, self.now)
            .await
            .map_err(|e| TestError(e.to_string()))?;
        let batches = df.collect().await.map_err(|e| TestError(e.to_string()))?;
        rows(&batches)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "ordergraph"
    }
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("slt directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

/// Views no slt file mentions: each must be tested somewhere.
fn untested_views(files: &[PathBuf]) -> Vec<String> {
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("slt file"))
        .collect();
    let untested: Vec<String> = ordergraph_queries::all_views()
        .filter(|v| !text.contains(&format!("FROM {}", v.name)))
        .map(|v| format!("untested view {}", v.name))
        .collect();
    for u in &untested {
        eprintln!("FAILED  {u}: no slt file selects from it");
    }
    untested
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let complete = std::env::var_os("SLT_COMPLETE").is_some();
    let mut files = Vec::new();
    slt_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("slt"),
        &mut files,
    );
    let mut failures = untested_views(&files);
    let mut ran = 0;
    for path in files {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        ran += 1;
        let mut runner = Runner::new(|| async { Db::new() });
        let result = if complete {
            runner
                .update_test_file(
                    &path,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner
                .run_file_async(&path)
                .await
                .map_err(|e| e.display(true).to_string())
        };
        match result {
            Ok(()) => eprintln!("ok      {name}"),
            Err(e) => {
                eprintln!("FAILED  {name}\n{e}");
                failures.push(name);
            }
        }
    }
    eprintln!("{ran} slt files, {} failed", failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
