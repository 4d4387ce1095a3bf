//! One error type for every handler: user mistakes are 4xx with a message,
//! failures of ours are 500 with "internal error" (the detail goes to the log).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ordergraph_engine::Error as EngineError;
use serde_json::json;

use crate::access::Refusal;

/// An error answered as `{"error": code, "message": ...}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Where in the input, for bad input.
    location: Option<serde_json::Value>,
    /// What exactly was wrong, for errors about many things at once.
    detail: Option<serde_json::Value>,
}

impl ApiError {
    /// A 4xx error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            location: None,
            detail: None,
        }
    }

    /// A 400 for a request that is wrong as sent.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A 404 for something the request names that does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The same error with `detail` in its body.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// A 500 whose detail is logged, not returned.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match &e {
            EngineError::Decode(d) => {
                let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad_input", e.to_string());
                err.location = Some(
                    json!({"source": d.source, "line": d.line, "column": d.column, "reason": d.reason}),
                );
                err
            }
            EngineError::UnknownTable(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_table", e.to_string())
            }
            EngineError::UnknownFormat(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_format",
                e.to_string(),
            ),
            EngineError::DataFusion(d) => d.into(),
            EngineError::NotFound(_) => ApiError::not_found(e.to_string()),
            EngineError::Invalid(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            EngineError::Conflict { with, .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
                    .with_detail(json!({ "conflicts_with": with }))
            }
            _ if e.is_user_error() => {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string())
            }
            _ => ApiError::internal(&e),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::MayNotQuery(_) | Refusal::MayNotRead { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", refusal.to_string())
            }
            Refusal::NotReadOnly(e) | Refusal::Sql(e) => (&e).into(),
            Refusal::Engine(e) => e.into(),
        }
    }
}

impl From<&datafusion::error::DataFusionError> for ApiError {
    fn from(e: &datafusion::error::DataFusionError) -> Self {
        if let datafusion::error::DataFusionError::ResourcesExhausted(message) = e.find_root() {
            if message.starts_with(ordergraph_engine::QUERY_CAP_EXCEEDED) {
                // The query itself is too big for its role's cap: asking
                // again will not help, a smaller query will.
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "query_memory_limit",
                    format!(
                        "the query needs more memory than [limits] query_memory_mib allows \
                         one query of this role: {message}"
                    ),
                );
            }
            // The shared query memory is used up: this query is refused,
            // the server goes on.
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "resources_exhausted",
                format!(
                    "the query needs more memory than [limits] memory_limit_mib leaves it: {message}"
                ),
            );
        }
        if ordergraph_engine::is_user_datafusion_error(e) {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_sql",
                e.find_root().to_string(),
            )
        } else {
            ApiError::internal(e)
        }
    }
}

impl From<datafusion::error::DataFusionError> for ApiError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        (&e).into()
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    /// A body that could not be read: too large (413, see `[limits]
    /// max_body_mib`) or cut off by the client (400).
    fn from(e: axum::extract::rejection::BytesRejection) -> Self {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, code, e.body_text())
    }
}

impl ApiError {
    /// The JSON body of the error: `{"error": code, "message": ...}` and,
    /// where known, `location` and `detail`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(location) = &self.location {
            body["location"] = location.clone();
        }
        if let Some(detail) = &self.detail {
            body["detail"] = detail.clone();
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_json();
        (self.status, Json(body)).into_response()
    }
}
