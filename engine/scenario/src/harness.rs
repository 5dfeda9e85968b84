//! What every scenario needs around the engine: a fresh engine on its own folder (embedded) or
//! its own schema and queue prefix (cluster), which backend it runs on, running until idle,
//! moving business time, submitting generated orders and reading the invoices back.

use ordo::config::Config;
use ordo::runtime::{Engine, RunOptions};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// The bank account the demo's statements credit (a valid IBAN, so profiles accept it).
pub const DEMO_IBAN: &str = "DE44500105175407324931";

/// The demo never touches a deployment's data: embedded, it uses its own folder; on the cluster
/// backend, a PostgreSQL schema and a RabbitMQ prefix of its own for this run.
pub fn own_backend(cfg: &Config) -> Config {
    let mut cfg = cfg.clone();
    if cfg.store.postgres.is_some() {
        let run = format!(
            "ordo_demo_{}_{}",
            std::process::id(),
            ordo::clock::real_now_ms()
        );
        cfg.queue.prefix = run.replace('_', "-");
        cfg.store.schema = Some(run);
    }
    cfg
}

/// Drops the run's schema and queues (cluster backend; the delay queues expire by themselves).
pub async fn drop_backend(cfg: &Config) {
    let (Some(url), Some(schema), Some(amqp)) =
        (&cfg.store.postgres, &cfg.store.schema, &cfg.queue.amqp)
    else {
        return;
    };
    if let Err(e) = ordo::store::postgres::PgStore::drop_schema(url, schema).await {
        eprintln!("could not drop the demo's schema {schema}: {e}");
    }
    let wait = std::time::Duration::from_secs(cfg.connect_retry_secs.min(10));
    match ordo::queue::amqp::AmqpQueue::connect(amqp, &cfg.queue.prefix, 1, wait).await {
        Ok(q) => {
            if let Err(e) = q.delete_topology().await {
                eprintln!(
                    "could not delete the demo's queues {}.*: {e}",
                    cfg.queue.prefix
                );
            }
            ordo::queue::Queue::close(&q).await;
        }
        Err(e) => eprintln!("could not delete the demo's queues: {e}"),
    }
}

pub async fn fresh_engine(cfg: &Config, dir: &PathBuf) -> Result<(Arc<Engine>, Config), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cfg = cfg.clone();
    if cfg.store.postgres.is_none() {
        cfg.store.sqlite = Some(dir.join("ordo.db"));
        cfg.queue.amqp = None;
    }
    cfg.outbound = dir.join("outbound");
    cfg.data = dir.clone();
    // The demo's own folders, so it never takes files meant for a real deployment: no partner
    // profiles, and one bank account whose statements the demo writes itself.
    cfg.inbox = dir.join("inbox");
    cfg.partners = dir.join("partners");
    cfg.banks = dir.join("banks");
    cfg.reconciliation = dir.join("reconciliation.yaml");
    std::fs::create_dir_all(&cfg.banks).map_err(|e| format!("{}: {e}", cfg.banks.display()))?;
    std::fs::write(
        cfg.banks.join("demo-eur.yaml"),
        format!(
            "account: demo-eur\niban: {DEMO_IBAN}\ncurrency: EUR\ninbound: {}\narchive: {}\nquarantine: {}\n",
            dir.join("bank/inbox").display(),
            dir.join("bank/archive").display(),
            dir.join("bank/quarantine").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let engine = ordo::app::open_engine(&cfg, true)
        .await
        .map_err(|e| e.to_string())?;
    Ok((engine, cfg))
}

/// The host's 1-minute load average (`/proc/loadavg`), printed beside benchmark figures: on a
/// shared host it tells how much of the machine a run had. `None` where there is no such file.
pub fn load_avg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Which backend a run uses, for the first line of the demo and the benchmarks.
pub fn backend_line(cfg: &Config) -> String {
    match (&cfg.store.postgres, &cfg.store.sqlite) {
        (Some(url), _) => format!(
            "backend: PostgreSQL {} (schema {}) + RabbitMQ {} (prefix {}), {} worker(s)",
            redact(url),
            cfg.store.schema.as_deref().unwrap_or("public"),
            redact(cfg.queue.amqp.as_deref().unwrap_or_default()),
            cfg.queue.prefix,
            cfg.workers
        ),
        (None, Some(path)) => format!(
            "backend: embedded, SQLite {} with its durable queue",
            path.display()
        ),
        (None, None) => "backend: none configured".into(),
    }
}

/// A connection URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub async fn run_until_idle(engine: &Arc<Engine>, cfg: &Config) -> Result<(), String> {
    let opts = RunOptions {
        workers: cfg.workers,
        exit_when_idle: true,
        hot_reload: false,
        stop: None,
    };
    ordo::runtime::run(engine.clone(), opts)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

pub async fn advance_days(engine: &Arc<Engine>, days: f64) -> Result<(), String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    engine
        .refresh_clock(tx.as_mut())
        .await
        .map_err(|e| e.to_string())?;
    let off = engine.clock.offset_ms() + (days * 86_400_000.0) as i64;
    tx.kv_set(ordo::clock::OFFSET_KEY, &off.to_string())
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    engine.clock.set_offset_ms(off);
    Ok(())
}

/// Submits orders as `ordo submit` does (order document + `order.received`), `per_tx` a commit.
pub async fn submit(engine: &Arc<Engine>, orders: &[Value], per_tx: usize) -> Result<(), String> {
    for chunk in orders.chunks(per_tx.max(1)) {
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        tx.defer_instance_inserts();
        for o in chunk {
            let id = o["id"].as_str().unwrap_or_default().to_string();
            tx.put_document("order", &id, o, engine.clock.now_ms())
                .await
                .map_err(|e| e.to_string())?;
            engine
                .emit_event(
                    tx.as_mut(),
                    "order.received",
                    &id,
                    "received",
                    &json!({ "order": o }),
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        // Published at once on the cluster backend: other processes' workers may be waiting.
        ordo::app::commit_and_publish(engine, tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub async fn invoices(engine: &Arc<Engine>) -> Result<Vec<StoredInvoice>, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let docs = tx
        .get_documents("invoice", "")
        .await
        .map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    docs.iter()
        .map(|(key, d)| {
            Ok(StoredInvoice {
                invoice: ordo_contract::read_doc("invoice", key, d)?,
                state: ordo_contract::read_doc("invoice", key, d)?,
            })
        })
        .collect()
}

/// A stored invoice read as its two typed parts: a field missing from either fails the demo
/// or the bench naming the invoice and the field, instead of counting as zero.
pub struct StoredInvoice {
    pub invoice: ordo_contract::Invoice,
    pub state: ordo_contract::InvoiceCollection,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle reads stored invoices typed: one without `open_amount` stops the demo (or
    /// the bench) naming the invoice and the field, instead of counting as zero open.
    #[tokio::test]
    async fn a_stored_invoice_without_open_amount_fails_the_oracle_located() {
        let dir = std::env::temp_dir().join(format!("ordo-oracle-{}", std::process::id()));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut cfg = Config::embedded_default();
        cfg.workflows = root.join("workflows");
        cfg.rules = root.join("rules");
        cfg.company = root.join("config/company.yaml");
        let (engine, _) = fresh_engine(&cfg, &dir).await.unwrap();
        let mut tx = engine.store.begin().await.unwrap();
        let doc = json!({ "number": "INV-000001", "order_id": "O1", "customer_id": "C001",
            "issue_date": "2026-09-01", "due_date": "2026-10-01", "currency": "EUR",
            "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 },
            "lines": [], "net_total": 0, "tax_total": 0, "total": 0, "status": "open",
            "paid_amount": 0, "discount_amount": 0, "discount_until": null, "discount_taken": 0,
            "payments": [], "dunning_level": 0, "overdue": false });
        tx.put_document("invoice", "INV-000001", &doc, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let e = invoices(&engine)
            .await
            .err()
            .expect("a broken invoice is an error");
        assert_eq!(e, "invoice 'INV-000001': missing field `open_amount`");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cluster_demo_gets_its_own_schema_and_prefix_and_hides_passwords() {
        let mut cfg = Config::embedded_default();
        assert_eq!(
            own_backend(&cfg).store.schema,
            None,
            "embedded keeps its folder"
        );
        cfg.store.sqlite = None;
        cfg.store.postgres = Some("postgres://postgres@127.0.0.1:5432/test".into());
        cfg.store.schema = Some("ordo".into());
        cfg.queue.amqp = Some("amqp://guest:secret@127.0.0.1:5672/%2f".into());
        let own = own_backend(&cfg);
        let schema = own.store.schema.clone().unwrap_or_default();
        assert!(
            schema.starts_with("ordo_demo_") && schema != "ordo",
            "{schema}"
        );
        assert_eq!(own.queue.prefix, schema.replace('_', "-"));
        let line = backend_line(&own);
        assert!(
            line.contains("amqp://guest:***@127.0.0.1") && !line.contains("secret"),
            "{line}"
        );
    }
}
