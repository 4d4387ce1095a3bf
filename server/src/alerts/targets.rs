//! How a notification is put to each kind of target, signed as the
//! platform documents it, and how its answer is read.
//!
//! - DingTalk custom robot: `timestamp` (ms) and `sign` query parameters,
//!   `sign` = Base64(HMAC-SHA256(key = secret, `timestamp + "\n" + secret`)),
//!   URL-encoded; the answer's `errcode` is 0 when accepted.
//! - Feishu custom bot: `timestamp` (s) and `sign` body fields, `sign` =
//!   Base64(HMAC-SHA256(key = `timestamp + "\n" + secret`, empty message));
//!   the answer's `code` is 0 when accepted.
//! - WeCom group robot: no signature (the key is in the address); the
//!   answer's `errcode` is 0 when accepted.
//! - Webhook: the notification as JSON, with `Idempotency-Key` and, given
//!   a secret, `X-Ordergraph-Signature: t=<unix s>,v1=<hex HMAC-SHA256(key
//!   = secret, "<t>.<body>")>`; any 2xx accepts it.
//! - Email: a plain-text message over SMTP whose `Message-ID` is the
//!   idempotency key; a permanent SMTP error (5xx) gives up.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::settings::{AlertTarget, TargetKind};

/// A notification as sent.
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    /// The idempotency key: the same notification sent twice carries the
    /// same one.
    pub(crate) notification_id: String,
    pub(crate) alert: String,
    pub(crate) alert_key: String,
    pub(crate) transition: String,
    pub(crate) severity: String,
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) route: String,
    /// When the key's episode began (RFC 3339).
    pub(crate) fired_at: String,
}

/// What a target's answer means.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    Sent,
    /// Worth trying again later.
    Retry(String),
    /// Trying again cannot help.
    GiveUp(String),
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// DingTalk's `sign` for `timestamp_ms`, before URL encoding.
pub(crate) fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    base64(&hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    ))
}

/// Feishu's `sign` for `timestamp_s`.
pub(crate) fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    base64(&hmac_sha256(
        format!("{timestamp_s}\n{secret}").as_bytes(),
        b"",
    ))
}

/// The `X-Ordergraph-Signature` value of `body` sent at `timestamp_s`.
pub fn webhook_signature(secret: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp_s}.").into_bytes();
    message.extend_from_slice(body);
    let digest = hmac_sha256(secret.as_bytes(), &message);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp_s},v1={hex}")
}

/// Percent-encodes the characters of Base64 that a query string reserves.
fn query_escape(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// The first line: what changed, and the title.
fn headline(n: &Notification) -> String {
    match n.transition.as_str() {
        "resolved" => format!("【已恢复 resolved】{}", n.title),
        "repeat" => format!("【{} · 仍未处理】{}", n.severity, n.title),
        _ => format!("【{}】{}", n.severity, n.title),
    }
}

/// The text a person reads in a group chat or an email.
fn chat_text(n: &Notification) -> String {
    format!(
        "{}\n{}\n— ordergraph · {} · {} · {}",
        headline(n),
        n.message,
        n.alert,
        n.alert_key,
        n.notification_id
    )
}

/// The email that delivers `n` to an email target.
pub(crate) fn email(target: &AlertTarget, n: &Notification) -> Result<lettre::Message, String> {
    let address = |text: &str| {
        text.parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("'{text}': {e}"))
    };
    let mut message = lettre::Message::builder()
        .from(address(target.from.as_deref().unwrap_or_default())?)
        .subject(headline(n))
        .message_id(Some(format!("<{}@ordergraph>", n.notification_id)));
    for to in &target.to {
        message = message.to(address(to)?);
    }
    message
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(chat_text(n))
        .map_err(|e| e.to_string())
}

/// What an SMTP server's answer means. Only the reply code is kept: the
/// rest may name the server and the account.
pub(crate) fn email_verdict(
    sent: Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error>,
) -> Verdict {
    match sent {
        Ok(response) if response.is_positive() => Verdict::Sent,
        Ok(response) => Verdict::Retry(format!("SMTP {}", response.code())),
        Err(e) => {
            let code = e.status().map_or("no reply".into(), |c| c.to_string());
            if e.is_permanent() {
                Verdict::GiveUp(format!("SMTP permanent error {code}"))
            } else if e.is_timeout() {
                Verdict::Retry("SMTP timed out".into())
            } else {
                Verdict::Retry(format!("SMTP {code}"))
            }
        }
    }
}

/// The JSON a webhook receives.
pub(crate) fn webhook_body(n: &Notification) -> Value {
    json!({
        "idempotency_key": n.notification_id,
        "alert": n.alert,
        "alert_key": n.alert_key,
        "transition": n.transition,
        "severity": n.severity,
        "title": n.title,
        "message": n.message,
        "route": n.route,
        "fired_at": n.fired_at,
    })
}

/// The request that delivers `n` to `target` at `now_ms` (milliseconds
/// since the epoch).
pub(crate) fn request(
    client: &reqwest::Client,
    target: &AlertTarget,
    n: &Notification,
    now_ms: i64,
) -> reqwest::RequestBuilder {
    let secret = target.secret.as_deref();
    let (url, body) = match target.kind {
        TargetKind::Dingtalk => {
            let url = match secret {
                Some(secret) => {
                    let joiner = if target.url.contains('?') { '&' } else { '?' };
                    format!(
                        "{}{joiner}timestamp={now_ms}&sign={}",
                        target.url,
                        query_escape(&dingtalk_sign(secret, now_ms))
                    )
                }
                None => target.url.clone(),
            };
            let body = json!({"msgtype": "text", "text": {"content": chat_text(n)}});
            (url, body)
        }
        TargetKind::Feishu => {
            let mut body = json!({"msg_type": "text", "content": {"text": chat_text(n)}});
            if let Some(secret) = secret {
                let seconds = now_ms / 1000;
                body["timestamp"] = json!(seconds.to_string());
                body["sign"] = json!(feishu_sign(secret, seconds));
            }
            (target.url.clone(), body)
        }
        TargetKind::Wecom => (
            target.url.clone(),
            json!({"msgtype": "text", "text": {"content": chat_text(n)}}),
        ),
        TargetKind::Webhook | TargetKind::Email => (target.url.clone(), webhook_body(n)),
    };
    let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", &n.notification_id);
    if let (TargetKind::Webhook, Some(secret)) = (target.kind, secret) {
        request = request.header(
            "X-Ordergraph-Signature",
            webhook_signature(secret, now_ms / 1000, &bytes),
        );
    }
    request.body(bytes)
}

/// What the answer `status` with `body` from a target of `kind` means.
pub(crate) fn verdict(kind: TargetKind, status: u16, body: &str) -> Verdict {
    let excerpt: String = body.chars().take(200).collect();
    if !(200..300).contains(&status) {
        let error = format!("HTTP {status}: {excerpt}");
        // A request the target refuses as such will be refused again;
        // timeouts, throttling and server errors pass.
        return if (400..500).contains(&status) && status != 408 && status != 429 {
            Verdict::GiveUp(error)
        } else {
            Verdict::Retry(error)
        };
    }
    let code_field = match kind {
        TargetKind::Dingtalk | TargetKind::Wecom => "errcode",
        TargetKind::Feishu => "code",
        TargetKind::Webhook | TargetKind::Email => return Verdict::Sent,
    };
    let answer: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = answer
        .get(code_field)
        .or_else(|| answer.get("StatusCode"))
        .and_then(Value::as_i64);
    match code {
        Some(0) => Verdict::Sent,
        Some(code) => Verdict::Retry(format!("{code_field} {code}: {excerpt}")),
        None => Verdict::Retry(format!("an answer without {code_field}: {excerpt}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_platforms_worked_examples() {
        // Computed independently with Python's hmac, hashlib and base64:
        // b64encode(hmac.new(key, message, sha256).digest()).
        assert_eq!(
            dingtalk_sign("SECabc", 1_700_000_000_000),
            "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM="
        );
        assert_eq!(
            feishu_sign("abc", 1_700_000_000),
            "VIS10b0EBvzzSdFnuk4tznEmK5wHaruvf/WnViv2yR4="
        );
        assert_eq!(
            webhook_signature("s3cret", 1_700_000_000, b"{}"),
            "t=1700000000,v1=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
        );
    }

    #[test]
    fn answers_are_read_per_kind() {
        use TargetKind::*;
        assert_eq!(
            verdict(Dingtalk, 200, r#"{"errcode":0,"errmsg":"ok"}"#),
            Verdict::Sent
        );
        assert!(matches!(
            verdict(Dingtalk, 200, r#"{"errcode":310000,"errmsg":"sign not match"}"#),
            Verdict::Retry(e) if e.contains("310000")
        ));
        assert_eq!(
            verdict(Feishu, 200, r#"{"code":0,"msg":"success"}"#),
            Verdict::Sent
        );
        assert_eq!(verdict(Feishu, 200, r#"{"StatusCode":0}"#), Verdict::Sent);
        assert!(matches!(verdict(Feishu, 200, "{}"), Verdict::Retry(_)));
        assert_eq!(verdict(Wecom, 200, r#"{"errcode":0}"#), Verdict::Sent);
        assert_eq!(verdict(Webhook, 204, ""), Verdict::Sent);
        assert!(matches!(verdict(Webhook, 503, ""), Verdict::Retry(_)));
        assert!(matches!(verdict(Webhook, 429, ""), Verdict::Retry(_)));
        assert!(matches!(verdict(Webhook, 404, "no"), Verdict::GiveUp(_)));
    }
}
