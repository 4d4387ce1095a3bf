//! Engine configuration: `ordergraph.toml` in the data directory, every
//! setting optional, with the defaults below.

use std::path::Path;

use ordergraph_udfs::{IdentityKind, Region, parse_region};
use serde::Deserialize;

use crate::identity::{Blocklist, IdentityConfig};
use crate::report::ReportSettings;
use crate::{Error, Result};

/// Name of the configuration file in the data directory.
pub const CONFIG_FILE: &str = "ordergraph.toml";

/// Values that are never a person's identifier, whatever the data says:
/// the fillers clerks and test scripts type most that no pattern catches
/// (filler emails are recognised by their shape, see
/// `identity::extract::is_placeholder_email`). Extended, not replaced, by
/// the configuration's `identity.blocklist`.
const DEFAULT_BLOCKLIST: &[(IdentityKind, &str)] = &[
    (IdentityKind::Phone, "13800138000"),
    (IdentityKind::Phone, "13912345678"),
    (IdentityKind::Phone, "12345678901"),
];

/// The text of the configuration file at `path`; empty (every default)
/// when there is none.
pub fn read_config(path: &Path) -> Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Identity settings as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentitySettings {
    /// Region for phones written without a country code.
    pub default_region: String,
    /// See [`IdentityConfig::max_companions`].
    pub max_companions: usize,
    /// See [`IdentityConfig::max_accounts`].
    pub max_accounts: usize,
    /// Days an identifier must go unused before a conflicting person may
    /// take it over (a recycled phone).
    pub handover_gap_days: u32,
    /// Extra values that never link: `{ kind = "phone", value = "13700000000" }`.
    pub blocklist: Vec<BlockedValue>,
    /// See [`IdentityConfig::store_channels`].
    pub store_channels: Vec<String>,
}

/// One blocklist entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockedValue {
    /// `unionid`, `phone`, `email`, `device` or `account` (`channel:account_id`).
    pub kind: String,
    /// The raw value; it is normalized like ingested values.
    pub value: String,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        let d = IdentityConfig::default();
        Self {
            default_region: "CN".into(),
            max_companions: d.max_companions,
            max_accounts: d.max_accounts,
            handover_gap_days: (d.handover_gap / 86_400_000_000) as u32,
            blocklist: Vec::new(),
            store_channels: d.store_channels,
        }
    }
}

/// Bounds that keep the server up under load: `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Memory all running queries may hold together (hash tables, sorts,
    /// aggregates); a query that needs more spills or fails with an error.
    pub memory_limit_mib: usize,
    /// Memory the maintained views may hold together, in MiB. A view
    /// whose rows would take the total past it is not kept: its rows are
    /// dropped and every read computes it from its SQL. The identity tables
    /// kept from the graph are not counted here (they belong with the
    /// store). 0 keeps no view.
    pub maintained_memory_mib: usize,
    /// Largest request body; larger ones are refused with 413.
    pub max_body_mib: usize,
    /// Ingest requests being received or applied at once; more are refused
    /// with 503 and `Retry-After`.
    pub max_pending_ingests: usize,
    /// Longest a query may run, rows streamed to the client included.
    pub query_timeout_seconds: u64,
    /// Most rows one query (HTTP or Postgres) may return; 0 means no
    /// limit. Beyond it the query ends with an error after the rows sent.
    pub max_result_rows: u64,
    /// Most memory one query may hold, in MiB, out of the shared
    /// `memory_limit_mib`; 0 means no cap of its own. Beyond it the query
    /// spills where it can, else fails with an error.
    pub query_memory_mib: usize,
    /// Per-role overrides of `query_timeout_seconds`, `max_result_rows`
    /// and `query_memory_mib`: `[limits.roles.analyst]`, ...
    pub roles: std::collections::HashMap<Role, RoleLimits>,
}

/// A role's own query limits, `[limits.roles.<role>]`; what is not set
/// comes from `[limits]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleLimits {
    /// Longest one of the role's queries may run.
    pub query_timeout_seconds: Option<u64>,
    /// Most rows one of the role's queries may return; 0 means no limit.
    pub max_result_rows: Option<u64>,
    /// Most memory one of the role's queries may hold, in MiB; 0 means no
    /// cap of its own.
    pub query_memory_mib: Option<usize>,
}

/// The limits one query runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Longest it may run, rows streamed to the client included.
    pub timeout: std::time::Duration,
    /// Most rows it may return.
    pub max_rows: Option<u64>,
    /// Most memory it may hold, in bytes (the shared pool bounds it too).
    pub memory: Option<usize>,
}

impl Limits {
    /// The limits of a query by `role` (`None`: no login, as on a server
    /// without users): the role's own where set, else `[limits]`.
    pub fn for_role(&self, role: Option<Role>) -> QueryLimits {
        let own = role
            .and_then(|r| self.roles.get(&r))
            .copied()
            .unwrap_or_default();
        let seconds = own
            .query_timeout_seconds
            .unwrap_or(self.query_timeout_seconds);
        let rows = own.max_result_rows.unwrap_or(self.max_result_rows);
        let memory_mib = own.query_memory_mib.unwrap_or(self.query_memory_mib);
        QueryLimits {
            timeout: std::time::Duration::from_secs(seconds),
            max_rows: (rows > 0).then_some(rows),
            memory: (memory_mib > 0).then_some(memory_mib << 20),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_limit_mib: 4096,
            maintained_memory_mib: 4096,
            max_body_mib: 256,
            max_pending_ingests: 16,
            query_timeout_seconds: 300,
            max_result_rows: 0,
            query_memory_mib: 0,
            roles: Default::default(),
        }
    }
}

/// `[source]`: a directory where connectors drop files to ingest.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceSettings {
    /// The watched directory (relative to the data directory); unset means
    /// no directory source.
    pub watch_dir: Option<std::path::PathBuf>,
    /// How often it is scanned, in milliseconds.
    pub poll_ms: u64,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            watch_dir: None,
            poll_ms: 500,
        }
    }
}

/// What a user may do. Every SQL surface is read-only for every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, ingest included.
    Admin,
    /// Ingest only; no SQL.
    Ingest,
    /// Read-only SQL on every table and view.
    Analyst,
    /// The segment views.
    Marketing,
    /// Customer look-ups and lineage.
    Support,
}

impl Role {
    /// The role's name as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Ingest => "ingest",
            Role::Analyst => "analyst",
            Role::Marketing => "marketing",
            Role::Support => "support",
        }
    }

    /// Whether the role sees phones and emails masked (`138****5678`).
    pub fn sees_contacts_masked(self) -> bool {
        self == Role::Analyst
    }

    /// Whether the role may run SQL queries.
    pub fn may_query(self) -> bool {
        self != Role::Ingest
    }
}

/// `[storage]`: when the server writes checkpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Seconds between checks; when there were writes since the last
    /// checkpoint, a background compaction writes the next one (see
    /// `Engine::compact`). A clean shutdown always writes one.
    pub checkpoint_interval_s: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            checkpoint_interval_s: 300,
        }
    }
}

/// `[retention]`: how long superseded data is kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days an order version is kept after it arrived once a later version
    /// supersedes it; checkpoints leave older ones out, and so memory after
    /// the next start. An order's current version always stays. Unset:
    /// every version is kept.
    pub order_versions_days: Option<u32>,
}

impl RetentionSettings {
    /// The arrival time (microseconds) before which superseded versions
    /// expire, as of `now`.
    pub fn expire_before(&self, now: i64) -> Option<i64> {
        self.order_versions_days
            .map(|days| now - i64::from(days) * 86_400_000_000)
    }
}

/// The engine's configuration: the sections of `ordergraph.toml` the
/// engine reads. A program hosting the engine may own further sections
/// (see [`EngineConfig::parse`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Identity resolution.
    pub identity: IdentitySettings,
    /// Partitions per query (default: the number of cores).
    pub target_partitions: usize,
    /// Thresholds and the clock of the analytics views.
    pub report: ReportSettings,
    /// Bounds on memory, request sizes and queues.
    pub limits: Limits,
    /// The watched directory source.
    pub source: SourceSettings,
    /// Checkpoints.
    pub storage: StorageSettings,
    /// How long superseded order versions are kept.
    pub retention: RetentionSettings,
    /// `report.now`, parsed.
    #[serde(skip)]
    pub(crate) report_now: Option<i64>,
    #[serde(skip)]
    region: Option<Region>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            identity: IdentitySettings::default(),
            report: ReportSettings::default(),
            limits: Limits::default(),
            source: SourceSettings::default(),
            storage: StorageSettings::default(),
            retention: RetentionSettings::default(),
            report_now: None,
            target_partitions: std::thread::available_parallelism().map_or(2, |n| n.get()),
            region: Some(Region::CN),
        }
    }
}

impl EngineConfig {
    /// Reads `ordergraph.toml` from `dir`, or the defaults if there is none.
    /// Every top-level key must be one of the engine's.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        Self::parse(&path, &read_config(&path)?, &[])
    }

    /// Parses the text of `path`. Top-level keys named in `host_sections`
    /// belong to the program hosting the engine, which reads them itself;
    /// any other key the engine does not know is an error, so a misspelt
    /// section is reported rather than silently ignored.
    pub fn parse(path: &Path, text: &str, host_sections: &[&str]) -> Result<Self> {
        let mut unknown = Vec::new();
        let mut config: EngineConfig = serde_ignored::deserialize(
            toml::Deserializer::parse(text).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?,
            |ignored| {
                let key = ignored.to_string();
                if !host_sections
                    .iter()
                    .any(|s| key == *s || key.starts_with(&format!("{s}.")))
                {
                    unknown.push(key);
                }
            },
        )
        .map_err(|e| Error::Config {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if let Some(key) = unknown.first() {
            return Err(Error::Config {
                path: path.to_path_buf(),
                reason: format!("unknown setting `{key}`"),
            });
        }
        let path = path.to_path_buf();
        let bad = |reason: String| Error::Config {
            path: path.clone(),
            reason,
        };
        config.region = Some(
            parse_region(&config.identity.default_region).ok_or_else(|| {
                bad(format!(
                    "unknown identity.default_region '{}'",
                    config.identity.default_region
                ))
            })?,
        );
        for b in &config.identity.blocklist {
            IdentityKind::parse(&b.kind).ok_or_else(|| {
                bad(format!(
                    "unknown identifier kind '{}' in identity.blocklist",
                    b.kind
                ))
            })?;
        }
        config.target_partitions = config.target_partitions.max(1);
        let limits = &config.limits;
        if limits.memory_limit_mib == 0
            || limits.max_body_mib == 0
            || limits.max_pending_ingests == 0
            || limits.query_timeout_seconds == 0
            || config.storage.checkpoint_interval_s == 0
        {
            return Err(bad(
                "every [limits] value and [storage] checkpoint_interval_s must be positive".into(),
            ));
        }
        ordergraph_udfs::check_zone(&config.report.timezone)
            .map_err(|e| bad(format!("report.timezone: {e}")))?;
        if let Some(now) = &config.report.now {
            config.report_now = Some(
                crate::decode::parse_timestamp(now).map_err(|e| bad(format!("report.now: {e}")))?,
            );
        }
        Ok(config)
    }

    /// The identity graph settings this configuration describes.
    pub fn identity_config(&self) -> IdentityConfig {
        let region = self.region.unwrap_or(Region::CN);
        let configured = self
            .identity
            .blocklist
            .iter()
            .filter_map(|b| Some((IdentityKind::parse(&b.kind)?, b.value.as_str())));
        IdentityConfig {
            region,
            blocklist: Blocklist::new(DEFAULT_BLOCKLIST.iter().copied().chain(configured), region),
            max_companions: self.identity.max_companions,
            max_accounts: self.identity.max_accounts,
            handover_gap: i64::from(self.identity.handover_gap_days) * 86_400_000_000,
            store_channels: self.identity.store_channels.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_role_overrides_the_query_limits_it_sets() {
        let config: EngineConfig = toml::from_str(
            "[limits]\nquery_timeout_seconds = 60\nmax_result_rows = 1000\nquery_memory_mib = 512\n\
             [limits.roles.analyst]\nmax_result_rows = 10\nquery_memory_mib = 64\n\
             [limits.roles.admin]\nquery_timeout_seconds = 600\nmax_result_rows = 0\n\
             query_memory_mib = 0\n",
        )
        .unwrap();
        let limits = |role| config.limits.for_role(role);
        assert_eq!(
            limits(Some(Role::Analyst)),
            QueryLimits {
                timeout: Duration::from_secs(60),
                max_rows: Some(10),
                memory: Some(64 << 20),
            }
        );
        assert_eq!(
            limits(Some(Role::Admin)),
            QueryLimits {
                timeout: Duration::from_secs(600),
                max_rows: None,
                memory: None,
            }
        );
        assert_eq!(limits(Some(Role::Support)), limits(None));
        assert_eq!(limits(None).max_rows, Some(1000));
        assert_eq!(limits(None).memory, Some(512 << 20));
        let bad = toml::from_str::<EngineConfig>("[limits.roles.analyst]\nmax_rows = 1\n");
        assert!(bad.is_err(), "unknown keys are refused");
        let bad = toml::from_str::<EngineConfig>("[limits.roles.janitor]\nmax_result_rows = 1\n");
        assert!(bad.is_err(), "unknown roles are refused");
    }

    #[test]
    fn a_misspelt_section_is_refused_and_a_hosts_is_left_to_it() {
        let path = Path::new("ordergraph.toml");
        let text = "[identiy]\nmax_companions = 3\n";
        let error = EngineConfig::parse(path, text, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown setting `identiy`"), "{error}");
        let text = "target_partitions = 3\n[postgres]\nlisten = \"x\"\n[[users]]\nname = \"a\"\n";
        let error = EngineConfig::parse(path, text, &["users"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown setting `postgres`"), "{error}");
        let config = EngineConfig::parse(path, text, &["postgres", "users"]).unwrap();
        assert_eq!(config.target_partitions, 3);
        let error = EngineConfig::parse(path, "[identity]\nmax_companion = 3\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("max_companion") && error.contains("line 2"),
            "{error}"
        );
    }
}
