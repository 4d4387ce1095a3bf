//! Result encodings: JSON (an array of objects), CSV with a header, and the
//! Arrow IPC stream format.

use axum::http::StatusCode;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
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
                    w.write(&flatten_nested(b)?)?;
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

/// CSV has no lists or structs: such columns are written as their text form
/// (`[dealer, shopify]`), like `psql` shows them.
fn flatten_nested(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let nested = |t: &DataType| t.is_nested();
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| nested(f.data_type()))
    {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default();
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !nested(field.data_type()) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
        let mut text = StringBuilder::with_capacity(column.len(), column.len() * 16);
        for row in 0..column.len() {
            if column.is_null(row) {
                text.append_null();
            } else {
                text.append_value(formatter.value(row).to_string());
            }
        }
        fields.push(Field::new(field.name(), DataType::Utf8, true));
        columns.push(Arc::new(text.finish()));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
