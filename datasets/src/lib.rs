//! `ordergraph-datasets`: a seeded, deterministic generator of realistic
//! Chinese multi-channel e-commerce orders with ground truth (which real
//! person placed each order, and which identity trap the order carries), the
//! operational tables that go with them (order lines, status reports,
//! refunds, stock, accounts, credentials, ...; see [`OpsTable`]), the
//! writers that export them as CSV, NDJSON and Parquet, and pairwise scoring
//! of a predicted clustering against the truth.

mod generate;
pub mod lives;
mod ops;
mod output;
pub mod personas;
mod render;
mod rng;
mod score;
mod vocab;

pub use generate::{Dataset, GenConfig, OrderRow, generate};
pub use ops::{OpsTable, write_ops_csv};
pub use score::{
    LinkableOrder, LinkableScore, Score, Truth, linkable_groups, score, score_linkable,
};
pub use vocab::{CHANNELS, TRAPS};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// File system failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Arrow failure while building batches.
    #[error("Arrow error: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// Parquet failure while writing.
    #[error("Parquet error: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    /// A truth file that does not parse.
    #[error("bad truth file, line {line}: {message}")]
    Truth {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An argument out of its domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
