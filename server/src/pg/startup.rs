//! Start-up of a Postgres connection: the password login, checked against
//! the Argon2 hashes of `[[users]]` with the brake on guessing of
//! [`Logins`], and TLS required where `[postgres]` says so.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::{
    DefaultServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, METADATA_USER, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::Authentication;
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};
use ordergraph_engine::Role;

use crate::access::{Caller, Logins, Refused};

/// Login: asks for the password (in clear, so it can be checked against an
/// Argon2 hash; TLS protects it on the wire) unless the server runs with
/// `--dev`.
pub(super) struct PasswordStartup {
    pub(super) logins: Arc<Logins>,
    pub(super) connections: Arc<ConnectionManager>,
    pub(super) parameters: DefaultServerParameterProvider,
    /// Refuse logins over connections without TLS.
    pub(super) require_tls: bool,
}

fn auth_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        code.to_string(),
        message,
    )))
}

fn throttled() -> PgWireError {
    auth_error(
        "28000",
        "too many failed logins from this address; try again in a minute".into(),
    )
}

impl PasswordStartup {
    async fn admit<C>(&self, client: &mut C, who: Caller) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret) = RandomPidSecretKeyGenerator::default().generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        // Registered so a CancelRequest from the client reaches the query.
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        tracing::info!(user = %who.user, role = who.role.as_str(), peer = %client.socket_addr(), "postgres login");
        client.session_extensions().insert(who);
        finish_authentication(client, &self.parameters).await
    }
}

#[async_trait]
impl StartupHandler for PasswordStartup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                if self.logins.dev() {
                    return self
                        .admit(
                            client,
                            Caller {
                                user,
                                role: Role::Admin,
                            },
                        )
                        .await;
                }
                if self.logins.throttled(client.socket_addr().ip()) {
                    return Err(throttled());
                }
                // Passwords travel in the clear without TLS: refused before
                // one is asked for.
                if self.require_tls && !client.is_secure() {
                    return Err(auth_error(
                        "28000",
                        "this server requires TLS ([postgres] require_tls); connect with sslmode=require".into(),
                    ));
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client
                    .send(PgWireBackendMessage::Authentication(
                        Authentication::CleartextPassword,
                    ))
                    .await?;
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let password = password.into_password()?.password;
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                let peer = client.socket_addr();
                let role = match self.logins.login(peer.ip(), &user, &password).await {
                    Ok(role) => role,
                    Err(Refused::Throttled) => return Err(throttled()),
                    Err(_) => {
                        tracing::warn!(%user, %peer, "postgres login failed");
                        return Err(PgWireError::InvalidPassword(user));
                    }
                };
                self.admit(client, Caller { user, role }).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
