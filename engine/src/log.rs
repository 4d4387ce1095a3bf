//! A durable log of Arrow batches: one Arrow IPC file per accepted write,
//! written to a temporary name, fsync'd, renamed into place and the
//! directory fsync'd, so that a file either is complete or does not exist.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::FileWriter;

use crate::positions::{Positions, advance, footer};
use crate::{Error, Result};

/// The log of one table.
#[derive(Debug)]
pub(crate) struct BatchLog {
    dir: PathBuf,
    /// Atomic so that a writer can append while readers hold the table:
    /// appends themselves are serialized by the engine's ingest lock.
    next_seq: AtomicU64,
    /// Files up to this sequence number are in the current checkpoint.
    /// Atomic so that a checkpoint can remove them while writers append.
    checkpointed: AtomicU64,
}

impl BatchLog {
    /// Opens the log in `dir`, creating it, and removes unfinished writes
    /// (never acknowledged: the process died before the rename). Files up
    /// to `checkpointed` are covered by a checkpoint: they are not read,
    /// and numbering continues after them even once they are removed.
    pub(crate) fn open(dir: &Path, checkpointed: u64) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        remove_unfinished(dir)?;
        let last = files(dir)?.last().map_or(0, |(n, _)| *n);
        Ok(Self::view(dir, checkpointed, last.max(checkpointed)))
    }

    /// A read-only view of a log that another handle writes to: the files
    /// after `checkpointed`, up to `through`. Nothing on disk is touched,
    /// so a write in progress (an unfinished file) is left alone.
    pub(crate) fn view(dir: &Path, checkpointed: u64, through: u64) -> Self {
        Self {
            dir: dir.to_path_buf(),
            next_seq: AtomicU64::new(through + 1),
            checkpointed: AtomicU64::new(checkpointed),
        }
    }

    /// The sequence number of the last file written.
    pub(crate) fn last_seq(&self) -> u64 {
        self.next_seq.load(Ordering::SeqCst) - 1
    }

    /// Files written since the last checkpoint.
    pub(crate) fn unchecked(&self) -> u64 {
        self.last_seq()
            .saturating_sub(self.checkpointed.load(Ordering::SeqCst))
    }

    /// Removes the files up to `seq`, now held by a checkpoint.
    pub(crate) fn remove_through(&self, seq: u64) -> Result<()> {
        for (n, path) in files(&self.dir)? {
            if n <= seq {
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        self.checkpointed.fetch_max(seq, Ordering::SeqCst);
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(&self.dir, e))
    }

    /// Every logged batch after the checkpoint, up to the last file
    /// written (or the view's end), in write order, with its file.
    pub(crate) fn read_all(&self, schema: &SchemaRef) -> Result<Vec<(PathBuf, RecordBatch)>> {
        let mut out = Vec::new();
        let after = self.checkpointed.load(Ordering::SeqCst);
        let through = self.last_seq();
        for (_, path) in files(&self.dir)?
            .into_iter()
            .filter(|(n, _)| (after + 1..=through).contains(n))
        {
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let reader = FileReader::try_new(file, None).map_err(|e| Error::corrupt(&path, e))?;
            let batches = reader
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::corrupt(&path, e))?;
            let batch = concat_batches(schema, &batches).map_err(|e| Error::corrupt(&path, e))?;
            out.push((path, batch));
        }
        Ok(out)
    }

    /// The largest source positions in the footers of the files after the
    /// checkpoint.
    pub(crate) fn positions(&self) -> Result<Positions> {
        let mut positions = Positions::new();
        let after = self.checkpointed.load(Ordering::SeqCst);
        let through = self.last_seq();
        for (_, path) in files(&self.dir)?
            .into_iter()
            .filter(|(n, _)| (after + 1..=through).contains(n))
        {
            let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
            let reader = FileReader::try_new(file, None).map_err(|e| Error::corrupt(&path, e))?;
            advance(
                &mut positions,
                &crate::positions::from_footer(reader.custom_metadata(), &path)?,
            );
        }
        Ok(positions)
    }

    /// Appends a batch durably, with the source positions it carries (see
    /// [`crate::positions`]): when this returns, it survives a crash.
    pub(crate) fn append(&self, batch: &RecordBatch, positions: &Positions) -> Result<()> {
        let path = self.dir.join(format!(
            "{:020}.arrow",
            self.next_seq.load(Ordering::SeqCst)
        ));
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let file = File::create(&tmp)?;
            let mut writer = FileWriter::try_new(BufWriter::new(file), &batch.schema())
                .map_err(std::io::Error::other)?;
            if !positions.is_empty() {
                writer.write_metadata(crate::positions::FOOTER_KEY, footer(positions));
            }
            writer.write(batch).map_err(std::io::Error::other)?;
            writer.finish().map_err(std::io::Error::other)?;
            let file = writer
                .into_inner()
                .map_err(std::io::Error::other)?
                .into_inner()
                .map_err(|e| e.into_error())?;
            let synced = std::time::Instant::now();
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()?;
            metrics::histogram!("ordergraph_fsync_seconds").record(synced.elapsed());
            Ok(())
        };
        write().map_err(|e| Error::io(&path, e))?;
        self.next_seq.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The finished log files in `dir`, by sequence number.
fn files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if let Some(seq) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".arrow"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            files.push((seq, path));
        }
    }
    files.sort();
    Ok(files)
}

/// Removes the files of writes that never finished: the process died
/// before their rename, so they were never acknowledged.
fn remove_unfinished(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            tracing::warn!(file = %path.display(), "removing an unfinished log file");
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}
