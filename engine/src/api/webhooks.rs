//! Webhooks: business events told to other systems over HTTP.
//!
//! `webhooks:` in the config lists subscribers (a name, a URL, the events, a secret). When a
//! step emits an event a subscriber wants, [`enqueue`] adds an `outbound` row (channel
//! `webhook:<name>`, key = the event's stable id) in the step's own transaction, so an event
//! of a rolled-back step is never sent and one of a committed step is never lost. The
//! webhook dispatcher ([`dispatcher`], started by `ordo run`) POSTs each row as JSON, signed:
//!
//! ```text
//! Ordo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//! Ordo-Event-Id: <the event id; the same on every attempt, for receivers to de-duplicate>
//! ```
//!
//! A 2xx answer is delivered; anything else (a status, a refused connection, no answer within
//! `timeout_ms`) is retried after `retry_ms[n]` counted from when the event was queued; after
//! the last attempt the row is kept as failed with the reason (`ordo webhooks deliveries
//! --failed`, `ordo webhooks redeliver ID`).

use crate::runtime::Engine;
use crate::store::{StoreError, Tx};
use axum::body::Bytes;
use http_body_util::Full;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The channel prefix of webhook rows in `outbound`.
pub const CHANNEL_PREFIX: &str = "webhook:";

/// Events a subscriber may list, each queued where its fact is decided: `order.accepted`,
/// `invoice.created`, `invoice.paid` from the engine events of [`public_event`];
/// `instance.failed` where an instance fails for good; `order.held` when a task opens,
/// `order.approved` / `order.rejected` when it is decided (`Engine::decide_task`);
/// `shipment.created`, `recon.exception` and `edi.rejected` by the connectors that make the
/// shipment, queue the exception or quarantine the partner file (`StepContext::publish`);
/// `order.promise_changed` where a slipped purchase order changes an order's promised date.
pub const EVENTS: &[&str] = &[
    "order.accepted",
    "invoice.created",
    "invoice.paid",
    "instance.failed",
    "order.held",
    "order.approved",
    "order.rejected",
    "shipment.created",
    "recon.exception",
    "edi.rejected",
    "order.promise_changed",
];

/// The public name of an engine event, for those a webhook can carry: an accepted order
/// starts its workflow with `order.received`, an issued invoice is `invoice.issued`, a
/// matched payment `payment.matched`.
pub fn public_event(engine_event: &str) -> Option<&'static str> {
    match engine_event {
        "order.received" => Some("order.accepted"),
        "invoice.issued" => Some("invoice.created"),
        "payment.matched" => Some("invoice.paid"),
        _ => None,
    }
}

/// One subscriber in `webhooks:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the channel `webhook:<name>`: letters, digits, `-` and `_`.
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    pub events: Vec<String>,
    /// The HMAC key (at least 16 characters).
    pub secret: String,
    /// How long one attempt may take, connecting included.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The waits before attempts 2, 3, …, counted from when the event was queued (so at
    /// most `retry_ms.len() + 1` attempts).
    #[serde(default = "default_retry_ms")]
    pub retry_ms: Vec<u64>,
}

fn default_timeout_ms() -> u64 {
    10_000
}

fn default_retry_ms() -> Vec<u64> {
    vec![10_000, 60_000, 300_000, 1_800_000, 7_200_000, 21_600_000]
}

impl WebhookConfig {
    pub fn channel(&self) -> String {
        format!("{CHANNEL_PREFIX}{}", self.name)
    }

    /// When attempt `attempts + 1` is due, for an event queued at `queued_at` (ms); None
    /// once every attempt was made.
    pub fn due_at(&self, queued_at: i64, attempts: i64) -> Option<i64> {
        let n = usize::try_from(attempts).ok()?;
        if n > self.retry_ms.len() {
            return None;
        }
        let wait: u64 = self.retry_ms[..n].iter().sum();
        Some(queued_at.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX)))
    }
}

/// Checks `webhooks:`; each error names its place (`webhooks[1].events[0]: …`).
pub fn validate(subs: &[WebhookConfig]) -> Vec<String> {
    let mut errors = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        let at = format!("webhooks[{i}]");
        if s.name.is_empty()
            || s.name.len() > 64
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errors.push(format!(
                "{at}.name: '{}' must be 1-64 letters, digits, '-' or '_'",
                s.name
            ));
        }
        if subs[..i].iter().any(|o| o.name == s.name) {
            errors.push(format!("{at}.name: '{}' is used twice", s.name));
        }
        match s.url.parse::<hyper::Uri>() {
            Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => {}
            _ => errors.push(format!(
                "{at}.url: '{}' is not an http:// or https:// URL",
                s.url
            )),
        }
        if s.events.is_empty() {
            errors.push(format!("{at}.events: lists no event"));
        }
        for (j, e) in s.events.iter().enumerate() {
            if !EVENTS.contains(&e.as_str()) {
                errors.push(format!(
                    "{at}.events[{j}]: unknown event '{e}' (known: {})",
                    EVENTS.join(", ")
                ));
            }
        }
        if s.secret.chars().count() < 16 {
            errors.push(format!("{at}.secret: needs at least 16 characters"));
        }
        if !(100..=120_000).contains(&s.timeout_ms) {
            errors.push(format!("{at}.timeout_ms: must be 100..=120000"));
        }
        if s.retry_ms.len() > 20 || s.retry_ms.iter().any(|&w| w > 7 * 86_400_000) {
            errors.push(format!(
                "{at}.retry_ms: at most 20 waits, each at most 7 days"
            ));
        }
    }
    errors
}

/// The stable id of an event: the same event (name and key) always has the same id, so a
/// step that runs again queues nothing twice and a receiver can de-duplicate.
pub fn event_id(event: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(event.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    format!("evt_{}", &hex(&h.finalize())[..32])
}

/// Queues `event` (a public name) for every subscriber that wants it, in `tx`.
pub async fn enqueue(
    tx: &mut dyn Tx,
    subs: &[WebhookConfig],
    event: &str,
    key: &str,
    instance_id: Option<&str>,
    data: &Value,
    now: i64,
) -> Result<(), StoreError> {
    let mut wanted = subs.iter().filter(|s| s.events.iter().any(|e| e == event));
    let Some(first) = wanted.next() else {
        return Ok(());
    };
    let id = event_id(event, key);
    let body = json!({ "id": id, "type": event, "key": key, "created_at": now, "data": data });
    for s in std::iter::once(first).chain(wanted) {
        tx.add_outbound(&s.channel(), &id, instance_id, &body, now)
            .await?;
    }
    Ok(())
}

/// HMAC-SHA256 (RFC 2104) of `msg` under `key`, as lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    hex(&Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize())
}

/// The `Ordo-Signature` header value for `body` sent at unix second `t`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    format!("t={t},v1={}", hmac_sha256_hex(secret.as_bytes(), &msg))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// The dispatcher's HTTP client (also `ordo bench webhooks`' ceiling's).
pub fn client() -> Result<Client, String> {
    // ring, as the server uses (api::server): no C toolchain needed for aws-lc-rs.
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let roots = tokio_rustls::rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// One attempt: POST `body` to the subscriber; Ok on a 2xx answer within the timeout.
pub async fn post(
    client: &Client,
    sub: &WebhookConfig,
    id: &str,
    body: &[u8],
) -> Result<(), String> {
    let t = chrono::Utc::now().timestamp();
    let req = hyper::Request::post(&sub.url)
        .header("content-type", "application/json")
        .header("user-agent", "ordo-webhooks")
        .header("ordo-event-id", id)
        .header("ordo-signature", signature(&sub.secret, t, body))
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| format!("bad request: {e}"))?;
    let timeout = Duration::from_millis(sub.timeout_ms);
    match tokio::time::timeout(timeout, client.request(req)).await {
        Err(_) => Err(format!("no answer within {} ms", sub.timeout_ms)),
        Ok(Err(e)) => Err(format!("{e}: {}", error_chain(&e))),
        Ok(Ok(res)) if res.status().is_success() => Ok(()),
        Ok(Ok(res)) => Err(format!("HTTP {}", res.status())),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

/// Rows read per dispatch; the due ones are posted concurrently.
pub const BATCH: i64 = 200;

/// One pass: posts every due webhook row and records each outcome. Returns (delivered,
/// failed attempts).
pub async fn dispatch(
    engine: &Engine,
    subs: &[WebhookConfig],
    client: &Client,
) -> Result<(usize, usize), crate::runtime::EngineError> {
    let mut tx = engine.store.begin().await?;
    let rows = tx.unsent_webhooks(BATCH).await?;
    tx.rollback().await?;
    let now = engine.clock.now_ms();
    let mut orphans = Vec::new();
    let mut due = Vec::new();
    for (m, queued_at) in rows {
        let name = m.channel.strip_prefix(CHANNEL_PREFIX).unwrap_or_default();
        match subs.iter().find(|s| s.name == name) {
            None => orphans.push(m.id),
            Some(s) => match s.due_at(queued_at, m.attempts) {
                Some(at) if at <= now => due.push((m, s)),
                Some(_) => {}
                None => orphans.push(m.id),
            },
        }
    }
    // Concurrently, so a receiver that hangs delays the others by one timeout at most.
    let mut set = tokio::task::JoinSet::new();
    for (i, (m, s)) in due.iter().enumerate() {
        let (client, s, key) = (client.clone(), (*s).clone(), m.key.clone());
        let body = serde_json::to_vec(&m.payload).unwrap_or_default();
        set.spawn(async move { (i, post(&client, &s, &key, &body).await) });
    }
    let mut results: Vec<Result<(), String>> = vec![Err("not attempted".into()); due.len()];
    while let Some(done) = set.join_next().await {
        if let Ok((i, res)) = done {
            results[i] = res;
        }
    }
    let now = engine.clock.now_ms();
    let mut tx = engine.store.begin().await?;
    if !orphans.is_empty() {
        tx.mark_outbound(&orphans, Some(now), Some("no such subscriber in webhooks:"))
            .await?;
    }
    let (mut sent, mut failed) = (Vec::new(), 0);
    for ((m, s), res) in due.iter().zip(results) {
        match res {
            Ok(()) => sent.push(m.id),
            Err(e) => {
                failed += 1;
                let last = s.due_at(0, m.attempts + 1).is_none();
                let e = if last {
                    format!("failed after {} attempts: {e}", m.attempts + 1)
                } else {
                    e
                };
                tracing::warn!(channel = %m.channel, event = %m.key, error = %e, last, "webhook delivery failed");
                tx.mark_outbound(&[m.id], last.then_some(now), Some(&e))
                    .await?;
            }
        }
    }
    tx.mark_outbound(&sent, Some(now), None).await?;
    tx.commit().await?;
    Ok((sent.len(), failed))
}

/// Delivers webhook rows until `stop`; naps when there was nothing due or less than a full pass.
pub async fn dispatcher(engine: Arc<Engine>, stop: watch::Receiver<bool>) {
    let subs = engine.webhooks.clone();
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; nothing is delivered");
            return;
        }
    };
    while !*stop.borrow() {
        let nap = match dispatch(&engine, &subs, &client).await {
            Ok((sent, failed)) if sent + failed > 0 => {
                engine.last_activity_ms.store(
                    crate::clock::real_now_ms(),
                    std::sync::atomic::Ordering::SeqCst,
                );
                // A full pass means a backlog: go on at once. A partial one naps briefly so
                // that events committed meanwhile go out together rather than one pass each.
                if sent + failed >= BATCH as usize {
                    0
                } else {
                    50
                }
            }
            Ok(_) => 100,
            Err(e) => {
                tracing::warn!(error = %e, "webhook dispatcher: store unavailable");
                1_000
            }
        };
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(nap)) => {}
            _ = stop.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests;
