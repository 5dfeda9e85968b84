//! Group commit for the API's effects: concurrent `POST` requests are handed to one committer
//! task, which runs up to [`MAX_BATCH`] of them in ONE store transaction, each in its own
//! savepoint, commits once and only then answers every request of the batch — the idea the
//! workers use for steps (ARCHITECTURE.md, "The life of a step").
//!
//! Invariant (acknowledged = durable): a request is answered only after the commit that holds
//! its effect. A request that fails rolls back only its savepoint — its effect, its
//! idempotency key and its audit record — and gets its own error; the others of the batch
//! commit. When the batch cannot commit (the store is lost), every request of it that would
//! have written gets that error, none a success.
//!
//! Per request the batch also checks, in its transaction, that the caller's token still
//! belongs to an enabled user ([`Holder`]): the handler may have taken the caller from the
//! in-memory cache of verified tokens (no argon2, no store round trip), and disabling a user
//! or rotating a token still takes effect at once, in every process of a cluster.
//!
//! The committer runs while requests queue: one batch takes every request waiting (up to the
//! bound), so under load a batch grows by itself and one commit (one fsync) serves many
//! requests, while a lone request is committed at once, alone.

use super::Api;
use super::auth::{Actor, Refusal, TokenCache};
use super::error::{ApiError, ApiResult, Code};
use super::idempotency::{self, Claim, Key};
use crate::runtime::Engine;
use crate::store::Tx;
use crate::store::service::UserRow;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use futures_lite::FutureExt;
use serde_json::Value;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// Requests one transaction holds at most: bounds the latency a batch adds to its first
/// request and the work lost when a batch fails as a whole.
pub const MAX_BATCH: usize = 256;
/// Committer tasks on PostgreSQL (each a transaction, so a connection, while its batch runs).
const PG_COMMITTERS: usize = 3;
/// Requests waiting for the committer at most; past that a handler waits to enqueue.
const QUEUE: usize = 4096;

/// The effect of one request: it gets the batch's transaction, runs in its savepoint and hands
/// the transaction back with its answer (status, JSON body) or its error.
pub type Work = Box<
    dyn FnOnce(
            Box<dyn Tx>,
        ) -> Pin<
            Box<dyn Future<Output = (Box<dyn Tx>, ApiResult<(StatusCode, Value)>)> + Send>,
        > + Send,
>;

/// What a request of a batch is answered once the batch committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The JSON text of the body.
    pub body: String,
    /// The stored answer of an `Idempotency-Key` given before with this request.
    pub replayed: bool,
}

/// The token a request was authenticated with, checked again in the batch's transaction.
#[derive(Debug, Clone)]
pub struct Holder {
    pub token_id: String,
    /// The stored argon2 hash the token matched when it was verified.
    pub token_hash: String,
    /// The roles the request was allowed with.
    pub roles: String,
}

/// One request waiting for its batch.
pub struct Job {
    pub holder: Option<Holder>,
    pub key: Option<Key>,
    pub work: Work,
    pub reply: oneshot::Sender<ApiResult<Answer>>,
}

/// The queue to the committer task (started with the first request).
#[derive(Default)]
pub struct Batcher {
    queue: OnceLock<mpsc::Sender<Job>>,
}

impl Batcher {
    fn sender(&self, engine: &Arc<Engine>, ttl_ms: i64) -> mpsc::Sender<Job> {
        self.queue
            .get_or_init(|| {
                let (tx, rx) = mpsc::channel(QUEUE);
                let rx = Arc::new(tokio::sync::Mutex::new(rx));
                // SQLite has one writer: one committer. PostgreSQL commits concurrently: while
                // one batch waits for its commit (fsync, round trips), the next one forms and
                // runs on another connection.
                let committers = if engine.embedded() { 1 } else { PG_COMMITTERS };
                for _ in 0..committers {
                    // Each holds the engine, not the `Api`: when the `Api` (and with it this
                    // sender) is dropped, the channel closes and the tasks end.
                    tokio::spawn(committer(engine.clone(), ttl_ms, rx.clone()));
                }
                tx
            })
            .clone()
    }
}

/// Runs `work` in the next batch (see the module docs) and answers once that batch committed.
pub async fn run(
    api: &Arc<Api>,
    holder: Option<Holder>,
    key: Option<Key>,
    work: Work,
) -> ApiResult<Answer> {
    let ttl_ms = i64::try_from(api.cfg.idempotency_ttl_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let (reply, answer) = oneshot::channel();
    let job = Job {
        holder,
        key,
        work,
        reply,
    };
    let lost = || ApiError::new(Code::Internal, "internal error (logged)");
    if api
        .batch
        .sender(&api.engine, ttl_ms)
        .send(job)
        .await
        .is_err()
    {
        tracing::error!("API batch committer is gone");
        return Err(lost());
    }
    // Dropped unanswered only when the batch panicked (logged there): nothing committed.
    answer.await.unwrap_or_else(|_| Err(lost()))
}

async fn committer(
    engine: Arc<Engine>,
    ttl_ms: i64,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // The lock is held while waiting for the first job and taking the waiting ones, not while
    // the batch runs: the next committer forms the next batch meanwhile.
    while rx.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        // A panic drops the batch's transaction (rolled back) and its reply senders (each
        // request answers 500); the committer goes on with the next batch.
        if AssertUnwindSafe(run_batch(&engine, ttl_ms, batch))
            .catch_unwind()
            .await
            .is_err()
        {
            tracing::error!("API batch panicked; its requests were rolled back");
        }
    }
}

/// Runs `jobs` in one transaction, a savepoint each, commits, then answers each (see the module
/// docs). Public to the crate so tests can form a batch of their choosing.
pub(crate) async fn run_batch(engine: &Engine, ttl_ms: i64, jobs: Vec<Job>) {
    let mut tx = match begin(engine).await {
        Ok(tx) => tx,
        Err(e) => return fail_all(jobs.into_iter().map(|j| j.reply), &e),
    };
    let now = engine.clock.now_ms();
    let mut done: Vec<(oneshot::Sender<ApiResult<Answer>>, ApiResult<Answer>)> =
        Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    let mut broken = None;
    for job in jobs.by_ref() {
        let sp = match tx.savepoint().await {
            Ok(sp) => sp,
            Err(e) => {
                broken = Some((job.reply, ApiError::from(e)));
                break;
            }
        };
        let (t, answer) = one(tx, job.holder, job.key, job.work, now, ttl_ms).await;
        tx = t;
        let kept = match &answer {
            Ok(a) if !a.replayed => tx.release(sp).await,
            _ => tx.rollback_to(sp).await,
        };
        if let Err(e) = kept {
            broken = Some((job.reply, ApiError::from(e)));
            break;
        }
        done.push((job.reply, answer));
    }
    if let Some((reply, e)) = broken {
        // The transaction is unusable: nothing of the batch commits.
        let _ = tx.rollback().await;
        let replies = std::iter::once(reply)
            .chain(done.into_iter().map(|(r, _)| r))
            .chain(jobs.map(|j| j.reply));
        return fail_all(replies, &e);
    }
    let committed = crate::app::commit_and_publish(engine, tx)
        .await
        .map_err(ApiError::from);
    for (reply, answer) in done {
        let answer = match (&committed, answer) {
            // Its own error stands (nothing of it was to be stored); a success needs the commit.
            (_, Err(e)) => Err(e),
            (Ok(()), Ok(a)) => Ok(a),
            (Err(e), Ok(_)) => Err(e.clone()),
        };
        let _ = reply.send(answer);
    }
}

async fn begin(engine: &Engine) -> ApiResult<Box<dyn Tx>> {
    let mut tx = engine.store.begin().await?;
    if let Err(e) = engine.refresh_clock(tx.as_mut()).await {
        let _ = tx.rollback().await;
        return Err(e.into());
    }
    Ok(tx)
}

fn fail_all(replies: impl Iterator<Item = oneshot::Sender<ApiResult<Answer>>>, e: &ApiError) {
    for r in replies {
        let _ = r.send(Err(e.clone()));
    }
}

/// One request inside its savepoint: its caller's token, its key, its effect.
async fn one(
    mut tx: Box<dyn Tx>,
    holder: Option<Holder>,
    key: Option<Key>,
    work: Work,
    now: i64,
    ttl_ms: i64,
) -> (Box<dyn Tx>, ApiResult<Answer>) {
    if let Some(h) = &holder
        && let Err(e) = still_holds(tx.as_mut(), h).await
    {
        return (tx, Err(e));
    }
    if let Some(k) = &key {
        match idempotency::claim(tx.as_mut(), k, now, ttl_ms).await {
            Ok(Claim::Fresh) => {}
            Ok(Claim::Replay(status, body)) => {
                let replayed = Answer {
                    status,
                    body,
                    replayed: true,
                };
                return (tx, Ok(replayed));
            }
            Err(e) => return (tx, Err(e)),
        }
    }
    let (mut tx, result) = work(tx).await;
    let (status, body) = match result {
        Ok(r) => r,
        Err(e) => return (tx, Err(e)),
    };
    let text = serde_json::to_string(&body).unwrap_or_else(|_| "null".into());
    if let Some(k) = &key
        && let Err(e) = idempotency::finish(tx.as_mut(), k, status.as_u16(), &text).await
    {
        return (tx, Err(e));
    }
    let answer = Answer {
        status: status.as_u16(),
        body: text,
        replayed: false,
    };
    (tx, Ok(answer))
}

/// The token still belongs to an enabled user and is still the user's token (not rotated).
async fn still_holds(tx: &mut dyn Tx, h: &Holder) -> ApiResult<()> {
    match tx.user_by_token_id(&h.token_id).await? {
        Some(u) if u.token_hash == h.token_hash && u.disabled => Err(refused(Refusal::Disabled)),
        Some(u) if u.token_hash == h.token_hash && u.roles == h.roles => Ok(()),
        // The roles changed since the request was let in: it is refused, not re-judged.
        Some(u) if u.token_hash == h.token_hash => Err(ApiError::new(
            Code::Forbidden,
            "the user's roles changed while the request waited; send it again",
        )),
        _ => Err(refused(Refusal::Unknown)),
    }
}

/// The `401` of a refused token (the client learns nothing more than the reason's class).
pub fn refused(r: Refusal) -> ApiError {
    let why = match r {
        Refusal::Missing => "a bearer token is needed (Authorization: Bearer …)",
        Refusal::Malformed | Refusal::Unknown => "the token is not valid",
        Refusal::Disabled => "the token's user is disabled",
    };
    ApiError::new(Code::Unauthenticated, why)
}

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The user `token` belongs to, read from the store (outside any batch, so no transaction waits
/// on argon2) and verified; `401` otherwise.
pub async fn verified_user(api: &Api, token: Option<&str>) -> ApiResult<UserRow> {
    let id = TokenCache::token_id(token).map_err(refused)?;
    let mut tx = api.engine.store.begin().await?;
    let user = tx.user_by_token_id(id).await;
    tx.rollback().await?;
    api.tokens
        .verify(token.unwrap_or_default(), user?)
        .map_err(refused)
}

/// The caller of a batched route: taken from the cache of verified tokens when the token was
/// verified before (no store round trip, no argon2) and checked again in the batch's
/// transaction ([`Holder`]); otherwise verified as [`super::routes::Caller`] is.
pub struct BatchCaller(pub Actor, pub Holder);

impl FromRequestParts<Arc<Api>> for BatchCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        let token = bearer(parts);
        let cached = token
            .and_then(|t| api.tokens.cached(t))
            .filter(|u| !u.disabled);
        let user = match cached {
            Some(u) => u,
            None => verified_user(api, token).await?,
        };
        let holder = Holder {
            token_id: user.token_id.clone(),
            token_hash: user.token_hash.clone(),
            roles: user.roles.clone(),
        };
        Ok(BatchCaller(Actor::api_user(&user), holder))
    }
}
