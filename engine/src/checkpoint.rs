//! Checkpoints: the engine's tables written as Parquet, and the resolved
//! identity state beside them, so that a restart loads them instead of
//! replaying and resolving every order again, and so that the small Arrow
//! IPC files of the write-ahead log are compacted away.
//!
//! Layout under `<data>/checkpoint/`:
//! - `CURRENT`: the name of the current checkpoint directory;
//! - `cp-<n>/manifest.json`: for each table, the last log file it covers,
//!   and a fingerprint of the identity configuration;
//! - `cp-<n>/<table>.parquet`: every stored row of the table (for
//!   `orders`, every version, with `version` and `arrived_at`);
//! - `cp-<n>/orders.state`: the order index and the identity graph.
//!
//! A checkpoint is written to `tmp-<n>/`, each file fsync'd, the directory
//! renamed to `cp-<n>`, then `CURRENT` replaced atomically; only then are
//! the log files it covers removed. A process killed at any point leaves
//! either the old checkpoint and all its log, or the new one (and log files
//! it covers, which are skipped). Nothing is lost or applied twice.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const DIR: &str = "checkpoint";
const CURRENT: &str = "CURRENT";
const MANIFEST: &str = "manifest.json";
/// The encoded order index and identity graph.
pub(crate) const ORDERS_STATE: &str = "orders.state";

/// What a checkpoint holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    /// Format of the checkpoint.
    pub(crate) format: u32,
    /// Fingerprint of the identity configuration the state was built with.
    pub(crate) identity: String,
    /// Per table, the last log file the checkpoint covers.
    pub(crate) logs: BTreeMap<String, u64>,
}

/// The current checkpoint, opened for loading.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) dir: PathBuf,
    pub(crate) manifest: Manifest,
}

impl Loaded {
    /// Every row of `table` in the checkpoint.
    pub(crate) fn rows(&self, table: &str, schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
        let path = self.dir.join(format!("{table}.parquet"));
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(65_536).build())
            .map_err(|e| Error::corrupt(&path, e))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::corrupt(&path, e))?;
        // Stored schemas carry their own field metadata; cast to ours.
        batches
            .into_iter()
            .map(|b| {
                RecordBatch::try_new(schema.clone(), b.columns().to_vec())
                    .map_err(|e| Error::corrupt(&path, e))
            })
            .collect()
    }

    /// The rows of `table` as one batch.
    pub(crate) fn rows_concat(&self, table: &str, schema: &SchemaRef) -> Result<RecordBatch> {
        let batches = self.rows(table, schema)?;
        concat_batches(schema, &batches).map_err(|e| Error::corrupt(&self.dir, e))
    }

    /// A state file's bytes.
    pub(crate) fn state(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.dir.join(name);
        fs::read(&path).map_err(|e| Error::io(&path, e))
    }
}

/// Opens the current checkpoint under `data`, if there is one, and removes
/// checkpoints that were never finished. A `CURRENT` naming a checkpoint
/// that cannot be read stops start-up: its log files are gone.
pub(crate) fn open(data: &Path) -> Result<Option<Loaded>> {
    let root = data.join(DIR);
    if !root.exists() {
        return Ok(None);
    }
    for entry in fs::read_dir(&root).map_err(|e| Error::io(&root, e))? {
        let path = entry.map_err(|e| Error::io(&root, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("tmp-") || name.ends_with(".tmp") {
            tracing::warn!(path = %path.display(), "removing an unfinished checkpoint");
            remove(&path)?;
        }
    }
    let current = root.join(CURRENT);
    let name = match fs::read_to_string(&current) {
        Ok(name) => name.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&current, e)),
    };
    let dir = root.join(&name);
    let manifest_path = dir.join(MANIFEST);
    let text = fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Corrupt {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    Ok(Some(Loaded { dir, manifest }))
}

/// A checkpoint being written.
#[derive(Debug)]
pub(crate) struct Writing {
    root: PathBuf,
    tmp: PathBuf,
    name: String,
}

impl Writing {
    /// Starts the next checkpoint under `data`.
    pub(crate) fn start(data: &Path) -> Result<Self> {
        let root = data.join(DIR);
        fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
        let next = fs::read_dir(&root)
            .map_err(|e| Error::io(&root, e))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_prefix("cp-")
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .max()
            .unwrap_or(0)
            + 1;
        let name = format!("cp-{next:012}");
        let tmp = root.join(format!("tmp-{next:012}"));
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Self { root, tmp, name })
    }

    /// Writes a table's rows as Parquet.
    pub(crate) fn rows(
        &self,
        table: &str,
        schema: &SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<()> {
        let path = self.tmp.join(format!("{table}.parquet"));
        let write = || -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
            let file = File::create(&path)?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
                .build();
            let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
            for b in batches {
                writer.write(b)?;
            }
            writer.into_inner()?.sync_all()?;
            Ok(())
        };
        write().map_err(|e| Error::io(&path, std::io::Error::other(e)))
    }

    /// Writes a state file.
    pub(crate) fn state(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.tmp.join(name);
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&path)?;
            std::io::Write::write_all(&mut f, bytes)?;
            f.sync_all()
        };
        write().map_err(|e| Error::io(&path, e))
    }

    /// Writes the manifest and makes the checkpoint current; returns its
    /// directory. Older checkpoints are removed.
    pub(crate) fn commit(self, manifest: &Manifest) -> Result<PathBuf> {
        let text = serde_json::to_string_pretty(manifest).expect("a manifest serializes");
        self.state(MANIFEST, text.as_bytes())?;
        sync_dir(&self.tmp)?;
        let dir = self.root.join(&self.name);
        fs::rename(&self.tmp, &dir).map_err(|e| Error::io(&dir, e))?;
        sync_dir(&self.root)?;
        let current = self.root.join(CURRENT);
        let tmp = self.root.join("CURRENT.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            std::io::Write::write_all(&mut f, self.name.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &current)
        };
        write().map_err(|e| Error::io(&current, e))?;
        sync_dir(&self.root)?;
        for entry in fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))? {
            let path = entry.map_err(|e| Error::io(&self.root, e))?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with("cp-") && *name != self.name {
                remove(&path)?;
            }
        }
        Ok(dir)
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

fn remove(path: &Path) -> Result<()> {
    let removed = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    removed.map_err(|e| Error::io(path, e))
}
