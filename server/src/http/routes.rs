//! Route handlers, one module per resource.

use axum::http::Uri;
use ordergraph_engine::Role;

use crate::access::{ANONYMOUS, Caller};
use crate::{ApiError, AppState};

pub(crate) mod actions;
pub(crate) mod alerts;
pub(crate) mod corrections;
pub(crate) mod customers;
pub(crate) mod erasure;
pub(crate) mod health;
pub(crate) mod holds;
pub(crate) mod ingest;
pub(crate) mod open_tables;
pub(crate) mod reports;
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

/// Who acts, the role whose rules apply, and the role as recorded: the
/// logged-in user, or on a server that asks for no login (no users, or
/// `--dev`) `anonymous`, with an admin's rules, recorded as role `open`.
pub(crate) fn actor(state: &AppState, caller: Option<&Caller>) -> (String, Role, &'static str) {
    let open = state.logins.as_ref().is_none_or(|l| l.is_open());
    match caller {
        Some(c) if !open => (c.user.clone(), c.role, c.role.as_str()),
        _ => (ANONYMOUS.to_string(), Role::Admin, "open"),
    }
}

/// Runs `work` on the engine on a blocking thread (it fsyncs).
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&ordergraph_engine::Engine) -> ordergraph_engine::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = state.engine.clone();
    match tokio::task::spawn_blocking(move || work(&engine)).await {
        Ok(done) => Ok(done?),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// 201 for an action done now, 200 for one that was done before.
pub(crate) fn done_status(already: bool) -> axum::http::StatusCode {
    if already {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CREATED
    }
}

/// Unknown paths answer JSON like every other error.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}
