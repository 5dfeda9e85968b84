//! Group commit for the API's effects: concurrent `POST` requests are handed to one committer
//! task, which runs up to [`MAX_BATCH`] of them in ONE store transaction, commits once and only
//! then answers every request of the batch — the idea the workers use for steps
//! (ARCHITECTURE.md, "The life of a step").
//!
//! Two passes, as the workers run steps: the batch runs first without savepoints, with the
//! instances it starts inserted at commit as multi-row inserts (a savepoint pair per request
//! and the buffer flushes each savepoint forces were most of a request's statements). When a
//! request of it fails, or the commit finds a clash of the deferred inserts, that transaction
//! is rolled back whole and the batch runs again, each request in its own savepoint; so a
//! request's [`Work`] must be runnable more than once (it is a `Fn`, and only its transaction
//! keeps what it did). Each pass reads the documents its requests name ([`Job::reads`]) in one
//! query per kind before the first request runs, so checking a batch of order ids costs a
//! round trip, not one per order.
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

/// The effect of one request: it gets the batch's transaction and hands it back with its
/// answer (status, JSON body) or its error. A `Fn`: the batch may run it twice (the optimistic
/// pass rolled back, then the pass with savepoints; see the module docs).
pub type Work = Box<
    dyn Fn(
            Box<dyn Tx>,
        )
            -> Pin<Box<dyn Future<Output = (Box<dyn Tx>, ApiResult<(StatusCode, Value)>)> + Send>>
        + Send
        + Sync,
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
    /// Documents its work will read (kind, id): the batch reads those of all its requests in a
    /// few queries before the first runs (`Tx::prefetch_documents`).
    pub reads: Vec<(&'static str, String)>,
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
    reads: Vec<(&'static str, String)>,
    work: Work,
) -> ApiResult<Answer> {
    let ttl_ms = i64::try_from(api.cfg.idempotency_ttl_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let (reply, answer) = oneshot::channel();
    let job = Job {
        holder,
        key,
        reads,
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

/// Runs `jobs` in one transaction, commits, then answers each (see the module docs): first
/// without savepoints, and when that pass cannot keep every request, again with a savepoint
/// each. Public to the crate so tests can form a batch of their choosing.
pub(crate) async fn run_batch(engine: &Engine, ttl_ms: i64, jobs: Vec<Job>) {
    let jobs = match optimistic(engine, ttl_ms, jobs).await {
        Some(jobs) => jobs,
        None => return,
    };
    isolated(engine, ttl_ms, jobs).await
}

/// The pass without savepoints. Answers every job and returns `None` when all of them
/// succeeded (a replay counts: it wrote nothing) and the batch committed, or when the store
/// failed (every job gets that error); otherwise rolls back and gives the jobs back for the
/// pass with savepoints.
async fn optimistic(engine: &Engine, ttl_ms: i64, jobs: Vec<Job>) -> Option<Vec<Job>> {
    let mut tx = match begin(engine, &jobs).await {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(jobs.into_iter().map(|j| j.reply), &e);
            return None;
        }
    };
    // A clash with an instance already stored then fails the commit (or a later query over
    // instances), not the request that started it: the pass with savepoints finds which.
    tx.defer_instance_inserts();
    let now = engine.clock.now_ms();
    let mut users = Users::new();
    let mut answers = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let (t, answer) = one(tx, &mut users, job, now, ttl_ms).await;
        tx = t;
        match answer {
            Ok(a) => answers.push(a),
            Err(e) => {
                tracing::debug!(error = %e.message, "API batch: a request failed, running the batch again with savepoints");
                let _ = tx.rollback().await;
                return Some(jobs);
            }
        }
    }
    match crate::app::commit_and_publish(engine, tx).await {
        Ok(()) => {
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.reply.send(Ok(answer));
            }
            None
        }
        // A deferred insert clashed: nothing committed; the isolated pass inserts at once.
        Err(crate::runtime::EngineError::Store(crate::store::StoreError::Duplicate { .. })) => {
            Some(jobs)
        }
        Err(e) => {
            fail_all(jobs.into_iter().map(|j| j.reply), &ApiError::from(e));
            None
        }
    }
}

/// The pass with a savepoint per job: a job that fails rolls back only its own effects.
async fn isolated(engine: &Engine, ttl_ms: i64, jobs: Vec<Job>) {
    let mut tx = match begin(engine, &jobs).await {
        Ok(tx) => tx,
        Err(e) => return fail_all(jobs.into_iter().map(|j| j.reply), &e),
    };
    let now = engine.clock.now_ms();
    let mut users = Users::new();
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
        let (t, answer) = one(tx, &mut users, &job, now, ttl_ms).await;
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

/// The batch's transaction, its clock refreshed and the documents its jobs read prefetched.
async fn begin(engine: &Engine, jobs: &[Job]) -> ApiResult<Box<dyn Tx>> {
    let mut tx = engine.store.begin().await?;
    if let Err(e) = engine.refresh_clock(tx.as_mut()).await {
        let _ = tx.rollback().await;
        return Err(e.into());
    }
    let mut reads: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (kind, id) in jobs.iter().flat_map(|j| &j.reads) {
        reads.entry(kind).or_default().push(id);
    }
    for (kind, ids) in reads {
        if let Err(e) = tx.prefetch_documents(kind, &ids).await {
            let _ = tx.rollback().await;
            return Err(e.into());
        }
    }
    Ok(tx)
}

fn fail_all(replies: impl Iterator<Item = oneshot::Sender<ApiResult<Answer>>>, e: &ApiError) {
    for r in replies {
        let _ = r.send(Err(e.clone()));
    }
}

/// The user rows a batch read, by token id: requests of one caller, checked in one transaction,
/// read the row once (no batched effect changes a user).
type Users = std::collections::HashMap<String, Option<UserRow>>;

/// One request of the batch: its caller's token, its key, its effect.
async fn one(
    mut tx: Box<dyn Tx>,
    users: &mut Users,
    job: &Job,
    now: i64,
    ttl_ms: i64,
) -> (Box<dyn Tx>, ApiResult<Answer>) {
    if let Some(h) = &job.holder
        && let Err(e) = still_holds(tx.as_mut(), users, h).await
    {
        return (tx, Err(e));
    }
    if let Some(k) = &job.key {
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
    let (mut tx, result) = (job.work)(tx).await;
    let (status, body) = match result {
        Ok(r) => r,
        Err(e) => return (tx, Err(e)),
    };
    let text = serde_json::to_string(&body).unwrap_or_else(|_| "null".into());
    if let Some(k) = &job.key
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
async fn still_holds(tx: &mut dyn Tx, users: &mut Users, h: &Holder) -> ApiResult<()> {
    if !users.contains_key(&h.token_id) {
        let u = tx.user_by_token_id(&h.token_id).await?;
        users.insert(h.token_id.clone(), u);
    }
    match users.get(&h.token_id).and_then(Option::as_ref) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use crate::testing::TempDir;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const WORKFLOW: &str = "workflow: w\nversion: 1\nsteps:\n  done: { end: completed }\n";

    /// What a test job does: writes document `test/<name>`, starts instance `w/<key>`, then
    /// fails when `fail` is set; it counts its runs.
    struct Spec {
        name: &'static str,
        key: &'static str,
        fail: bool,
        runs: Arc<AtomicUsize>,
    }

    fn spec(name: &'static str, key: &'static str, fail: bool) -> Spec {
        Spec {
            name,
            key,
            fail,
            runs: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn job(engine: &Arc<Engine>, s: &Spec) -> (Job, oneshot::Receiver<ApiResult<Answer>>) {
        let (reply, answer) = oneshot::channel();
        let (engine, runs) = (engine.clone(), s.runs.clone());
        let (name, key, fail) = (s.name, s.key, s.fail);
        let work: Work = Box::new(move |mut tx: Box<dyn Tx>| {
            runs.fetch_add(1, Ordering::SeqCst);
            let engine = engine.clone();
            Box::pin(async move {
                let r = async {
                    tx.put_document("test", name, &json!({ "name": name }), 0)
                        .await?;
                    engine
                        .start_instance(tx.as_mut(), "w", key, json!({}))
                        .await?;
                    if fail {
                        return Err(ApiError::invalid(format!("{name} fails")));
                    }
                    Ok((StatusCode::CREATED, json!({ "name": name })))
                }
                .await;
                (tx, r)
            })
        });
        let job = Job {
            holder: None,
            key: None,
            reads: vec![("test", name.to_string())],
            work,
            reply,
        };
        (job, answer)
    }

    /// Runs the jobs of `specs` as one batch; each job's answer, in order.
    async fn batch(engine: &Arc<Engine>, specs: &[Spec]) -> Vec<ApiResult<Answer>> {
        let (jobs, answers): (Vec<_>, Vec<_>) = specs.iter().map(|s| job(engine, s)).unzip();
        run_batch(engine, 60_000, jobs).await;
        let mut out = Vec::new();
        for a in answers {
            out.push(a.await.expect("every job is answered"));
        }
        out
    }

    async fn engine(dir: &TempDir) -> Arc<Engine> {
        let (engine, _) = crate::runtime::hostile_tests::test_engine(
            dir,
            Registry::standard(),
            vec![("workflows/w.yaml".into(), WORKFLOW.into())],
        )
        .await;
        engine
    }

    /// (documents `test/*`, instances of each key of `keys`).
    async fn stored(engine: &Engine, keys: &[&str]) -> (Vec<String>, Vec<usize>) {
        let mut tx = engine.store.begin().await.expect("begin");
        let docs = tx.list_documents("test", "").await.expect("list");
        let mut counts = Vec::new();
        for k in keys {
            counts.push(tx.find_instances(k).await.expect("find").len());
        }
        tx.rollback().await.expect("rollback");
        (docs, counts)
    }

    fn runs(specs: &[Spec]) -> Vec<usize> {
        specs
            .iter()
            .map(|s| s.runs.load(Ordering::SeqCst))
            .collect()
    }

    #[tokio::test]
    async fn a_clean_batch_runs_each_request_once() {
        let dir = TempDir::new("batch-clean");
        let engine = engine(&dir).await;
        let specs = [spec("a", "ka", false), spec("b", "kb", false)];
        let answers = batch(&engine, &specs).await;
        for a in &answers {
            assert_eq!(a.as_ref().ok().map(|a| a.status), Some(201), "{answers:?}");
        }
        // the optimistic pass kept them: no second run
        assert_eq!(runs(&specs), [1, 1]);
        assert_eq!(
            stored(&engine, &["ka", "kb"]).await,
            (vec!["a".into(), "b".into()], vec![1, 1])
        );
    }

    #[tokio::test]
    async fn a_request_failing_in_the_batch_fails_alone_and_the_others_commit_once() {
        let dir = TempDir::new("batch-fail");
        let engine = engine(&dir).await;
        let specs = [
            spec("a", "ka", false),
            spec("bad", "kbad", true),
            spec("c", "kc", false),
        ];
        let answers = batch(&engine, &specs).await;
        assert_eq!(answers[0].as_ref().ok().map(|a| a.status), Some(201));
        let err = answers[1].as_ref().expect_err("its own error");
        assert_eq!(err.message, "bad fails");
        assert_eq!(answers[2].as_ref().ok().map(|a| a.status), Some(201));
        // the optimistic pass stopped at `bad` (c never ran in it); then every job once more
        assert_eq!(runs(&specs), [2, 2, 1]);
        // what `bad` wrote before failing is gone; a and c are stored once
        assert_eq!(
            stored(&engine, &["ka", "kbad", "kc"]).await,
            (vec!["a".into(), "c".into()], vec![1, 0, 1])
        );
    }

    #[tokio::test]
    async fn a_clash_found_at_commit_fails_only_its_request() {
        let dir = TempDir::new("batch-clash");
        let engine = engine(&dir).await;
        let first = [spec("t", "taken", false)];
        assert!(batch(&engine, &first).await[0].is_ok());
        // `b` starts an instance whose key is taken: deferred in the optimistic pass, the clash
        // surfaces only at its commit; the batch runs again with savepoints.
        let specs = [
            spec("a", "ka", false),
            spec("b", "taken", false),
            spec("c", "kc", false),
        ];
        let answers = batch(&engine, &specs).await;
        assert_eq!(
            answers[0].as_ref().ok().map(|a| a.status),
            Some(201),
            "{answers:?}"
        );
        // the clash is b's error (a store error, answered as such), not the batch's
        assert!(answers[1].is_err(), "{answers:?}");
        assert_eq!(
            answers[2].as_ref().ok().map(|a| a.status),
            Some(201),
            "{answers:?}"
        );
        assert_eq!(runs(&specs), [2, 2, 2]);
        assert_eq!(
            stored(&engine, &["ka", "taken", "kc"]).await,
            (vec!["a".into(), "c".into(), "t".into()], vec![1, 1, 1])
        );
    }
}
