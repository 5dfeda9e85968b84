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

/// The rule host with the sandbox limits every command uses: the engine, `ordo check` and
/// `ordo rules test` must agree on what a rule may do.
pub fn rule_host() -> RuleHost {
    RuleHost::new(Limits::default())
}

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
/// Valid files are installed (and stored: workflow versions with their source, the rules'
/// sources as the last installed set). When a file has errors, they are logged located and the
/// command runs on the last installed set, as hot reload keeps the running version, saying
/// which set that is. `strict` (commands that start or move instances: run, submit, event,
/// approve, ...): with nothing installed yet, the errors stop the command. Otherwise (status,
/// tasks, ...) it runs without definitions, on what instances have pinned.
pub async fn open_engine(cfg: &Config, strict: bool) -> Result<Arc<Engine>, EngineError> {
    let registry = Registry::standard();
    let host = rule_host();
    let definitions = load_definitions(cfg, &registry, &host);
    // No embedded store yet means nothing was ever installed: refuse before creating one.
    let fresh = cfg.store.sqlite.as_ref().is_some_and(|p| !p.exists());
    let definitions = match definitions {
        Err(e) if strict && fresh => return Err(e),
        d => d,
    };
    let connect_for = Duration::from_secs(cfg.connect_retry_secs);
    let (store, queue): (Arc<dyn Store>, Arc<dyn Queue>) = if let Some(path) = &cfg.store.sqlite {
        let store = SqliteStore::open(path, cfg.store.durability).await?;
        let queue = SqliteQueue::new(&store, Duration::from_secs(cfg.queue.visibility_secs));
        (Arc::new(store), Arc::new(queue))
    } else {
        // `Config::validate` requires store.postgres and queue.amqp together on this branch.
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
    engine.folders = cfg.folders();
    engine.limits = cfg.limits.clone();
    engine.webhooks = Arc::new(cfg.webhooks.clone());
    engine.ledger = crate::ledger::Chart::load(&cfg.accounts)
        .map_err(EngineError::Definitions)?
        .map(Arc::new);
    engine.shutdown_grace = std::time::Duration::from_secs(cfg.shutdown_grace_secs);
    match definitions {
        Ok(d) => engine.install(d).await?,
        Err(errors) => {
            let installed = engine.use_installed().await?;
            if installed.is_none() && strict {
                return Err(errors);
            }
            for line in errors.to_string().lines() {
                tracing::error!("{line}");
            }
            match installed {
                Some(set) => tracing::warn!(
                    "workflow or rule files have errors (above); using the definitions installed last: {}",
                    set.summary()
                ),
                None => tracing::warn!(
                    "workflow or rule files have errors (above) and no definitions were installed yet"
                ),
            }
        }
    }
    if strict {
        // Connectors read our company profile from the store (the seller party of EDI).
        match crate::company::load(&cfg.company) {
            Ok(Some(c)) => crate::company::sync(&engine, &c).await?,
            Ok(None) => {}
            Err(e) => return Err(EngineError::Definitions(e)),
        }
    }
    {
        let mut tx = engine.store.begin().await?;
        engine.refresh_clock(tx.as_mut()).await?;
        tx.rollback().await?;
    }
    Ok(Arc::new(engine))
}

/// The lock that makes `ordo run` the only engine on an embedded store: an exclusive `flock`
/// on `DB.lock` beside the SQLite file (`data/ordo.db.lock`), held for the life of the
/// process (the operating system drops it however the process ends) and naming its pid. A
/// second `ordo run` on the same data folder is refused, naming the holder. Other commands
/// (`submit`, `approve`, ...) share the store with the running engine and take no lock.
pub fn lock_embedded(cfg: &Config) -> Result<Option<std::fs::File>, EngineError> {
    use std::io::{Read, Seek, Write};
    let Some(db) = &cfg.store.sqlite else {
        return Ok(None);
    };
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let path = db.with_file_name(name);
    let refused = |m: String| EngineError::Refused(format!("{}: {m}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| refused(e.to_string()))?;
    }
    let mut file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| refused(e.to_string()))?;
    if file.try_lock().is_err() {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = ordo_contract::excerpt(holder.trim(), 40);
        return Err(refused(format!(
            "another `ordo run` (pid {}) already runs on this embedded store; one engine per data folder (use the cluster backend to run several)",
            if holder.is_empty() {
                "unknown"
            } else {
                &holder
            }
        )));
    }
    let pid = std::process::id().to_string();
    let _ = file
        .set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| file.write_all(pid.as_bytes()));
    Ok(Some(file))
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
