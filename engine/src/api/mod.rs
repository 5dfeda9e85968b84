//! The service surface of `ordo run`: an HTTP API (axum on the engine's tokio runtime) beside
//! the workers, timers and channels of the same process.
//!
//! - `server`: listening (plain or rustls), connection limit, header and body timeouts, body
//!   limit, panics caught, request metrics.
//! - `routes`: the handlers; each calls the library function the matching command or channel
//!   calls (order intake, task decisions, inbound files and statements, retries, events).
//! - `auth`: users, tokens, roles, and the one rule for who may decide a task.
//! - `error`: the one error shape and its stable codes.
//! - `openapi`: the OpenAPI 3.1 document generated from the handlers' annotations.
//! - `idempotency`, `audit`: records that commit in the transaction of the effect they
//!   describe.
//!
//! No state another process needs lives in memory: users, idempotency keys and the audit
//! trail are in the store, so several `ordo run` processes of a cluster serve one API.

pub mod audit;
pub mod auth;
pub mod error;
pub mod idempotency;
mod metrics;
pub mod openapi;
pub mod routes;
pub mod server;

use crate::config::HttpConfig;
use crate::runtime::Engine;
use std::sync::Arc;

/// What every request handler shares.
pub struct Api {
    pub engine: Arc<Engine>,
    pub cfg: HttpConfig,
    pub tokens: auth::TokenCache,
    metrics: metrics::Metrics,
}

impl Api {
    pub fn new(engine: Arc<Engine>, cfg: HttpConfig) -> Arc<Api> {
        Arc::new(Api {
            engine,
            cfg,
            tokens: auth::TokenCache::default(),
            metrics: metrics::Metrics::default(),
        })
    }
}

pub use server::{bind, serve};
