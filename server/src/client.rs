//! The command line as a client of a running `ordergraph serve`
//! (`--server URL`): queries, ingest and exports over the HTTP API, so they
//! work while the server holds the data directory.
//!
//! Answers come as Arrow IPC streams and are written by [`Output`] like a
//! local result. A server that is busy (429, 503) is asked again after its
//! `Retry-After`: every request here is safe to repeat.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::ipc::reader::StreamDecoder;
use indicatif::ProgressBar;
use ordergraph_engine::decode::DecodeError;
use ordergraph_engine::{Format, IngestReport};
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::encode::Encoding;
use crate::output::Output;

/// Times a busy server is asked again before giving up.
const RETRIES: u32 = 30;

/// CSV and NDJSON files are sent in parts of whole lines of about this
/// size, so a file of any size stays under the server's `max_body_mib`.
const PART_BYTES: usize = 32 << 20;

/// A running server and the login to use on it.
pub struct Client {
    base: String,
    http: reqwest::Client,
    login: Option<(String, String)>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An error answer of the server, as its JSON body gives it.
#[derive(Debug, thiserror::Error)]
#[error("{message} (HTTP {status})")]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
    /// Where in the input, for bad input.
    pub location: Option<DecodeError>,
}

impl Client {
    /// A client of the server at `url` (`http://host:port`), logging in as
    /// `login` (user, password) if given.
    pub fn new(url: &str, login: Option<(String, String)>) -> Result<Self> {
        let base = url.trim_end_matches('/').to_string();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            bail!("--server '{url}': give the server's HTTP address, e.g. http://127.0.0.1:7878");
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self { base, http, login })
    }

    /// Sends the request `build` makes, again while the server is busy, and
    /// returns a successful answer; an error answer becomes [`Refused`].
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<Response> {
        let mut attempt = 0;
        loop {
            let mut request = build(&self.http, &self.base);
            if let Some((user, password)) = &self.login {
                request = request.basic_auth(user, Some(password));
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("cannot reach the server at {}", self.base))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let busy = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            if busy && attempt < RETRIES {
                attempt += 1;
                let wait = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
                continue;
            }
            return Err(refused(response).await.into());
        }
    }

    /// Runs one query and writes its result to `out`.
    pub async fn query(&self, sql: &str, out: &mut Output) -> Result<()> {
        let response = self
            .send(|http, base| {
                http.post(format!("{base}/v1/sql"))
                    .header(ACCEPT, Encoding::Arrow.content_type())
                    .header(CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(sql.to_string())
            })
            .await?;
        read_arrow(response, out).await
    }

    /// Posts `body` as JSON to `path`; the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let response = self
            .send(|http, base| http.post(format!("{base}{path}")).json(body))
            .await?;
        Ok(response.json().await?)
    }

    /// Reads every page of the export at `path` (`/v1/segments/NAME`,
    /// `/v1/writeback`) with `query` into `out`, following `X-Next-Cursor`.
    pub async fn export(
        &self,
        path: &str,
        query: &[(&str, String)],
        out: &mut Output,
    ) -> Result<()> {
        let mut cursor: Option<String> = None;
        loop {
            let response = self
                .send(|http, base| {
                    let mut request = http
                        .get(format!("{base}{path}"))
                        .header(ACCEPT, Encoding::Arrow.content_type())
                        .query(query)
                        .query(&[("limit", "100000")]);
                    if let Some(cursor) = &cursor {
                        request = request.query(&[("cursor", cursor)]);
                    }
                    request
                })
                .await?;
            let next = response
                .headers()
                .get("x-next-cursor")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            read_arrow(response, out).await?;
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// Ingests `file` into `table`: a CSV or NDJSON file in parts of whole
    /// lines (each part applied whole or not at all), a Parquet file whole.
    /// `bar` counts the bytes sent.
    pub async fn ingest(
        &self,
        table: &str,
        file: &Path,
        bar: &ProgressBar,
    ) -> Result<IngestReport> {
        let format = Format::from_path(file).ok_or_else(|| {
            anyhow::anyhow!(
                "cannot tell the format of {}: use a .csv, .ndjson/.jsonl or .parquet extension",
                file.display()
            )
        })?;
        let content_type = match format {
            Format::Csv => "text/csv",
            Format::Ndjson => "application/x-ndjson",
            Format::Parquet => "application/vnd.apache.parquet",
        };
        let reader =
            std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        if let Ok(meta) = reader.metadata() {
            bar.set_length(meta.len());
        }
        let mut parts = Parts::new(reader, format, PART_BYTES);
        let mut total = IngestReport::default();
        while let Some(part) = parts
            .next_part()
            .with_context(|| format!("reading {}", file.display()))?
        {
            let sent = part.bytes.len() as u64;
            let report: IngestReport = match self
                .send(|http, base| {
                    http.post(format!("{base}/v1/ingest/{table}"))
                        .header(CONTENT_TYPE, content_type)
                        .body(part.bytes.clone())
                })
                .await
            {
                Ok(response) => response.json().await.context("reading the ingest report")?,
                Err(e) => return Err(in_file(e, file, &part)),
            };
            total.rows += report.rows;
            total.inserted += report.inserted;
            total.updated += report.updated;
            total.unchanged += report.unchanged;
            bar.inc(sent);
        }
        Ok(total)
    }
}

/// The server's error answer as [`Refused`].
async fn refused(response: Response) -> Refused {
    #[derive(serde::Deserialize)]
    struct Body {
        message: String,
        location: Option<DecodeError>,
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<Body>(&text) {
        Ok(body) => Refused {
            status,
            message: body.message,
            location: body.location,
        },
        Err(_) => Refused {
            status,
            message: if text.trim().is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                text.trim().to_string()
            },
            location: None,
        },
    }
}

/// An ingest error with its place in the file rather than in the part, and
/// what of the file is stored.
fn in_file(error: anyhow::Error, file: &Path, part: &Part) -> anyhow::Error {
    let stored = if part.first_line > 1 {
        format!(
            "; the lines before line {} are stored, and sending the file again is safe (stored rows come back unchanged)",
            part.first_line
        )
    } else {
        String::new()
    };
    match error.downcast::<Refused>() {
        Ok(Refused {
            location: Some(mut at),
            status,
            ..
        }) => {
            at.source = file.display().to_string();
            at.line += part.line_offset;
            anyhow::anyhow!("{at} (HTTP {status}){stored}")
        }
        Ok(refused) => anyhow::anyhow!("ingesting {}: {refused}{stored}", file.display()),
        Err(other) => other.context(format!("ingesting {}{stored}", file.display())),
    }
}

/// Decodes an Arrow IPC stream answer into `out`.
async fn read_arrow(mut response: Response, out: &mut Output) -> Result<()> {
    let mut decoder = StreamDecoder::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .context("the answer was cut off (see the server's log)")?
    {
        let mut buffer = Buffer::from(chunk);
        while !buffer.is_empty() {
            let batch = decoder.decode(&mut buffer)?;
            if let Some(schema) = decoder.schema() {
                out.start(schema)?;
            }
            if let Some(batch) = batch {
                out.batch(batch)?;
            }
        }
    }
    decoder
        .finish()
        .context("the answer was cut off (see the server's log)")?;
    Ok(())
}

/// A part of a file to send.
struct Part {
    bytes: bytes::Bytes,
    /// The file's line the part's first record is on.
    first_line: u64,
    /// What to add to a line number within the part for the file's.
    line_offset: u64,
}

/// A file cut into [`Part`]s: CSV and NDJSON at record ends (a CSV part
/// after the first starts with the header line again), Parquet whole.
struct Parts {
    reader: std::fs::File,
    format: Format,
    /// The size a part reaches before it is cut at the next record end.
    part_bytes: usize,
    /// The CSV header line, once read.
    header: Option<Vec<u8>>,
    /// Bytes read past the last part's end.
    carry: Vec<u8>,
    /// The file's line the next part starts on.
    line: u64,
    done: bool,
}

impl Parts {
    fn new(reader: std::fs::File, format: Format, part_bytes: usize) -> Self {
        Self {
            reader,
            format,
            part_bytes,
            header: None,
            carry: Vec::new(),
            line: 1,
            done: false,
        }
    }

    fn next_part(&mut self) -> std::io::Result<Option<Part>> {
        if self.done {
            return Ok(None);
        }
        let mut buffer = std::mem::take(&mut self.carry);
        if self.format == Format::Parquet {
            self.reader.read_to_end(&mut buffer)?;
            self.done = true;
            return Ok(Some(Part {
                bytes: buffer.into(),
                first_line: 1,
                line_offset: 0,
            }));
        }
        // Read until the buffer holds a record end past the wanted size,
        // or the file ends.
        let cut = loop {
            let before = buffer.len();
            let to_read = self.part_bytes - before.min(self.part_bytes / 2);
            (&mut self.reader)
                .take(to_read as u64)
                .read_to_end(&mut buffer)?;
            if buffer.len() == before {
                self.done = true;
                break buffer.len();
            }
            if buffer.len() >= self.part_bytes
                && let Some(end) = last_record_end(&buffer, self.format)
            {
                break end;
            }
        };
        self.carry = buffer.split_off(cut);
        if buffer.iter().all(u8::is_ascii_whitespace) {
            self.done = self.done || self.carry.is_empty();
            return if self.done {
                Ok(None)
            } else {
                self.next_part()
            };
        }
        let first_line = self.line;
        self.line += buffer.iter().filter(|&&b| b == b'\n').count() as u64;
        let (bytes, line_offset) = match (self.format, &self.header) {
            (Format::Csv, None) => {
                let end = first_record_end(&buffer);
                self.header = Some(buffer[..end].to_vec());
                (buffer, 0)
            }
            (Format::Csv, Some(header)) => {
                let mut with_header = header.clone();
                with_header.extend_from_slice(&buffer);
                let header_lines = header.iter().filter(|&&b| b == b'\n').count() as u64;
                (with_header, first_line - 1 - header_lines)
            }
            _ => (buffer, first_line - 1),
        };
        Ok(Some(Part {
            bytes: bytes.into(),
            first_line,
            line_offset,
        }))
    }
}

/// Where the last complete record of `bytes` ends (just past its line
/// end): for CSV, a line end outside quotes.
fn last_record_end(bytes: &[u8], format: Format) -> Option<usize> {
    match format {
        Format::Csv => {
            let mut quoted = false;
            let mut end = None;
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b'"' => quoted = !quoted,
                    b'\n' if !quoted => end = Some(i + 1),
                    _ => {}
                }
            }
            end
        }
        _ => bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1),
    }
}

/// Where the first CSV record (the header) ends, line end included.
fn first_record_end(bytes: &[u8]) -> usize {
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return i + 1,
            _ => {}
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cuts fall after whole records, never inside a quoted field.
    #[test]
    fn record_ends_respect_quotes() {
        let csv = b"a,b\n1,\"x\ny\"\n2,z";
        assert_eq!(last_record_end(csv, Format::Csv), Some(12));
        assert_eq!(first_record_end(csv), 4);
        assert_eq!(last_record_end(b"\"open\nquote", Format::Csv), None);
        assert_eq!(last_record_end(b"{}\n{\"a\"", Format::Ndjson), Some(3));
    }

    /// A CSV file in small parts: each part is the header and whole records,
    /// the records are the file's, in order, and a line of a part maps to
    /// the file's line.
    #[test]
    fn csv_parts_are_whole_records_with_the_header() {
        let mut text = String::from("id,note\n");
        for i in 0..40 {
            if i % 7 == 0 {
                text.push_str(&format!("r{i},\"two\nlines\"\n"));
            } else {
                text.push_str(&format!("r{i},plain\n"));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, &text).unwrap();
        let file_lines: Vec<&str> = text.lines().collect();
        let mut parts = Parts::new(std::fs::File::open(&path).unwrap(), Format::Csv, 50);
        let mut records = String::new();
        let mut count = 0;
        while let Some(part) = parts.next_part().unwrap() {
            count += 1;
            let part_text = std::str::from_utf8(&part.bytes).unwrap();
            let body = part_text
                .strip_prefix("id,note\n")
                .expect("the header first");
            assert!(part_text.ends_with('\n'), "{part_text:?}");
            assert_eq!(body.matches('"').count() % 2, 0, "{part_text:?}");
            records.push_str(body);
            for (i, line) in part_text.lines().enumerate().skip(1) {
                let file_line = i as u64 + 1 + part.line_offset;
                assert_eq!(file_lines[file_line as usize - 1], line);
            }
            if count > 1 {
                let first = body.lines().next().unwrap();
                assert_eq!(file_lines[part.first_line as usize - 1], first);
            }
        }
        assert!(count > 5, "{count} parts");
        assert_eq!(format!("id,note\n{records}"), text);
    }
}
