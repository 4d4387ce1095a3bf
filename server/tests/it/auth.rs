//! HTTP logins: Basic or Bearer credentials of `[[users]]`, each role
//! limited to its part of the API, guessing throttled.

use std::sync::Arc;

use ordergraph_engine::Role;
use ordergraph_server::access::{Logins, hash_password};
use ordergraph_server::settings::User;

use crate::{HEADER, TestServer};

pub(crate) fn users() -> Vec<User> {
    [
        Role::Admin,
        Role::Ingest,
        Role::Analyst,
        Role::Marketing,
        Role::Support,
    ]
    .into_iter()
    .map(|role| User {
        name: format!("{}-user", role.as_str()),
        role,
        password_hash: hash_password(&format!("{} secret", role.as_str())).unwrap(),
    })
    .collect()
}

#[tokio::test]
async fn roles_reach_only_their_part_of_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    let call = |method: reqwest::Method, path: &str, user: Option<&str>| {
        let mut request = s.client.request(method, s.url(path));
        if let Some(role) = user {
            request = request.basic_auth(format!("{role}-user"), Some(format!("{role} secret")));
        }
        if path.starts_with("/v1/ingest") {
            request = request.header("content-type", "text/csv").body(format!(
                "{HEADER}X1,tmall,2026-01-01T00:00:00Z,,13811114001,Zhang.San@qq.com,,,1.00,paid,,,,\n"
            ));
        } else if path == "/v1/sql" {
            request = request.body("SELECT count(*) AS n FROM orders");
        }
        async move { request.send().await.unwrap() }
    };
    use reqwest::Method as M;

    let anonymous = call(M::POST, "/v1/sql", None).await;
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(call(M::GET, "/healthz", None).await.status(), 200);

    for (user, method, path, status) in [
        ("ingest", M::POST, "/v1/ingest/orders", 200),
        ("ingest", M::POST, "/v1/sql", 403),
        ("admin", M::POST, "/v1/sql", 200),
        ("admin", M::GET, "/v1/segments", 200),
        ("analyst", M::POST, "/v1/sql", 200),
        ("analyst", M::POST, "/v1/ingest/orders", 403),
        ("analyst", M::GET, "/v1/segments", 403),
        (
            "marketing",
            M::GET,
            "/v1/segments/high_value_prospects",
            200,
        ),
        ("marketing", M::POST, "/v1/sql", 403),
        ("support", M::GET, "/v1/customers?order=tmall:X1", 200),
        ("support", M::GET, "/v1/segments", 403),
    ] {
        let r = call(method, path, Some(user)).await;
        assert_eq!(
            r.status(),
            status,
            "{user} {path}: {}",
            r.text().await.unwrap()
        );
    }
    // The analyst sees contact details masked, whatever the query shape;
    // the admin sees them clear.
    let sql_as = |role: &str, sql: &str| {
        let request = s
            .client
            .post(s.url("/v1/sql"))
            .basic_auth(format!("{role}-user"), Some(format!("{role} secret")))
            .body(sql.to_string());
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let shapes = [
        ("SELECT phone, email FROM orders", "phone", "138****4001"),
        ("SELECT phone, email FROM orders", "email", "z***@qq.com"),
        (
            "SELECT upper(CAST(phone AS VARCHAR)) AS phone FROM orders",
            "phone",
            "138****4001",
        ),
        (
            "SELECT value FROM identity_links WHERE kind = 'phone'",
            "value",
            "138****4001",
        ),
        (
            "SELECT phone FROM customer_contacts",
            "phone",
            "138****4001",
        ),
        (
            "SELECT o.email FROM orders o JOIN order_versions v USING (channel, order_id)",
            "email",
            "z***@qq.com",
        ),
    ];
    for (sql, column, masked) in shapes {
        let rows = sql_as("analyst", sql).await;
        assert_eq!(rows[0][column], masked, "{sql}");
        let clear = sql_as("admin", sql).await;
        assert_ne!(clear[0][column], masked, "{sql}");
    }
    // No probing for a clear value either.
    let probe = sql_as(
        "analyst",
        "SELECT count(*) AS n FROM orders WHERE phone = '13811114001' OR normalize_phone(phone) IS NOT NULL",
    )
    .await;
    assert_eq!(probe[0]["n"], 0);

    // Bearer user:password works too.
    let bearer = s
        .client
        .post(s.url("/v1/sql"))
        .bearer_auth("analyst-user:analyst secret")
        .body("SELECT 1")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);

    // Guessing: 401 five times, then 429 for unverified credentials, while
    // a credential verified before keeps working.
    for _ in 0..5 {
        let r = s
            .client
            .post(s.url("/v1/sql"))
            .basic_auth("admin-user", Some("guess"))
            .body("SELECT 1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .basic_auth("support-user", Some("guess"))
        .body("SELECT 1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(call(M::POST, "/v1/sql", Some("admin")).await.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn each_role_has_its_own_query_limits_on_http() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[limits]\nmax_result_rows = 100\n[limits.roles.analyst]\nmax_result_rows = 2\n",
    )
    .unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    let query = |role: &str| {
        s.client
            .post(s.url("/v1/sql"))
            .basic_auth(format!("{role}-user"), Some(format!("{role} secret")))
            .body("SELECT value FROM range(3)")
            .send()
    };
    let analyst = query("analyst").await.unwrap();
    assert_eq!(analyst.status(), 400);
    let error: serde_json::Value = analyst.json().await.unwrap();
    assert_eq!(error["error"], "too_many_rows", "{error}");
    let admin = query("admin").await.unwrap();
    assert_eq!(admin.status(), 200);
    let rows: Vec<serde_json::Value> = admin.json().await.unwrap();
    assert_eq!(rows.len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn each_role_has_its_own_query_memory_cap() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[limits]\nmemory_limit_mib = 512\n[limits.roles.analyst]\nquery_memory_mib = 1\n",
    )
    .unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    // A hash join's build side cannot spill: half a million keys need far
    // more than 1 MiB, and far less than 512.
    let join =
        "SELECT count(*) AS n FROM range(0, 500000) a(x) JOIN range(0, 500000) b(y) ON x = y";
    let query = |role: &str| {
        s.client
            .post(s.url("/v1/sql"))
            .basic_auth(format!("{role}-user"), Some(format!("{role} secret")))
            .body(join)
            .send()
    };
    let analyst = query("analyst").await.unwrap();
    assert_eq!(analyst.status(), 422);
    let error: serde_json::Value = analyst.json().await.unwrap();
    assert_eq!(error["error"], "query_memory_limit", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("query_memory_mib"),
        "{error}"
    );
    let admin = query("admin").await.unwrap();
    assert_eq!(admin.status(), 200);
    let rows: Vec<serde_json::Value> = admin.json().await.unwrap();
    assert_eq!(rows[0]["n"], 500000);
    // The refused query gave its memory back: the analyst's small queries
    // still run.
    let small = s
        .client
        .post(s.url("/v1/sql"))
        .basic_auth("analyst-user", Some("analyst secret"))
        .body("SELECT count(*) AS n FROM range(10)")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    s.stop().await;
}
