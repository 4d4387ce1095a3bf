//! Result encodings: JSON (an array of objects), NDJSON, CSV with a
//! header, the Arrow IPC stream format and Parquet; whole ([`encode`]) or a
//! batch at a time ([`StreamEncoder`]).

use axum::http::StatusCode;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::{csv, ipc, json};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;

use crate::ApiError;

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`: an array of objects, NULLs included.
    Json,
    /// `application/x-ndjson`: one object per line.
    Ndjson,
    /// `text/csv` with a header row.
    Csv,
    /// `application/vnd.apache.arrow.stream`.
    Arrow,
    /// `application/vnd.apache.parquet`: one file, its row groups sent as
    /// they fill, its footer last (a cut-off answer is not a readable file).
    Parquet,
}

/// Rows per Parquet row group of an answer: each is sent once full.
const PARQUET_ROW_GROUP: usize = 65_536;

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
                "application/x-ndjson" | "application/jsonl" => return Ok(Encoding::Ndjson),
                "application/vnd.apache.arrow.stream" => return Ok(Encoding::Arrow),
                "application/vnd.apache.parquet" => return Ok(Encoding::Parquet),
                _ => {}
            }
        }
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            format!(
                "cannot answer as '{accept}': use application/json, application/x-ndjson, text/csv, application/vnd.apache.arrow.stream or application/vnd.apache.parquet"
            ),
        ))
    }

    /// The `Content-Type` of an answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Ndjson => "application/x-ndjson",
            Encoding::Csv => "text/csv; charset=utf-8",
            Encoding::Arrow => "application/vnd.apache.arrow.stream",
            Encoding::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// Encodes a whole result.
pub fn encode(
    encoding: Encoding,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, ArrowError> {
    if matches!(encoding, Encoding::Ndjson | Encoding::Parquet) {
        let mut encoder = StreamEncoder::new(encoding, schema.clone())?;
        let mut out = Vec::new();
        for b in batches {
            out.extend(encoder.batch(b)?);
        }
        out.extend(encoder.finish()?);
        return Ok(out);
    }
    let mut out = Vec::new();
    match encoding {
        Encoding::Ndjson | Encoding::Parquet => unreachable!("encoded above"),
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

/// Encodes a result a batch at a time, for answers streamed while the query
/// runs: [`StreamEncoder::batch`] gives the bytes of each batch,
/// [`StreamEncoder::finish`] the closing bytes. Together they are the bytes
/// [`encode`] writes for the whole result.
pub struct StreamEncoder {
    encoding: Encoding,
    schema: SchemaRef,
    /// Rows written so far (JSON needs the comma, CSV the header once).
    rows: usize,
    arrow: Option<ipc::writer::StreamWriter<Vec<u8>>>,
    parquet: Option<ArrowWriter<Vec<u8>>>,
}

impl std::fmt::Debug for StreamEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamEncoder")
            .field("encoding", &self.encoding)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl StreamEncoder {
    /// An encoder of results with `schema`.
    pub fn new(encoding: Encoding, schema: SchemaRef) -> Result<Self, ArrowError> {
        let arrow = match encoding {
            Encoding::Arrow => Some(ipc::writer::StreamWriter::try_new(Vec::new(), &schema)?),
            _ => None,
        };
        let parquet = match encoding {
            Encoding::Parquet => {
                let properties = WriterProperties::builder()
                    .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP))
                    .build();
                Some(ArrowWriter::try_new(
                    Vec::new(),
                    schema.clone(),
                    Some(properties),
                )?)
            }
            _ => None,
        };
        Ok(Self {
            encoding,
            schema,
            rows: 0,
            arrow,
            parquet,
        })
    }

    /// The bytes of one batch (and of what precedes the first).
    pub fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
        // An empty batch adds nothing (and must not write a second header).
        if batch.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        match self.encoding {
            Encoding::Json => {
                if self.rows == 0 {
                    out.push(b'[');
                }
                let mut w = json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, json::writer::LineDelimited>(&mut out);
                // Objects one per line, then the lines joined by commas.
                let start = w.get_mut().len();
                w.write(batch)?;
                w.finish()?;
                drop(w);
                let lines = out.split_off(start);
                for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    if self.rows > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(line);
                    self.rows += 1;
                }
                return Ok(out);
            }
            Encoding::Ndjson => {
                let mut w = json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, json::writer::LineDelimited>(&mut out);
                w.write(batch)?;
                w.finish()?;
            }
            Encoding::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .with_header(self.rows == 0)
                    .build(&mut out);
                w.write(&flatten_nested(batch)?)?;
            }
            Encoding::Arrow => {
                let w = self.arrow.as_mut().expect("an Arrow writer");
                w.write(batch)?;
                out = std::mem::take(w.get_mut());
            }
            Encoding::Parquet => {
                // The writer counts the bytes it has written itself: taking
                // them out of its buffer leaves its offsets right.
                let w = self.parquet.as_mut().expect("a Parquet writer");
                w.write(batch)?;
                out = std::mem::take(w.inner_mut());
            }
        }
        self.rows += batch.num_rows();
        Ok(out)
    }

    /// The closing bytes, after the last batch.
    pub fn finish(mut self) -> Result<Vec<u8>, ArrowError> {
        Ok(match self.encoding {
            Encoding::Json if self.rows == 0 => b"[]".to_vec(),
            Encoding::Json => b"]".to_vec(),
            Encoding::Ndjson => Vec::new(),
            Encoding::Csv if self.rows == 0 => {
                let header: Vec<&str> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                format!("{}\n", header.join(",")).into_bytes()
            }
            Encoding::Csv => Vec::new(),
            Encoding::Arrow => {
                let mut w = self.arrow.take().expect("an Arrow writer");
                w.finish()?;
                w.into_inner()?
            }
            Encoding::Parquet => {
                let mut w = self.parquet.take().expect("a Parquet writer");
                w.finish()?;
                std::mem::take(w.inner_mut())
            }
        })
    }
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
