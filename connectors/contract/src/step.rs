//! The step contract: what a connector is given, what it may touch, and what it returns.
//!
//! Invariant: a connector has no side effects except through [`StepContext`]. The engine binds
//! the context to the step's store transaction, so a step either happens completely (documents,
//! stock, numbers, events, outbound messages, the next step) or not at all, and a redelivered
//! step message is recognised by the engine's inbox before the connector runs again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// A failure of the store behind a [`StepContext`]. The engine treats it as transient.
#[derive(Debug, Clone, thiserror::Error)]
#[error("store: {0}")]
pub struct PortError(pub String);

/// How a step failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StepError {
    /// Worth retrying with backoff (a lock, a timeout, a partner system away).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (bad configuration, a broken invariant): the instance fails at once.
    #[error("{0}")]
    Permanent(String),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// What the engine hands a connector for one step.
#[derive(Debug, Clone, Copy)]
pub struct StepInput<'a> {
    pub instance: &'a str,
    pub workflow: &'a str,
    pub step: &'a str,
    /// 1 on the first try.
    pub attempt: u32,
    /// The instance's variables (a JSON object): the trigger payload plus what earlier steps set.
    pub data: &'a Value,
    /// The step's `with:` block from the workflow file (a JSON object, possibly empty).
    pub params: &'a Value,
}

/// What a step returns: the outcome that picks the transition, and variables to set on the
/// instance (shallow merge into `data`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepOutput {
    pub outcome: String,
    pub set: Map<String, Value>,
}

impl StepOutput {
    pub fn outcome(outcome: impl Into<String>) -> Self {
        StepOutput {
            outcome: outcome.into(),
            set: Map::new(),
        }
    }

    pub fn with(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        // The values set are ordo's typed documents and JSON values: their keys are strings,
        // so serializing cannot fail.
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.set.insert(key.into(), v);
        self
    }
}

/// The transaction port. Everything a connector reads or writes goes through here, inside the
/// step's transaction.
#[async_trait]
pub trait StepContext: Send {
    /// The engine clock (real, or simulated by `ordo demo` and tests).
    fn now(&self) -> DateTime<Utc>;

    /// A stored document (`order`, `invoice`, `customer`, `item`, ...) as JSON.
    async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>, PortError>;
    /// Inserts or replaces a document.
    async fn put_document(&mut self, kind: &str, id: &str, body: &Value) -> Result<(), PortError>;
    /// [`StepContext::put_document`] of a document already serialised to JSON text, for a
    /// writer of a large typed document (a 100,000-entry statement) that would otherwise build
    /// a JSON tree several times the text's size. `text` must be a JSON object.
    async fn put_document_text(
        &mut self,
        kind: &str,
        id: &str,
        text: String,
    ) -> Result<(), PortError> {
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| PortError(format!("document {kind} '{id}': not JSON: {e}")))?;
        self.put_document(kind, id, &body).await
    }
    /// Claims a document id: inserts `body` unless a document of that kind and id exists, in
    /// which case nothing is written and the existing body is returned. The store decides (a
    /// unique key, not a read then a write), so of concurrent claims exactly one gets `None`.
    async fn claim_document(
        &mut self,
        kind: &str,
        id: &str,
        body: &Value,
    ) -> Result<Option<Value>, PortError>;
    /// The bounds orders must keep at intake (`crate::intake`); the engine's `limits:`.
    fn intake_bounds(&self) -> crate::intake::Bounds {
        crate::intake::Bounds::default()
    }
    /// Ids of documents of a kind whose id starts with `prefix` (ordered by id).
    async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>, PortError>;
    /// The documents of a kind among `ids` that exist, by id (one query per few hundred ids
    /// where the store can): a bank import checks every entry of a statement at once.
    async fn get_documents_by_id(
        &mut self,
        kind: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Value>, PortError> {
        let mut out = std::collections::HashMap::new();
        for id in ids {
            if let Some(body) = self.get_document(kind, id).await? {
                out.insert(id.to_string(), body);
            }
        }
        Ok(out)
    }
    /// `get_documents` as stored JSON text, for a reader that wants a few fields of many
    /// documents (reconciliation's open invoices) without building each whole one.
    async fn get_documents_text(
        &mut self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, PortError> {
        Ok(self
            .get_documents(kind, prefix)
            .await?
            .into_iter()
            .map(|(id, body)| (id, body.to_string()))
            .collect())
    }
    /// The documents `list_documents` lists, with their bodies (one query where the store can).
    async fn get_documents(
        &mut self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Value)>, PortError> {
        let mut out = Vec::new();
        for id in self.list_documents(kind, prefix).await? {
            if let Some(body) = self.get_document(kind, &id).await? {
                out.push((id, body));
            }
        }
        Ok(out)
    }

    /// The next number of a gapless series (1, 2, 3, ...). The row stays locked until the step
    /// commits, so a rolled-back step leaves no gap.
    async fn next_number(&mut self, series: &str) -> Result<i64, PortError>;

    /// Current quantity on hand of an item at a location (0 when never stocked).
    async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal, PortError>;
    /// Adds `delta` (may be negative) and returns the new level.
    async fn adjust_stock(
        &mut self,
        item: &str,
        location: &str,
        delta: Decimal,
    ) -> Result<Decimal, PortError>;

    /// Sends a business event. Instances waiting for `event` with correlation `key` receive it
    /// (their `wait:` step takes `outcome`); workflows triggered by `event` start with `payload`.
    async fn emit_event(
        &mut self,
        event: &str,
        key: &str,
        outcome: &str,
        payload: &Value,
    ) -> Result<(), PortError>;

    /// `emit_event` for each `(key, payload)` in order, with the same outcome; a store can
    /// deliver the lot in a few round trips (reconciliation sends one per payment).
    async fn emit_events(
        &mut self,
        event: &str,
        outcome: &str,
        items: &[(String, Value)],
    ) -> Result<(), PortError> {
        for (key, payload) in items {
            self.emit_event(event, key, outcome, payload).await?;
        }
        Ok(())
    }

    /// Posts the journal entry of a business event in this step's transaction (the engine
    /// applies the posting rule, checks the balance and the accounts, numbers the entry in its
    /// period). An unbalanced or unknown-account rule output is a permanent error naming the
    /// rule. `None` when the deployment keeps no ledger (no chart of accounts configured).
    async fn post(
        &mut self,
        posting: &crate::ledger::Posting,
    ) -> Result<Option<crate::ledger::Posted>, StepError>;

    /// Tells other systems a business fact (`shipment.created`, `recon.exception`,
    /// `edi.rejected`): queued for the webhook subscribers that want `event`, in this
    /// transaction, under a stable id made of `event` and `key` (so a step that runs again
    /// tells nothing twice). Unlike [`StepContext::emit_event`] it neither resumes nor starts
    /// a workflow.
    async fn publish(&mut self, event: &str, key: &str, data: &Value) -> Result<(), PortError>;

    /// Looks the open-items index up (see [`crate::recon_docs::OpenItemRow`]): the rows that
    /// answer `q`, and every invoice whose document could not be indexed. `None`: this port
    /// keeps no index (a test's in-memory context); the caller then derives the rows from the
    /// invoice documents with the same function the store uses.
    async fn open_items(
        &mut self,
        _q: &crate::recon_docs::OpenItemQuery,
    ) -> Result<Option<crate::recon_docs::OpenItemsFound>, PortError> {
        Ok(None)
    }

    /// Queues a message for the outside world (an EDI file, a reminder, a carrier call). The
    /// dispatcher delivers it after commit, at most once per (`channel`, `key`).
    async fn send_outbound(
        &mut self,
        channel: &str,
        key: &str,
        payload: &Value,
    ) -> Result<(), PortError>;
    /// [`StepContext::send_outbound`] of a payload already serialised to JSON text, for a
    /// large typed payload (the report of a 100,000-entry statement) that would otherwise be
    /// built as a JSON tree several times its text's size.
    async fn send_outbound_text(
        &mut self,
        channel: &str,
        key: &str,
        payload: String,
    ) -> Result<(), PortError> {
        let body: Value = serde_json::from_str(&payload)
            .map_err(|e| PortError(format!("outbound {channel} '{key}': not JSON: {e}")))?;
        self.send_outbound(channel, key, &body).await
    }
}

/// Typed helpers over the JSON document port.
#[async_trait]
pub trait StepContextExt: StepContext {
    async fn get<T: DeserializeOwned>(
        &mut self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, StepError> {
        match self.get_document(kind, id).await? {
            None => Ok(None),
            Some(v) => from_doc(kind, id, &v).map(Some),
        }
    }

    async fn put<T: Serialize + Sync>(
        &mut self,
        kind: &str,
        id: &str,
        doc: &T,
    ) -> Result<(), StepError> {
        let v = serde_json::to_value(doc)
            .map_err(|e| StepError::Permanent(format!("{kind} {id}: {e}")))?;
        self.put_document(kind, id, &v).await?;
        Ok(())
    }
}

impl<T: StepContext + ?Sized> StepContextExt for T {}

/// A named piece of business logic a workflow step can call with `connector: NAME`.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The name workflows use, e.g. `order.validate`.
    fn name(&self) -> &'static str;
    /// Every outcome [`Connector::run`] can return; `ordo check` requires the workflow to
    /// handle each one.
    fn outcomes(&self) -> &'static [&'static str];
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError>;
}

/// Reads a field of the instance data as a typed value, in place. The error names the field
/// (the document kind for the documents the instance carries: `order`, `pricing`, ...), the
/// document's key when it has one (`id`, `number`), and the path of the bad value:
/// `order 'C1-PO1': lines[0].quantity: …`, ``pricing in the instance data: lines[0]: missing
/// field `unit_price` ``.
pub fn data_field<'a, T: serde::Deserialize<'a>>(
    data: &'a Value,
    key: &str,
) -> Result<T, StepError> {
    let v = data
        .get(key)
        .ok_or_else(|| StepError::Permanent(format!("instance data has no '{key}'")))?;
    read_typed(v, || {
        match ["id", "number"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
        {
            Some(id) => format!("{key} '{}'", crate::excerpt(id, 80)),
            None => format!("{key} in the instance data"),
        }
    })
    .map_err(StepError::Permanent)
}

/// Reads a JSON document (stored, or carried in the instance data) as its typed form. A missing
/// required field or a value of the wrong type is a permanent step error naming the document
/// kind, its key and the path of the field: `invoice 'INV-000001': open_amount: invalid type:
/// string "12,50", expected a Decimal`. Never a default.
pub fn from_doc<'a, T: serde::Deserialize<'a>>(
    kind: &str,
    key: &str,
    v: &'a Value,
) -> Result<T, StepError> {
    read_doc(kind, key, v).map_err(StepError::Permanent)
}

/// [`from_doc`] with the located message as the error, for callers outside a step (reports,
/// commands) that wrap it in their own error.
pub fn read_doc<'a, T: serde::Deserialize<'a>>(
    kind: &str,
    key: &str,
    v: &'a Value,
) -> Result<T, String> {
    read_typed(v, || doc_label(kind, key))
}

/// [`read_doc`] of a document still in its stored JSON text: read without building a
/// [`Value`] first (reconciliation reads every open invoice this way, skipping their lines).
pub fn read_doc_text<T: serde::de::DeserializeOwned>(
    kind: &str,
    key: &str,
    text: &str,
) -> Result<T, String> {
    match serde_json::from_str(text) {
        Ok(t) => Ok(t),
        Err(plain) => {
            // Only a failure is parsed again, tracking the path, to locate the field.
            let mut de = serde_json::Deserializer::from_str(text);
            Err(match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) if e.path().iter().next().is_some() => {
                    format!("{}: {}: {}", doc_label(kind, key), e.path(), e.inner())
                }
                _ => format!("{}: {plain}", doc_label(kind, key)),
            })
        }
    }
}

fn doc_label(kind: &str, key: &str) -> String {
    format!("{kind} '{}'", crate::excerpt(key, 80))
}

/// The document is read once without tracking the path (the hot path of every step); only a
/// failure is read again through `serde_path_to_error` to locate the field, and only then is
/// the document's label (`what`) made.
fn read_typed<'a, T: serde::Deserialize<'a>>(
    v: &'a Value,
    what: impl FnOnce() -> String,
) -> Result<T, String> {
    match T::deserialize(v) {
        Ok(t) => Ok(t),
        Err(plain) => Err(match serde_path_to_error::deserialize::<_, T>(v) {
            Err(e) if e.path().iter().next().is_some() => {
                format!("{}: {}: {}", what(), e.path(), e.inner())
            }
            _ => format!("{}: {plain}", what()),
        }),
    }
}
