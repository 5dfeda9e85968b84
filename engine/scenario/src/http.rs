//! `ordo bench http`: orders accepted over the HTTP API by concurrent keep-alive clients,
//! each answered only after the transaction that booked it committed, with p50/p99 latency,
//! beside two ceilings measured in the same run: the same server and clients on the no-op
//! route `GET /healthz`, and bare SQLite commits (on the cluster backend also bare
//! PostgreSQL commits).
//!
//! The load generator is part of the bench (a minimal HTTP/1.1 client over a raw `TcpStream`:
//! one request at a time per connection, `Content-Length` bodies only), so its cost is the
//! same on both measured routes and nothing outside the repository is needed. Every response's
//! status is checked: a run with one unexpected answer reports the answer, not a figure.

use crate::{demo, harness};
use ordo::config::{Config, HttpConfig};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bench's size.
pub struct HttpBench {
    /// Orders posted (one per request).
    pub orders: usize,
    /// Requests to the no-op route for its ceiling.
    pub noop_requests: usize,
    /// Concurrent keep-alive connections.
    pub clients: usize,
    /// The embedded store's folder (the cluster backend gets its own schema and prefix).
    pub dir: PathBuf,
}

/// Requests of one kind: how many, how long, and the latency percentiles.
#[derive(Debug, Clone)]
pub struct Load {
    pub requests: usize,
    pub secs: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

impl Load {
    pub fn per_sec(&self) -> f64 {
        self.requests as f64 / self.secs.max(1e-9)
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct HttpFigures {
    /// The backend line (see [`harness::backend_line`]).
    pub backend: String,
    pub clients: usize,
    /// `POST /api/v1/orders`, one order each, all answered `201`.
    pub orders: Load,
    /// `GET /healthz` on the same server with the same clients.
    pub noop: Load,
    /// Bare SQLite commits per second, same run.
    pub sqlite_commits_per_s: f64,
    /// Cluster backend: bare commits of its PostgreSQL per second (one insert + one update
    /// each, as the SQLite ceiling), same run.
    pub postgres_commits_per_s: Option<f64>,
    /// The host's 1-minute load average right after the orders were posted.
    pub load_avg: Option<f64>,
}

/// Bounds on what the load generator reads: a response over these is an error, not a hang.
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
/// A response slower than this fails the run (the server is hung, not slow).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// One request the clients send: a method, path and body, and the only status accepted.
#[derive(Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: &'static str,
    pub body: Vec<u8>,
    pub expect: u16,
}

/// A keep-alive HTTP/1.1 connection of the load generator.
pub struct Client {
    stream: TcpStream,
    host: String,
    token: String,
    buf: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr, token: &str) -> Result<Client, String> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(Client {
            stream,
            host: addr.to_string(),
            token: token.to_string(),
            buf: Vec::with_capacity(4096),
        })
    }

    /// Sends `req` and reads its response; `Err` unless the status is `req.expect`.
    pub async fn send(&mut self, req: &Request) -> Result<(), String> {
        let auth = format!("Authorization: Bearer {}\r\n", self.token);
        let kind = if req.body.is_empty() {
            ""
        } else {
            "Content-Type: application/json\r\n"
        };
        let (status, _, body) = self
            .exchange(req.method, req.path, &format!("{auth}{kind}"), &req.body)
            .await?;
        if status != req.expect {
            return Err(format!(
                "{} {}: status {status}, expected {}: {}",
                req.method,
                req.path,
                req.expect,
                ordo_contract::excerpt(&String::from_utf8_lossy(&body), 300)
            ));
        }
        Ok(())
    }

    /// Sends one request with `headers` (complete `Name: value\r\n` lines) and `body`
    /// (framed by its length); its status, response head and body. The console bench uses it
    /// with a session cookie instead of a token.
    pub async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> Result<(u16, String, Vec<u8>), String> {
        let mut out = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}",
            self.host
        )
        .into_bytes();
        if !body.is_empty() {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        self.stream
            .write_all(&out)
            .await
            .map_err(|e| format!("{method} {path}: write: {e}"))?;
        tokio::time::timeout(RESPONSE_TIMEOUT, self.read_response())
            .await
            .map_err(|_| format!("{method} {path}: no response in {RESPONSE_TIMEOUT:?}"))?
    }

    /// One response: its status, head and body (bounded; `Content-Length` framing only).
    async fn read_response(&mut self) -> Result<(u16, String, Vec<u8>), String> {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(format!("response head over {MAX_HEAD} bytes"));
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| "response head is not UTF-8".to_string())?
            .to_string();
        let (status, length) = parse_head(&head)?;
        if length > MAX_BODY {
            return Err(format!("response body of {length} bytes, over {MAX_BODY}"));
        }
        while self.buf.len() < head_end + length {
            self.fill().await?;
        }
        let body = self.buf[head_end..head_end + length].to_vec();
        self.buf.drain(..head_end + length);
        Ok((status, head, body))
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 8192];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// The status and `Content-Length` of a response head; chunked or unframed bodies are
/// refused (the API frames every answer by length).
fn parse_head(head: &str) -> Result<(u16, usize), String> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            format!(
                "not an HTTP/1.1 status line: {}",
                ordo_contract::excerpt(status_line, 80)
            )
        })?;
    let mut length = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!(
                "malformed header: {}",
                ordo_contract::excerpt(line, 80)
            ));
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length: {}", value.trim()))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!("unsupported Transfer-Encoding: {}", value.trim()));
        }
    }
    let length = length.ok_or("response without Content-Length")?;
    Ok((status, length))
}

/// Sends every request of `requests` over `clients` keep-alive connections (request `i` on
/// connection `i % clients`, one at a time per connection); the latencies, or the first
/// failure (an unexpected status included).
pub async fn drive(
    addr: SocketAddr,
    token: &str,
    clients: usize,
    requests: Arc<Vec<Request>>,
) -> Result<Load, String> {
    let clients = clients.clamp(1, requests.len().max(1));
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(Client::connect(addr, token).await?);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for (c, mut conn) in conns.into_iter().enumerate() {
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(requests.len() / clients + 1);
            for req in requests.iter().skip(c).step_by(clients) {
                let t = Instant::now();
                conn.send(req).await?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::with_capacity(requests.len());
    let mut first_err = None;
    for t in tasks {
        match t.await {
            Ok(Ok(l)) => all.extend(l),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(e) => {
                first_err.get_or_insert(format!("client task: {e}"));
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    if let Some(e) = first_err {
        return Err(e);
    }
    all.sort_unstable();
    let pct = |p: usize| all.get((all.len() * p / 100).min(all.len().saturating_sub(1)));
    Ok(Load {
        requests: all.len(),
        secs,
        p50_us: pct(50).copied().unwrap_or(0),
        p99_us: pct(99).copied().unwrap_or(0),
    })
}

/// Runs the bench on the backend of `cfg` (the cluster one in its own schema and prefix,
/// dropped afterwards).
pub async fn run(cfg: &Config, args: &HttpBench) -> Result<HttpFigures, String> {
    let cfg = harness::own_backend(cfg);
    let result = run_on(&cfg, args).await;
    harness::drop_backend(&cfg).await;
    result
}

async fn run_on(cfg: &Config, args: &HttpBench) -> Result<HttpFigures, String> {
    let (engine, cfg) = harness::fresh_engine(cfg, &args.dir).await?;
    let backend = harness::backend_line(&cfg);
    let custs: Vec<demo::Cust> = (0..8)
        .map(|i| demo::Cust {
            id: format!("C{:03}", i + 1),
            tight: false,
            blocked: false,
            partial: false,
            pays: demo::Pays::OnTime,
        })
        .collect();
    demo::import_master_data(&engine, &demo::master_data(&custs, 1_000_000_000)).await?;
    let token = add_integration_user(&engine).await?;

    let listener = ordo::api::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let http = HttpConfig {
        listen: addr.to_string(),
        // every client keeps its connection: none may wait in the accept queue
        max_connections: HttpConfig::default().max_connections.max(args.clients + 8),
        ..HttpConfig::default()
    };
    let api = ordo::api::Api::new(engine.clone(), http);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(ordo::api::serve(api, listener, stop_rx));

    let noop = Request {
        method: "GET",
        path: "/healthz",
        body: Vec::new(),
        expect: 200,
    };
    let noop = drive(
        addr,
        &token,
        args.clients,
        Arc::new(vec![noop; args.noop_requests]),
    )
    .await;
    let mut g = demo::Gen(13);
    let posts: Vec<Request> = (0..args.orders)
        .map(|n| {
            let c = &custs[g.below(custs.len() as u64) as usize];
            let lines: Vec<Value> = (0..1 + g.below(3))
                .map(|l| json!({ "line_no": l + 1, "sku": demo::ITEMS[g.below(8) as usize].0, "quantity": 1 + g.below(20) }))
                .collect();
            let order = json!({ "id": format!("{}-H{n:07}", c.id), "customer_id": c.id, "po_number": format!("H{n:07}"), "order_date": "2026-11-23", "currency": "EUR", "lines": lines });
            Request {
                method: "POST",
                path: "/api/v1/orders",
                body: serde_json::to_vec(&order).unwrap_or_default(),
                expect: 201,
            }
        })
        .collect();
    let orders = match &noop {
        Ok(_) => drive(addr, &token, args.clients, Arc::new(posts)).await,
        Err(_) => Err("not run: the no-op route failed".to_string()),
    };
    let load_avg = harness::load_avg();
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    let (noop, orders) = (noop?, orders?);
    // every 201 must be an order in the store, once
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let stored = tx
        .get_documents("order", "")
        .await
        .map_err(|e| e.to_string())?
        .len();
    tx.rollback().await.map_err(|e| e.to_string())?;
    if stored != args.orders {
        engine.store.close().await;
        return Err(format!(
            "{} orders answered 201 but {stored} are in the store",
            args.orders
        ));
    }
    // The cluster's own ceiling: bare commits of its PostgreSQL, in the run's own schema.
    let postgres_commits_per_s = match cfg.store.postgres {
        Some(_) => Some(crate::ceilings::commit_ceiling(engine.store.as_ref(), "ceiling-").await?),
        None => None,
    };
    engine.store.close().await;
    let sqlite_commits_per_s = crate::ceilings::sqlite_ceiling(&args.dir).await?;
    Ok(HttpFigures {
        backend,
        clients: args.clients,
        orders,
        noop,
        sqlite_commits_per_s,
        postgres_commits_per_s,
        load_avg,
    })
}

/// The bench's API user, role `integration` (what a webshop gets), added through the library
/// as `ordo users add` does; its token.
async fn add_integration_user(engine: &ordo::runtime::Engine) -> Result<String, String> {
    let (token, user) = ordo::api::auth::new_user("bench", "integration", engine.clock.now_ms())?;
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    if !tx.user_insert(&user).await.map_err(|e| e.to_string())? {
        return Err("the bench user exists already in a fresh store".into());
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request on one keep-alive connection with the next status of
    /// `statuses`, reading exactly one request (head + Content-Length body) per answer.
    async fn scripted_server(statuses: Vec<u16>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            for status in statuses {
                let (head_end, length) = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (i + 4, length);
                    }
                    let mut chunk = [0u8; 1024];
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                };
                while buf.len() < head_end + length {
                    let mut chunk = [0u8; 1024];
                    let n = s.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                buf.drain(..head_end + length);
                let body = format!("{{\"status\":{status}}}");
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                s.write_all(resp.as_bytes()).await.unwrap();
            }
        });
        addr
    }

    fn post(expect: u16) -> Request {
        Request {
            method: "POST",
            path: "/api/v1/orders",
            body: b"{\"id\":\"x\"}".to_vec(),
            expect,
        }
    }

    #[tokio::test]
    async fn the_load_generator_fails_on_any_unexpected_status() {
        // all as expected: every request counted
        let addr = scripted_server(vec![201, 201, 201]).await;
        let load = drive(addr, "t", 1, Arc::new(vec![post(201); 3]))
            .await
            .unwrap();
        assert_eq!(load.requests, 3);
        // the third answer is a 422 among 201s: the run fails and names it
        let addr = scripted_server(vec![201, 201, 422, 201]).await;
        let err = drive(addr, "t", 1, Arc::new(vec![post(201); 4]))
            .await
            .unwrap_err();
        assert!(
            err.contains("status 422, expected 201") && err.contains("\"status\":422"),
            "{err}"
        );
        // a 200 where 201 is expected is a failure too, not a success of another kind
        let addr = scripted_server(vec![200]).await;
        let err = drive(addr, "t", 1, Arc::new(vec![post(201)]))
            .await
            .unwrap_err();
        assert!(err.contains("status 200, expected 201"), "{err}");
    }

    #[test]
    fn response_heads_are_parsed_and_unframed_ones_refused() {
        assert_eq!(
            parse_head("HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n"),
            Ok((201, 12))
        );
        assert!(parse_head("HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(
            parse_head("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .unwrap_err()
                .contains("Transfer-Encoding")
        );
        assert!(parse_head("SSH-2.0\r\n\r\n").is_err());
        assert!(parse_head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
    }
}
