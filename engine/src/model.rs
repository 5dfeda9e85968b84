//! Engine records: what the store keeps about running workflows and what travels on the queue.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Lifecycle of an instance.
///
/// `running`: a step message is queued or being processed. `waiting`: parked at a `task:` or
/// `wait:` step until a decision, an event or a timer. `failed`: retries ran out or the step
/// failed permanently; `ordo retry` resumes it. `ended`: reached an `end:` step
/// (`end_status` holds its label).
pub mod status {
    pub const RUNNING: &str = "running";
    pub const WAITING: &str = "waiting";
    pub const FAILED: &str = "failed";
    pub const ENDED: &str = "ended";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub workflow: String,
    /// The workflow version the instance started on; it stays on it for its whole life.
    pub version: u32,
    /// Business key (the order id, ...): unique per workflow, what `ordo status` looks up.
    pub business_key: String,
    pub status: String,
    pub step: String,
    /// Bumped on every transition; a message or timer carrying an older token is stale.
    pub token: i64,
    /// `seq` of the last history event written for this instance.
    pub history_seq: i64,
    pub attempt: u32,
    pub data: Value,
    pub error: Option<String>,
    pub end_status: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub seq: i64,
    pub at: i64,
    /// `started`, `step.completed`, `step.failed`, `step.retry`, `waiting`, `task.created`,
    /// `event.received`, `timer.fired`, `failed`, `ended`, `retried`, `decided`.
    pub kind: String,
    pub step: String,
    pub attempt: u32,
    pub outcome: Option<String>,
    pub detail: Value,
}

/// What makes a step message act.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Signal {
    /// Execute the step.
    Run,
    /// The step's timer fired (`wait:`/`task:` timeout).
    Timeout,
    /// An event or a human decision resolved a waiting step with this outcome.
    Resolve { outcome: String, payload: Value },
}

/// A step message: the unit of work on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMessage {
    pub msg_id: String,
    pub instance: String,
    pub step: String,
    pub token: i64,
    pub attempt: u32,
    pub signal: Signal,
    /// When the message was enqueued (real time, microseconds): step latency = commit − this.
    #[serde(default)]
    pub enqueued_us: i64,
}

impl StepMessage {
    pub fn new(instance: &Instance, signal: Signal) -> Self {
        StepMessage {
            msg_id: new_id(),
            instance: instance.id.clone(),
            step: instance.step.clone(),
            token: instance.token,
            attempt: instance.attempt,
            signal,
            enqueued_us: now_us(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        // Plain data with string keys: serializing it cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| format!("undecodable step message: {e}"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub instance_id: String,
    pub step: String,
    pub token: i64,
    pub role: String,
    /// `open`, `decided`, `expired`.
    pub status: String,
    pub outcome: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
    pub due_at: Option<i64>,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    pub id: i64,
    pub instance_id: String,
    pub step: String,
    pub token: i64,
    pub fire_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvent {
    pub id: i64,
    pub outcome: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiter {
    pub instance_id: String,
    pub step: String,
    pub token: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    pub id: i64,
    pub channel: String,
    pub key: String,
    pub instance_id: Option<String>,
    pub payload: Value,
    pub attempts: i64,
}

/// Real time in microseconds.
pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A time-ordered unique id (UUID v7): sortable by creation, unique across processes.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_messages_round_trip() {
        let m = StepMessage {
            msg_id: "m1".into(),
            instance: "i1".into(),
            step: "wait".into(),
            token: 3,
            attempt: 1,
            signal: Signal::Resolve {
                outcome: "paid".into(),
                payload: serde_json::json!({"amount": 10.50}),
            },
            enqueued_us: 7,
        };
        let back = StepMessage::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
        assert!(
            StepMessage::decode(b"{")
                .unwrap_err()
                .contains("undecodable")
        );
    }
}
