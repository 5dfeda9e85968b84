//! Connector name → implementation, plus the engine's own utility connectors.
//!
//! The workflow validator learns every connector's outcomes from here (`catalog`), so
//! `ordo check` can tell an analyst that a step does not handle an outcome.

use async_trait::async_trait;
use ordo_contract::{Connector, StepContext, StepError, StepInput, StepOutput};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Registry {
    connectors: BTreeMap<&'static str, Arc<dyn Connector>>,
}

impl Registry {
    /// Every connector ordo ships: the utilities below and the business connectors.
    pub fn standard() -> Self {
        let mut r = Registry::default();
        r.add(Arc::new(Noop));
        r.add(Arc::new(Flaky));
        r.add(Arc::new(Emit));
        r.add(Arc::new(ordo_recon::ReconcileBank));
        r.add(Arc::new(ordo_partners::SendDocument));
        r.add(Arc::new(ordo_partners::SendPurchaseOrder));
        for c in ordo_sales::connectors() {
            r.add(c);
        }
        // `quote.send`: the sales quote plus the partner's 843/QUOTES in the same step.
        r.add(Arc::new(ordo_partners::SendQuote));
        r
    }

    pub fn add(&mut self, c: Arc<dyn Connector>) {
        self.connectors.insert(c.name(), c);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Connector>> {
        self.connectors.get(name)
    }

    /// name → outcomes, for the workflow validator.
    pub fn outcomes(&self) -> BTreeMap<String, Vec<String>> {
        self.connectors
            .iter()
            .map(|(n, c)| {
                (
                    n.to_string(),
                    c.outcomes().iter().map(|o| o.to_string()).collect(),
                )
            })
            .collect()
    }
}

/// `util.noop`: does nothing, returns `ok` (benchmarks, placeholders).
struct Noop;

#[async_trait]
impl Connector for Noop {
    fn name(&self) -> &'static str {
        "util.noop"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["ok"]
    }
    async fn run(
        &self,
        _ctx: &mut dyn StepContext,
        _input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        Ok(StepOutput::outcome("ok"))
    }
}

/// `util.flaky`: fails with a transient error until attempt `with.succeed_on` (never, when
/// absent). Lets a workflow author try out a retry policy.
struct Flaky;

#[async_trait]
impl Connector for Flaky {
    fn name(&self) -> &'static str {
        "util.flaky"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["ok"]
    }
    async fn run(
        &self,
        _ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let succeed_on = input.params.get("succeed_on").and_then(|v| v.as_u64());
        match succeed_on {
            Some(n) if u64::from(input.attempt) >= n => Ok(StepOutput::outcome("ok")),
            _ => Err(StepError::Transient(format!(
                "util.flaky: deliberate failure on attempt {}",
                input.attempt
            ))),
        }
    }
}

/// `util.emit`: sends event `with.event` keyed by the instance variable `with.key_from`
/// (dotted path) with outcome `with.outcome` (default `received`).
struct Emit;

#[async_trait]
impl Connector for Emit {
    fn name(&self) -> &'static str {
        "util.emit"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["ok"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let event = input
            .params
            .get("event")
            .and_then(|v| v.as_str())
            .ok_or_else(|| StepError::Permanent("util.emit needs with.event".into()))?;
        let path = input
            .params
            .get("key_from")
            .and_then(|v| v.as_str())
            // Documented defaults of `util.emit` (key from `id`, outcome `received`).
            .unwrap_or("id");
        let key = crate::runtime::lookup_path(input.data, path)
            .map(crate::runtime::key_text)
            .ok_or_else(|| {
                StepError::Permanent(format!("util.emit: instance data has no '{path}'"))
            })?;
        let outcome = input
            .params
            .get("outcome")
            .and_then(|v| v.as_str())
            .unwrap_or("received");
        ctx.emit_event(event, &key, outcome, input.data).await?;
        Ok(StepOutput::outcome("ok"))
    }
}
