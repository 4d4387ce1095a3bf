//! Result encodings: JSON (an array of objects), CSV with a header, and the
//! Arrow IPC stream format.

use axum::http::StatusCode;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::{csv, ipc, json};

use crate::ApiError;

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`: an array of objects, NULLs included.
    Json,
    /// `text/csv` with a header row.
    Csv,
    /// `application/vnd.apache.arrow.stream`.
    Arrow,
}

impl Encoding {
    /// Chooses by an `Accept` header; JSON when absent or `*/*`.
    pub fn from_accept(accept: Option<&str>) -> Result<Self, ApiError> {
        let Some(accept) = accept else {
            return Ok(Encoding::Json);
        };
        for part in accept.split(',') {
            match part.split(';').next().unwrap_or("").trim() {
                "application/json" | "*/*" | "application/*" | "" => return Ok(Encoding::Json),
                "text/csv" | "text/*" => return Ok(Encoding::Csv),
                "application/vnd.apache.arrow.stream" => return Ok(Encoding::Arrow),
                _ => {}
            }
        }
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!(
                "cannot answer as '{accept}': use application/json, text/csv or application/vnd.apache.arrow.stream"
            ),
        ))
    }

    /// The `Content-Type` of an answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Csv => "text/csv; charset=utf-8",
            Encoding::Arrow => "application/vnd.apache.arrow.stream",
        }
    }
}

/// Encodes a whole result.
pub fn encode(
    encoding: Encoding,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::new();
    match encoding {
        Encoding::Json => {
            let mut w = json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, json::writer::JsonArray>(&mut out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            drop(w);
            if out.is_empty() {
                out.extend_from_slice(b"[]");
            }
        }
        Encoding::Csv => {
            let mut w = csv::WriterBuilder::new().with_header(true).build(&mut out);
            if batches.is_empty() {
                let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                drop(w);
                out.extend_from_slice(header.join(",").as_bytes());
                out.push(b'\n');
            } else {
                for b in batches {
                    w.write(b)?;
                }
            }
        }
        Encoding::Arrow => {
            let mut w = ipc::writer::StreamWriter::try_new(&mut out, schema)?;
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(out)
}
