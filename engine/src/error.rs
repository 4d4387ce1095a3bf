//! Errors of the engine, and which of them are the caller's.

use super::*;

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
    /// A data directory another process has open (it holds `LOCK`).
    #[error("{0} is in use by another ordergraph process")]
    InUse(PathBuf),
    /// A request that names something that does not exist (a customer, a
    /// correction).
    #[error("{0}")]
    NotFound(String),
    /// A request that cannot be done as asked (an order that is not the
    /// named customer's, a value that is refused anyway).
    #[error("{0}")]
    Invalid(String),
    /// A correction of identity that contradicts one in force.
    #[error("correction refused: {why}; it contradicts correction {with}")]
    Conflict {
        /// The correction in force.
        with: i64,
        /// How they contradict.
        why: &'static str,
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
            Error::Decode(_)
            | Error::UnknownTable(_)
            | Error::UnknownFormat(_)
            | Error::NotFound(_)
            | Error::Invalid(_)
            | Error::Conflict { .. } => true,
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
