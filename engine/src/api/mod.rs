//! The service surface of `ordo run`: an HTTP API (axum on the engine's tokio runtime) beside
//! the workers, timers and channels of the same process.
//!
//! - `server`: listening (plain or rustls), connection limit, header and body timeouts, body
//!   limit, rate limit (`ratelimit`), panics caught, request metrics.
//! - `routes`: the handlers; each calls the library function the matching command or channel
//!   calls (order intake, task decisions, inbound files and statements, retries, events).
//! - `auth`: users, tokens, roles, and the one rule for who may decide a task.
//! - `error`: the one error shape and its stable codes.
//! - `openapi`: the OpenAPI 3.1 document generated from the handlers' annotations.
//! - `finance`: credit notes (one function for route and command: role, effect, audit).
//! - `webhooks`: subscribers, events queued in the outbox of the step, signed delivery.
//! - `batch`: group commit of the `POST` routes' effects (a savepoint per request, one commit
//!   per batch, every request answered after that commit).
//! - `idempotency`, `audit`: records that commit in the transaction of the effect they
//!   describe.
//!
//! No state another process needs lives in memory: users, idempotency keys and the audit
//! trail are in the store, so several `ordo run` processes of a cluster serve one API.

pub mod amqp_intake;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod complaints;
pub mod error;
pub mod finance;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod orders;
pub mod quotes;
pub mod ratelimit;
pub mod returns;
pub mod routes;
pub mod server;
pub mod users;
pub mod webhooks;

use crate::config::HttpConfig;
use crate::runtime::Engine;
use std::sync::Arc;

/// What every request handler shares.
pub struct Api {
    pub engine: Arc<Engine>,
    pub cfg: HttpConfig,
    pub tokens: auth::TokenCache,
    /// The committer of the `POST` routes' effects (group commit).
    pub batch: batch::Batcher,
    metrics: metrics::Metrics,
    /// `http.rate_limit`, when set.
    limiter: Option<ratelimit::Limiter>,
    /// Failed console sign-ins per user name and per client IP (always on; see
    /// `console::session`).
    pub(crate) signin: crate::console::SigninLimits,
}

impl Api {
    pub fn new(engine: Arc<Engine>, cfg: HttpConfig) -> Arc<Api> {
        Arc::new(Api {
            engine,
            limiter: cfg.rate_limit.map(ratelimit::Limiter::new),
            signin: crate::console::signin_limiter(),
            cfg,
            tokens: auth::TokenCache::default(),
            batch: batch::Batcher::default(),
            metrics: metrics::Metrics::default(),
        })
    }
}

pub use server::{bind, serve};

/// What `ordo run` serves besides workers: the HTTP API and the AMQP order intake.
pub struct Services {
    http: Option<server::Running>,
    intake: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl Services {
    /// Stops both (connections still open are dropped).
    pub async fn stop(self) {
        if let Some(h) = self.http {
            h.stop().await;
        }
        if let Some((stop, task)) = self.intake {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
        }
    }
}

/// Starts the services `cfg` asks for; `listen` is `ordo run --listen` (see
/// [`server::start`]). A port that cannot be bound or TLS files that do not load fail the start.
pub async fn start(
    engine: Arc<Engine>,
    cfg: &crate::config::Config,
    listen: Option<&str>,
) -> Result<Services, String> {
    let http = server::start(engine.clone(), cfg.http.as_ref(), listen).await?;
    let intake = cfg
        .intake
        .as_ref()
        .and_then(|i| i.amqp.clone())
        .map(|amqp| {
            let (stop, rx) = tokio::sync::watch::channel(false);
            let task = tokio::spawn(amqp_intake::run(engine.clone(), amqp, rx));
            (stop, task)
        });
    Ok(Services { http, intake })
}
