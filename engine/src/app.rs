//! Wiring: from a [`Config`] to a running [`Engine`] (store, queue, registry, rules, workflows).

use crate::config::Config;
use crate::queue::Queue;
use crate::queue::amqp::AmqpQueue;
use crate::queue::sqlite::SqliteQueue;
use crate::registry::Registry;
use crate::runtime::defs::{self, Definitions};
use crate::runtime::{Engine, EngineError};
use crate::store::Store;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use ordo_rules::{Limits, RuleHost};
use std::sync::Arc;
use std::time::Duration;

/// Loads and validates the workflow and rule files named by the config.
pub fn load_definitions(
    cfg: &Config,
    registry: &Registry,
    host: &RuleHost,
) -> Result<Definitions, EngineError> {
    defs::load(&cfg.workflows, &cfg.rules, registry, host).map_err(EngineError::Definitions)
}

/// Opens store and queue, validates and installs the definitions.
///
/// `strict` (running, submitting, sending events): invalid workflow or rule files stop us
/// before we touch the database. Otherwise (status, tasks, retry, ...) the command still works
/// with the definitions stored by earlier runs, so an operator can look around while a file
/// is being fixed.
pub async fn open_engine(cfg: &Config, strict: bool) -> Result<Arc<Engine>, EngineError> {
    let registry = Registry::standard();
    let host = RuleHost::new(Limits::default());
    let definitions = match load_definitions(cfg, &registry, &host) {
        Ok(d) => Some(d),
        Err(e) if strict => return Err(e),
        Err(e) => {
            tracing::warn!(
                "workflow or rule files have errors (see `ordo check`); using the stored definitions: {}",
                e.to_string().lines().next().unwrap_or_default()
            );
            None
        }
    };
    let connect_for = Duration::from_secs(cfg.connect_retry_secs);
    let (store, queue): (Arc<dyn Store>, Arc<dyn Queue>) = if let Some(path) = &cfg.store.sqlite {
        let store = SqliteStore::open(path, cfg.store.durability).await?;
        let queue = SqliteQueue::new(&store, Duration::from_secs(cfg.queue.visibility_secs));
        (Arc::new(store), Arc::new(queue))
    } else {
        let url = cfg.store.postgres.as_deref().unwrap_or_default();
        let store = PgStore::open(
            url,
            cfg.store.schema.as_deref(),
            cfg.store.connections,
            connect_for,
        )
        .await?;
        let amqp = cfg.queue.amqp.as_deref().unwrap_or_default();
        let queue =
            AmqpQueue::connect(amqp, &cfg.queue.prefix, cfg.queue.prefetch, connect_for).await?;
        (Arc::new(store), Arc::new(queue))
    };
    let mut engine = Engine::new(
        store,
        queue,
        registry,
        host,
        Definitions::default(),
        (
            cfg.workflows.clone(),
            cfg.rules.clone(),
            cfg.outbound.clone(),
        ),
        cfg.batch,
    );
    engine.banks_dir = cfg.banks.clone();
    engine.partners_dir = cfg.partners.clone();
    engine.inbox_dir = cfg.inbox.clone();
    engine.recon_policy = cfg.reconciliation.clone();
    engine.limits = cfg.limits.clone();
    if let Some(d) = definitions {
        engine.install(d).await?;
    }
    {
        let mut tx = engine.store.begin().await?;
        engine.refresh_clock(tx.as_mut()).await?;
        tx.rollback().await?;
    }
    Ok(Arc::new(engine))
}

/// Commits a command's transaction and, on the cluster backend, publishes what it enqueued
/// (the running engine's relay would do it too, a few seconds later).
pub async fn commit_and_publish(
    engine: &Engine,
    tx: Box<dyn crate::store::Tx>,
) -> Result<(), EngineError> {
    let enq = tx.enqueued().to_vec();
    tx.commit().await?;
    if !engine.embedded() {
        crate::runtime::publish_enqueued(engine, &enq).await?;
    }
    Ok(())
}
