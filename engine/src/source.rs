//! The directory source: connectors drop CSV, NDJSON or Parquet files into
//! `<watch>/<table>/`, and each file is ingested once, then moved to
//! `<watch>/<table>/done/`. A file that fails to decode is moved to
//! `<watch>/<table>/quarantine/` with its error beside it
//! (`<name>.error.txt`), and nothing of it is applied.
//!
//! Connectors must write a file under a hidden or `.tmp`/`.part` name and
//! rename it into place when complete; such names are never picked up.
//!
//! Exactly once across restarts: after a file is ingested (durably), its
//! content hash is appended to a ledger (`<data>/sources.ledger`, fsync'd)
//! before the file is moved. A file found again whose hash is in the ledger
//! (the process died before the move) is moved without ingesting it again.
//! If the process dies between the ingest and the ledger line, the file is
//! ingested again at the next scan, which changes nothing: an identical
//! order is `unchanged`, an identical input row is not stored twice. Call
//! [`DirectorySource::scan`] once before serving, so that this happens
//! before any newer version of an order can arrive over HTTP.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::decode::Format;
use crate::{Engine, Error, IngestReport, Result, table};

/// Name of the ledger of ingested files, in the data directory.
pub const LEDGER_FILE: &str = "sources.ledger";

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Ingested and moved to `done/`.
    Ingested {
        /// The file, where it was found.
        file: PathBuf,
        /// What the ingest did.
        report: IngestReport,
    },
    /// Ingested before (it is in the ledger); moved to `done/` only.
    AlreadyIngested {
        /// The file, where it was found.
        file: PathBuf,
    },
    /// Bad input: moved to `quarantine/` with `<name>.error.txt`.
    Quarantined {
        /// The file, where it was found.
        file: PathBuf,
        /// Why, with line and column where they apply.
        error: String,
    },
}

/// A watched directory feeding the engine.
#[derive(Debug)]
pub struct DirectorySource {
    engine: Arc<Engine>,
    root: PathBuf,
    ledger_path: PathBuf,
    ingested: HashSet<u128>,
}

impl DirectorySource {
    /// Watches `root` (created if missing), with the ledger in the engine's
    /// data directory.
    pub fn open(engine: Arc<Engine>, root: &Path) -> Result<Self> {
        fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let ledger_path = engine.dir().join(LEDGER_FILE);
        let ingested = read_ledger(&ledger_path)?;
        Ok(Self {
            engine,
            root: root.to_path_buf(),
            ledger_path,
            ingested,
        })
    }

    /// The watched directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Ingests every complete file waiting under `<root>/<table>/`, oldest
    /// first. I/O failures stop the scan (the file stays, for the next
    /// scan); bad input only quarantines its file.
    pub fn scan(&mut self) -> Result<Vec<FileOutcome>> {
        let mut outcomes = Vec::new();
        for def in table::tables() {
            let dir = self.root.join(def.name);
            if !dir.is_dir() {
                continue;
            }
            for file in waiting_files(&dir)? {
                outcomes.push(self.take(def.name, &dir, &file)?);
            }
        }
        Ok(outcomes)
    }

    fn take(&mut self, table: &str, dir: &Path, file: &Path) -> Result<FileOutcome> {
        let Some(format) = Format::from_path(file) else {
            let error = Error::UnknownFormat(file.to_path_buf()).to_string();
            return self.quarantine(dir, file, error);
        };
        let data = fs::read(file).map_err(|e| Error::io(file, e))?;
        let hash = content_hash(table, &data);
        if self.ingested.contains(&hash) {
            move_into(file, &dir.join("done"))?;
            return Ok(FileOutcome::AlreadyIngested {
                file: file.to_path_buf(),
            });
        }
        let source = file.display().to_string();
        match self
            .engine
            .ingest(table, format, &source, Bytes::from(data))
        {
            Ok(report) => {
                self.record(hash, table, file)?;
                move_into(file, &dir.join("done"))?;
                tracing::info!(file = %file.display(), rows = report.rows, inserted = report.inserted, updated = report.updated, unchanged = report.unchanged, "ingested a dropped file");
                Ok(FileOutcome::Ingested {
                    file: file.to_path_buf(),
                    report,
                })
            }
            Err(e) if e.is_user_error() => self.quarantine(dir, file, e.to_string()),
            Err(e) => Err(e),
        }
    }

    fn quarantine(&self, dir: &Path, file: &Path, error: String) -> Result<FileOutcome> {
        let moved = move_into(file, &dir.join("quarantine"))?;
        let mut note = moved.into_os_string();
        note.push(".error.txt");
        let note = PathBuf::from(note);
        write_whole(&note, format!("{error}\n").as_bytes())?;
        tracing::warn!(file = %file.display(), %error, "quarantined a dropped file");
        Ok(FileOutcome::Quarantined {
            file: file.to_path_buf(),
            error,
        })
    }

    /// Appends the file to the ledger and syncs it.
    fn record(&mut self, hash: u128, table: &str, file: &Path) -> Result<()> {
        let line = format!(
            "{hash:032x}\t{table}\t{}\t{}\n",
            file.file_name().unwrap_or_default().to_string_lossy(),
            chrono::Utc::now().to_rfc3339()
        );
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.ledger_path)?;
            f.write_all(line.as_bytes())?;
            f.sync_all()
        };
        write().map_err(|e| Error::io(&self.ledger_path, e))?;
        self.ingested.insert(hash);
        Ok(())
    }
}

/// The identity of a dropped file: its table and its bytes.
fn content_hash(table: &str, data: &[u8]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(table.as_bytes());
    h.update(&[0]);
    h.update(data);
    h.digest128()
}

/// Hashes in the ledger. A torn last line (the process died mid-write) is
/// ignored: its file was not recorded, so it is ingested again.
fn read_ledger(path: &Path) -> Result<HashSet<u128>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut hashes = HashSet::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if let Some(hash) = line
            .split('\t')
            .next()
            .filter(|h| h.len() == 32)
            .and_then(|h| u128::from_str_radix(h, 16).ok())
        {
            hashes.insert(hash);
        }
    }
    Ok(hashes)
}

/// Complete files in `dir`, oldest first (then by name).
fn waiting_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let unfinished = name.starts_with('.')
            || [".tmp", ".part", ".partial"]
                .iter()
                .any(|s| name.ends_with(s));
        let meta = entry.metadata().map_err(|e| Error::io(&path, e))?;
        if meta.is_file() && !unfinished {
            let modified = meta.modified().map_err(|e| Error::io(&path, e))?;
            files.push((modified, name, path));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, _, p)| p).collect())
}

/// Writes `path` so that a reader sees either no file or all of it: the
/// bytes go to a hidden temporary name first, then are renamed into place.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut hidden = std::ffi::OsString::from(".");
    hidden.push(path.file_name().unwrap_or_default());
    hidden.push(".tmp");
    let tmp = path.with_file_name(hidden);
    fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Moves `file` into `dir` (created if missing) under its own name, or with
/// a numeric suffix if that name is taken; returns the new path.
fn move_into(file: &Path, dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let mut target = dir.join(&name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    fs::rename(file, &target).map_err(|e| Error::io(file, e))?;
    Ok(target)
}
