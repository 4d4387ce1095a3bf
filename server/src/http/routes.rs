//! Route handlers, one module per resource.

use axum::http::Uri;

use crate::ApiError;

pub(crate) mod actions;
pub(crate) mod customers;
pub(crate) mod health;
pub(crate) mod ingest;
pub(crate) mod segments;
pub(crate) mod sql;

/// A SQL string literal.
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `text` if it has the shape of an MCID (a path segment, a page cursor):
/// letters and digits only, so that it can be quoted into SQL, and at
/// most 32 of them.
pub(crate) fn mcid_shaped(text: &str) -> Option<&str> {
    let shaped =
        !text.is_empty() && text.len() <= 32 && text.bytes().all(|b| b.is_ascii_alphanumeric());
    shaped.then_some(text)
}

/// Unknown paths answer JSON like every other error.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}
