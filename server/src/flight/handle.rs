//! Statement handles and tickets: stateless, they carry the SQL and its
//! bound parameters, and are admitted again whenever they are used.

use base64::Engine as _;
use datafusion::common::ScalarValue;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use tonic::Status;

/// A statement as handles and tickets carry it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Handle {
    pub(super) sql: String,
    /// The bound parameter row, as an Arrow IPC stream (base64).
    pub(super) params: Option<String>,
}

impl Handle {
    pub(super) fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a handle serializes")
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, Status> {
        serde_json::from_slice(bytes)
            .map_err(|_| Status::invalid_argument("not a statement handle of this server"))
    }

    /// The bound values of `$1`, `$2`, ...
    pub(super) fn values(&self) -> Result<Vec<ScalarValue>, Status> {
        let Some(params) = &self.params else {
            return Ok(Vec::new());
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(params)
            .map_err(|_| Status::invalid_argument("bad parameters in the handle"))?;
        let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(
            std::io::Cursor::new(bytes),
            None,
        )
        .map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?;
        let mut values = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?;
            if batch.num_rows() == 0 {
                continue;
            }
            for column in batch.columns() {
                values.push(
                    ScalarValue::try_from_array(column, 0)
                        .map_err(|e| Status::invalid_argument(format!("parameters: {e}")))?,
                );
            }
            break;
        }
        Ok(values)
    }
}

/// `?` placeholders (the ADBC and JDBC style) as `$1`, `$2`, ... in text
/// order; a `?` inside a string literal is part of the literal.
pub(super) fn numbered_placeholders(sql: &str) -> Result<String, Status> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let mut n = 0;
    let mut out = String::with_capacity(sql.len());
    for token in tokens {
        match token {
            Token::Placeholder(p) if p == "?" => {
                n += 1;
                out.push_str(&format!("${n}"));
            }
            other => out.push_str(&other.to_string()),
        }
    }
    Ok(out)
}
