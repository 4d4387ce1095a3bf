//! `POST /v1/export`: writes the open tables now, to `[export] to`, and
//! answers with what it wrote (the manifest). Admins only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::Deserialize;

use crate::open_tables::{Manifest, table_names};
use crate::{ApiError, AppState};

/// The request: which tables, if not the configured ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    tables: Option<Vec<String>>,
}

pub(crate) async fn export(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Manifest>, ApiError> {
    let exporter = state.exporter.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_export",
            "no [export] to is configured in ordergraph.toml",
        )
    })?;
    let request: Request = if body.iter().all(u8::is_ascii_whitespace) {
        Request::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    if let Some(tables) = &request.tables {
        table_names(&state.engine, Some(tables))
            .await
            .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    }
    let manifest = exporter
        .run(&state.engine, request.tables)
        .await
        .map_err(|e| ApiError::internal(format!("{e:#}")))?;
    Ok(Json(manifest))
}
