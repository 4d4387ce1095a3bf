//! `GET /v1/reports/drift/{YYYY-MM}.pdf`: the monthly status drift report
//! (see [`crate::drift_report`]).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::drift_report::{DriftReport, parse_month};
use crate::{ApiError, AppState};

/// The drift report of the month `{YYYY-MM}.pdf` names.
pub(crate) async fn drift_pdf(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let month = file
        .strip_suffix(".pdf")
        .and_then(parse_month)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "'{file}' is not a month's report: ask for YYYY-MM.pdf, e.g. 2026-06.pdf"
            ))
        })?;
    let report = DriftReport::of(&state, month)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no status events in {month}")))?;
    let now = chrono::Utc::now();
    let pdf = tokio::task::spawn_blocking(move || report.render(now))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"drift-{month}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
