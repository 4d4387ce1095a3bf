//! The console: pages for the people who run the shop (boards, charts,
//! customer search with its lineage graph, segments, SQL), served at `/`
//! on the API's listener. The pages are plain files under
//! `server/console/`, embedded in the binary, and read the API the way any
//! client does; a browser logs in once and holds a session cookie (see
//! [`sessions`]).

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ordergraph_engine::Role;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::{self, Refused, role_allows};
use crate::http::{ApiError, AppState};

pub mod sessions;

pub use sessions::{Session, Sessions};

/// A file of the console.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../console/", $name)),
        }
    };
}

/// Every file the console serves under `/console/`.
const ASSETS: &[Asset] = &[
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("pages.js", "text/javascript; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("messages.zh.json", "application/json"),
    asset!("messages.en.json", "application/json"),
    asset!("vendor/echarts.min.js", "text/javascript; charset=utf-8"),
];

const INDEX: &str = include_str!("../console/index.html");

/// The pages, each with the API path it reads: a role sees a page when it
/// may call that path.
const PAGES: [(&str, &str); 7] = [
    ("overview", "/v1/sql"),
    ("status", "/v1/sql"),
    ("refunds", "/v1/sql"),
    ("stock", "/v1/sql"),
    ("customers", "/v1/customers"),
    ("segments", "/v1/segments"),
    ("sql", "/v1/sql"),
];

/// Headers of every console answer: no framing by other sites, and
/// scripts from this server only.
fn guarded(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /`: the console's page.
pub async fn index() -> Response {
    guarded(
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            INDEX,
        )
            .into_response(),
    )
}

/// `GET /console/{*file}`: a file of the console.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => guarded(
            (
                [
                    (header::CONTENT_TYPE, a.content_type),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                a.body,
            )
                .into_response(),
        ),
        None => ApiError::not_found(format!("no console file '{file}'")).into_response(),
    }
}

/// What the console shows a caller: who, which pages and actions, the
/// token actions echo, and the time zone times are shown in.
fn session_json(state: &AppState, user: &str, role: Role, csrf: &str, open: bool) -> Value {
    let pages: Vec<&str> = PAGES
        .iter()
        .filter(|(_, path)| role_allows(role, path))
        .map(|(page, _)| *page)
        .collect();
    json!({
        "user": user,
        "role": role.as_str(),
        "pages": pages,
        "masked": role.sees_contacts_masked(),
        "csrf": csrf,
        "open": open,
        "may_force_sync": role_allows(role, "/v1/orders/x/y/force-sync"),
        "may_see_alerts": role_allows(role, "/v1/alerts"),
        "timezone": state.engine.config().report.timezone,
    })
}

/// The session of everyone on a server that asks for no login: the
/// anonymous admin.
fn open_session(state: &AppState) -> Response {
    Json(session_json(
        state,
        access::ANONYMOUS,
        Role::Admin,
        "",
        true,
    ))
    .into_response()
}

/// `GET /console/session`: the caller's session, or 401 before a login.
/// Without `[[users]]` (or with `--dev`) everyone is the anonymous admin,
/// as on the API.
pub async fn session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let open = state.logins.as_ref().is_none_or(|l| l.is_open());
    if open {
        return open_session(&state);
    }
    match state.sessions.of(&headers) {
        Some((_, s)) => Json(session_json(&state, &s.user, s.role, &s.csrf, false)).into_response(),
        None => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "log in").into_response(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    user: String,
    password: String,
}

/// `POST /console/login` with JSON `{"user", "password"}` (JSON only, so
/// another site's form cannot post it): opens a session and sets its
/// cookie. Failed logins count against the address as on the API.
pub async fn login(State(state): State<AppState>, request: Request) -> Response {
    let from = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let Json(form) = match Json::<LoginForm>::from_request(request, &state).await {
        Ok(form) => form,
        Err(e) => return ApiError::bad_request(e.body_text()).into_response(),
    };
    let Some(logins) = state.logins.as_ref().filter(|l| !l.is_open()) else {
        return open_session(&state);
    };
    match logins.login(from, &form.user, &form.password).await {
        Ok(role) => {
            let (key, s) = state.sessions.open(&form.user, role);
            tracing::info!(user = %form.user, role = role.as_str(), "console login");
            let mut response =
                Json(session_json(&state, &s.user, role, &s.csrf, false)).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&sessions::set_cookie(Some(&key)))
                    .expect("a hex token is a header value"),
            );
            response
        }
        Err(Refused::Throttled) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failed_logins",
            "too many failed logins from this address; try again in a minute",
        )
        .into_response(),
        Err(_) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong user name or password",
        )
        .into_response(),
    }
}

/// `POST /console/logout` (with the session's CSRF token): ends the
/// session and clears its cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some((key, s)) = state.sessions.of(&headers) {
        if !s.csrf_matches(&headers) {
            return csrf_refused().into_response();
        }
        state.sessions.close(&key);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&sessions::set_cookie(None)).expect("a plain header value"),
    );
    response
}

/// The answer to an action whose CSRF token is missing or wrong.
pub fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "this action needs the session's X-CSRF-Token header",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(file: &str) -> std::collections::BTreeSet<String> {
        let asset = ASSETS.iter().find(|a| a.name == file).unwrap();
        let messages: serde_json::Map<String, Value> = serde_json::from_slice(asset.body).unwrap();
        messages.keys().cloned().collect()
    }

    /// Both languages have every message, and every message the pages ask
    /// for by name exists.
    #[test]
    fn every_message_is_in_both_languages() {
        let (zh, en) = (keys("messages.zh.json"), keys("messages.en.json"));
        assert_eq!(zh, en);
        for file in ["app.js", "pages.js"] {
            let code =
                std::str::from_utf8(ASSETS.iter().find(|a| a.name == file).unwrap().body).unwrap();
            let name = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_';
            for quote in ['\'', '`'] {
                let call = format!("t({quote}");
                for (at, _) in code.match_indices(&call) {
                    // `t(`, not the end of `get(`.
                    if code[..at].chars().next_back().is_some_and(name) {
                        continue;
                    }
                    let part = &code[at + call.len()..];
                    let key: String = part.chars().take_while(|&c| name(c)).collect();
                    if part[key.len()..].starts_with(quote) {
                        assert!(zh.contains(&key), "{file}: message '{key}' missing");
                    }
                }
            }
        }
        for (page, _) in PAGES {
            assert!(zh.contains(&format!("page.{page}")), "page.{page}");
        }
        for role in ["admin", "analyst", "support", "marketing", "ingest"] {
            assert!(zh.contains(&format!("role.{role}")), "role.{role}");
        }
    }
}
