//! Results on the command line: a table for people, or CSV, JSON, NDJSON
//! or Parquet for programs, to stdout or a file, written a batch at a time
//! (a table is laid out once the whole result is in).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::pretty::pretty_format_batches;

use crate::encode::{Encoding, StreamEncoder};

/// How a result is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns, for reading.
    Table,
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Parquet file (needs `--out`, or stdout that is not a terminal).
    Parquet,
}

/// Where a result goes, and in what form.
pub struct Output {
    format: Format,
    to: Box<dyn Write>,
    /// The file written, for errors.
    path: Option<PathBuf>,
    state: State,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("format", &self.format)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

enum State {
    /// Before the schema is known.
    Waiting,
    /// A table collects its batches.
    Table(SchemaRef, Vec<RecordBatch>),
    Encoding(Box<StreamEncoder>),
}

impl Output {
    /// A result in `format` to `out`, or to stdout without it.
    pub fn create(format: Format, out: Option<&Path>) -> Result<Self> {
        let to: Box<dyn Write> = match out {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            )),
            None => {
                use std::io::IsTerminal;
                if format == Format::Parquet && std::io::stdout().is_terminal() {
                    bail!("Parquet is binary: write it to a file with --out FILE");
                }
                Box::new(std::io::BufWriter::new(std::io::stdout()))
            }
        };
        Ok(Self {
            format,
            to,
            path: out.map(Path::to_path_buf),
            state: State::Waiting,
        })
    }

    /// Starts the result: its columns. Later calls (the pages of one export)
    /// change nothing.
    pub fn start(&mut self, schema: SchemaRef) -> Result<()> {
        if !matches!(self.state, State::Waiting) {
            return Ok(());
        }
        let encoding = match self.format {
            Format::Table => {
                self.state = State::Table(schema, Vec::new());
                return Ok(());
            }
            Format::Csv => Encoding::Csv,
            Format::Json => Encoding::Json,
            Format::Ndjson => Encoding::Ndjson,
            Format::Parquet => Encoding::Parquet,
        };
        self.state = State::Encoding(Box::new(StreamEncoder::new(encoding, schema)?));
        Ok(())
    }

    /// Writes (or, for a table, keeps) one batch.
    pub fn batch(&mut self, batch: RecordBatch) -> Result<()> {
        match &mut self.state {
            State::Waiting => bail!("a batch before the result's columns"),
            State::Table(_, batches) => batches.push(batch),
            State::Encoding(encoder) => {
                let bytes = encoder.batch(&batch)?;
                self.write(&bytes)?;
            }
        }
        Ok(())
    }

    /// Ends the result and flushes it.
    pub fn finish(mut self) -> Result<()> {
        match std::mem::replace(&mut self.state, State::Waiting) {
            State::Waiting => bail!("the result ended before its columns"),
            State::Table(schema, batches) => {
                let text = if batches.is_empty() {
                    pretty_format_batches(&[RecordBatch::new_empty(schema)])?
                } else {
                    pretty_format_batches(&batches)?
                };
                self.write(format!("{text}\n").as_bytes())?;
            }
            State::Encoding(encoder) => {
                let mut bytes = encoder.finish()?;
                if self.format == Format::Json {
                    bytes.push(b'\n');
                }
                self.write(&bytes)?;
            }
        }
        self.to.flush().map_err(|e| self.error(e))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.to.write_all(bytes).map_err(|e| self.error(e))
    }

    fn error(&self, e: std::io::Error) -> anyhow::Error {
        match &self.path {
            Some(path) => anyhow::Error::new(e).context(format!("writing {}", path.display())),
            None => anyhow::Error::new(e).context("writing the result to stdout"),
        }
    }
}
