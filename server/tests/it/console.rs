//! The console: its page and files, logging in with a session cookie, the
//! CSRF token every action needs, each role's pages, logging out; and the
//! pages themselves in a real browser (Chromium through Selenium, which
//! `scripts/test` installs) against the demo.

use std::sync::Arc;

use ordergraph_server::access::Logins;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::auth::users;
use crate::{HEADER, TestServer};

/// Logs in as `role`; the session cookie and the session's answer.
async fn log_in(s: &TestServer, role: &str) -> (String, Value) {
    let r = s
        .client
        .post(s.url("/console/login"))
        .json(&json!({"user": format!("{role}-user"), "password": format!("{role} secret")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    (pair, r.json().await.unwrap())
}

#[tokio::test]
async fn a_browser_logs_in_acts_with_its_csrf_token_and_logs_out() {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .basic_auth("admin-user", Some("admin secret"))
        .header("content-type", "text/csv")
        .body(format!(
            "{HEADER}A1,jd,2026-03-01T10:00:00+08:00,,13812345678,a@qq.com,,,10.00,paid,,,,\n"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // The page and its files are open; the page forbids framing and
    // foreign scripts.
    let page = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert!(page.text().await.unwrap().contains("/console/app.js"));
    for file in [
        "app.js",
        "pages.js",
        "console.css",
        "messages.zh.json",
        "messages.en.json",
        "vendor/echarts.min.js",
    ] {
        let r = s
            .client
            .get(s.url(&format!("/console/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
    }
    let r = s
        .client
        .get(s.url("/console/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // No session yet; a wrong password or a form post opens none.
    let r = s
        .client
        .get(s.url("/console/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .client
        .post(s.url("/console/login"))
        .json(&json!({"user": "admin-user", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get(SET_COOKIE).is_none());
    let r = s
        .client
        .post(s.url("/console/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=admin-user&password=admin+secret")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(r.headers().get(SET_COOKIE).is_none());

    let (cookie, session) = log_in(&s, "admin").await;
    assert_eq!(session["role"], "admin");
    assert_eq!(session["pages"].as_array().unwrap().len(), 7);
    let csrf = session["csrf"].as_str().unwrap().to_string();
    assert_eq!(csrf.len(), 64);
    let r = s
        .client
        .get(s.url("/console/session"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["user"], "admin-user");

    // The cookie reads; an action needs the CSRF token too.
    let query = json!({"sql": "SELECT count(*) AS n FROM orders"});
    let sql = |token: Option<&str>| {
        let mut request = s
            .client
            .post(s.url("/v1/sql"))
            .header(COOKIE, &cookie)
            .json(&query);
        if let Some(token) = token {
            request = request.header("X-CSRF-Token", token);
        }
        request.send()
    };
    let r = sql(None).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "csrf");
    assert_eq!(sql(Some("0000")).await.unwrap().status(), 403);
    let r = sql(Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()[0]["n"], 1);
    let r = s
        .client
        .get(s.url("/v1/segments"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a read needs no token");

    // Each role: its pages, and the API as the role.
    let (support, session) = log_in(&s, "support").await;
    assert_eq!(session["pages"], json!(["customers"]));
    assert_eq!(session["may_force_sync"], true);
    let token = session["csrf"].as_str().unwrap();
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .header(COOKIE, &support)
        .header("X-CSRF-Token", token)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "support has no SQL over HTTP");
    let r = s
        .client
        .get(s.url("/v1/customers?order=jd:A1"))
        .header(COOKIE, &support)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (analyst, session) = log_in(&s, "analyst").await;
    assert_eq!(session["masked"], true);
    let r = s
        .client
        .post(s.url("/v1/sql"))
        .header(COOKIE, &analyst)
        .header("X-CSRF-Token", session["csrf"].as_str().unwrap())
        .json(&json!({"sql": "SELECT phone FROM orders"}))
        .send()
        .await
        .unwrap();
    let phone = r.json::<Value>().await.unwrap()[0]["phone"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !phone.contains("12345678") && phone.contains('*'),
        "{phone}"
    );
    let (_, session) = log_in(&s, "ingest").await;
    assert_eq!(session["pages"], json!([]));

    // Logging out needs the token; then the cookie opens nothing.
    let logout = |token: &str| {
        s.client
            .post(s.url("/console/logout"))
            .header(COOKIE, &cookie)
            .header("X-CSRF-Token", token)
            .send()
    };
    assert_eq!(logout("wrong").await.unwrap().status(), 403);
    let r = logout(&csrf).await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        r.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = s
        .client
        .get(s.url("/console/session"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(sql(Some(&csrf)).await.unwrap().status(), 401);
    s.stop().await;
}

/// Without `[[users]]` the console is open, as the API is, and says so.
#[tokio::test]
async fn without_users_the_console_is_open_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    let r = s
        .client
        .get(s.url("/console/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    assert_eq!(
        (&session["open"], &session["role"]),
        (&json!(true), &json!("admin"))
    );
    s.stop().await;
}

/// The pages in Chromium against the demo, as each role.
#[test]
fn the_console_works_in_a_browser() {
    use ordergraph_server::access::hash_password;

    let dir = tempfile::tempdir().unwrap();
    let mut config = String::from("[report]\nnow = \"2026-06-30T00:00:00+08:00\"\n");
    for role in ["admin", "analyst", "support", "marketing"] {
        let hash = hash_password(&format!("{role} secret")).unwrap();
        config.push_str(&format!(
            "\n[[users]]\nname = \"{role}-user\"\nrole = \"{role}\"\npassword_hash = \"{hash}\"\n"
        ));
    }
    std::fs::write(dir.path().join("ordergraph.toml"), config).unwrap();
    let server = crate::process::Process::start_with(dir.path(), &["--demo"]);
    // A customer with several orders, to search for.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ordergraph"))
        .args([
            "sql",
            "SELECT channel || ':' || order_id AS o FROM orders WHERE mcid = \
             (SELECT mcid FROM customers WHERE orders BETWEEN 3 AND 8 ORDER BY mcid LIMIT 1) ORDER BY o LIMIT 1",
            "--format",
            "csv",
            "--server",
            &server.base,
            "--user",
            "admin-user",
        ])
        .env("ORDERGRAPH_PASSWORD", "admin secret")
        .output()
        .unwrap();
    crate::assert_succeeded(&out);
    let order = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.py");
    let out = std::process::Command::new("python3")
        .args([script, &server.base, &order])
        .output()
        .unwrap();
    let log = server.log.lock().unwrap().join("\n");
    server.kill();
    assert!(
        out.status.success(),
        "{}\n{}\nserver log:\n{log}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
