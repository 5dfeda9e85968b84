//! The connectors' [`StepContext`], bound to the step's store transaction.

use super::Engine;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ordo_contract::{PortError, StepContext};
use rust_decimal::Decimal;
use serde_json::Value;

/// Used for steps (with the instance, recorded on outbound messages) and for commands that
/// run business logic in their own transaction (`ordo receive`, `ordo pay`; no instance).
pub struct TxContext<'a> {
    pub tx: &'a mut dyn crate::store::Tx,
    pub engine: &'a Engine,
    pub instance_id: Option<&'a str>,
    pub now_ms: i64,
}

impl<'a> TxContext<'a> {
    /// The port for a command's own transaction (no instance), at the engine's business time.
    pub fn command(tx: &'a mut dyn crate::store::Tx, engine: &'a Engine) -> Self {
        TxContext {
            tx,
            engine,
            instance_id: None,
            now_ms: engine.clock.now_ms(),
        }
    }
}

fn port(e: impl std::fmt::Display) -> PortError {
    PortError(e.to_string())
}

#[async_trait]
impl StepContext for TxContext<'_> {
    fn now(&self) -> DateTime<Utc> {
        crate::clock::ms_to_datetime(self.now_ms)
    }

    async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>, PortError> {
        self.tx.get_document(kind, id).await.map_err(port)
    }

    async fn put_document(&mut self, kind: &str, id: &str, body: &Value) -> Result<(), PortError> {
        self.tx
            .put_document(kind, id, body, self.now_ms)
            .await
            .map_err(port)
    }

    async fn put_document_text(
        &mut self,
        kind: &str,
        id: &str,
        text: String,
    ) -> Result<(), PortError> {
        self.tx
            .put_document_text(kind, id, text, self.now_ms)
            .await
            .map_err(port)
    }

    async fn claim_document(
        &mut self,
        kind: &str,
        id: &str,
        body: &Value,
    ) -> Result<Option<Value>, PortError> {
        self.tx
            .claim_document(kind, id, body, self.now_ms)
            .await
            .map_err(port)
    }

    fn intake_bounds(&self) -> ordo_contract::Bounds {
        self.engine.limits.order_bounds()
    }

    async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        self.tx.list_documents(kind, prefix).await.map_err(port)
    }

    async fn get_documents(
        &mut self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, Value)>, PortError> {
        self.tx.get_documents(kind, prefix).await.map_err(port)
    }

    async fn get_documents_text(
        &mut self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, PortError> {
        self.tx.get_documents_text(kind, prefix).await.map_err(port)
    }

    async fn get_documents_by_id(
        &mut self,
        kind: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Value>, PortError> {
        self.tx.get_documents_by_id(kind, ids).await.map_err(port)
    }

    async fn open_items(
        &mut self,
        q: &ordo_contract::recon_docs::OpenItemQuery,
    ) -> Result<Option<ordo_contract::recon_docs::OpenItemsFound>, PortError> {
        self.tx.open_items(q).await.map(Some).map_err(port)
    }

    async fn next_number(&mut self, series: &str) -> Result<i64, PortError> {
        self.tx.next_number(series).await.map_err(port)
    }

    async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal, PortError> {
        self.tx.stock_level(item, location).await.map_err(port)
    }

    async fn adjust_stock(
        &mut self,
        item: &str,
        location: &str,
        delta: Decimal,
    ) -> Result<Decimal, PortError> {
        self.tx
            .adjust_stock(item, location, delta)
            .await
            .map_err(port)
    }

    async fn emit_event(
        &mut self,
        event: &str,
        key: &str,
        outcome: &str,
        payload: &Value,
    ) -> Result<(), PortError> {
        self.engine
            .emit_event(self.tx, event, key, outcome, payload)
            .await
            .map(|_| ())
            .map_err(port)
    }

    async fn emit_events(
        &mut self,
        event: &str,
        outcome: &str,
        items: &[(String, Value)],
    ) -> Result<(), PortError> {
        let items: Vec<(&str, &Value)> = items.iter().map(|(k, v)| (k.as_str(), v)).collect();
        self.engine
            .emit_events(self.tx, event, outcome, &items)
            .await
            .map(|_| ())
            .map_err(port)
    }

    async fn post(
        &mut self,
        posting: &ordo_contract::ledger::Posting,
    ) -> Result<Option<ordo_contract::ledger::Posted>, ordo_contract::StepError> {
        crate::ledger::post(self.tx, self.engine, posting, self.now_ms).await
    }

    async fn publish(&mut self, event: &str, key: &str, data: &Value) -> Result<(), PortError> {
        crate::api::webhooks::enqueue(
            self.tx,
            &self.engine.webhooks,
            event,
            key,
            self.instance_id,
            data,
            self.now_ms,
        )
        .await
        .map_err(port)
    }

    async fn send_outbound(
        &mut self,
        channel: &str,
        key: &str,
        payload: &Value,
    ) -> Result<(), PortError> {
        self.tx
            .add_outbound(channel, key, self.instance_id, payload, self.now_ms)
            .await
            .map_err(port)
    }

    async fn send_outbound_text(
        &mut self,
        channel: &str,
        key: &str,
        payload: String,
    ) -> Result<(), PortError> {
        self.tx
            .add_outbound_text(channel, key, self.instance_id, payload, self.now_ms)
            .await
            .map_err(port)
    }
}
