//! The sections of `ordergraph.toml` the server owns: its listeners
//! (`[postgres]`, `[flight]`) and who may connect (`[[users]]`). The engine
//! reads the rest of the same file (see [`EngineConfig::parse`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ordergraph_engine::{CONFIG_FILE, EngineConfig, Role, read_config};
use serde::Deserialize;

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
}

impl ServerSettings {
    /// The top-level keys the server reads; the engine refuses any other
    /// key it does not know.
    pub const SECTIONS: &[&str] = &["postgres", "flight", "users"];

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
