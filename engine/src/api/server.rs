//! Listening and the rules every request passes before a handler: at most
//! `http.max_connections` connections at once (more wait in the accept queue: they are not
//! accepted, so not answered, until an admitted one closes), the rate limit of
//! `http.rate_limit` (`super::ratelimit`, checked before the body is read), a header
//! timeout (hyper drops a client that has not sent its headers in time), the body read whole
//! under a size limit (`413`) and a time limit (`408`) before any handler sees it, a panic
//! in a handler answered `500 internal` without its text, and every answer counted for
//! `/metrics` by route template and status.

use super::Api;
use super::error::{ApiError, Code};
use crate::config::HttpConfig;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_lite::FutureExt;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Binds the listener (so a taken port fails `ordo run` at start, with the address).
pub async fn bind(addr: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("http.listen {addr}: {e}"))
}

/// The TLS acceptor of `http.tls`, when set.
fn tls_acceptor(cfg: &HttpConfig) -> Result<Option<tokio_rustls::TlsAcceptor>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let Some(tls) = &cfg.tls else {
        return Ok(None);
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("http.tls.cert {}: {e}", tls.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "http.tls.cert {}: no certificate in the file",
            tls.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| format!("http.tls.key {}: {e}", tls.key.display()))?;
    // ring rather than aws-lc-rs: no C toolchain (cmake) in the build; the post-quantum key
    // exchange it lacks is what the deprecation note is about.
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("http.tls: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("http.tls: {e}"))?;
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
}

/// Serves the API on `listener` until `stop` turns true. Connections still open then are
/// dropped with the runtime.
pub async fn serve(
    api: Arc<Api>,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let tls = tls_acceptor(&api.cfg)?;
    // the web console shares the listener; its routes sit beside /api/v1
    let app = super::routes::router(api.clone()).merge(crate::console::router(api.clone()));
    let limit = Arc::new(Semaphore::new(api.cfg.max_connections.max(1)));
    let header_timeout = Duration::from_secs(api.cfg.header_timeout_secs.max(1));
    tracing::info!(
        listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        tls = tls.is_some(),
        "HTTP API listening"
    );
    let purge = tokio::spawn(purge_keys(api.clone()));
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // out of file descriptors and the like: wait instead of spinning
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = WithPeer {
                inner: hyper_util::service::TowerToHyperService::new(app),
                ip: ClientIp(peer.ip()),
            };
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let r = match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => {
                            http.serve_connection(hyper_util::rt::TokioIo::new(s), service)
                                .await
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    }
                }
                None => {
                    http.serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await
                }
            };
            if let Err(e) = r {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
        });
    }
    purge.abort();
    Ok(())
}

/// The client address of a request's connection (a request extension), for the rate limit
/// of unauthenticated callers.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

/// A connection's service: the router, with the connection's [`ClientIp`] on each request.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    ip: ClientIp,
}

impl<S, B> hyper::service::Service<hyper::Request<B>> for WithPeer<S>
where
    S: hyper::service::Service<hyper::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, mut req: hyper::Request<B>) -> Self::Future {
        req.extensions_mut().insert(self.ip);
        self.inner.call(req)
    }
}

/// `429 rate_limited` with `Retry-After` when `http.rate_limit` is set and the caller of an
/// `/api/v1` route has used up its bucket. The caller is the bearer token's id when the
/// header holds a well-formed token, else the client IP.
fn rate_limited(api: &Api, route: &str, req: &Request) -> Option<Response> {
    let limiter = api.limiter.as_ref()?;
    if !route.starts_with("/api/v1") {
        return None;
    }
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let caller = match super::auth::TokenCache::token_id(token) {
        Ok(id) => format!("token:{id}"),
        Err(_) => match req.extensions().get::<ClientIp>() {
            Some(ip) => format!("ip:{}", ip.0),
            None => "ip:unknown".to_string(),
        },
    };
    let wait = limiter.check(&caller, std::time::Instant::now()).err()?;
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    tracing::debug!(%caller, retry_after = secs, "rate limited");
    let mut resp = ApiError::new(
        Code::RateLimited,
        format!("too many requests (http.rate_limit); try again in {secs} s"),
    )
    .into_response();
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(secs),
    );
    Some(resp)
}

/// Deletes expired idempotency keys every ten minutes.
async fn purge_keys(api: Arc<Api>) {
    let ttl = i64::try_from(api.cfg.idempotency_ttl_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    loop {
        tokio::time::sleep(Duration::from_secs(600)).await;
        let now = api.engine.clock.now_ms();
        let r = async {
            let mut tx = api.engine.store.begin().await?;
            let n = tx.idem_purge(now.saturating_sub(ttl)).await?;
            tx.commit().await?;
            Ok::<u64, crate::store::StoreError>(n)
        }
        .await;
        match r {
            Ok(n) if n > 0 => tracing::info!(keys = n, "expired idempotency keys deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "idempotency key purge failed; next time"),
        }
    }
}

/// Reads the body whole (bounded in size and time), runs the handler with a panic caught,
/// and counts the answer.
pub(crate) async fn guard(State(api): State<Arc<Api>>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = match rate_limited(&api, &route, &req) {
        Some(r) => r,
        None => guarded(&api, req, next).await,
    };
    api.metrics.count(&method, &route, resp.status().as_u16());
    resp
}

async fn guarded(api: &Api, req: Request, next: Next) -> Response {
    let limit = api.cfg.body_limit_bytes;
    let too_large = || {
        ApiError::new(
            Code::PayloadTooLarge,
            format!("the body is over the limit of {limit} bytes (http.body_limit_bytes)"),
        )
        .into_response()
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let read = http_body_util::Limited::new(body, limit).collect();
    let bytes =
        match tokio::time::timeout(Duration::from_secs(api.cfg.body_timeout_secs.max(1)), read)
            .await
        {
            Err(_) => {
                return ApiError::new(Code::Timeout, "the body did not arrive in time")
                    .into_response();
            }
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "request body unreadable");
                return ApiError::new(Code::BadRequest, "the body could not be read")
                    .into_response();
            }
            Ok(Ok(c)) => c.to_bytes(),
        };
    let req = Request::from_parts(parts, Body::from(bytes));
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => {
            // the panic hook logged it with its location
            ApiError::new(Code::Internal, "internal error (logged)").into_response()
        }
    }
}

/// The server of a running `ordo run`, stopped with [`Running::stop`].
pub struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(2), self.task).await;
    }
}

/// Starts the API for `ordo run`: `listen` (`--listen ADDR|off`) overrides `http.listen`;
/// without either, or with `off`, no server. A port that cannot be bound, or TLS files that
/// do not load, fail the start with the reason.
pub async fn start(
    engine: Arc<crate::runtime::Engine>,
    http: Option<&HttpConfig>,
    listen: Option<&str>,
) -> Result<Option<Running>, String> {
    let mut cfg = match (http, listen) {
        (_, Some("off")) | (None, None) => return Ok(None),
        (Some(h), _) => h.clone(),
        (None, Some(_)) => HttpConfig::default(),
    };
    if let Some(addr) = listen {
        cfg.listen = addr.to_string();
    }
    if cfg.listen == "off" {
        return Ok(None);
    }
    // load the certificate now, so a bad one stops the start instead of every handshake
    tls_acceptor(&cfg)?;
    let listener = bind(&cfg.listen).await?;
    let api = Api::new(engine, cfg);
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(serve(api, listener, rx));
    Ok(Some(Running { stop, task }))
}
