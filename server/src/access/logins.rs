//! Who may use the server: the `[[users]]` of ordergraph.toml, their
//! Argon2 password hashes, and a brake on guessing. Shared by the HTTP
//! API, the Postgres protocol and Flight SQL.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use ordergraph_engine::Role;
use tokio::sync::{Notify, Semaphore};

use super::roles::role_allows;
use crate::settings::User;

/// The user name of callers admitted without a login (see
/// [`Logins::is_open`]), as actions record it.
pub const ANONYMOUS: &str = "anonymous";

/// Failed logins from one address within [`FAILURE_WINDOW`] after which
/// further attempts are refused without checking the password.
const MAX_FAILURES: u32 = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Password checks run at once: each holds Argon2's 19 MiB and a core for
/// tens of milliseconds, so a burst of logins queues instead of piling up.
const MAX_CHECKS: usize = 4;

/// Addresses tracked before those with nothing recent are dropped.
const MAX_TRACKED: usize = 4096;

/// An Argon2id PHC string of `password` with a random salt, as
/// `[[users]] password_hash` wants it.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    use argon2::password_hash::rand_core::OsRng;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// The configured users, and recent failed logins per client address.
pub struct Logins {
    users: HashMap<String, (Role, String)>,
    /// Checked for unknown users, so that a wrong name takes as long as a
    /// wrong password.
    dummy: String,
    dev: bool,
    /// Login attempts per client address.
    attempts: Mutex<HashMap<IpAddr, Attempts>>,
    /// Woken whenever an attempt ends, for attempts waiting their turn.
    ended: Notify,
    /// One permit per password check running (see [`MAX_CHECKS`]).
    checks: Arc<Semaphore>,
    /// HTTP credentials already verified, by a keyed hash of the header, so
    /// Argon2 (tens of milliseconds by design) runs once per credential
    /// rather than on every request.
    verified: Mutex<HashMap<u64, (String, Role)>>,
    keys: RandomState,
}

impl Debug for Logins {
    // Names only: hashes are secrets too.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logins")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

impl Logins {
    /// Whether the server runs in `--dev` mode (no passwords).
    pub fn dev(&self) -> bool {
        self.dev
    }

    /// Whether any user is configured.
    pub fn has_users(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether every caller is admitted without a password (`--dev`, or no
    /// users), as [`ANONYMOUS`] with an admin's rights.
    pub fn is_open(&self) -> bool {
        self.dev || self.users.is_empty()
    }

    /// Checks every stored hash parses, so a typo stops start-up instead
    /// of locking a user out later.
    pub fn new(users: &[User], dev: bool) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        for user in users {
            PasswordHash::new(&user.password_hash).map_err(|e| {
                anyhow::anyhow!(
                    "[[users]] '{}': password_hash is not an Argon2 PHC string ({e}); \
                     `ordergraph hash-password` prints one",
                    user.name
                )
            })?;
            map.insert(user.name.clone(), (user.role, user.password_hash.clone()));
        }
        Ok(Self {
            users: map,
            dummy: hash_password("not a password")?,
            dev,
            attempts: Mutex::new(HashMap::new()),
            ended: Notify::new(),
            checks: Arc::new(Semaphore::new(MAX_CHECKS)),
            verified: Mutex::new(HashMap::new()),
            keys: RandomState::new(),
        })
    }

    /// The attempts of every address, locked.
    fn tracked(&self) -> MutexGuard<'_, HashMap<IpAddr, Attempts>> {
        self.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `from` failed too often lately to be heard now. An address
    /// with nothing recent is forgotten here.
    pub fn throttled(&self, from: IpAddr) -> bool {
        let mut tracked = self.tracked();
        let Some(attempts) = tracked.get(&from).copied() else {
            return false;
        };
        if attempts.idle() {
            tracked.remove(&from);
        }
        attempts.recent() >= MAX_FAILURES
    }

    /// The role of `user` if `password` is theirs, for a client at `from`;
    /// refused unchecked while `from` is throttled. An attempt counts from
    /// the moment it starts, as a failure until its check succeeds, so a
    /// burst is seen at once: an address runs no more checks at a time than
    /// it has failures left, and further attempts wait for one to end.
    pub async fn login(&self, from: IpAddr, user: &str, password: &str) -> Result<Role, Refused> {
        let mut attempt = loop {
            // Made before the count is read, so an attempt ending in
            // between still wakes this one.
            let ended = self.ended.notified();
            match self.start(from) {
                Start::Check => {
                    break Attempt {
                        logins: self,
                        from,
                        ok: false,
                    };
                }
                Start::Wait => ended.await,
                Start::Throttled => return Err(Refused::Throttled),
            }
        };
        let role = self.verify(user, password).await;
        attempt.ok = role.is_some();
        drop(attempt);
        role.ok_or(Refused::Unauthenticated)
    }

    /// Counts an attempt from `from` as it starts, if it may check a
    /// password now. Past [`MAX_TRACKED`] addresses, those with nothing
    /// recent are dropped first.
    fn start(&self, from: IpAddr) -> Start {
        let mut tracked = self.tracked();
        if tracked.len() >= MAX_TRACKED && !tracked.contains_key(&from) {
            tracked.retain(|_, attempts| !attempts.idle());
        }
        let attempts = tracked.entry(from).or_insert(Attempts {
            failed: 0,
            running: 0,
            at: Instant::now(),
        });
        let failed = attempts.recent();
        if failed >= MAX_FAILURES {
            Start::Throttled
        } else if failed + attempts.running >= MAX_FAILURES {
            Start::Wait
        } else {
            attempts.running += 1;
            Start::Check
        }
    }

    /// Ends an attempt from `from`: a success forgets the address's
    /// failures, anything else is one more.
    fn end(&self, from: IpAddr, ok: bool) {
        let mut tracked = self.tracked();
        if let Some(attempts) = tracked.get_mut(&from) {
            attempts.running = attempts.running.saturating_sub(1);
            if ok {
                attempts.failed = 0;
            } else {
                attempts.failed = attempts.recent() + 1;
                attempts.at = Instant::now();
            }
            if attempts.idle() {
                tracked.remove(&from);
            }
        }
        drop(tracked);
        self.ended.notify_waiters();
    }

    /// The role of `user` if `password` is theirs. Unknown users are
    /// checked against a dummy hash so both answers take as long. At most
    /// [`MAX_CHECKS`] checks run at once.
    async fn verify(&self, user: &str, password: &str) -> Option<Role> {
        let (role, hash) = match self.users.get(user) {
            Some((role, hash)) => (Some(*role), hash.clone()),
            None => (None, self.dummy.clone()),
        };
        let password = password.to_string();
        let permit = self.checks.clone().acquire_owned().await.ok()?;
        let ok = tokio::task::spawn_blocking(move || {
            let ok = PasswordHash::new(&hash).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            });
            // Held by the check itself: it runs on if its caller gives up.
            drop(permit);
            ok
        })
        .await
        .unwrap_or(false);
        role.filter(|_| ok)
    }
}

/// Login attempts from one address.
#[derive(Debug, Clone, Copy)]
struct Attempts {
    /// Failures, the last at `at`; forgotten [`FAILURE_WINDOW`] after it.
    failed: u32,
    /// Attempts started and not yet ended.
    running: u32,
    at: Instant,
}

impl Attempts {
    /// Failures that still count.
    fn recent(&self) -> u32 {
        if self.at.elapsed() < FAILURE_WINDOW {
            self.failed
        } else {
            0
        }
    }

    /// Whether nothing about the address counts any more.
    fn idle(&self) -> bool {
        self.running == 0 && self.recent() == 0
    }
}

/// What a new login attempt from an address may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Check the password (the attempt is counted).
    Check,
    /// Wait for one of the address's attempts to end: as many are running
    /// as it has failures left.
    Wait,
    /// Be refused: the address failed too often lately.
    Throttled,
}

/// A login attempt being checked. Ends when dropped, as a failure unless
/// its check succeeded, so an attempt given up mid-check counts too.
struct Attempt<'a> {
    logins: &'a Logins,
    from: IpAddr,
    ok: bool,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.logins.end(self.from, self.ok);
    }
}

/// Verified HTTP credentials kept at most; beyond, the cache starts over.
const MAX_VERIFIED: usize = 4096;

/// Base64 with or without `=` padding: Go's HTTP clients (the ADBC Flight
/// SQL driver among them) leave it out.
const BASIC: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The user and password of an `Authorization` header: `Basic` (base64 of
/// `user:password`, what `curl -u` sends) or `Bearer user:password`.
fn credentials(header: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let (scheme, value) = header.trim().split_once(' ')?;
    let pair = if scheme.eq_ignore_ascii_case("basic") {
        let bytes = BASIC.decode(value.trim()).ok()?;
        String::from_utf8(bytes).ok()?
    } else if scheme.eq_ignore_ascii_case("bearer") {
        value.trim().to_string()
    } else {
        return None;
    };
    let (user, password) = pair.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Who is logged in: an extension of the HTTP requests and Postgres
/// connections that did.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub role: Role,
}

impl Caller {
    /// Whether the caller sees phones and emails masked.
    pub fn restricted(&self) -> bool {
        super::Gate::masked(Some(self.role))
    }
}

/// Why a request was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No or wrong credentials: 401.
    Unauthenticated,
    /// Too many failures from the address lately: 429.
    Throttled,
    /// The role may not call this path: 403.
    Forbidden(Role),
}

impl Logins {
    /// The user behind an HTTP request's `Authorization` header, if the
    /// role may call `path`. With `--dev`, or no users configured, every
    /// request is admitted as admin.
    pub async fn admit_http(
        &self,
        authorization: Option<&str>,
        from: IpAddr,
        path: &str,
    ) -> Result<(String, Role), Refused> {
        let (user, role) = self.admit(authorization, from).await?;
        if role_allows(role, path) {
            Ok((user, role))
        } else {
            Err(Refused::Forbidden(role))
        }
    }

    /// The user behind an `Authorization` value (HTTP header or gRPC
    /// metadata): `Basic` or `Bearer user:password`. With `--dev`, or no
    /// users configured, everyone is admin.
    pub async fn admit(
        &self,
        authorization: Option<&str>,
        from: IpAddr,
    ) -> Result<(String, Role), Refused> {
        if self.is_open() {
            return Ok((ANONYMOUS.to_string(), Role::Admin));
        }
        let header = authorization.ok_or(Refused::Unauthenticated)?;
        let key = self.keys.hash_one(header);
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(found) = cached {
            return Ok(found);
        }
        if self.throttled(from) {
            return Err(Refused::Throttled);
        }
        let (user, password) = credentials(header).ok_or(Refused::Unauthenticated)?;
        let role = self.login(from, &user, &password).await?;
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(key, (user.clone(), role));
        Ok((user, role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode_with_or_without_padding() {
        // base64("ana:analyst pw") is 20 characters, the last one padding.
        let padded = "Basic YW5hOmFuYWx5c3QgcHc=";
        let unpadded = "Basic YW5hOmFuYWx5c3QgcHc";
        let expected = Some(("ana".to_string(), "analyst pw".to_string()));
        assert_eq!(credentials(padded), expected);
        assert_eq!(credentials(unpadded), expected);
        assert_eq!(credentials("bearer ana:analyst pw"), expected);
        assert_eq!(credentials("Basic !!!"), None);
        assert_eq!(credentials("Basic YW5h"), None, "no colon");
        assert_eq!(credentials("Digest abc"), None);
    }

    /// Waits until `from` has `running` attempts counted.
    async fn until_running(logins: &Logins, from: IpAddr, running: u32) {
        let started = Instant::now();
        while logins.tracked().get(&from).map(|a| a.running) != Some(running) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the attempts did not start"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Takes every check's permit, so that no password check may run.
    async fn hold_every_check(logins: &Logins) -> tokio::sync::OwnedSemaphorePermit {
        logins
            .checks
            .clone()
            .acquire_many_owned(MAX_CHECKS as u32)
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_wrong_passwords_is_throttled_as_it_starts() {
        let logins = Arc::new(Logins::new(&[], false).unwrap());
        let from = IpAddr::from([192, 0, 2, 1]);
        let permits = hold_every_check(&logins).await;
        let burst: Vec<_> = (0..20)
            .map(|_| {
                let logins = logins.clone();
                tokio::spawn(async move { logins.login(from, "admin", "guess").await })
            })
            .collect();
        // Counted as they start, before any check has ended: no more
        // attempts than failures allowed go on, the rest wait.
        until_running(&logins, from, MAX_FAILURES).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(burst.iter().all(|task| !task.is_finished()));
        assert_eq!(logins.tracked()[&from].running, MAX_FAILURES);
        drop(permits);
        let (mut checked, mut refused) = (0u32, 0u32);
        for task in burst {
            match task.await.unwrap() {
                Err(Refused::Unauthenticated) => checked += 1,
                Err(Refused::Throttled) => refused += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((checked, refused), (MAX_FAILURES, 20 - MAX_FAILURES));
        assert!(logins.throttled(from));
        assert_eq!(logins.checks.available_permits(), MAX_CHECKS);
    }

    #[tokio::test]
    async fn an_attempt_given_up_mid_check_counts_as_failed() {
        let logins = Arc::new(Logins::new(&[], false).unwrap());
        let from = IpAddr::from([192, 0, 2, 2]);
        let permits = hold_every_check(&logins).await;
        let task = {
            let logins = logins.clone();
            tokio::spawn(async move { logins.login(from, "admin", "guess").await })
        };
        until_running(&logins, from, 1).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        let attempts = logins.tracked()[&from];
        assert_eq!((attempts.failed, attempts.running), (1, 0));
        drop(permits);
    }

    #[tokio::test]
    async fn a_right_password_forgets_the_failures_before_it() {
        let users = [User {
            name: "ana".into(),
            role: Role::Analyst,
            password_hash: hash_password("analyst pw").unwrap(),
        }];
        let logins = Logins::new(&users, false).unwrap();
        let from = IpAddr::from([192, 0, 2, 3]);
        for _ in 1..MAX_FAILURES {
            let refused = logins.login(from, "ana", "guess").await;
            assert_eq!(refused, Err(Refused::Unauthenticated));
        }
        assert_eq!(logins.tracked()[&from].failed, MAX_FAILURES - 1);
        let admitted = logins.login(from, "ana", "analyst pw").await;
        assert_eq!(admitted, Ok(Role::Analyst));
        assert!(logins.tracked().is_empty());
    }

    #[test]
    fn addresses_with_nothing_recent_are_forgotten() {
        let logins = Logins::new(&[], false).unwrap();
        let long_ago = Instant::now()
            .checked_sub(FAILURE_WINDOW * 2)
            .expect("a monotonic clock two minutes old");
        let stale = Attempts {
            failed: MAX_FAILURES,
            running: 0,
            at: long_ago,
        };
        let recent = Attempts {
            failed: 1,
            running: 0,
            at: Instant::now(),
        };
        let address = |i: usize| IpAddr::from((i as u32 + 1).to_be_bytes());
        {
            let mut tracked = logins.tracked();
            for i in 0..MAX_TRACKED {
                tracked.insert(address(i), if i % 2 == 0 { stale } else { recent });
            }
        }
        // A new address past the limit: the stale ones go, the recent stay.
        let new = IpAddr::from([198, 51, 100, 7]);
        assert_eq!(logins.start(new), Start::Check);
        {
            let tracked = logins.tracked();
            assert_eq!(tracked.len(), MAX_TRACKED / 2 + 1);
            assert!(!tracked.contains_key(&address(0)));
            assert!(tracked.contains_key(&address(1)));
        }
        // One consulted: a stale address is not throttled, and forgotten.
        logins.tracked().insert(address(0), stale);
        assert!(!logins.throttled(address(0)));
        assert!(!logins.tracked().contains_key(&address(0)));
        assert!(!logins.throttled(address(1)));
        assert!(logins.tracked().contains_key(&address(1)));
    }

    proptest::proptest! {
        /// Any header text parses or is refused; a pair encoded either way
        /// comes back as it was.
        #[test]
        fn credentials_round_trip_and_never_panic(
            header in "\\PC{0,80}",
            user in "[^:]{0,20}",
            password in "\\PC{0,30}",
        ) {
            use base64::Engine as _;
            let _ = credentials(&header);
            let pair = Some((user.clone(), password.clone()));
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            proptest::prop_assert_eq!(credentials(&format!("Basic {encoded}")), pair.clone());
            let unpadded = encoded.trim_end_matches('=');
            proptest::prop_assert_eq!(credentials(&format!("basic {unpadded}")), pair);
        }
    }
}
