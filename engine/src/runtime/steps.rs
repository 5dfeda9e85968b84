//! Running one step message inside the batch transaction, and what happens when it fails.

use super::context::TxContext;
use super::{Engine, merge_into};

/// Moves a step's output into the instance data (`merge_into` without copying the values).
fn merge_owned(data: &mut Value, set: serde_json::Map<String, Value>) {
    if !data.is_object() {
        *data = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(m) = data {
        for (k, v) in set {
            m.insert(k, v);
        }
    }
}
use crate::clock::real_now_ms;
use crate::model::{HistoryEvent, Instance, Signal, StepMessage, Task, Timer, Waiter, status};
use crate::queue::Delivery;
use crate::store::{StoreError, Tx};
use futures_lite::FutureExt;
use ordo_contract::{StepError, StepInput};
use ordo_workflow::{Step, StepKind, Workflow};
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

/// The text of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Why a step did not complete.
#[derive(Debug, thiserror::Error)]
pub enum StepFailure {
    /// The store failed: the whole batch is rolled back and its messages come again.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The step failed: its savepoint is rolled back, then it is retried or the instance fails.
    #[error("{message}")]
    Step { message: String, retryable: bool },
}

impl StepFailure {
    pub fn permanent(message: impl Into<String>) -> Self {
        StepFailure::Step {
            message: message.into(),
            retryable: false,
        }
    }
}

impl From<StepError> for StepFailure {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Transient(m) => StepFailure::Step {
                message: m,
                retryable: true,
            },
            StepError::Permanent(m) => StepFailure::Step {
                message: m,
                retryable: false,
            },
            StepError::Port(p) => StepFailure::Step {
                message: p.to_string(),
                retryable: true,
            },
        }
    }
}

/// Most steps a delivered message runs in one transaction by following its instance from step
/// to step; past this the next step is queued as usual. It bounds a batch's length (a workflow
/// looping through connector steps) without changing what commits: a step run in the chain is
/// exactly a step message enqueued and consumed by the same commit, so it can never be lost or
/// seen twice, and a crash before the commit redelivers the first message of the chain.
pub const MAX_CHAIN: usize = 64;

/// The next step message of an instance and the instance as the step left it.
pub(super) struct Next {
    msg: StepMessage,
    inst: Instance,
}

/// What a batch did, for the caller to finish (publish, ack) after commit.
pub struct BatchResult {
    pub enqueued: Vec<(StepMessage, i64)>,
    pub poison: Vec<Delivery>,
    pub processed: usize,
    /// `enqueued_us` of each processed message (for latency figures).
    pub enqueued_at: Vec<i64>,
    /// Steps per outcome of `crate::api::metrics::STEP_OUTCOMES` (ok, retried, failed).
    pub outcomes: [usize; 3],
}

impl Engine {
    /// Runs a batch of deliveries in one transaction (group commit). On a store error nothing
    /// is committed and the error is returned; the caller gives the deliveries back.
    pub async fn process_batch(&self, deliveries: &[Delivery]) -> Result<BatchResult, StoreError> {
        // Optimistic pass without savepoints (steps rarely fail, and a savepoint pair per step
        // is a third of a step's statements); if any step fails, everything is rolled back and
        // the batch runs again with a savepoint around each step.
        if let Some(done) = self.run_batch(deliveries, false).await? {
            return Ok(done);
        }
        match self.run_batch(deliveries, true).await? {
            Some(done) => Ok(done),
            None => Err(StoreError::Corrupt(
                "an isolated batch did not complete".into(),
            )),
        }
    }

    /// One pass over the batch. Without `isolate`, returns Ok(None) (and commits nothing) as
    /// soon as a step fails.
    async fn run_batch(
        &self,
        deliveries: &[Delivery],
        isolate: bool,
    ) -> Result<Option<BatchResult>, StoreError> {
        let mut tx = self.store.begin().await?;
        if !isolate {
            // A clash then fails the whole pass (at commit, or at a query over instances),
            // and the isolated pass inserts one by one, so it fails only its step.
            tx.defer_instance_inserts();
        }
        let mut poison = Vec::new();
        let mut acked = Vec::with_capacity(deliveries.len());
        let mut processed = 0;
        let mut enqueued_at = Vec::new();
        let mut outcomes = [0usize; 3];
        let mut msgs = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            match StepMessage::decode(&d.body) {
                Ok(m) => msgs.push((d, m)),
                Err(e) => {
                    tracing::error!(msg_id = %d.msg_id, error = %e, "poison message: dead-lettered");
                    poison.push(d.clone());
                }
            }
        }
        // One round trip each for the whole batch: record the message ids (the inbox tells
        // which are new) and load + lock the instances.
        let ids: Vec<String> = msgs.iter().map(|(_, m)| m.msg_id.clone()).collect();
        let mut fresh = tx.inbox_insert_many(&ids, self.clock.now_ms()).await?;
        let instances: Vec<String> = msgs.iter().map(|(_, m)| m.instance.clone()).collect();
        tx.preload_instances(&instances).await?;
        for (d, msg) in msgs {
            acked.push(d.tag as i64);
            let first_delivery = fresh.remove(&msg.msg_id);
            // The delivered message, then its continuations: each step's next step of the same
            // instance runs at once in this transaction (see `MAX_CHAIN`).
            let mut current = Some((msg, first_delivery, None));
            let mut chained = 0;
            while let Some((msg, first_delivery, handed)) = current.take() {
                enqueued_at.push(msg.enqueued_us);
                let now = self.clock.now_ms();
                let sp = if isolate {
                    Some(tx.savepoint().await?)
                } else {
                    None
                };
                let span = tracing::debug_span!("step", instance = %msg.instance, step = %msg.step, msg_id = %msg.msg_id);
                // A panic in a step (a bug, an overflow a connector did not check) fails that
                // step like a permanent error; the rest of the batch and the worker go on.
                let run = self
                    .process_message(tx.as_mut(), &msg, first_delivery, handed, now)
                    .instrument(span);
                let result = match AssertUnwindSafe(run).catch_unwind().await {
                    Ok(r) => r,
                    Err(panic) => {
                        let why = panic_message(panic.as_ref());
                        tracing::error!(instance = %msg.instance, step = %msg.step, error = %why, "step panicked");
                        Err(StepFailure::permanent(format!("step panicked: {why}")))
                    }
                };
                match result {
                    Ok(next) => {
                        processed += 1;
                        outcomes[0] += 1;
                        if let Some(next) = next {
                            if chained < self.max_chain {
                                chained += 1;
                                if isolate {
                                    // Should the next step fail, its savepoint rolls back to
                                    // this state, from which the retry is scheduled.
                                    tx.put_instance(next.inst.clone()).await?;
                                }
                                current = Some((next.msg, true, Some(next.inst)));
                            } else {
                                tx.put_instance(next.inst).await?;
                                tx.enqueue(&next.msg, real_now_ms());
                            }
                        }
                        if let Some(sp) = sp {
                            tx.release(sp).await?;
                        }
                    }
                    Err(StepFailure::Store(StoreError::Duplicate { .. })) if sp.is_none() => {
                        tx.rollback().await?;
                        return Ok(None);
                    }
                    Err(StepFailure::Store(e)) => return Err(e),
                    Err(StepFailure::Step { .. }) if sp.is_none() => {
                        tx.rollback().await?;
                        return Ok(None);
                    }
                    Err(StepFailure::Step { message, retryable }) => {
                        if let Some(sp) = sp {
                            tx.rollback_to(sp).await?;
                        }
                        let sp = tx.savepoint().await?;
                        match self
                            .record_failure(tx.as_mut(), &msg, &message, retryable, now)
                            .await
                        {
                            Ok(outcome) => {
                                if let Some(i) = outcome {
                                    outcomes[i] += 1;
                                }
                                tx.release(sp).await?
                            }
                            Err(StepFailure::Store(e)) => return Err(e),
                            Err(StepFailure::Step { message: m2, .. }) => {
                                tracing::error!(instance = %msg.instance, error = %m2, "could not record step failure");
                                tx.rollback_to(sp).await?;
                            }
                        }
                        processed += 1;
                    }
                }
            }
        }
        if self.embedded() {
            tx.ack_leased(&acked).await?;
        }
        let enqueued = tx.enqueued().to_vec();
        match tx.commit().await {
            Ok(()) => {}
            Err(StoreError::Duplicate { .. }) if !isolate => return Ok(None),
            Err(e) => return Err(e),
        }
        Ok(Some(BatchResult {
            enqueued,
            poison,
            processed,
            enqueued_at,
            outcomes,
        }))
    }

    /// Buffers a history event; the caller then writes the instance, which carries the new seq.
    async fn history(
        &self,
        tx: &mut dyn Tx,
        inst: &mut Instance,
        kind: &str,
        outcome: Option<&str>,
        detail: Value,
        now: i64,
    ) -> Result<(), StoreError> {
        inst.history_seq += 1;
        let seq = inst.history_seq;
        tx.append_history(
            &inst.id,
            HistoryEvent {
                seq,
                at: now,
                kind: kind.to_string(),
                step: inst.step.clone(),
                attempt: inst.attempt,
                outcome: outcome.map(str::to_string),
                detail,
            },
        );
        Ok(())
    }

    /// Queues `instance.failed` for the subscribers that want it; keyed by the instance and
    /// its history position, so a retried instance that fails again is a new event.
    async fn webhook_instance_failed(
        &self,
        tx: &mut dyn Tx,
        inst: &Instance,
        now: i64,
    ) -> Result<(), StoreError> {
        let data = json!({
            "instance": inst.id,
            "workflow": inst.workflow,
            "business_key": inst.business_key,
            "step": inst.step,
            "error": inst.error,
        });
        let key = format!("{}:{}", inst.id, inst.history_seq);
        crate::api::webhooks::enqueue(
            tx,
            &self.webhooks,
            "instance.failed",
            &key,
            Some(&inst.id),
            &data,
            now,
        )
        .await
    }

    /// Queues a task's public event (`order.held` when it opens, `order.approved` /
    /// `order.rejected` when it is decided), keyed by the instance and the token the task
    /// was opened at: the same task always gives the same event ids.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn webhook_task(
        &self,
        tx: &mut dyn Tx,
        event: &str,
        inst: &Instance,
        token: i64,
        task: i64,
        mut data: Value,
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(d) = data.as_object_mut() {
            d.insert("task".into(), json!(task));
            d.insert("instance".into(), json!(inst.id));
            d.insert("workflow".into(), json!(inst.workflow));
            d.insert("order".into(), json!(inst.business_key));
        }
        let key = format!("{}:{token}", inst.id);
        crate::api::webhooks::enqueue(tx, &self.webhooks, event, &key, Some(&inst.id), &data, now)
            .await
    }

    /// Loads the instance a message is for; None when the message is stale (the instance moved
    /// on, was retried, or ended) so the caller does nothing.
    async fn current_instance(
        &self,
        tx: &mut dyn Tx,
        msg: &StepMessage,
    ) -> Result<Option<Instance>, StoreError> {
        let Some(inst) = tx.load_instance(&msg.instance).await? else {
            tracing::warn!(instance = %msg.instance, msg_id = %msg.msg_id, "message for an unknown instance ignored");
            return Ok(None);
        };
        let live = inst.status == status::RUNNING || inst.status == status::WAITING;
        if !live || inst.token != msg.token || inst.step != msg.step {
            tracing::debug!(instance = %inst.id, msg_id = %msg.msg_id, "stale message ignored");
            return Ok(None);
        }
        if msg.signal == Signal::Run
            && (inst.status != status::RUNNING || inst.attempt != msg.attempt)
        {
            return Ok(None);
        }
        Ok(Some(inst))
    }

    /// Runs one step. Returns the next step of the same instance when the step moved it on
    /// (the caller runs it at once or queues it); the instance is then not yet written back.
    /// `handed` is the instance as the previous step of a chain left it.
    pub(super) async fn process_message(
        &self,
        tx: &mut dyn Tx,
        msg: &StepMessage,
        first_delivery: bool,
        handed: Option<Instance>,
        now: i64,
    ) -> Result<Option<Next>, StepFailure> {
        if !first_delivery {
            tracing::debug!(msg_id = %msg.msg_id, "duplicate delivery ignored");
            return Ok(None);
        }
        let mut inst = match handed {
            Some(inst) => inst,
            None => match self.current_instance(tx, msg).await? {
                Some(inst) => inst,
                None => return Ok(None),
            },
        };
        let wf = self.workflow_for(tx, &inst.workflow, inst.version).await?;
        let step = wf.step(&inst.step).ok_or_else(|| {
            StepFailure::permanent(format!(
                "workflow '{}' v{} has no step '{}'",
                wf.name, wf.version, inst.step
            ))
        })?;
        match (&step.kind, &msg.signal) {
            (StepKind::End { status: end }, Signal::Run) => {
                inst.status = status::ENDED.into();
                inst.end_status = Some(end.clone());
                inst.updated_at = now;
                tx.delete_timers(&inst.id).await?;
                self.history(tx, &mut inst, "ended", Some(end), json!({}), now)
                    .await?;
                tx.put_instance(inst).await?;
            }
            (StepKind::Rule { rule }, Signal::Run) => {
                let defs = self.defs();
                let r = defs.rules.get(rule).ok_or_else(|| {
                    StepFailure::permanent(format!("rule '{rule}' is not loaded"))
                })?;
                // Only the inputs the rule declares (all it reads), not the whole instance data.
                let inputs: serde_json::Map<String, Value> = match inst.data.as_object() {
                    Some(data) => r
                        .inputs
                        .iter()
                        .filter_map(|k| data.get(k).map(|v| (k.clone(), v.clone())))
                        .collect(),
                    None => serde_json::Map::new(),
                };
                // Business time, not the wall clock, so a decision does not depend on when
                // the step happened to run.
                let business_now = crate::clock::ms_to_datetime(now)
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string();
                let decision = self
                    .rules
                    .evaluate_at(r, &inputs, Some(&business_now))
                    .map_err(|e| StepFailure::permanent(format!("rule '{rule}': {e}")))?;
                merge_into(&mut inst.data, &decision.values);
                let detail =
                    json!({ "rule": rule, "rule_hash": r.hash, "values": decision.values });
                return self
                    .transition(tx, &wf, step, inst, &decision.outcome, detail, now)
                    .await
                    .map(Some);
            }
            (StepKind::Connector { connector }, Signal::Run) => {
                let c = self
                    .registry
                    .get(connector)
                    .ok_or_else(|| {
                        StepFailure::permanent(format!("connector '{connector}' is not registered"))
                    })?
                    .clone();
                let out = {
                    let mut ctx = TxContext {
                        tx: &mut *tx,
                        engine: self,
                        instance_id: Some(&inst.id),
                        now_ms: now,
                    };
                    let input = StepInput {
                        instance: &inst.id,
                        workflow: &wf.name,
                        step: &step.name,
                        attempt: inst.attempt,
                        data: &inst.data,
                        params: &step.params,
                    };
                    c.run(&mut ctx, input).await?
                };
                if !c.outcomes().contains(&out.outcome.as_str()) {
                    return Err(StepFailure::permanent(format!(
                        "connector '{connector}' returned undeclared outcome '{}'",
                        out.outcome
                    )));
                }
                let detail =
                    json!({ "connector": connector, "set": out.set.keys().collect::<Vec<_>>() });
                let outcome = out.outcome;
                merge_owned(&mut inst.data, out.set);
                return self
                    .transition(tx, &wf, step, inst, &outcome, detail, now)
                    .await
                    .map(Some);
            }
            (StepKind::Task { role, timeout, .. }, Signal::Run) => {
                let due = timeout.map(|t| now + t.as_millis() as i64);
                let task = Task {
                    id: 0,
                    instance_id: inst.id.clone(),
                    step: step.name.clone(),
                    token: inst.token,
                    role: role.clone(),
                    status: "open".into(),
                    outcome: None,
                    note: None,
                    created_at: now,
                    due_at: due,
                    decided_at: None,
                };
                let id = tx.insert_task(&task).await?;
                if let Some(fire_at) = due {
                    tx.add_timer(&Timer {
                        id: 0,
                        instance_id: inst.id.clone(),
                        step: step.name.clone(),
                        token: inst.token,
                        fire_at,
                    })
                    .await?;
                }
                inst.status = status::WAITING.into();
                inst.updated_at = now;
                self.history(
                    tx,
                    &mut inst,
                    "task.created",
                    None,
                    json!({ "task": id, "role": role, "due_at": due }),
                    now,
                )
                .await?;
                self.webhook_task(
                    tx,
                    "order.held",
                    &inst,
                    task.token,
                    id,
                    json!({ "role": role, "step": step.name, "due_at": due }),
                    now,
                )
                .await?;
                tx.put_instance(inst).await?;
            }
            (
                StepKind::Wait {
                    event,
                    timeout,
                    until,
                    ..
                },
                Signal::Run,
            ) => {
                if let Some(pe) = tx.take_pending_event(event, &inst.business_key).await? {
                    if let Some(obj) = pe.payload.as_object() {
                        merge_into(&mut inst.data, obj);
                    }
                    let detail = json!({ "event": event, "arrived": "before the wait" });
                    return self
                        .transition(tx, &wf, step, inst, &pe.outcome, detail, now)
                        .await
                        .map(Some);
                } else {
                    let waiter = Waiter {
                        instance_id: inst.id.clone(),
                        step: step.name.clone(),
                        token: inst.token,
                    };
                    tx.add_wait(event, &inst.business_key, &waiter).await?;
                    // `until:` a cron schedule: the next occurrence in business time.
                    let due = match (timeout, until) {
                        (Some(t), _) => Some(now + t.as_millis() as i64),
                        (None, Some(c)) => c
                            .next_after(crate::clock::ms_to_datetime(now))
                            .map(|at| at.timestamp_millis()),
                        (None, None) => None,
                    };
                    if let Some(fire_at) = due {
                        tx.add_timer(&Timer {
                            id: 0,
                            instance_id: inst.id.clone(),
                            step: step.name.clone(),
                            token: inst.token,
                            fire_at,
                        })
                        .await?;
                    }
                    inst.status = status::WAITING.into();
                    inst.updated_at = now;
                    let detail =
                        json!({ "event": event, "key": inst.business_key, "timeout_at": due });
                    self.history(tx, &mut inst, "waiting", None, detail, now)
                        .await?;
                    tx.put_instance(inst).await?;
                }
            }
            (
                StepKind::Task { .. } | StepKind::Wait { .. },
                Signal::Resolve { outcome, payload },
            ) => {
                if inst.status != status::WAITING {
                    return Ok(None);
                }
                tx.delete_timers(&inst.id).await?;
                tx.delete_wait(&inst.id).await?;
                if let Some(obj) = payload.as_object() {
                    merge_into(&mut inst.data, obj);
                }
                return self
                    .transition(
                        tx,
                        &wf,
                        step,
                        inst,
                        outcome,
                        json!({ "resolved_by": payload }),
                        now,
                    )
                    .await
                    .map(Some);
            }
            (StepKind::Task { .. } | StepKind::Wait { .. }, Signal::Timeout) => {
                if inst.status != status::WAITING {
                    return Ok(None);
                }
                if matches!(step.kind, StepKind::Wait { .. }) {
                    // The timer fired, but an event may have taken the wait since: its Resolve
                    // (for this token) is queued and wins; timing out now would make it stale
                    // and lose the event (a paid invoice dunned into collection).
                    if !tx.take_wait(&inst.id, inst.token).await? {
                        tracing::debug!(instance = %inst.id, step = %step.name, "timeout after the event took the wait; the event wins");
                        tx.put_instance(inst).await?;
                        return Ok(None);
                    }
                } else {
                    tx.delete_wait(&inst.id).await?;
                }
                if let Some(mut task) = tx.open_task_for(&inst.id).await? {
                    task.status = "expired".into();
                    task.decided_at = Some(now);
                    tx.update_task(&task).await?;
                }
                return self
                    .transition(
                        tx,
                        &wf,
                        step,
                        inst,
                        "timeout",
                        json!({ "timer": "fired" }),
                        now,
                    )
                    .await
                    .map(Some);
            }
            (_, signal) => {
                tracing::warn!(instance = %inst.id, step = %step.name, ?signal, "signal does not apply to this step; ignored");
                // Handed over by a chain, the instance must still be written back.
                tx.put_instance(inst).await?;
            }
        }
        Ok(None)
    }

    /// Moves the instance along the edge for `outcome`; the caller runs or queues the next
    /// step and writes the instance back.
    #[allow(clippy::too_many_arguments)]
    async fn transition(
        &self,
        tx: &mut dyn Tx,
        wf: &Workflow,
        step: &Step,
        mut inst: Instance,
        outcome: &str,
        detail: Value,
        now: i64,
    ) -> Result<Next, StepFailure> {
        let Some(next) = step.next(outcome) else {
            return Err(StepFailure::permanent(format!(
                "step '{}' of workflow '{}' v{} produced outcome '{}', which has no transition",
                step.name, wf.name, wf.version, outcome
            )));
        };
        // The step budget: a workflow that loops without a wait, task or timer would run (and
        // grow its history) for ever. History events count the steps an instance ran and are
        // stored with it, so the count survives restarts.
        // `limits.max_steps_per_instance`: an instance whose history grows past it fails.
        // history_seq counts from 0 and only grows: never negative.
        if u64::try_from(inst.history_seq).unwrap_or(0) >= self.limits.max_steps_per_instance {
            return Err(StepFailure::permanent(format!(
                "instance ran {} steps, more than limits.max_steps_per_instance ({}); does the workflow loop?",
                inst.history_seq, self.limits.max_steps_per_instance
            )));
        }
        self.history(tx, &mut inst, "step.completed", Some(outcome), detail, now)
            .await?;
        inst.step = next.to_string();
        inst.token += 1;
        inst.attempt = 1;
        inst.status = status::RUNNING.into();
        inst.error = None;
        inst.updated_at = now;
        let msg = StepMessage::new(&inst, Signal::Run);
        Ok(Next { msg, inst })
    }

    /// After its message was dead-lettered (its batch kept failing outside any step): marks the
    /// instance failed with the error, so a person sees it (`ordo retry` resumes it).
    pub async fn fail_dead_lettered(
        &self,
        d: &Delivery,
        error: &str,
    ) -> Result<(), crate::runtime::EngineError> {
        let Ok(msg) = StepMessage::decode(&d.body) else {
            return Ok(());
        };
        let mut tx = self.store.begin().await?;
        let Some(mut inst) = self.current_instance(tx.as_mut(), &msg).await? else {
            tx.rollback().await?;
            return Ok(());
        };
        let now = self.clock.now_ms();
        let error = format!(
            "its step message was dead-lettered after {} deliveries: {error}",
            d.deliveries
        );
        inst.status = status::FAILED.into();
        inst.error = Some(error.clone());
        inst.updated_at = now;
        let detail = json!({ "error": error, "why": "dead-lettered" });
        self.history(tx.as_mut(), &mut inst, "failed", None, detail, now)
            .await?;
        self.webhook_instance_failed(tx.as_mut(), &inst, now)
            .await?;
        tx.put_instance(inst).await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a step's savepoint was rolled back: schedule a retry or fail the instance.
    /// Returns the outcome counted for `/metrics` (1 retried, 2 failed; None when stale).
    async fn record_failure(
        &self,
        tx: &mut dyn Tx,
        msg: &StepMessage,
        error: &str,
        retryable: bool,
        now: i64,
    ) -> Result<Option<usize>, StepFailure> {
        tx.inbox_insert(&msg.msg_id, now).await?;
        let Some(mut inst) = self.current_instance(tx, msg).await? else {
            return Ok(None);
        };
        let wf = self.workflow_for(tx, &inst.workflow, inst.version).await;
        let policy = wf
            .ok()
            .and_then(|wf| wf.step(&inst.step).map(|s| s.retry))
            .unwrap_or_default();
        inst.error = Some(error.to_string());
        inst.updated_at = now;
        if retryable && msg.attempt < policy.attempts {
            let delay = policy.delay(msg.attempt);
            tracing::warn!(instance = %inst.id, step = %inst.step, attempt = msg.attempt, retry_in_ms = delay.as_millis() as u64, %error, "step failed, will retry");
            self.history(
                tx,
                &mut inst,
                "step.failed",
                None,
                json!({ "error": error, "retry_in_ms": delay.as_millis() as u64 }),
                now,
            )
            .await?;
            inst.attempt = msg.attempt + 1;
            let retry = StepMessage::new(&inst, Signal::Run);
            tx.put_instance(inst).await?;
            tx.enqueue(&retry, real_now_ms() + delay.as_millis() as i64);
            Ok(Some(1))
        } else {
            tracing::error!(instance = %inst.id, step = %inst.step, attempt = msg.attempt, %error, "step failed for good; instance failed");
            inst.status = status::FAILED.into();
            let why = if retryable {
                "retries exhausted"
            } else {
                "not retryable"
            };
            self.history(
                tx,
                &mut inst,
                "failed",
                None,
                json!({ "error": error, "why": why }),
                now,
            )
            .await?;
            self.webhook_instance_failed(tx, &inst, now).await?;
            tx.put_instance(inst).await?;
            Ok(Some(2))
        }
    }
}
