//! The Postgres wire protocol: psql, BI tools and drivers connect to
//! ordergraph as to a read-only database.
//!
//! datafusion-postgres turns statements into DataFusion plans, Arrow into
//! Postgres rows, and provides `pg_catalog`. This module adds what it leaves
//! to the embedder: password logins checked against Argon2 hashes, one
//! session per connection on the engine's planned tables and views with the
//! report clock set per statement, and a guard in front of every statement
//! so that no statement writes, reads files or changes engine settings.

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use datafusion_postgres::pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::{ConnectionManager, PgWireServerHandlers};
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls;
use datafusion_postgres::pgwire::tokio::{TlsAcceptor, process_socket};
use datafusion_postgres::{DfSessionService, QueryHook};
use ordergraph_engine::{Engine, SessionOptions};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::access::{Gate, Logins};
use crate::settings::PostgresSettings;
use guard::StatementGuard;
use query::{DirectFirstParser, Lane, Lanes, Service};
use startup::PasswordStartup;

pub(crate) mod compat;
mod guard;
mod query;
pub(crate) mod rewrite;
mod startup;

/// The server version clients see: a real PostgreSQL version, because
/// drivers and BI tools parse it to pick their SQL dialect.
pub const SERVER_VERSION: &str = "16.6";

/// Everything the listener shares between connections.
pub struct PgServer {
    engine: Arc<Engine>,
    /// Sessions with `pg_catalog` and the Postgres functions, clear and
    /// with contact details masked; each connection gets a copy of both
    /// and uses the one its login's role calls for.
    base: SessionContext,
    restricted_base: SessionContext,
    logins: Arc<Logins>,
    connections: Arc<ConnectionManager>,
    tls: Option<TlsAcceptor>,
    /// `[postgres] require_tls`.
    require_tls: bool,
    slots: Arc<Semaphore>,
}

impl Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl PgServer {
    /// Whether connections may use TLS.
    pub fn tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The Postgres side of `serve`, configured by `[postgres]` and
    /// `[[users]]`, checking logins with `logins`.
    pub fn new(
        engine: Arc<Engine>,
        settings: &PostgresSettings,
        logins: Arc<Logins>,
    ) -> anyhow::Result<Self> {
        let postgres_session = |restricted: bool| -> anyhow::Result<SessionContext> {
            let session = engine.session_with(SessionOptions {
                masked: restricted,
                ..SessionOptions::default()
            })?;
            setup_pg_catalog(&session, "ordergraph", EmptyContextProvider).map_err(|e| *e)?;
            crate::pg::compat::register(&session);
            Ok(session)
        };
        let base = postgres_session(false)?;
        let restricted_base = postgres_session(true)?;
        let tls = crate::tls::configured(
            engine.dir(),
            "postgres",
            settings.tls_cert.as_deref(),
            settings.tls_key.as_deref(),
        )?
        .map(|pem| tls_acceptor(&pem))
        .transpose()?;
        Ok(Self {
            base,
            restricted_base,
            logins,
            connections: Arc::new(ConnectionManager::new()),
            tls,
            require_tls: settings.require_tls,
            slots: Arc::new(Semaphore::new(settings.max_connections.max(1))),
            engine,
        })
    }

    /// Serves connections from `listener` until `stopped` turns true.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, mut stopped: watch::Receiver<bool>) {
        loop {
            let (socket, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "postgres accept failed");
                        continue;
                    }
                },
                _ = stopped.changed() => break,
            };
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "postgres connection refused: max_connections reached");
                continue;
            };
            let handlers = match self.connection_handlers() {
                Ok(handlers) => handlers,
                Err(error) => {
                    tracing::error!(%peer, %error, "postgres connection refused");
                    continue;
                }
            };
            let tls = self.tls.clone();
            tokio::spawn(async move {
                // pgwire 0.41's decoder panics on some malformed messages (a
                // Bind whose parameter claims more bytes than the message
                // has, found by fuzz/): that ends this connection only.
                let served = std::panic::AssertUnwindSafe(process_socket(socket, tls, handlers));
                match futures::FutureExt::catch_unwind(served).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => {
                        tracing::debug!(%peer, %error, "postgres connection ended with an error");
                    }
                    Err(_) => tracing::warn!(
                        %peer,
                        "postgres connection closed: the client sent a message the protocol decoder could not read"
                    ),
                }
                drop(slot);
            });
        }
    }

    /// The handlers of one connection, with its own session.
    fn connection_handlers(&self) -> anyhow::Result<ConnectionHandlers> {
        let guard = Arc::new(StatementGuard {
            engine: self.engine.clone(),
            gate: Gate::new(self.engine.clone()),
        });
        let lane = |base: &SessionContext| -> anyhow::Result<Lane> {
            // Its own memory pool, so a per-query cap holds its statements.
            let state = self.engine.with_own_memory(base.state())?;
            let session = Arc::new(SessionContext::new_with_state(state));
            let hooks: Vec<Arc<dyn QueryHook>> = vec![
                guard.clone(),
                Arc::new(SetShowHook),
                Arc::new(TransactionStatementHook),
            ];
            let service = Arc::new(DfSessionService::new_with_hooks(session.clone(), hooks));
            Ok(Lane {
                parser: service.query_parser(),
                service,
                session,
            })
        };
        let lanes = Arc::new(Lanes {
            clear: lane(&self.base)?,
            restricted: lane(&self.restricted_base)?,
        });
        Ok(ConnectionHandlers {
            service: Arc::new(Service {
                parser: Arc::new(DirectFirstParser {
                    lanes: lanes.clone(),
                }),
                lanes,
                guard,
            }),
            startup: Arc::new(PasswordStartup {
                logins: self.logins.clone(),
                connections: self.connections.clone(),
                parameters: server_parameters(),
                require_tls: self.require_tls,
            }),
            cancel: Arc::new(DefaultCancelHandler::new(self.connections.clone())),
        })
    }
}

fn server_parameters() -> DefaultServerParameterProvider {
    let mut parameters = DefaultServerParameterProvider::default();
    parameters.server_version = SERVER_VERSION.to_string();
    parameters.default_transaction_read_only = true;
    parameters.is_superuser = false;
    parameters
}

/// A TLS acceptor of a PEM pair; one that does not parse stops the
/// server rather than falling back to plain text.
fn tls_acceptor(pem: &crate::tls::PemPair) -> anyhow::Result<TlsAcceptor> {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(&pem.cert)
        .collect::<Result<Vec<_>, _>>()
        .context("[postgres] tls_cert is not a PEM certificate chain")?;
    let key = PrivateKeyDer::from_pem_slice(&pem.key)
        .context("[postgres] tls_key is not a PEM private key")?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("[postgres] tls_cert and tls_key do not form a usable pair")?;
    // For clients that open with TLS directly (sslnegotiation=direct).
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The handlers pgwire asks for once per connection.
struct ConnectionHandlers {
    service: Arc<Service>,
    startup: Arc<PasswordStartup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.service.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}
