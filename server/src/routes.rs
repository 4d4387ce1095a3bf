//! Route handlers, one module per resource.

use axum::http::{StatusCode, Uri};

use crate::ApiError;

pub(crate) mod actions;
pub(crate) mod customers;
pub(crate) mod health;
pub(crate) mod ingest;
pub(crate) mod segments;
pub(crate) mod sql;

/// Unknown paths answer JSON like every other error.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no route for {}", uri.path()),
    )
}
