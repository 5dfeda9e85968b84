//! `ordo bench webhooks`: events delivered by the webhook dispatcher (`ordo::api::webhooks`,
//! the task `ordo run` starts) to a local receiver, beside the receiver's no-op ceiling
//! measured in the same run: the dispatcher's own HTTP client POSTing the same signed bodies
//! straight to the receiver, as many at once as one dispatch pass, with no store in between.
//!
//! The events are queued as a step queues them (`webhooks::enqueue`, an outbound row each);
//! the clock runs from the dispatcher's start until the store holds every row as delivered.
//! The receiver counts distinct event ids: every event must arrive (once, in a clean run).

use crate::harness;
use ordo::api::webhooks::{self, WebhookConfig};
use ordo::config::Config;
use serde_json::json;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The bench's size.
pub struct WebhookBench {
    pub events: usize,
    /// The embedded store's folder (the cluster backend gets its own schema).
    pub dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct WebhookFigures {
    pub backend: String,
    pub events: usize,
    /// Seconds from the dispatcher's start until every event was recorded delivered.
    pub secs: f64,
    /// The ceiling: POSTs per second to the same receiver without the store.
    pub noop_per_s: f64,
}

impl WebhookFigures {
    pub fn per_sec(&self) -> f64 {
        self.events as f64 / self.secs.max(1e-9)
    }
}

/// Bounds on a request the receiver reads (the dispatcher's are far smaller).
const MAX_REQUEST: usize = 256 * 1024;
/// No progress for this long fails the run (a hung dispatcher is not a figure).
const STALL: Duration = Duration::from_secs(30);

/// Event ids the receiver got (from `Ordo-Event-Id`), and how many requests.
#[derive(Default)]
struct Received {
    ids: HashSet<String>,
    requests: usize,
}

type Shared = Arc<Mutex<Received>>;

/// A keep-alive HTTP/1.1 receiver answering every request `200` with an empty body.
async fn receiver() -> Result<(SocketAddr, Shared), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let got = Shared::default();
    let shared = got.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve(s, shared.clone()));
        }
    });
    Ok((addr, got))
}

async fn serve(mut s: TcpStream, got: Shared) {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        // one request: head, then a Content-Length body
        let (head_end, length, id) = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_string())
                };
                let length = header("content-length:").and_then(|v| v.parse::<usize>().ok());
                break (i + 4, length.unwrap_or(0), header("ordo-event-id:"));
            }
            if buf.len() > MAX_REQUEST {
                return;
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        if length > MAX_REQUEST {
            return;
        }
        while buf.len() < head_end + length {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        {
            let mut g = got.lock().unwrap_or_else(|p| p.into_inner());
            g.requests += 1;
            if let Some(id) = id {
                g.ids.insert(id);
            }
        }
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        if s.write_all(ok).await.is_err() {
            return;
        }
    }
}

/// Runs the bench on the backend of `cfg` (the cluster one in its own schema, dropped after).
pub async fn run(cfg: &Config, args: &WebhookBench) -> Result<WebhookFigures, String> {
    let cfg = harness::own_backend(cfg);
    let result = run_on(&cfg, args).await;
    harness::drop_backend(&cfg).await;
    result
}

async fn run_on(cfg: &Config, args: &WebhookBench) -> Result<WebhookFigures, String> {
    let (addr, got) = receiver().await?;
    let sub: WebhookConfig = serde_json::from_value(json!({
        "name": "bench", "url": format!("http://{addr}/hook"), "events": ["order.accepted"],
        "secret": "bench-secret-0123456789", "timeout_ms": 10_000
    }))
    .map_err(|e| e.to_string())?;
    let noop_per_s = ceiling(&sub, args.events).await?;
    got.lock().unwrap_or_else(|p| p.into_inner()).ids.clear();

    let mut cfg = cfg.clone();
    cfg.webhooks = vec![sub.clone()];
    let (engine, cfg) = harness::fresh_engine(&cfg, &args.dir).await?;
    let backend = harness::backend_line(&cfg);
    // The events, queued as steps queue them, a thousand per transaction.
    let now = engine.clock.now_ms();
    for chunk in (0..args.events).collect::<Vec<_>>().chunks(1000) {
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        for i in chunk {
            let key = format!("W-{i:07}");
            let data = json!({ "order": key, "total": "12.50" });
            webhooks::enqueue(
                tx.as_mut(),
                std::slice::from_ref(&sub),
                "order.accepted",
                &key,
                None,
                &data,
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let task = tokio::spawn(webhooks::dispatcher(engine.clone(), stop_rx));
    let result = wait_delivered(&engine, &got, args.events).await;
    let secs = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    engine.store.close().await;
    result?;
    Ok(WebhookFigures {
        backend,
        events: args.events,
        secs,
        noop_per_s,
    })
}

/// Until the receiver has every event and the store holds none unsent; `Err` on a stall.
async fn wait_delivered(
    engine: &ordo::runtime::Engine,
    got: &Shared,
    events: usize,
) -> Result<(), String> {
    let (mut last, mut since) = (0, Instant::now());
    loop {
        let n = got.lock().unwrap_or_else(|p| p.into_inner()).ids.len();
        if n >= events {
            let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
            let left = tx.unsent_webhooks(1).await.map_err(|e| e.to_string())?;
            tx.rollback().await.map_err(|e| e.to_string())?;
            if left.is_empty() {
                return Ok(());
            }
        }
        if n != last {
            (last, since) = (n, Instant::now());
        } else if since.elapsed() > STALL {
            return Err(format!(
                "{n} of {events} events arrived; no progress for {STALL:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The receiver's ceiling: `n` signed POSTs by the dispatcher's client, as many in flight as
/// one dispatch pass sends, no store.
async fn ceiling(sub: &WebhookConfig, n: usize) -> Result<f64, String> {
    let client = webhooks::client()?;
    let body = serde_json::to_vec(&json!({ "id": "evt", "type": "order.accepted", "data": {} }))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut sent = 0;
    while sent < n {
        let mut set = tokio::task::JoinSet::new();
        for i in sent..(sent + webhooks::BATCH as usize).min(n) {
            let (client, sub, body) = (client.clone(), sub.clone(), body.clone());
            set.spawn(async move { webhooks::post(&client, &sub, &format!("c{i}"), &body).await });
        }
        while let Some(r) = set.join_next().await {
            r.map_err(|e| e.to_string())??;
            sent += 1;
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}
