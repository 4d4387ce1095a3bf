//! How far each external source (a Kafka partition of a consumer group)
//! has been read: a position per source key, stored with the rows it
//! delivered, so that a restart resumes exactly after what is stored.
//!
//! A commit that writes a log file carries the positions of the messages
//! in it in the file's footer; a checkpoint writes every position to
//! [`POSITIONS_FILE`] before it removes log files. At open the positions
//! are that file's, advanced by the footers of the log files after it. A
//! position only ever grows, so the largest one found is the one.
//!
//! A commit that changes nothing (every row `unchanged`) writes no file:
//! its positions advance in memory only. Read again after a restart, the
//! same messages change nothing again, so nothing is lost or doubled.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// A position per source key: the next offset to read.
pub type Positions = BTreeMap<String, i64>;

/// The positions as of the last checkpoint, in the data directory.
pub const POSITIONS_FILE: &str = "source-positions.json";

/// The log file footer key that holds a commit's positions.
pub(crate) const FOOTER_KEY: &str = "ordergraph.source_positions";

/// Raises each position of `into` to the one in `from` where larger.
pub(crate) fn advance(into: &mut Positions, from: &Positions) {
    for (key, &position) in from {
        let at = into.entry(key.clone()).or_insert(position);
        *at = (*at).max(position);
    }
}

/// The positions in a log file's footer, if any.
pub(crate) fn from_footer(metadata: &HashMap<String, String>, path: &Path) -> Result<Positions> {
    match metadata.get(FOOTER_KEY) {
        Some(text) => serde_json::from_str(text).map_err(|e| Error::corrupt(path, e)),
        None => Ok(Positions::new()),
    }
}

/// The footer value for `positions`.
pub(crate) fn footer(positions: &Positions) -> String {
    serde_json::to_string(positions).expect("positions serialize")
}

/// The positions stored by the last checkpoint in `dir`.
pub(crate) fn read(dir: &Path) -> Result<Positions> {
    let path = dir.join(POSITIONS_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(&path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Positions::new()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Writes `positions` to `dir` durably (a temporary file, fsync'd and
/// renamed into place).
pub(crate) fn write(dir: &Path, positions: &Positions) -> Result<()> {
    let path = dir.join(POSITIONS_FILE);
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(footer(positions).as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| Error::io(&path, e))
}
