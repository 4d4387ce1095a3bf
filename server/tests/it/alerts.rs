//! Alerts end to end: the real server evaluates the built-in alerts and
//! delivers to a receiver on 127.0.0.1 that checks each kind's signature
//! as its platform documents it (written here from those documents, not
//! from the server's code), through resolution, silences and SIGKILLs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};

use crate::process::Process;

const DINGTALK_SECRET: &str = "SECdingtalk-test-secret";
const FEISHU_SECRET: &str = "feishu-test-secret";
const HOOK_SECRET: &str = "hook-test-secret";
const WECOM_KEY: &str = "wecom-test-key";
const DINGTALK_TOKEN: &str = "dingtalk-test-token";

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A message the receiver accepted.
#[derive(Debug, Clone)]
struct Received {
    kind: &'static str,
    /// The `Idempotency-Key` header.
    key: String,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Every n-th request is answered 503 (0: none).
    fail_every: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Receiver {
    fn flaky(&self) -> bool {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let every = self.fail_every.load(Ordering::SeqCst);
        every > 0 && n.is_multiple_of(every)
    }

    fn keep(&self, kind: &'static str, headers: &HeaderMap, body: Value) {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        self.got.lock().unwrap().push(Received { kind, key, body });
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// DingTalk: `sign` = Base64(HmacSHA256(secret, timestamp + "\n" + secret)),
/// timestamp in ms and within an hour of now.
async fn dingtalk(
    State(r): State<Receiver>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if r.flaky() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
    }
    let timestamp: i64 = query["timestamp"].parse().unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        DINGTALK_SECRET.as_bytes(),
        format!("{timestamp}\n{DINGTALK_SECRET}").as_bytes(),
    ));
    let fresh = (chrono::Utc::now().timestamp_millis() - timestamp).abs() < 3_600_000;
    if query.get("access_token").map(String::as_str) != Some(DINGTALK_TOKEN)
        || query["sign"] != expected
        || !fresh
    {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 310000, "errmsg": "sign not match"})),
        );
    }
    assert_eq!(body["msgtype"], "text");
    r.keep("dingtalk", &headers, body);
    (StatusCode::OK, Json(json!({"errcode": 0, "errmsg": "ok"})))
}

/// Feishu: body `timestamp` (s) and `sign` = Base64(HmacSHA256(key =
/// timestamp + "\n" + secret, message = empty)).
async fn feishu(
    State(r): State<Receiver>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if r.flaky() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
    }
    let timestamp = body["timestamp"].as_str().unwrap_or_default();
    let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        format!("{timestamp}\n{FEISHU_SECRET}").as_bytes(),
        b"",
    ));
    if body["sign"] != expected.as_str() {
        return (
            StatusCode::OK,
            Json(
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}),
            ),
        );
    }
    assert_eq!(body["msg_type"], "text");
    r.keep("feishu", &headers, body);
    (StatusCode::OK, Json(json!({"code": 0, "msg": "success"})))
}

/// WeCom: the robot's key in the address.
async fn wecom(
    State(r): State<Receiver>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if r.flaky() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({})));
    }
    if query.get("key").map(String::as_str) != Some(WECOM_KEY) {
        return (
            StatusCode::OK,
            Json(json!({"errcode": 93000, "errmsg": "invalid webhook url"})),
        );
    }
    r.keep("wecom", &headers, body);
    (StatusCode::OK, Json(json!({"errcode": 0, "errmsg": "ok"})))
}

/// A webhook: `X-Ordergraph-Signature: t=<s>,v1=<hex HmacSHA256(secret,
/// "<t>.<body>")>`.
async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    if r.flaky() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let signature = headers["x-ordergraph-signature"].to_str().unwrap();
    let (t, v1) = signature
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
        .unwrap();
    let digest = hmac_sha256(HOOK_SECRET.as_bytes(), format!("{t}.{body}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex != v1 {
        return StatusCode::UNAUTHORIZED;
    }
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        headers["idempotency-key"].to_str().unwrap(),
        body["idempotency_key"]
    );
    r.keep("webhook", &headers, body);
    StatusCode::NO_CONTENT
}

/// Starts the receiver; its base address.
async fn receive(receiver: Receiver) -> String {
    let app = axum::Router::new()
        .route("/dingtalk", post(dingtalk))
        .route("/feishu", post(feishu))
        .route("/wecom", post(wecom))
        .route("/hook", post(hook))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A configuration sending every route to the `kinds` of targets.
fn config(receiver: &str, kinds: &[&str]) -> String {
    let mut text = String::from(
        "[report]\nnow = \"2026-03-01T06:00:00Z\"\n\n\
         [alerts]\nretry_initial = \"1s\"\nretry_max = \"2s\"\nmax_attempts = 50\n\n\
         [alerts.every]\nrefund_escalations = \"1s\"\ncredential_expiry = \"1s\"\n\n",
    );
    for kind in kinds {
        let (url, secret) = match *kind {
            "dingtalk" => (
                format!("{receiver}/dingtalk?access_token={DINGTALK_TOKEN}"),
                Some(DINGTALK_SECRET),
            ),
            "feishu" => (format!("{receiver}/feishu"), Some(FEISHU_SECRET)),
            "wecom" => (format!("{receiver}/wecom?key={WECOM_KEY}"), None),
            _ => (format!("{receiver}/hook"), Some(HOOK_SECRET)),
        };
        text +=
            &format!("[[alerts.targets]]\nname = \"{kind}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n");
        if let Some(secret) = secret {
            text += &format!("secret = \"{secret}\"\n");
        }
    }
    text += &format!(
        "\n[[alerts.routes]]\nroute = \"*\"\ntargets = {:?}\n",
        kinds
    );
    text
}

async fn ingest(client: &reqwest::Client, base: &str, table: &str, csv: &str) {
    let r = client
        .post(format!("{base}/v1/ingest/{table}"))
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn sql(client: &reqwest::Client, base: &str, query: &str) -> Value {
    let r = client
        .post(format!("{base}/v1/sql"))
        .body(query.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Waits until `done` holds of what the receiver got, or panics.
async fn wait_for(receiver: &Receiver, what: &str, done: impl Fn(&[Received]) -> bool) {
    let start = Instant::now();
    while !done(&receiver.received()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}; got {:#?}",
            receiver.received()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text a message carries, whatever its kind.
fn text(r: &Received) -> String {
    match r.kind {
        "dingtalk" | "wecom" => r.body["text"]["content"].as_str().unwrap().to_string(),
        "feishu" => r.body["content"]["text"].as_str().unwrap().to_string(),
        _ => format!("{} {}", r.body["title"], r.body["message"]),
    }
}

const KINDS: [&str; 4] = ["dingtalk", "feishu", "wecom", "webhook"];

#[tokio::test]
async fn alerts_fire_resolve_and_stay_silenced_on_every_kind_of_target() {
    let receiver = Receiver::default();
    let url = receive(receiver.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ordergraph.toml"), config(&url, &KINDS)).unwrap();
    let server = Process::start(dir.path());
    let client = crate::client();
    // R1 was applied for three hours before the report time, and nobody
    // entered its first node; a token expires in 42 hours.
    ingest(
        &client,
        &server.base,
        "refunds",
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n\
         R1,tmall,O1,2026-03-01T03:00:00Z,99.00,质量问题,美妆,金卡,false\n",
    )
    .await;
    ingest(
        &client,
        &server.base,
        "credentials",
        "platform,shop,name,expires_at,last_refresh_at,last_refresh_ok\n\
         tmall,旗舰店,access_token,2026-03-03T00:00:00Z,2026-02-28T00:00:00Z,true\n",
    )
    .await;
    let refund_key = "refund:R1:apply:2h";
    let credential_key = "credential:tmall:旗舰店:access_token:3d";
    wait_for(&receiver, "both alerts on every target", |got| {
        got.len() >= 8
    })
    .await;
    let got = receiver.received();
    for kind in KINDS {
        let texts: Vec<String> = got.iter().filter(|r| r.kind == kind).map(text).collect();
        assert_eq!(texts.len(), 2, "{kind}: {texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t.contains("退款 R1") && t.contains("apply")),
            "{kind}: {texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("旗舰店") && t.contains("3d")),
            "{kind}: {texts:?}"
        );
    }
    let webhook: Vec<&Received> = got.iter().filter(|r| r.kind == "webhook").collect();
    let keys: BTreeSet<&str> = webhook
        .iter()
        .map(|r| r.body["alert_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, BTreeSet::from([refund_key, credential_key]));
    assert!(webhook.iter().all(|r| r.body["transition"] == "firing"));

    // The refund enters its first node: nothing is stuck any more, and
    // every target hears so.
    ingest(
        &client,
        &server.base,
        "refund_events",
        "refund_id,node,action,actor,actor_role,at,note\nR1,apply,enter,system,system,2026-03-01T05:30:00Z,\n",
    )
    .await;
    wait_for(&receiver, "the resolution on every target", |got| {
        got.len() >= 12
    })
    .await;
    let got = receiver.received();
    let resolved: Vec<&Received> = got
        .iter()
        .filter(|r| r.kind == "webhook" && r.body["transition"] == "resolved")
        .collect();
    assert_eq!(resolved.len(), 1, "{got:#?}");
    assert_eq!(resolved[0].body["alert_key"], refund_key);
    assert!(
        got.iter()
            .filter(|r| r.kind == "dingtalk")
            .any(|r| text(r).contains("已恢复")),
        "{got:#?}"
    );

    // A silenced alert notifies nobody: the refresh failure stays quiet.
    let r = client
        .post(format!("{}/v1/alerts/silences", server.base))
        .json(&json!({"alert": "credential_expiry", "duration": "1h", "reason": "续期中"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for bad in [
        json!({"alert": "no_such_alert", "duration": "1h", "reason": "x"}),
        json!({"alert": "credential_expiry", "duration": "forever", "reason": "x"}),
        json!({"alert": "credential_expiry", "duration": "1h", "reason": " "}),
    ] {
        let r = client
            .post(format!("{}/v1/alerts/silences", server.base))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    ingest(
        &client,
        &server.base,
        "credentials",
        "platform,shop,name,expires_at,last_refresh_at,last_refresh_ok\n\
         tmall,旗舰店,access_token,2026-03-03T00:00:00Z,2026-03-01T05:00:00Z,false\n",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(receiver.received().len(), 12, "{:#?}", receiver.received());

    let listed: Value = client
        .get(format!("{}/v1/alerts", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credential = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "credential_expiry")
        .unwrap();
    assert_eq!(credential["firing"][0]["alert_key"], credential_key);
    assert_eq!(credential["last_error"], Value::Null);

    let states = sql(
        &client,
        &server.base,
        "SELECT state, count(*) AS n FROM alert_deliveries GROUP BY state",
    )
    .await;
    assert_eq!(states, json!([{"state": "sent", "n": 12}]));
    let metrics = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sent: f64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("ordergraph_alert_deliveries_total{") && l.contains("outcome=\"sent\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(sent, 12.0, "{metrics}");
    let audit = sql(
        &client,
        &server.base,
        "SELECT action, count(*) AS n FROM audit_log WHERE action LIKE 'alert%' GROUP BY action ORDER BY action",
    )
    .await;
    assert_eq!(
        audit,
        json!([{"action": "alert_sent", "n": 12}, {"action": "alert_silence", "n": 1}])
    );

    // Secrets and tokens reach neither the API nor the log.
    let shown = listed.to_string();
    let log = server.log.lock().unwrap().join("\n");
    for secret in [
        DINGTALK_SECRET,
        FEISHU_SECRET,
        HOOK_SECRET,
        WECOM_KEY,
        DINGTALK_TOKEN,
    ] {
        assert!(!shown.contains(secret) && !log.contains(secret), "{secret}");
    }
    server.kill();
}

#[tokio::test]
async fn a_kill_during_delivery_loses_no_alert_and_sends_none_under_a_new_key() {
    let receiver = Receiver::default();
    // Every third request fails: deliveries are retried across the kills.
    receiver.fail_every.store(3, Ordering::SeqCst);
    let url = receive(receiver.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        config(&url, &["dingtalk", "webhook"]),
    )
    .unwrap();
    let refunds = 40;
    let mut csv = String::from(
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n",
    );
    for i in 0..refunds {
        csv += &format!("K{i},jd,O{i},2026-03-01T03:00:00Z,10.00,少发,食品,普通,false\n");
    }
    let client = crate::client();
    let mut server = Process::start(dir.path());
    ingest(&client, &server.base, "refunds", &csv).await;
    // Killed twice while the notifications are being delivered: after the
    // first few arrived, and again after more; each start takes up the
    // deliveries not yet done.
    for delivered in [5, 40] {
        wait_for(&receiver, "deliveries under way", |got| {
            got.len() >= delivered
        })
        .await;
        server.kill();
        server = Process::start(dir.path());
        let resumed = |log: &[String]| {
            log.iter()
                .find(|l| l.contains("alerts resumed"))
                .map(|l| !l.contains("resumed=0"))
        };
        let start = Instant::now();
        let taken_up = loop {
            if let Some(taken_up) = resumed(&server.log.lock().unwrap()) {
                break taken_up;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no resumption logged"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            taken_up,
            "the kill after {delivered} deliveries left none pending"
        );
    }
    wait_for(&receiver, "every key on both targets", |got| {
        let delivered: BTreeSet<(&str, &str)> =
            got.iter().map(|r| (r.kind, r.key.as_str())).collect();
        delivered.len() >= 2 * refunds
    })
    .await;
    let got = receiver.received();
    // One notification per key: a repeat after a kill carries the same
    // idempotency key, never a new one.
    let mut keys_per_alert: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in got.iter().filter(|r| r.kind == "webhook") {
        keys_per_alert
            .entry(r.body["alert_key"].as_str().unwrap().to_string())
            .or_default()
            .insert(r.key.clone());
    }
    assert_eq!(keys_per_alert.len(), refunds);
    assert!(
        keys_per_alert.values().all(|k| k.len() == 1),
        "{keys_per_alert:#?}"
    );
    let dingtalk: BTreeSet<&str> = got
        .iter()
        .filter(|r| r.kind == "dingtalk")
        .map(|r| r.key.as_str())
        .collect();
    let webhook: BTreeSet<&str> = got
        .iter()
        .filter(|r| r.kind == "webhook")
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(dingtalk, webhook);
    // Every delivery ends recorded as sent, in time.
    let start = Instant::now();
    loop {
        let states = sql(
            &client,
            &server.base,
            "SELECT state, count(*) AS n FROM alert_deliveries GROUP BY state",
        )
        .await;
        if states == json!([{"state": "sent", "n": 2 * refunds}]) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{states}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill();
}

/// The demo with a receiver configured: its stuck refunds, expiring
/// credentials and overdue purchase requests arrive at the first
/// evaluation after start.
#[tokio::test]
async fn the_demo_alerts_its_stuck_refunds_credentials_and_purchases() {
    let receiver = Receiver::default();
    let url = receive(receiver.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        format!(
            "[report]\nnow = \"2026-06-30T00:00:00+08:00\"\n\n\
             [[alerts.targets]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{url}/hook\"\nsecret = \"{HOOK_SECRET}\"\n\n\
             [[alerts.routes]]\nroute = \"*\"\ntargets = [\"ops\"]\n"
        ),
    )
    .unwrap();
    let server = Process::start_with(dir.path(), &["--demo"]);
    let wanted = [
        "refund_escalations",
        "credential_expiry",
        "purchase_escalations",
    ];
    wait_for(&receiver, "the demo's alerts", |got| {
        wanted
            .iter()
            .all(|alert| got.iter().any(|r| r.body["alert"] == *alert))
    })
    .await;
    server.kill();
}

/// A minimal SMTP server on 127.0.0.1: accepts every message and keeps its
/// text (headers and body as sent).
async fn smtp_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 localhost ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.to_ascii_uppercase();
                    let reply: &[u8] = if verb.starts_with("EHLO") || verb.starts_with("HELO") {
                        b"250 localhost\r\n"
                    } else if verb == "DATA" {
                        write.write_all(b"354 end with .\r\n").await.unwrap();
                        let mut text = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            text.push_str(&line);
                            text.push('\n');
                        }
                        kept.lock().unwrap().push(text);
                        b"250 queued\r\n"
                    } else if verb == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (format!("smtp://{addr}"), got)
}

#[tokio::test]
async fn alerts_go_out_as_email_with_the_idempotency_key_as_message_id() {
    let (url, mails) = smtp_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        format!(
            "[report]\nnow = \"2026-03-01T06:00:00Z\"\n\n\
             [alerts.every]\nrefund_escalations = \"1s\"\n\n\
             [[alerts.targets]]\nname = \"mail\"\nkind = \"email\"\nurl = \"{url}\"\n\
             from = \"ordergraph <alerts@example.com>\"\nto = [\"ops@example.com\", \"finance@example.com\"]\n\n\
             [[alerts.routes]]\nroute = \"*\"\ntargets = [\"mail\"]\n"
        ),
    )
    .unwrap();
    let server = Process::start(dir.path());
    let client = crate::client();
    ingest(
        &client,
        &server.base,
        "refunds",
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n\
         R1,tmall,O1,2026-03-01T03:00:00Z,99.00,质量问题,美妆,金卡,false\n",
    )
    .await;
    let start = Instant::now();
    while mails.lock().unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no email arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mail = mails.lock().unwrap()[0].clone();
    let delivered = sql(
        &client,
        &server.base,
        "SELECT notification_id, state FROM alert_deliveries WHERE target = 'mail'",
    )
    .await;
    let id = delivered[0]["notification_id"].as_str().unwrap();
    assert!(
        mail.contains(&format!("Message-ID: <{id}@ordergraph>")),
        "{mail}"
    );
    assert!(
        mail.contains("ops@example.com") && mail.contains("finance@example.com"),
        "{mail}"
    );
    assert!(
        mail.contains("From: ordergraph <alerts@example.com>"),
        "{mail}"
    );
    server.kill();
}

/// An alert that fails is reported in `GET /v1/alerts` and tried again at
/// its interval, not in a loop; the others go on.
#[tokio::test]
async fn a_failing_alert_is_reported_and_waits_for_its_interval() {
    let receiver = Receiver::default();
    let url = receive(receiver.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        config(&url, &["webhook"]),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("alerts")).unwrap();
    std::fs::write(
        dir.path().join("alerts/broken.sql"),
        "-- description: a severity no one knows\n-- every: 2s\n\
         SELECT 'k' AS alert_key, 'urgent' AS severity, 't' AS title, 'm' AS message, 'ops' AS route",
    )
    .unwrap();
    let server = Process::start(dir.path());
    let client = crate::client();
    ingest(
        &client,
        &server.base,
        "refunds",
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n\
         R1,tmall,O1,2026-03-01T03:00:00Z,99.00,质量问题,美妆,金卡,false\n",
    )
    .await;
    // The other alerts deliver meanwhile.
    wait_for(&receiver, "the refund alert", |got| !got.is_empty()).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let listed: Value = client
        .get(format!("{}/v1/alerts", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let broken = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "broken")
        .unwrap();
    let error = broken["last_error"].as_str().unwrap();
    assert!(error.contains("severity 'urgent'"), "{error}");
    // Every 2 s over about 6 s: a handful of failures, not a loop.
    let failures = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("alert evaluation failed") && l.contains("broken"))
        .count();
    assert!((1..=5).contains(&failures), "{failures} failures logged");
    server.kill();
}
