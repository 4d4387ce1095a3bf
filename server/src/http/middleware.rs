//! Layers in front of the handlers: logins and each role's paths, and
//! back-pressure on ingest.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::access;

/// Paths open to anyone: what load balancers, probes and Prometheus read.
const OPEN_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/v1/version"];

/// Lets a request through only with credentials whose role may call its
/// path (see [`access::role_allows`]): an `Authorization` header, or a
/// console session's cookie, with its CSRF token on anything but a read.
/// [`OPEN_PATHS`] are open, and so are the console's files and login,
/// which check the session themselves.
pub(super) async fn require_login(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(logins) = &state.logins else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    if OPEN_PATHS.contains(&path.as_str()) || path == "/" || path.starts_with("/console/") {
        return next.run(request).await;
    }
    let has_authorization = request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION);
    if !has_authorization
        && !logins.is_open()
        && let Some((_, session)) = state.sessions.of(request.headers())
    {
        let reads = matches!(
            *request.method(),
            axum::http::Method::GET | axum::http::Method::HEAD
        );
        if !reads && !session.csrf_matches(request.headers()) {
            return crate::console::csrf_refused().into_response();
        }
        if !access::role_allows(session.role, &path) {
            return refusal(access::Refused::Forbidden(session.role), &path);
        }
        let answered_for = AnsweredFor(session.user.clone());
        request.extensions_mut().insert(access::Caller {
            user: session.user,
            role: session.role,
        });
        let mut response = next.run(request).await;
        response.extensions_mut().insert(answered_for);
        return response;
    }
    let from = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let authorization = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match logins.admit_http(authorization, from, &path).await {
        Ok((user, role)) => {
            let answered_for = AnsweredFor(user.clone());
            request
                .extensions_mut()
                .insert(access::Caller { user, role });
            let mut response = next.run(request).await;
            response.extensions_mut().insert(answered_for);
            response
        }
        Err(refused) => refusal(refused, &path),
    }
}

/// The answer to a request `logins` refused, counted by status.
fn refusal(refused: access::Refused, path: &str) -> Response {
    let response = match refused {
        access::Refused::Unauthenticated => {
            let mut response = ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "log in with HTTP Basic (curl -u user:password) or Authorization: Bearer user:password",
            )
            .into_response();
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"ordergraph\""),
            );
            response
        }
        access::Refused::Throttled => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_logins",
            "too many failed logins from this address; try again in a minute",
        )
        .into_response(),
        access::Refused::Forbidden(role) => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {} may not call {path}", role.as_str()),
        )
        .into_response(),
    };
    metrics::counter!(
        "ordergraph_http_refused_total",
        "status" => response.status().as_str().to_string()
    )
    .increment(1);
    response
}

/// Counts every request a route answered, by route and status, and times
/// it (until its response starts); ingest requests also by table.
pub(super) async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(String::new, |p| p.as_str().to_string());
    // Only known tables name a series, so no request makes new ones.
    let table = route.starts_with("/v1/ingest/").then(|| {
        let name = request.uri().path().rsplit('/').next().unwrap_or("");
        match ordergraph_engine::table::table(name) {
            Some(def) => def.name,
            None => "unknown",
        }
    });
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_str().to_string();
    metrics::histogram!("ordergraph_http_request_seconds", "route" => route.clone())
        .record(started.elapsed());
    if let Some(table) = table {
        metrics::counter!(
            "ordergraph_ingest_requests_total",
            "table" => table,
            "status" => status.clone()
        )
        .increment(1);
    }
    metrics::counter!("ordergraph_http_requests_total", "route" => route, "status" => status)
        .increment(1);
    response
}

/// Refuses an ingest request at once, before its body is read, when
/// `max_pending_ingests` are already in flight: the client retries later
/// instead of the server queueing without bound.
pub(super) async fn ingest_backpressure(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(_slot) = state.ingest_slots.clone().try_acquire_owned() else {
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many ingest requests in flight; retry after the time in Retry-After",
        )
        .into_response();
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, 1.into());
        return response;
    };
    next.run(request).await
}

/// Who a request was answered for, set on the response by
/// [`require_login`] for the access log.
#[derive(Debug, Clone)]
pub(super) struct AnsweredFor(pub(super) String);

/// One log line per request (target `ordergraph::access`): method, path,
/// status, time to the response's start, the user, and the body's size
/// when known before it is sent (a streamed answer's is not).
pub(super) async fn access_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let user = response
        .extensions()
        .get::<AnsweredFor>()
        .map_or("-", |u| u.0.as_str());
    let bytes = response
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info!(
        target: "ordergraph::access",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        user,
        bytes,
        "request"
    );
    response
}
