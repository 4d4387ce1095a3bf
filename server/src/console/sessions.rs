//! Console sessions: a browser that logged in holds a random token in an
//! `HttpOnly`, `SameSite=Strict` cookie; the server keeps who it is, the
//! role, and the token every action must echo in `X-CSRF-Token`. Sessions
//! live in memory: a restart logs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::http::HeaderMap;
use ordergraph_engine::Role;

/// The cookie holding the session token.
pub const COOKIE: &str = "ordergraph_session";

/// The header an action sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts from its login.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Sessions at most; the oldest go first beyond it.
const MAX_SESSIONS: usize = 10_000;

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The token actions echo in [`CSRF_HEADER`].
    pub csrf: String,
    expires: Instant,
}

/// The sessions open, by token.
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes, hex.
fn token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// Opens a session for `user`; returns its token.
    pub fn open(&self, user: &str, role: Role) -> (String, Session) {
        let session = Session {
            user: user.to_string(),
            role,
            csrf: token(),
            expires: Instant::now() + LIFETIME,
        };
        let key = token();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        open.retain(|_, s| s.expires > now);
        if open.len() >= MAX_SESSIONS
            && let Some(oldest) = open
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            open.remove(&oldest);
        }
        open.insert(key.clone(), session.clone());
        (key, session)
    }

    /// The session of a request's cookie, if it is open.
    pub fn of(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let key = cookie(headers, COOKIE)?;
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let session = open.get(key).filter(|s| s.expires > Instant::now())?;
        Some((key.to_string(), session.clone()))
    }

    /// Ends the session `key`.
    pub fn close(&self, key: &str) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

impl Session {
    /// Whether a request carries this session's CSRF token.
    pub fn csrf_matches(&self, headers: &HeaderMap) -> bool {
        headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| constant_time_eq(t.as_bytes(), self.csrf.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value that stores `key`, or (`None`) removes it.
pub fn set_cookie(key: Option<&str>) -> String {
    match key {
        Some(key) => format!(
            "{COOKIE}={key}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
            LIFETIME.as_secs()
        ),
        None => format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_cookie_until_closed() {
        let sessions = Sessions::default();
        let (key, session) = sessions.open("ops", Role::Support);
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            format!("theme=dark; {COOKIE}={key}").parse().unwrap(),
        );
        let (_, found) = sessions.of(&headers).unwrap();
        assert_eq!((found.user.as_str(), found.role), ("ops", Role::Support));
        assert!(!found.csrf_matches(&headers));
        headers.insert(CSRF_HEADER, session.csrf.parse().unwrap());
        assert!(found.csrf_matches(&headers));
        sessions.close(&key);
        assert!(sessions.of(&headers).is_none());
        let mut other = HeaderMap::new();
        other.insert(
            axum::http::header::COOKIE,
            format!("{COOKIE}={}", "0".repeat(64)).parse().unwrap(),
        );
        assert!(sessions.of(&other).is_none());
    }
}
