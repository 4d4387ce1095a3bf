//! The sections of `ordergraph.toml` the server owns: its listeners
//! (`[postgres]`, `[flight]`), who may connect (`[[users]]`) and where
//! alerts go (`[alerts]`). The engine reads the rest of the same file (see
//! [`EngineConfig::parse`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use ordergraph_engine::{CONFIG_FILE, EngineConfig, Role, read_config};
use serde::Deserialize;

use crate::open_tables::{ExportSpec, TableFormat};

/// `[postgres]`: the Postgres wire protocol listener of `ordergraph serve`,
/// for BI tools, psql and drivers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSettings {
    /// Whether `serve` listens for the Postgres protocol at all.
    pub enabled: bool,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// PEM certificate chain and private key (relative to the data
    /// directory); both set turns TLS on.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Refuse logins that did not start TLS (needs `tls_cert`), so no
    /// password crosses the network in the clear.
    pub require_tls: bool,
    /// Connections served at once; more are refused.
    pub max_connections: usize,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 5433)),
            tls_cert: None,
            tls_key: None,
            require_tls: false,
            max_connections: 64,
        }
    }
}

/// `[flight]`: the Arrow Flight SQL listener, for columnar clients (ADBC,
/// Flight SQL JDBC/ODBC drivers).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlightSettings {
    /// Whether `serve` listens for Flight SQL at all.
    pub enabled: bool,
    /// Address to listen on (gRPC).
    pub listen: SocketAddr,
    /// PEM certificate chain and private key (relative to the data
    /// directory); both set turns TLS on (`grpc+tls://`).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl Default for FlightSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 32010)),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// A `[[users]]` entry: a login, its role and its password, stored only as
/// an Argon2 PHC hash (`ordergraph hash-password` prints one).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

impl std::fmt::Debug for User {
    // The hash is a secret too: it must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A duration written as in alert files (`90s`, `5m`, `4h`, `1d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ordergraph_queries::alerts::parse_duration(&text)
            .map(Span)
            .map_err(serde::de::Error::custom)
    }
}

/// How a target is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A DingTalk custom robot; with `secret`, its signed mode.
    Dingtalk,
    /// A Feishu (Lark) custom bot; with `secret`, its signed mode.
    Feishu,
    /// A WeCom (WeChat Work) group robot.
    Wecom,
    /// Any HTTP endpoint: a JSON POST, signed with `secret` if set.
    Webhook,
    /// Email over SMTP: `url` is `smtps://user:pass@host:465` (TLS) or
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS).
    Email,
}

/// An `[[alerts.targets]]` entry: where notifications can be sent.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTarget {
    /// How routes name it.
    pub name: String,
    pub kind: TargetKind,
    /// The webhook address (for DingTalk and WeCom it carries the robot's
    /// token, so it is a secret too).
    pub url: String,
    /// The signing secret.
    pub secret: Option<String>,
    /// Email: the sender, `ordergraph <alerts@example.com>`.
    pub from: Option<String>,
    /// Email: the recipients.
    #[serde(default)]
    pub to: Vec<String>,
}

impl std::fmt::Debug for AlertTarget {
    // The address and the secret never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertTarget")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// An `[[alerts.routes]]` entry: the targets of the alerts whose `route`
/// is `route`. A route ending in `*` matches every route starting with the
/// rest (`buyer:*`); `*` alone matches any route no other entry names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRoute {
    pub route: String,
    pub targets: Vec<String>,
}

/// `[alerts]`: evaluation of the alert queries and delivery of what they
/// find.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Whether `serve` evaluates alerts at all.
    pub enabled: bool,
    /// A key still firing is notified again after this long.
    pub repeat_interval: Span,
    /// Attempts per notification and target before it is given up.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further
    /// one, up to `retry_max`.
    pub retry_initial: Span,
    pub retry_max: Span,
    /// Longest an alert query may run; a slower one is reported and tried
    /// again at its next interval.
    pub query_timeout: Span,
    /// Longest one delivery attempt may take.
    pub send_timeout: Span,
    /// Whether alert queries see phones and emails masked, as an analyst
    /// does (messages go to group chats).
    pub masked: bool,
    /// Evaluation intervals that replace an alert file's `every`, by alert.
    pub every: BTreeMap<String, Span>,
    /// Alerts not evaluated.
    pub disabled: Vec<String>,
    pub targets: Vec<AlertTarget>,
    pub routes: Vec<AlertRoute>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        let span = |s| Span(Duration::from_secs(s));
        Self {
            enabled: true,
            repeat_interval: span(4 * 3_600),
            max_attempts: 10,
            retry_initial: span(5),
            retry_max: span(600),
            query_timeout: span(60),
            send_timeout: span(10),
            masked: true,
            every: BTreeMap::new(),
            disabled: Vec::new(),
            targets: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl AlertSettings {
    /// The targets of `route`: those of the entry naming it, else of the
    /// longest `prefix*` entry matching it, else of `*`.
    pub fn targets_of(&self, route: &str) -> Vec<&AlertTarget> {
        let exact = self.routes.iter().find(|r| r.route == route);
        let pattern = || {
            self.routes
                .iter()
                .filter(|r| {
                    r.route
                        .strip_suffix('*')
                        .is_some_and(|prefix| route.starts_with(prefix))
                })
                .max_by_key(|r| r.route.len())
        };
        exact
            .or_else(pattern)
            .map(|r| {
                r.targets
                    .iter()
                    .filter_map(|name| self.targets.iter().find(|t| &t.name == name))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check(&self) -> anyhow::Result<()> {
        let mut names = std::collections::HashSet::new();
        for target in &self.targets {
            if target.name.is_empty() || !names.insert(target.name.as_str()) {
                bail!(
                    "[[alerts.targets]] names must be present and unique ('{}')",
                    target.name
                );
            }
            let name = &target.name;
            if target.kind == TargetKind::Email {
                if !(target.url.starts_with("smtps://") || target.url.starts_with("smtp://")) {
                    bail!(
                        "[[alerts.targets]] '{name}': an email url starts with smtps:// or smtp://"
                    );
                }
                let from = target.from.as_deref().unwrap_or_default();
                if from.parse::<lettre::message::Mailbox>().is_err() {
                    bail!("[[alerts.targets]] '{name}': from must be an address ('{from}')");
                }
                if target.to.is_empty() {
                    bail!("[[alerts.targets]] '{name}': to must name at least one address");
                }
                if let Some(bad) = target
                    .to
                    .iter()
                    .find(|to| to.parse::<lettre::message::Mailbox>().is_err())
                {
                    bail!("[[alerts.targets]] '{name}': '{bad}' in to is not an address");
                }
            } else {
                if !(target.url.starts_with("https://") || target.url.starts_with("http://")) {
                    bail!("[[alerts.targets]] '{name}': url must start with https:// or http://");
                }
                if target.from.is_some() || !target.to.is_empty() {
                    bail!("[[alerts.targets]] '{name}': from and to are for email targets");
                }
            }
        }
        for route in &self.routes {
            if let Some(missing) = route.targets.iter().find(|t| !names.contains(t.as_str())) {
                bail!(
                    "[[alerts.routes]] '{}' names the target '{missing}', which no [[alerts.targets]] defines",
                    route.route
                );
            }
        }
        if self.max_attempts == 0 {
            bail!("[alerts] max_attempts must be at least 1");
        }
        Ok(())
    }
}

/// `[export]`: the open tables (Delta Lake or Parquet) a running server
/// keeps current, and where `POST /v1/export` writes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportSettings {
    /// The directory the tables go under (relative to the data directory
    /// unless absolute).
    pub to: Option<PathBuf>,
    pub format: TableFormat,
    /// How often to export; unset, only on request.
    pub every: Option<Span>,
    /// Only these tables and views; unset, all of them.
    pub tables: Option<Vec<String>>,
    /// How long a Delta file stays after a later export replaced it, so
    /// readers can still open that version (time travel).
    pub keep: Span,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            to: None,
            format: TableFormat::Delta,
            every: None,
            tables: None,
            keep: Span(Duration::from_secs(7 * 86_400)),
        }
    }
}

impl ExportSettings {
    /// The export these settings describe for the data directory `data`,
    /// if they name a destination.
    pub fn spec(&self, data: &Path) -> Option<ExportSpec> {
        self.to.as_ref().map(|to| ExportSpec {
            to: data.join(to),
            format: self.format,
            tables: self.tables.clone(),
            keep: Some(self.keep.0),
        })
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(to) = &self.to
            && to.to_string_lossy().contains("://")
        {
            bail!(
                "[export] to = '{}': exports go to a directory; object stores (s3://) are not supported",
                to.display()
            );
        }
        if self.every.is_some() && self.to.is_none() {
            bail!("[export] every needs to, the directory to export to");
        }
        Ok(())
    }
}

/// `[cluster]`: the Ballista cluster `/v1/sql` sends a query to when the
/// caller asks with `X-Ordergraph-Engine: cluster`; it reads the tables of
/// the last export to `[export] to`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// The scheduler, `df://HOST:PORT`.
    pub scheduler: Option<String>,
}

impl ClusterSettings {
    fn check(&self, export: &ExportSettings) -> anyhow::Result<()> {
        if self.scheduler.is_some() && export.to.is_none() {
            bail!("[cluster] scheduler needs [export] to: the cluster reads the exported tables");
        }
        Ok(())
    }
}

/// The server's sections of `ordergraph.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// The Postgres wire protocol listener.
    pub postgres: PostgresSettings,
    /// The Arrow Flight SQL listener.
    pub flight: FlightSettings,
    /// Who may connect, and as what.
    pub users: Vec<User>,
    /// Alerts and where they go.
    pub alerts: AlertSettings,
    /// Message-bus sources.
    pub sources: Sources,
    /// Open tables for other engines.
    pub export: ExportSettings,
    /// The cluster that runs queries over them.
    pub cluster: ClusterSettings,
}

/// `[sources]`: where rows arrive from besides HTTP and files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sources {
    /// `[[sources.kafka]]`.
    pub kafka: Vec<crate::kafka::KafkaSettings>,
}

impl ServerSettings {
    /// The top-level keys the server reads; the engine refuses any other
    /// key it does not know.
    pub const SECTIONS: &[&str] = &[
        "postgres", "flight", "users", "alerts", "sources", "export", "cluster",
    ];

    /// Reads `ordergraph.toml` from the data directory `dir`: the engine's
    /// settings and the server's, each checked.
    pub fn load(dir: &Path) -> anyhow::Result<(EngineConfig, ServerSettings)> {
        let path = dir.join(CONFIG_FILE);
        let text = read_config(&path)?;
        let engine = EngineConfig::parse(&path, &text, Self::SECTIONS)?;
        let server = Self::parse(&text).with_context(|| format!("reading {}", path.display()))?;
        Ok((engine, server))
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let settings: ServerSettings = toml::from_str(text)?;
        let mut names = std::collections::HashSet::new();
        for user in &settings.users {
            if user.name.is_empty() || !names.insert(user.name.as_str()) {
                bail!(
                    "[[users]] names must be present and unique ('{}')",
                    user.name
                );
            }
        }
        let postgres = &settings.postgres;
        if postgres.tls_cert.is_some() != postgres.tls_key.is_some() {
            bail!("[postgres] tls_cert and tls_key must be set together");
        }
        if postgres.require_tls && postgres.tls_cert.is_none() {
            bail!("[postgres] require_tls needs tls_cert and tls_key");
        }
        let flight = &settings.flight;
        if flight.tls_cert.is_some() != flight.tls_key.is_some() {
            bail!("[flight] tls_cert and tls_key must be set together");
        }
        settings.alerts.check()?;
        settings.export.check()?;
        settings.cluster.check(&settings.export)?;
        crate::kafka::check(&settings.sources.kafka)?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_tls_needs_a_certificate() {
        let error = ServerSettings::parse("[postgres]\nrequire_tls = true\n").unwrap_err();
        assert!(
            error.to_string().contains("require_tls needs tls_cert"),
            "{error}"
        );
    }

    #[test]
    fn users_are_named_once_and_listeners_keys_are_checked() {
        let user = "[[users]]\nname = \"a\"\nrole = \"admin\"\npassword_hash = \"x\"\n";
        let error = ServerSettings::parse(&format!("{user}{user}")).unwrap_err();
        assert!(error.to_string().contains("unique ('a')"), "{error}");
        let error = ServerSettings::parse("[flight]\nlisten_on = \"x\"\n").unwrap_err();
        assert!(error.to_string().contains("listen_on"), "{error}");
    }

    #[test]
    fn exports_go_to_a_directory() {
        for (text, wanted) in [
            ("[export]\nto = \"s3://bucket/og\"\n", "not supported"),
            ("[export]\nevery = \"5m\"\n", "every needs to"),
            ("[export]\nto = \"open\"\nevery = \"0s\"\n", "is zero"),
            ("[export]\nto = \"open\"\nformat = \"orc\"\n", "orc"),
            ("[export]\ninto = \"open\"\n", "into"),
            (
                "[cluster]\nscheduler = \"df://s:50050\"\n",
                "needs [export] to",
            ),
            ("[cluster]\nschedular = \"df://s:50050\"\n", "schedular"),
        ] {
            let error = ServerSettings::parse(text).unwrap_err();
            assert!(format!("{error:#}").contains(wanted), "{text}: {error:#}");
        }
        let settings = ServerSettings::parse(
            "[export]\nto = \"open\"\nevery = \"5m\"\ntables = [\"orders\"]\n",
        )
        .unwrap();
        let spec = settings.export.spec(Path::new("/data")).unwrap();
        assert_eq!(spec.to, Path::new("/data/open"));
        assert_eq!(spec.format, TableFormat::Delta);
        assert_eq!(spec.tables, Some(vec!["orders".to_string()]));
        assert_eq!(spec.keep, Some(Duration::from_secs(7 * 86_400)));
        assert!(
            ServerSettings::parse("")
                .unwrap()
                .export
                .spec(Path::new("/data"))
                .is_none()
        );
    }

    #[test]
    fn alert_routes_name_known_targets_and_durations_have_units() {
        let target = "[[alerts.targets]]\nname = \"t\"\nkind = \"webhook\"\nurl = \"http://x\"\n";
        let error = ServerSettings::parse(&format!(
            "{target}[[alerts.routes]]\nroute = \"r\"\ntargets = [\"u\"]\n"
        ))
        .unwrap_err();
        assert!(error.to_string().contains("'u'"), "{error}");
        let error = ServerSettings::parse(&format!("{target}{target}")).unwrap_err();
        assert!(error.to_string().contains("unique ('t')"), "{error}");
        let error = ServerSettings::parse("[alerts]\nrepeat_interval = \"4 hours\"\n").unwrap_err();
        assert!(error.to_string().contains("unit"), "{error}");
        let error = ServerSettings::parse(
            "[[alerts.targets]]\nname = \"t\"\nkind = \"pager\"\nurl = \"http://x\"\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("pager"), "{error}");
        let mail = |url: &str, from: &str, to: &str| {
            ServerSettings::parse(&format!(
                "[[alerts.targets]]\nname = \"m\"\nkind = \"email\"\nurl = \"{url}\"\nfrom = \"{from}\"\nto = [{to}]\n"
            ))
        };
        assert!(
            mail(
                "smtps://u:p@mail.example.com",
                "og <a@example.com>",
                "\"b@example.com\""
            )
            .is_ok()
        );
        for (url, from, to, says) in [
            (
                "https://mail.example.com",
                "a@example.com",
                "\"b@example.com\"",
                "smtps://",
            ),
            (
                "smtps://mail.example.com",
                "not an address",
                "\"b@example.com\"",
                "from",
            ),
            (
                "smtps://mail.example.com",
                "a@example.com",
                "",
                "at least one",
            ),
            (
                "smtps://mail.example.com",
                "a@example.com",
                "\"b@\"",
                "'b@'",
            ),
        ] {
            let error = mail(url, from, to).unwrap_err().to_string();
            assert!(error.contains(says), "{url} {from} {to}: {error}");
        }
        let error = ServerSettings::parse(
            "[[alerts.targets]]\nname = \"w\"\nkind = \"webhook\"\nurl = \"http://x\"\nto = [\"b@example.com\"]\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("email targets"), "{error}");
    }

    #[test]
    fn a_data_directory_gives_both_halves_and_a_stray_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(
            &path,
            "target_partitions = 3\n[postgres]\nmax_connections = 5\n",
        )
        .unwrap();
        let (engine, server) = ServerSettings::load(dir.path()).unwrap();
        assert_eq!(engine.target_partitions, 3);
        assert_eq!(server.postgres.max_connections, 5);
        std::fs::write(&path, "[postgre]\nmax_connections = 5\n").unwrap();
        let error = ServerSettings::load(dir.path()).unwrap_err();
        assert!(
            format!("{error:#}").contains("unknown setting `postgre`"),
            "{error:#}"
        );
    }
}
