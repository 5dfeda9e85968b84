//! `ordo run`: the worker loops and the background services around them (timers, cron
//! triggers, outbound dispatch, outbox relay sweep, inbox pruning, hot reload).

use super::{Engine, EngineError};
use crate::clock::real_now_ms;
use crate::model::{Signal, StepMessage};
use crate::queue::{Delivery, Envelope};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub workers: usize,
    /// Stop once nothing is left to do now (no queued or in-flight step, no unsent outbound
    /// message). Waiting instances and future timers do not keep it running.
    pub exit_when_idle: bool,
    /// Watch the workflow and rule files and reload them when they change.
    pub hot_reload: bool,
    /// Stops the run when it turns true (benchmarks, embedding).
    pub stop: Option<watch::Receiver<bool>>,
}

struct Shared {
    engine: Arc<Engine>,
    busy: AtomicUsize,
    steps: AtomicUsize,
}

/// Runs workers and services until Ctrl-C / SIGTERM (or idle, with `exit_when_idle`).
/// Returns the number of step messages processed.
pub async fn run(engine: Arc<Engine>, opts: RunOptions) -> Result<usize, EngineError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    engine
        .last_activity_ms
        .store(real_now_ms(), Ordering::SeqCst);
    let shared = Arc::new(Shared {
        engine: engine.clone(),
        busy: AtomicUsize::new(0),
        steps: AtomicUsize::new(0),
    });
    // Partner profiles in force before the first step: purchasing reads a supplier's profile
    // (`supplier-partner/<id>`) to send it a new PO, and a step must not run on an older set
    // than the channel's first scan stores. A failure here is the scan's to report and retry.
    if let Err(e) = crate::channels::edi::sync_partners(&engine).await {
        tracing::warn!(error = %e, "partner profiles: will retry");
    }
    let mut handles = Vec::new();
    for n in 0..opts.workers.max(1) {
        handles.push(tokio::spawn(worker(shared.clone(), n, stop_rx.clone())));
    }
    handles.push(tokio::spawn(outbound_dispatcher(
        shared.clone(),
        stop_rx.clone(),
    )));
    if !engine.webhooks.is_empty() {
        handles.push(tokio::spawn(crate::api::webhooks::dispatcher(
            engine.clone(),
            stop_rx.clone(),
        )));
    }
    handles.push(tokio::spawn(services(
        shared.clone(),
        opts.hot_reload,
        stop_rx.clone(),
    )));
    tracing::info!(
        workers = opts.workers,
        embedded = engine.embedded(),
        "ordo running"
    );

    let mut idle_checks = 0;
    let mut external = opts.stop.clone();
    loop {
        if external.as_ref().is_some_and(|s| *s.borrow()) {
            break;
        }
        tokio::select! {
            _ = shutdown_signal() => {
                tracing::info!("shutting down after the current batches");
                break;
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                if opts.exit_when_idle && is_idle(&shared).await {
                    idle_checks += 1;
                    if idle_checks >= 3 {
                        break;
                    }
                } else {
                    idle_checks = 0;
                }
            }
            _ = async {
                match external.as_mut() {
                    Some(s) => { let _ = s.changed().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    let _ = stop_tx.send(true);
    // In-flight batches get a short grace to commit; past it they are abandoned: dropping a
    // task drops its transaction (rolled back) and its deliveries come back by lease expiry or
    // from the broker when the connection closes, so stopping never waits on a long step.
    let deadline = tokio::time::Instant::now() + engine.shutdown_grace;
    let mut abandoned = 0;
    for mut h in handles {
        if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
            h.abort();
            abandoned += 1;
        }
    }
    if abandoned > 0 {
        tracing::warn!(
            tasks = abandoned,
            grace_secs = engine.shutdown_grace.as_secs(),
            "stopped without waiting longer: unfinished batches rolled back, their messages will be delivered again"
        );
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), engine.queue.close()).await;
    Ok(shared.steps.load(Ordering::Relaxed))
}

/// How long `ordo run` lets in-flight batches finish after a stop signal before abandoning
/// them, unless the config says otherwise (`shutdown_grace_secs`).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Deliveries after which a message whose batch keeps failing for a reason other than an
/// outage (a store error that is not transient, a panic outside a step) is dead-lettered
/// instead of delivered again, and its instance is marked failed.
pub const MAX_DELIVERIES: u32 = 5;

/// Why a batch did not commit.
struct BatchFailure {
    message: String,
    /// An outage (lost connection, lock, broker away): deliver again, never dead-letter.
    transient: bool,
}

/// [`handle_batch`] with a panic anywhere in it turned into a failed batch, so the worker task
/// survives.
async fn run_caught(engine: &Engine, deliveries: &[Delivery]) -> Result<usize, BatchFailure> {
    use futures_lite::FutureExt;
    match std::panic::AssertUnwindSafe(handle_batch(engine, deliveries))
        .catch_unwind()
        .await
    {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(BatchFailure {
            transient: match &e {
                EngineError::Store(s) => s.is_transient(),
                EngineError::Queue(_) => true,
                _ => false,
            },
            message: e.to_string(),
        }),
        Err(panic) => Err(BatchFailure {
            message: format!(
                "batch panicked: {}",
                super::steps::panic_message(panic.as_ref())
            ),
            transient: false,
        }),
    }
}

/// Hands failed deliveries back: delivered again after `backoff`, or dead-lettered (and the
/// instance marked failed) once a non-transient failure has been seen `MAX_DELIVERIES` times.
async fn give_back(engine: &Engine, ds: &[Delivery], f: &BatchFailure, backoff: Duration) {
    for d in ds {
        if !f.transient && d.deliveries >= MAX_DELIVERIES {
            tracing::error!(msg_id = %d.msg_id, deliveries = d.deliveries, error = %f.message, "message keeps failing its batch: dead-lettered");
            if let Err(e) = engine.queue.nack(d, None).await {
                tracing::warn!(msg_id = %d.msg_id, error = %e, "could not dead-letter; it will be delivered again");
                continue;
            }
            if let Err(e) = engine.fail_dead_lettered(d, &f.message).await {
                tracing::error!(msg_id = %d.msg_id, error = %e, "could not mark the instance of a dead-lettered message failed");
            }
        } else {
            let _ = engine.queue.nack(d, Some(backoff)).await;
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn is_idle(shared: &Shared) -> bool {
    if shared.busy.load(Ordering::SeqCst) > 0
        || real_now_ms() - shared.engine.last_activity_ms.load(Ordering::SeqCst) < 300
    {
        return false;
    }
    let engine = &shared.engine;
    let Ok(mut tx) = engine.store.begin().await else {
        return false;
    };
    let pending = async {
        let out = tx.unsent_outbound(1).await?;
        let hooks = tx.unsent_webhooks(1).await?;
        let outbox = tx.outbox_ready(i64::MAX, 1).await?;
        Ok::<_, crate::store::StoreError>(out.is_empty() && hooks.is_empty() && outbox.is_empty())
    }
    .await
    .unwrap_or(false);
    let _ = tx.rollback().await;
    if !pending {
        return false;
    }
    if engine.embedded() {
        // A delayed retry still counts as work; dead letters do not.
        return queued_messages(engine).await == Some(0);
    }
    // Cluster: a retry sitting in a broker delay queue is work too.
    real_now_ms() > engine.delayed_until.load(Ordering::SeqCst) + 500
}

async fn queued_messages(engine: &Engine) -> Option<i64> {
    let mut tx = engine.store.begin().await.ok()?;
    let n = tx.queued_count().await.ok();
    let _ = tx.rollback().await;
    n
}

async fn worker(shared: Arc<Shared>, n: usize, stop: watch::Receiver<bool>) {
    let engine = shared.engine.clone();
    let mut backoff = Duration::from_millis(100);
    while !*stop.borrow() {
        let deliveries = match engine
            .queue
            .receive(engine.batch, Duration::from_millis(200))
            .await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(worker = n, error = %e, retry_in_ms = backoff.as_millis() as u64, "queue unavailable");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if deliveries.is_empty() {
            continue;
        }
        shared.busy.fetch_add(1, Ordering::SeqCst);
        match run_caught(&engine, &deliveries).await {
            Ok(done) => {
                shared.steps.fetch_add(done, Ordering::Relaxed);
                backoff = Duration::from_millis(100);
            }
            Err(f) if f.transient || deliveries.len() == 1 => {
                tracing::warn!(worker = n, error = %f.message, retry_in_ms = backoff.as_millis() as u64, "batch not committed; its messages will be delivered again");
                give_back(&engine, &deliveries, &f, backoff).await;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(f) => {
                // Not an outage: one message is likely to blame. Run them one by one so the
                // others commit and only the culprit is counted towards dead-lettering.
                tracing::warn!(worker = n, error = %f.message, "batch not committed; running its messages one by one");
                for d in &deliveries {
                    match run_caught(&engine, std::slice::from_ref(d)).await {
                        Ok(done) => {
                            shared.steps.fetch_add(done, Ordering::Relaxed);
                        }
                        Err(f) => give_back(&engine, std::slice::from_ref(d), &f, backoff).await,
                    }
                }
            }
        }
        shared
            .engine
            .last_activity_ms
            .store(real_now_ms(), Ordering::SeqCst);
        shared.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Process, commit, then (cluster) publish what the batch enqueued and ack the deliveries.
async fn handle_batch(engine: &Engine, deliveries: &[Delivery]) -> Result<usize, EngineError> {
    let result = engine.process_batch(deliveries).await?;
    let now = crate::model::now_us();
    let latency = |t: &i64| (now - t).max(0) as u64;
    engine
        .step_metrics
        .add(result.outcomes, result.enqueued_at.iter().map(latency));
    if let Some(lat) = &engine.latencies
        && let Ok(mut l) = lat.lock()
    {
        l.extend(result.enqueued_at.iter().map(|t| latency(t) as u32));
    }
    for d in &result.poison {
        engine.queue.nack(d, None).await?;
    }
    // Embedded: the commit already enqueued the next steps and deleted the consumed messages.
    if !engine.embedded() {
        publish_enqueued(engine, &result.enqueued).await?;
        let ok: Vec<Delivery> = deliveries
            .iter()
            .filter(|d| !result.poison.iter().any(|p| p.tag == d.tag))
            .cloned()
            .collect();
        engine.queue.ack(&ok).await?;
    }
    Ok(result.processed)
}

/// Publishes committed outbox messages (grouped by delay) and deletes their outbox rows.
pub async fn publish_enqueued(
    engine: &Engine,
    msgs: &[(StepMessage, i64)],
) -> Result<(), EngineError> {
    if msgs.is_empty() {
        return Ok(());
    }
    let now = real_now_ms();
    let mut by_delay: BTreeMap<u64, Vec<Envelope>> = BTreeMap::new();
    for (m, at) in msgs {
        // Round delays up to 100 ms so retries share a few delay queues.
        let ms = (at - now).max(0) as u64;
        let ms = if ms == 0 { 0 } else { ms.div_ceil(100) * 100 };
        by_delay.entry(ms).or_default().push(Envelope {
            msg_id: m.msg_id.clone(),
            body: m.encode(),
        });
    }
    for (ms, envs) in &by_delay {
        engine
            .queue
            .publish(envs, Duration::from_millis(*ms))
            .await?;
        if *ms > 0 {
            engine
                .delayed_until
                .fetch_max(now + *ms as i64, Ordering::SeqCst);
        }
    }
    let ids: Vec<String> = msgs.iter().map(|(m, _)| m.msg_id.clone()).collect();
    let mut tx = engine.store.begin().await?;
    tx.outbox_delete_msgs(&ids).await?;
    tx.commit().await?;
    Ok(())
}

async fn services(shared: Arc<Shared>, hot_reload: bool, stop: watch::Receiver<bool>) {
    let engine = shared.engine.clone();
    let mut tick: u64 = 0;
    let mut bad_fingerprint = None;
    // Consecutive ticks with a failing store: stretches the tick so an outage is logged with
    // backoff instead of ten times a second.
    let mut failing: u32 = 0;
    while !*stop.borrow() {
        tick += 1;
        let mut failed = false;
        if let Err(e) = fire_timers(&engine).await {
            failed = true;
            tracing::warn!(error = %e, "timer service: store unavailable");
        }
        if let Err(e) = fire_cron(&engine).await {
            failed = true;
            tracing::warn!(error = %e, "cron service: store unavailable");
        }
        // First tick too, so `run --exit-when-idle` sees files already waiting.
        if tick % 10 == 1 {
            match crate::channels::bank::scan(&engine).await {
                Ok(n) if n > 0 => shared
                    .engine
                    .last_activity_ms
                    .store(real_now_ms(), Ordering::SeqCst),
                Ok(_) => {}
                Err(e) => {
                    failed = true;
                    tracing::warn!(error = %e, "bank channel: will retry");
                }
            }
            match crate::channels::orders::scan(&engine).await {
                Ok(n) if n > 0 => shared
                    .engine
                    .last_activity_ms
                    .store(real_now_ms(), Ordering::SeqCst),
                Ok(_) => {}
                Err(e) => {
                    failed = true;
                    tracing::warn!(error = %e, "order inbox: will retry");
                }
            }
            match crate::channels::edi::scan(&engine).await {
                Ok(n) if n > 0 => shared
                    .engine
                    .last_activity_ms
                    .store(real_now_ms(), Ordering::SeqCst),
                Ok(_) => {}
                Err(e) => {
                    failed = true;
                    tracing::warn!(error = %e, "edi channel: will retry");
                }
            }
        }
        if !engine.embedded()
            && tick.is_multiple_of(10)
            && let Err(e) = sweep_outbox(&engine).await
        {
            tracing::warn!(error = %e, "outbox relay: retrying");
        }
        if tick.is_multiple_of(600)
            && let Ok(mut tx) = engine.store.begin().await
        {
            // Keep message ids a week: far longer than any redelivery window.
            let _ = tx.inbox_prune(real_now_ms() - 7 * 86_400_000).await;
            let _ = tx.commit().await;
        }
        if hot_reload && tick.is_multiple_of(10) {
            reload_if_changed(&engine, &mut bad_fingerprint).await;
        }
        failing = if failed { (failing + 1).min(6) } else { 0 };
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100 << failing)) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn fire_timers(engine: &Engine) -> Result<(), EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let now = engine.clock.now_ms();
    let due = tx.take_due_timers(now, 500).await?;
    for t in &due {
        let msg = StepMessage {
            msg_id: crate::model::new_id(),
            instance: t.instance_id.clone(),
            step: t.step.clone(),
            token: t.token,
            attempt: 1,
            signal: Signal::Timeout,
            enqueued_us: crate::model::now_us(),
        };
        tx.enqueue(&msg, real_now_ms());
    }
    let enq = tx.enqueued().to_vec();
    tx.commit().await?;
    if !due.is_empty() {
        tracing::info!(count = due.len(), "timers fired");
    }
    if !engine.embedded() {
        publish_enqueued(engine, &enq).await?;
    }
    Ok(())
}

async fn fire_cron(engine: &Engine) -> Result<(), EngineError> {
    let defs = engine.defs();
    let crons: Vec<_> = defs
        .latest
        .values()
        .filter_map(|wf| match &wf.trigger {
            ordo_workflow::Trigger::Cron {
                schedule, timezone, ..
            } => Some((wf.name.clone(), schedule.clone(), timezone.clone())),
            _ => None,
        })
        .collect();
    if crons.is_empty() {
        return Ok(());
    }
    let now = engine.clock.now();
    let mut tx = engine.store.begin().await?;
    for (name, schedule, tz) in crons {
        let key = format!("cron.{name}.last");
        // Written only by this function; an unreadable value counts as first sight.
        let last = match tx.kv_get(&key).await?.and_then(|s| s.parse::<i64>().ok()) {
            Some(l) => crate::clock::ms_to_datetime(l),
            None => {
                // First sight: start counting from now rather than firing for the past.
                tx.kv_set(&key, &now.timestamp_millis().to_string()).await?;
                continue;
            }
        };
        // Checked when the workflow was loaded (`ordo_workflow::cron_expr::check_timezone`):
        // a workflow with an unknown timezone never gets here.
        let tz = chrono_tz::Tz::from_str(&tz).unwrap_or(chrono_tz::UTC);
        // Missed occurrences (the engine was down, or business time jumped ahead) coalesce
        // into one run at the latest of them, as anacron or a "fire once now" misfire policy
        // would: a reconciliation or report job catching up needs one run, not thousands.
        let mut latest = None;
        let mut missed = 0u64;
        for next in schedule.after(&last.with_timezone(&tz)) {
            if next.with_timezone(&chrono::Utc) > now || missed >= 1_000_000 {
                break;
            }
            latest = Some(next.with_timezone(&chrono::Utc));
            missed += 1;
        }
        if let Some(at) = latest {
            if missed > 1 {
                tracing::info!(workflow = %name, missed = missed - 1, at = %at, "cron: missed runs coalesced into one");
            }
            let ikey = format!("{name}@{}", at.to_rfc3339());
            let data =
                serde_json::json!({ "scheduled_at": at.to_rfc3339(), "coalesced": missed - 1 });
            match engine.start_instance(tx.as_mut(), &name, &ikey, data).await {
                Ok(_) | Err(EngineError::Store(crate::store::StoreError::Duplicate { .. })) => {}
                Err(e) => return Err(e),
            }
            tx.kv_set(&key, &at.timestamp_millis().to_string()).await?;
        }
    }
    let enq = tx.enqueued().to_vec();
    tx.commit().await?;
    if !engine.embedded() {
        publish_enqueued(engine, &enq).await?;
    }
    Ok(())
}

/// Outbound messages per dispatch: one read, one batch of file writes, one marking commit.
const OUTBOUND_BATCH: i64 = 500;

/// Delivers outbound messages as steps commit them. It runs beside the workers rather than on
/// the service tick, so a busy flow's documents leave as fast as the file system takes them
/// instead of a fixed number per tick; it naps only when nothing was delivered.
async fn outbound_dispatcher(shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let engine = shared.engine.clone();
    let mut failing: u32 = 0;
    while !*stop.borrow() {
        let nap = match dispatch_outbound(&engine).await {
            Ok((sent, _)) if sent > 0 => {
                shared
                    .engine
                    .last_activity_ms
                    .store(real_now_ms(), Ordering::SeqCst);
                failing = 0;
                continue;
            }
            // Nothing to do, or only failures (already logged): those are retried, never-tried
            // messages first, after a nap that grows while every attempt fails.
            Ok((_, 0)) => {
                failing = 0;
                100
            }
            Ok(_) => {
                failing = (failing + 1).min(6);
                100 << failing
            }
            Err(e) => {
                failing = (failing + 1).min(6);
                tracing::warn!(error = %e, "outbound dispatcher: store unavailable");
                100 << failing
            }
        };
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(nap)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Writes unsent outbound messages as files `<outbound>/<channel>/<key>.json` (temp file +
/// rename, so a reader never sees half a file; rewriting the same key is harmless), then
/// marks them sent. Returns (sent, failed).
async fn dispatch_outbound(engine: &Engine) -> Result<(usize, usize), EngineError> {
    // Read, write the files, then mark them: the store's writer is not held while the file
    // system works (on SQLite it is the one writer every step needs). A crash between writing
    // and marking writes the same files again, which is harmless: names are per (channel, key)
    // and each write is temp file + rename.
    let mut tx = engine.store.begin().await?;
    let batch = tx.unsent_outbound(OUTBOUND_BATCH).await?;
    tx.rollback().await?;
    if batch.is_empty() {
        return Ok((0, 0));
    }
    let root = engine.outbound_dir.clone();
    let jobs: Vec<(String, String, serde_json::Value)> = batch
        .iter()
        .map(|m| (m.channel.clone(), m.key.clone(), m.payload.clone()))
        .collect();
    let results = tokio::task::spawn_blocking(move || {
        jobs.iter()
            .map(|(channel, key, payload)| {
                if channel == FILE_CHANNEL {
                    write_raw_file(&root, payload)
                } else {
                    let dir = root.join(safe_name(channel));
                    // A `Value` always serializes (its keys are strings).
                    let bytes = serde_json::to_vec_pretty(payload).unwrap_or_default();
                    write_atomically(&dir, &format!("{}.json", safe_name(key)), &bytes)
                }
                .map_err(|e| e.to_string())
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| EngineError::Refused(format!("outbound writer: {e}")))?;
    let now = engine.clock.now_ms();
    let mut sent = Vec::with_capacity(batch.len());
    let mut tx = engine.store.begin().await?;
    for (m, res) in batch.iter().zip(&results) {
        match res {
            Ok(()) => sent.push(m.id),
            Err(e) => {
                tracing::warn!(channel = %m.channel, key = %m.key, error = %e, "outbound delivery failed; will retry");
                tx.mark_outbound(&[m.id], None, Some(e)).await?;
            }
        }
    }
    tx.mark_outbound(&sent, Some(now), None).await?;
    tx.commit().await?;
    Ok((sent.len(), batch.len() - sent.len()))
}

/// The outbound channel for files with a given name and text content (EDI interchanges,
/// CSV reports): payload `{ "dir": DIR, "name": NAME, "content": TEXT }`. A relative `dir` is
/// under the outbound folder; an absolute one (a partner's folder) is used as it is.
pub const FILE_CHANNEL: &str = "file";

fn write_raw_file(root: &std::path::Path, payload: &serde_json::Value) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_string());
    let dir = payload["dir"]
        .as_str()
        .ok_or_else(|| bad("file payload has no 'dir'"))?;
    let name = payload["name"]
        .as_str()
        .ok_or_else(|| bad("file payload has no 'name'"))?;
    let content = payload["content"]
        .as_str()
        .ok_or_else(|| bad("file payload has no text 'content'"))?;
    let dir = std::path::Path::new(dir);
    let dir = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        root.join(dir)
    };
    write_atomically(&dir, &safe_name(name), content.as_bytes())
}

/// Temp file + rename: a reader of the folder never sees half a file; rewriting the same name
/// (a redelivered message) is harmless.
pub fn write_atomically(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}

/// A file name made of what any file system takes (ASCII letters, digits, `-_.`) and short
/// enough for any of them (at most 120 bytes: file names are at most 255, and the dispatcher
/// adds `.json` and a temporary `.…tmp`). A longer name (an id at a raised `max_id_chars`)
/// keeps its first 100 characters and a hash of the whole, so it stays unique; otherwise the
/// write would fail on every retry and the message could never be delivered.
fn safe_name(s: &str) -> String {
    const MAX: usize = 120;
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = match clean.trim_start_matches('.') {
        "" => "_".to_string(),
        rest if rest.len() < clean.len() => format!("_{rest}"),
        _ => clean,
    };
    if clean.len() <= MAX {
        return clean;
    }
    let hash = &ordo_contract::content_id(s.as_bytes())[..16];
    format!("{}-{hash}", &clean[..100])
}

/// Publishes outbox rows a crashed worker left behind (older than 5 s).
async fn sweep_outbox(engine: &Engine) -> Result<(), EngineError> {
    let mut tx = engine.store.begin().await?;
    let rows = tx.outbox_ready(real_now_ms() - 5_000, 1000).await?;
    tx.rollback().await?;
    if rows.is_empty() {
        return Ok(());
    }
    let envs: Vec<Envelope> = rows
        .iter()
        .filter_map(|(_, body, _)| {
            StepMessage::decode(body).ok().map(|m| Envelope {
                msg_id: m.msg_id,
                body: body.clone(),
            })
        })
        .collect();
    engine.queue.publish(&envs, Duration::ZERO).await?;
    let ids: Vec<i64> = rows.iter().map(|(id, _, _)| *id).collect();
    let mut tx = engine.store.begin().await?;
    tx.outbox_delete(&ids).await?;
    tx.commit().await?;
    tracing::info!(
        count = ids.len(),
        "outbox relay re-published messages left by a crash"
    );
    Ok(())
}

async fn reload_if_changed(engine: &Engine, bad: &mut Option<u64>) {
    let files = [
        super::defs::read_dir_files(&engine.rules_dir, "rhai").unwrap_or_default(),
        super::defs::read_dir_files(&engine.workflows_dir, "yaml").unwrap_or_default(),
    ]
    .concat();
    let fp = super::defs::fingerprint(&files);
    if fp == engine.defs().fingerprint || Some(fp) == *bad {
        return;
    }
    match super::defs::load(
        &engine.workflows_dir,
        &engine.rules_dir,
        &engine.registry,
        &engine.rules,
    ) {
        Ok(defs) => match engine.install(defs).await {
            Ok(()) => {
                *bad = None;
                tracing::info!("workflows and rules reloaded");
            }
            Err(e) => {
                *bad = Some(fp);
                for line in e.to_string().lines() {
                    tracing::error!("reload refused, keeping the running version: {line}");
                }
            }
        },
        Err(errors) => {
            *bad = Some(fp);
            for line in errors {
                tracing::error!("reload refused, keeping the running version: {line}");
            }
        }
    }
}

#[cfg(test)]
mod safe_name_tests {
    use super::safe_name;

    #[test]
    fn file_names_are_portable_bounded_and_unique() {
        assert_eq!(safe_name("C-ACME-PO-4711"), "C-ACME-PO-4711");
        assert_eq!(safe_name("a/b\\c d"), "a_b_c_d");
        assert_eq!(safe_name(".."), "_");
        assert_eq!(safe_name(".hidden"), "_hidden");
        let a = safe_name(&"L".repeat(70_000));
        let b = safe_name(&format!("{}M", "L".repeat(69_999)));
        assert!(a.len() <= 120 && b.len() <= 120, "{a}");
        assert_ne!(a, b, "names cut to the same prefix stay apart");
    }
}
