//! Server tests: a real server on a free port, a real HTTP client, real files.

mod actions;
mod admission;
mod alerts;
mod auth;
mod cli;
mod cluster;
mod console;
mod corrections;
mod crash;
mod customers;
mod drift_report;
mod erasure;
mod flight;
mod holds;
mod hostile;
mod http;
mod kafka;
mod limits;
mod lineage_pdf;
mod metrics;
mod open_tables;
mod pg;
mod process;
mod segments;
mod source;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use ordergraph_engine::Engine;
use ordergraph_server::{AppState, app};
use tokio::task::JoinHandle;

pub(crate) const HEADER: &str = "order_id,channel,ordered_at,account_id,phone,email,wechat_unionid,device_id,amount,status,ship_city,ship_address,ip,coupon\n";

/// A request as `role` (its `<role>-user` of `auth::users`), with an
/// optional JSON body: the status and the JSON answer (text if not JSON).
pub(crate) async fn call(
    s: &TestServer,
    role: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = s
        .client
        .request(method, s.url(path))
        .basic_auth(format!("{role}-user"), Some(format!("{role} secret")));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// An HTTP client (TLS through the server's crypto provider).
pub(crate) fn client() -> reqwest::Client {
    ordergraph_server::install_crypto_provider();
    reqwest::Client::new()
}

/// A server running on 127.0.0.1 with an ephemeral port.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) engine: Arc<Engine>,
    pub(crate) client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub(crate) async fn start(data: &Path) -> TestServer {
        Self::start_with(data, None).await
    }

    /// A server checking every request against `logins`.
    pub(crate) async fn start_with(
        data: &Path,
        logins: Option<Arc<ordergraph_server::access::Logins>>,
    ) -> TestServer {
        let engine: Arc<Engine> = Engine::open(data, vec![ordergraph_queries::hook()]).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = engine.clone();
        let task = tokio::spawn(async move {
            let state = AppState::new(served);
            let state = match logins {
                Some(logins) => state.with_logins(logins),
                None => state,
            };
            axum::serve(listener, app(state))
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            addr,
            engine,
            client: client(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and waits until it has let go of the engine.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// Ingests CSV into `table` over HTTP; anything but 200 fails the test.
    pub(crate) async fn ingest(&self, table: &str, csv: String) {
        let r = self
            .client
            .post(self.url(&format!("/v1/ingest/{table}")))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{table}: {}", r.text().await.unwrap());
    }

    pub(crate) async fn sql_json(&self, sql: &str) -> serde_json::Value {
        let r = self
            .client
            .post(self.url("/v1/sql"))
            .body(sql.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{sql}");
        r.json().await.unwrap()
    }
}

/// A client program (psql, a Python script) ran without error; its output
/// otherwise.
pub(crate) fn assert_succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
