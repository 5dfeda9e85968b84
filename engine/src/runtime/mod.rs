//! The runtime: workers that take step messages and run each step in one store transaction.
//!
//! Invariant (the one-step-one-transaction rule): for each step message, the inbox record, the
//! step's business effects, its history event, the instance's new state, the next step
//! message(s) and any outbound messages commit together. Many step messages share one commit
//! (group commit), each inside its own savepoint, so a failing step rolls back alone.
//!
//! - Embedded (SQLite): next-step messages are `queue_messages` rows inserted by the commit,
//!   and the consumed rows are deleted by it: no relay, no window for loss or duplication.
//! - Cluster (PostgreSQL + RabbitMQ): next-step messages are `outbox` rows; after commit the
//!   worker publishes them with confirms, deletes the rows and acks the deliveries. A crash in
//!   between leaves outbox rows (re-published by the relay sweep) or unacked deliveries
//!   (redelivered by the broker); the inbox turns both into no-ops.

mod context;
pub mod defs;
#[cfg(test)]
pub(crate) mod hostile_tests;
mod services;
mod steps;
#[cfg(test)]
mod typed_tests;

pub use context::TxContext;
pub use services::{RunOptions, SHUTDOWN_GRACE, publish_enqueued, run, write_atomically};
pub use steps::StepFailure;

use crate::clock::{Clock, real_now_ms};
use crate::model::{HistoryEvent, Instance, Signal, StepMessage, status};
use crate::queue::Queue;
use crate::registry::Registry;
use crate::store::{Backend, Store, StoreError, Tx};
use defs::Definitions;
use ordo_rules::RuleHost;
use ordo_workflow::Workflow;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// Everything a worker needs; shared by all workers of a process.
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub registry: Registry,
    pub rules: RuleHost,
    pub clock: Clock,
    defs: RwLock<Arc<Definitions>>,
    /// Old workflow versions loaded from the store for instances pinned to them.
    pinned: Mutex<HashMap<(String, u32), Arc<Workflow>>>,
    pub workflows_dir: PathBuf,
    pub rules_dir: PathBuf,
    pub outbound_dir: PathBuf,
    /// Bank account profiles and the reconciliation policy (see `crate::channels::bank`).
    pub banks_dir: PathBuf,
    /// Trading partner profiles (see `crate::channels::edi`).
    pub partners_dir: PathBuf,
    /// Order and goods-receipt files (see `crate::channels::orders`).
    pub inbox_dir: PathBuf,
    pub recon_policy: PathBuf,
    /// Where channel folders may be (`data:` and `allowed_folders:` in the config).
    pub folders: crate::channels::folders::Folders,
    /// `limits:` of the config.
    pub limits: crate::config::Limits,
    pub batch: usize,
    /// Real time (ms) until which delayed messages published by this process may still be on
    /// their way back from the broker's delay queues; `--exit-when-idle` waits for them.
    pub delayed_until: std::sync::atomic::AtomicI64,
    /// When set, workers record each step's latency (µs, enqueue → commit) here.
    pub latencies: Option<Mutex<Vec<u32>>>,
    /// Most steps of one instance run in one transaction (`steps::MAX_CHAIN`); 0 queues every
    /// next step as its own message (`ordo bench flow` measures both).
    pub max_chain: usize,
    /// Real time (ms) of the last committed batch, delivered outbound message or imported
    /// file: idle detection waits for it to age, and benchmarks time work up to it.
    pub last_activity_ms: std::sync::atomic::AtomicI64,
    /// `webhooks:` of the config: events they want are queued in the outbox of the step that
    /// emits them (`crate::api::webhooks`).
    pub webhooks: Arc<Vec<crate::api::webhooks::WebhookConfig>>,
    /// The chart of accounts (`accounts:` of the config); `None`: no ledger is kept and
    /// connectors' postings are not written (`crate::ledger`).
    pub ledger: Option<Arc<crate::ledger::Chart>>,
    /// How long `run` lets batches in flight commit after a stop signal (`shutdown_grace_secs`).
    pub shutdown_grace: std::time::Duration,
    /// Steps by outcome and latency, for `/metrics` (added to after each committed batch).
    pub step_metrics: crate::api::metrics::StepMetrics,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("{}", .0.join("\n"))]
    Definitions(Vec<String>),
    #[error("{0}")]
    Refused(String),
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        registry: Registry,
        rules: RuleHost,
        defs: Definitions,
        dirs: (PathBuf, PathBuf, PathBuf),
        batch: usize,
    ) -> Self {
        Engine {
            store,
            queue,
            registry,
            rules,
            clock: Clock::default(),
            defs: RwLock::new(Arc::new(defs)),
            pinned: Mutex::new(HashMap::new()),
            workflows_dir: dirs.0,
            rules_dir: dirs.1,
            outbound_dir: dirs.2,
            banks_dir: "config/banks".into(),
            partners_dir: "config/partners".into(),
            inbox_dir: "data/inbox".into(),
            recon_policy: "config/reconciliation.yaml".into(),
            folders: Default::default(),
            limits: Default::default(),
            batch,
            latencies: None,
            max_chain: steps::MAX_CHAIN,
            last_activity_ms: std::sync::atomic::AtomicI64::new(0),
            delayed_until: std::sync::atomic::AtomicI64::new(0),
            webhooks: Arc::default(),
            ledger: None,
            shutdown_grace: SHUTDOWN_GRACE,
            step_metrics: Default::default(),
        }
    }

    pub fn defs(&self) -> Arc<Definitions> {
        match self.defs.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn embedded(&self) -> bool {
        self.store.backend() == Backend::Sqlite
    }

    /// Stores the definitions of the current set (refusing a changed-but-not-bumped version)
    /// and makes it current.
    pub async fn install(&self, defs: Definitions) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let now = self.clock.now_ms();
        let mut errors = Vec::new();
        for wf in defs.latest.values() {
            match tx
                .put_workflow_def(
                    &wf.name,
                    wf.version,
                    &wf.source_hash,
                    &wf.path,
                    &wf.source,
                    now,
                )
                .await
            {
                Ok(()) => {}
                Err(StoreError::Duplicate { .. }) => errors.push(defs::version_clash(wf)),
                Err(e) => return Err(e.into()),
            }
        }
        if !errors.is_empty() {
            tx.rollback().await?;
            return Err(EngineError::Definitions(errors));
        }
        let installed = defs::InstalledSet::of(&defs, now);
        let set = serde_json::to_string(&installed)
            .map_err(|e| EngineError::Refused(format!("installed set: {e}")))?;
        // A set that differs from the one installed before is a change for the audit trail,
        // written in this transaction (start-up and hot reload alike).
        let before = tx
            .kv_get(defs::INSTALLED_KEY)
            .await?
            .and_then(|t| serde_json::from_str::<defs::InstalledSet>(&t).ok());
        let fingerprint = |s: &defs::InstalledSet| {
            serde_json::json!({
                "workflows": s.workflows.iter().map(|(n, v)| format!("{n} v{v}")).collect::<Vec<_>>(),
                "rules": s.rules.iter().map(|(p, src)| format!("{p} {}", ordo_contract::content_id(src.as_bytes()))).collect::<Vec<_>>(),
            })
        };
        let after = fingerprint(&installed);
        let before = before.as_ref().map(fingerprint);
        if before.as_ref() != Some(&after) {
            let system = crate::api::auth::Actor {
                id: "system".into(),
                via: "engine",
                roles: Vec::new(),
            };
            let change = crate::api::audit::Change {
                action: "definitions.installed",
                subject: "definitions".into(),
                order_id: None,
                before,
                after: Some(after),
            };
            crate::api::audit::record(tx.as_mut(), &system, now, change).await?;
        }
        tx.kv_set(defs::INSTALLED_KEY, &set).await?;
        tx.commit().await?;
        self.set_defs(defs);
        Ok(())
    }

    fn set_defs(&self, defs: Definitions) {
        match self.defs.write() {
            Ok(mut g) => *g = Arc::new(defs),
            Err(p) => *p.into_inner() = Arc::new(defs),
        }
    }

    /// Makes the last installed set current again (from the store: its workflow versions and
    /// rule sources), for commands run while a file on disk has errors. Returns what it is,
    /// or None when nothing was installed yet.
    pub async fn use_installed(&self) -> Result<Option<defs::InstalledSet>, EngineError> {
        let mut tx = self.store.begin().await?;
        let Some(text) = tx.kv_get(defs::INSTALLED_KEY).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let set: defs::InstalledSet = serde_json::from_str(&text)
            .map_err(|e| EngineError::Refused(format!("stored definitions: {e}")))?;
        let mut wf_files = Vec::new();
        for (name, version) in &set.workflows {
            if let Some((_, path, source)) = tx.get_workflow_def(name, *version).await? {
                wf_files.push((path, source));
            }
        }
        tx.rollback().await?;
        let defs = defs::load_files(set.rules.clone(), wf_files, &self.registry, &self.rules)
            .map_err(EngineError::Definitions)?;
        self.set_defs(defs);
        Ok(Some(set))
    }

    /// Reads the simulated-time offset from the store.
    pub async fn refresh_clock(&self, tx: &mut dyn Tx) -> Result<(), StoreError> {
        // Never set: business time is real time. Set but unreadable: the store is corrupt, and
        // reading it as 0 would move business time silently.
        let off = match tx.kv_get(crate::clock::OFFSET_KEY).await? {
            None => 0,
            Some(s) => s.parse::<i64>().map_err(|_| {
                StoreError::Corrupt(format!(
                    "kv {}: '{}' is not a number of milliseconds",
                    crate::clock::OFFSET_KEY,
                    ordo_contract::excerpt(&s, 40)
                ))
            })?,
        };
        self.clock.set_offset_ms(off);
        Ok(())
    }

    /// The workflow an instance is pinned to: from the current files if the version matches,
    /// else the stored definition of that version.
    pub async fn workflow_for(
        &self,
        tx: &mut dyn Tx,
        name: &str,
        version: u32,
    ) -> Result<Arc<Workflow>, StepFailure> {
        if let Some(wf) = self.defs().latest.get(name)
            && wf.version == version
        {
            return Ok(wf.clone());
        }
        let key = (name.to_string(), version);
        if let Ok(g) = self.pinned.lock()
            && let Some(wf) = g.get(&key)
        {
            return Ok(wf.clone());
        }
        let Some((_, path, source)) = tx.get_workflow_def(name, version).await? else {
            return Err(StepFailure::permanent(format!(
                "workflow '{name}' version {version} is not stored"
            )));
        };
        let wf = ordo_workflow::parse(&path, &source).map_err(|d| {
            StepFailure::permanent(format!(
                "stored workflow '{name}' v{version} no longer parses: {}",
                d.first().map(|d| d.to_string()).unwrap_or_default()
            ))
        })?;
        let wf = Arc::new(wf);
        if let Ok(mut g) = self.pinned.lock() {
            g.insert(key, wf.clone());
        }
        Ok(wf)
    }

    /// Starts an instance of the latest version of `workflow` in `tx`.
    pub async fn start_instance(
        &self,
        tx: &mut dyn Tx,
        workflow: &str,
        key: &str,
        data: Value,
    ) -> Result<Instance, EngineError> {
        let defs = self.defs();
        let wf = defs
            .latest
            .get(workflow)
            .ok_or_else(|| EngineError::Refused(format!("no workflow named '{workflow}'")))?;
        let now = self.clock.now_ms();
        let inst = Instance {
            id: crate::model::new_id(),
            workflow: wf.name.clone(),
            version: wf.version,
            business_key: key.to_string(),
            status: status::RUNNING.into(),
            step: wf.start.clone(),
            token: 1,
            history_seq: 1,
            attempt: 1,
            data: if data.is_object() {
                data
            } else {
                serde_json::json!({ "input": data })
            },
            error: None,
            end_status: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_instance(&inst).await?;
        tx.append_history(
            &inst.id,
            HistoryEvent {
                seq: 1,
                at: now,
                kind: "started".into(),
                step: inst.step.clone(),
                attempt: 1,
                outcome: None,
                detail: serde_json::json!({ "workflow": wf.name, "version": wf.version }),
            },
        );
        tx.enqueue(&StepMessage::new(&inst, Signal::Run), real_now_ms());
        Ok(inst)
    }

    /// Delivers an event: resolves instances waiting for (`event`, `key`), keeps it for a
    /// later `wait:` when nobody waits yet, and starts the workflows it triggers.
    /// Returns the ids of the instances started.
    pub async fn emit_event(
        &self,
        tx: &mut dyn Tx,
        event: &str,
        key: &str,
        outcome: &str,
        payload: &Value,
    ) -> Result<Vec<String>, EngineError> {
        self.emit_events(tx, event, outcome, &[(key, payload)])
            .await
    }

    /// [`Engine::emit_event`] for many keys, in order: the same effect as one call per item
    /// (a key given twice resolves its waiters with the first item and queues the second as
    /// pending), with one wait lookup for the lot instead of one per item.
    pub async fn emit_events(
        &self,
        tx: &mut dyn Tx,
        event: &str,
        outcome: &str,
        items: &[(&str, &Value)],
    ) -> Result<Vec<String>, EngineError> {
        let defs = self.defs();
        let now = self.clock.now_ms();
        if let Some(public) = crate::api::webhooks::public_event(event)
            && !self.webhooks.is_empty()
        {
            for (key, payload) in items {
                crate::api::webhooks::enqueue(tx, &self.webhooks, public, key, None, payload, now)
                    .await?;
            }
        }
        if defs.waited_events.contains(event) {
            let keys: Vec<&str> = items.iter().map(|(k, _)| *k).collect();
            let mut waiting = tx.take_waiters_many(event, &keys).await?;
            for (key, payload) in items {
                let waiters = waiting.remove(*key).unwrap_or_default();
                if waiters.is_empty() {
                    tx.add_pending_event(event, key, outcome, payload, now)
                        .await?;
                }
                for w in waiters {
                    // The event wins over a timeout that has not fired yet.
                    tx.delete_timers(&w.instance_id).await?;
                    let msg = StepMessage {
                        msg_id: crate::model::new_id(),
                        instance: w.instance_id.clone(),
                        step: w.step.clone(),
                        token: w.token,
                        attempt: 1,
                        signal: Signal::Resolve {
                            outcome: outcome.to_string(),
                            payload: (*payload).clone(),
                        },
                        enqueued_us: crate::model::now_us(),
                    };
                    tx.enqueue(&msg, real_now_ms());
                }
            }
        }
        let mut started = Vec::new();
        if let Some(wfs) = defs.triggers.get(event) {
            for (key, payload) in items {
                for name in wfs {
                    let inst = self
                        .start_instance(tx, name, key, (*payload).clone())
                        .await?;
                    started.push(inst.id);
                }
            }
        }
        Ok(started)
    }

    /// Resumes a failed instance at the step that failed (`ordo retry`).
    pub async fn retry_instance(
        &self,
        tx: &mut dyn Tx,
        id_or_key: &str,
    ) -> Result<Instance, EngineError> {
        let found = tx.find_instances(id_or_key).await?;
        let failed: Vec<_> = found
            .into_iter()
            .filter(|i| i.status == status::FAILED)
            .collect();
        let target = match failed.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(EngineError::Refused(format!(
                    "no failed instance '{id_or_key}'"
                )));
            }
            _ => {
                return Err(EngineError::Refused(format!(
                    "'{id_or_key}' matches several failed instances; use an instance id"
                )));
            }
        };
        let Some(mut inst) = tx.load_instance(&target.id).await? else {
            return Err(EngineError::Refused(format!(
                "instance '{id_or_key}' vanished"
            )));
        };
        if inst.status != status::FAILED {
            return Err(EngineError::Refused(format!(
                "instance {} is {}, not failed",
                inst.id, inst.status
            )));
        }
        let now = self.clock.now_ms();
        inst.history_seq += 1;
        let seq = inst.history_seq;
        tx.append_history(
            &inst.id,
            HistoryEvent {
                seq,
                at: now,
                kind: "retried".into(),
                step: inst.step.clone(),
                attempt: 1,
                outcome: None,
                detail: serde_json::json!({ "previous_error": inst.error }),
            },
        );
        inst.status = status::RUNNING.into();
        inst.token += 1;
        inst.attempt = 1;
        inst.error = None;
        inst.updated_at = now;
        tx.update_instance(&inst).await?;
        tx.enqueue(&StepMessage::new(&inst, Signal::Run), real_now_ms());
        Ok(inst)
    }

    /// Records a human decision on an open task.
    pub async fn decide_task(
        &self,
        tx: &mut dyn Tx,
        task_id: i64,
        outcome: &str,
        note: Option<&str>,
    ) -> Result<(), EngineError> {
        let Some(mut task) = tx.load_task(task_id).await? else {
            return Err(EngineError::Refused(format!("no task {task_id}")));
        };
        if task.status != "open" {
            return Err(EngineError::Refused(format!(
                "task {task_id} is {} already",
                task.status
            )));
        }
        let inst = tx.load_instance(&task.instance_id).await?;
        if let Some(inst) = &inst {
            let wf = self
                .workflow_for(tx, &inst.workflow, inst.version)
                .await
                .map_err(|e| EngineError::Refused(e.to_string()))?;
            if let Some(step) = wf.step(&task.step) {
                let allowed = step.outcomes(None).unwrap_or_default();
                if !allowed.iter().any(|o| o == outcome) {
                    return Err(EngineError::Refused(format!(
                        "task {task_id} takes one of: {}",
                        allowed
                            .into_iter()
                            .filter(|o| o != "timeout")
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        // A decision made before the timeout fired wins over it.
        tx.delete_timers(&task.instance_id).await?;
        task.status = "decided".into();
        task.outcome = Some(outcome.to_string());
        task.note = note.map(str::to_string);
        task.decided_at = Some(self.clock.now_ms());
        tx.update_task(&task).await?;
        let public = match outcome {
            "approved" => Some("order.approved"),
            "rejected" => Some("order.rejected"),
            _ => None,
        };
        if let (Some(event), Some(inst)) = (public, &inst) {
            let data = serde_json::json!({ "role": task.role, "step": task.step, "note": note });
            self.webhook_task(
                tx,
                event,
                inst,
                task.token,
                task_id,
                data,
                self.clock.now_ms(),
            )
            .await?;
        }
        let msg = StepMessage {
            msg_id: crate::model::new_id(),
            instance: task.instance_id.clone(),
            step: task.step.clone(),
            token: task.token,
            attempt: 1,
            signal: Signal::Resolve {
                outcome: outcome.to_string(),
                payload: serde_json::json!({ "decision": { "task": task_id, "outcome": outcome, "note": note } }),
            },
            enqueued_us: crate::model::now_us(),
        };
        tx.enqueue(&msg, real_now_ms());
        Ok(())
    }
}

/// Looks up a dotted path (`order.id`) in a JSON value.
pub fn lookup_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, part| cur.get(part))
}

/// The text of a key value: strings as they are, other scalars as JSON.
pub fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Shallow-merges `set` into the object `data`.
pub(crate) fn merge_into(data: &mut Value, set: &serde_json::Map<String, Value>) {
    if !data.is_object() {
        *data = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(m) = data {
        for (k, v) in set {
            m.insert(k.clone(), v.clone());
        }
    }
}
