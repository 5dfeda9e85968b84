//! `config/ordo.yaml` (embedded) and `config/cluster.yaml` (RabbitMQ + PostgreSQL).
//!
//! ```yaml
//! store:
//!   sqlite: data/ordo.db          # or: postgres: postgres://127.0.0.1:5432/test
//!   durability: normal            # sqlite only: normal (survives process crashes) | full
//!   schema: ordo                  # postgres only: schema to use (created if missing)
//! queue:
//!   embedded: {}                  # or: amqp: amqp://guest:guest@127.0.0.1:5672/%2f
//!   prefix: ordo                  # amqp only: queue/exchange name prefix
//!   prefetch: 256
//! workflows: workflows            # relative paths resolve against the current directory
//! rules: rules
//! outbound: data/outbound         # where file channels write outbound messages
//! inbox: data/inbox               # JSON/CSV order files, receipts/ for goods receipts (channels::orders)
//! partners: config/partners       # trading partner profiles (channels::edi)
//! banks: config/banks             # bank account profiles (one YAML per account, see channels::bank)
//! reconciliation: config/reconciliation.yaml   # matching tolerances and rule policy
//! company: config/company.yaml  # our legal name, address, VAT id, bank account (crate::company)
//! accounts: config/accounts.yaml # the chart of accounts; absent file: no ledger (crate::ledger)
//! workers: 2
//! batch: 128                      # step messages per transaction (group commit)
//! connect_retry_secs: 60          # keep retrying an unreachable database or broker this long
//! shutdown_grace_secs: 5          # after SIGTERM, batches in flight get this long to commit
//! data: data                      # the data root: every folder a channel uses must be inside it
//! allowed_folders: []             # ... or inside one of these (e.g. a mounted EDI share)
//! http:                           # the API of `ordo run` (crate::api); absent: no HTTP server
//!   listen: 127.0.0.1:8080        # or `off`; `ordo run --listen ADDR|off` overrides it
//!   tls: { cert: cert.pem, key: key.pem }   # optional: HTTPS with rustls
//!   body_limit_bytes: 10485760    # larger request bodies: 413
//!   header_timeout_secs: 10       # a client that has not sent its headers by then is dropped
//!   body_timeout_secs: 30         # ... or its body (408)
//!   max_connections: 1024         # connections past this wait in the accept queue
//!   idempotency_ttl_secs: 86400   # how long an Idempotency-Key is remembered
//! intake:
//!   amqp: { url: amqp://guest:guest@127.0.0.1:5672/%2f, queue: orders }  # orders from RabbitMQ
//! webhooks:                       # events POSTed, signed, to subscribers (crate::api::webhooks)
//!   - { name: erp, url: https://erp.example/hooks, events: [order.accepted], secret: ... }
//! ```
//! Folders (inbox, outbound, and those of partner and bank profiles) outside the data root and
//! `allowed_folders`, also through a symbolic link, are refused (see `channels::folders`);
//! `inbox` and `outbound` default to `DATA/inbox` and `DATA/outbound`.
//! Environment overrides, handy for tests and containers: `ORDO_SQLITE`, `ORDO_POSTGRES`,
//! `ORDO_PG_SCHEMA`, `ORDO_AMQP`, `ORDO_AMQP_PREFIX`, `ORDO_WORKFLOWS`, `ORDO_RULES`,
//! `ORDO_OUTBOUND`, `ORDO_WORKERS`, `ORDO_BANKS`, `ORDO_RECONCILIATION`, `ORDO_PARTNERS`, `ORDO_INBOX`,
//! `ORDO_COMPANY`, `ORDO_DATA`, `ORDO_SHUTDOWN_GRACE_SECS`.

use crate::store::sqlite::Durability;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default)]
    pub sqlite: Option<PathBuf>,
    #[serde(default)]
    pub postgres: Option<String>,
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default = "default_durability")]
    pub durability: Durability,
    #[serde(default = "default_pg_connections")]
    pub connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    #[serde(default)]
    pub embedded: Option<serde_json::Value>,
    #[serde(default)]
    pub amqp: Option<String>,
    #[serde(default = "default_prefix")]
    pub prefix: String,
    #[serde(default = "default_prefetch")]
    pub prefetch: u16,
    /// Seconds a leased embedded message stays invisible before it is delivered again.
    #[serde(default = "default_visibility")]
    pub visibility_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub queue: QueueConfig,
    #[serde(default = "default_workflows")]
    pub workflows: PathBuf,
    #[serde(default = "default_rules")]
    pub rules: PathBuf,
    #[serde(default = "default_outbound")]
    pub outbound: PathBuf,
    #[serde(default = "default_inbox")]
    pub inbox: PathBuf,
    #[serde(default = "default_partners")]
    pub partners: PathBuf,
    #[serde(default = "default_banks")]
    pub banks: PathBuf,
    #[serde(default = "default_reconciliation")]
    pub reconciliation: PathBuf,
    /// Our company profile: the seller on printed and sent documents (`crate::company`).
    #[serde(default = "default_company")]
    pub company: PathBuf,
    /// The chart of accounts (`crate::ledger::chart`); no file: no ledger is kept.
    #[serde(default = "default_accounts")]
    pub accounts: PathBuf,
    #[serde(default = "default_workers")]
    pub workers: usize,
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// How long to keep retrying an unreachable database or broker before giving up.
    #[serde(default = "default_connect_secs")]
    pub connect_retry_secs: u64,
    /// After SIGTERM, how long `ordo run` lets its batches in flight commit before rolling
    /// them back (their messages go to another process); 0 rolls back at once.
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_secs: u64,
    /// Bounds on everything that comes from outside (files, ids, quantities, step counts).
    #[serde(default)]
    pub limits: Limits,
    /// The data root: every folder a channel reads or writes must lie inside it (or inside one
    /// of `allowed_folders`).
    #[serde(default = "default_data")]
    pub data: PathBuf,
    /// Folders outside the data root that channels may use all the same.
    #[serde(default)]
    pub allowed_folders: Vec<PathBuf>,
    /// The HTTP API of `ordo run` (`crate::api`); without this section no server is started.
    #[serde(default)]
    pub http: Option<HttpConfig>,
    /// Order intake channels of `ordo run` besides folders and the API (`crate::api::amqp_intake`).
    #[serde(default)]
    pub intake: Option<IntakeConfig>,
    /// Subscribers told of business events over HTTP (`crate::api::webhooks`).
    #[serde(default)]
    pub webhooks: Vec<crate::api::webhooks::WebhookConfig>,
}

/// `intake:` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    #[serde(default)]
    pub amqp: Option<AmqpIntakeConfig>,
}

/// `intake: { amqp: { url, queue } }`: orders consumed from a RabbitMQ queue (in the embedded
/// deployment too); poison messages go to `QUEUE.dead` with the reason in their headers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpIntakeConfig {
    pub url: String,
    pub queue: String,
}

/// `http:` in the config: where and how `ordo run` serves the API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `HOST:PORT`, or `off`.
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    #[serde(default = "default_body_timeout")]
    pub body_timeout_secs: u64,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    #[serde(default = "default_idempotency_ttl")]
    pub idempotency_ttl_secs: u64,
    /// How long a console sign-in lasts (default 8 h).
    #[serde(default = "default_session_ttl")]
    pub session_ttl_secs: u64,
    /// Requests per caller (token, else client IP); off when absent.
    #[serde(default)]
    pub rate_limit: Option<crate::api::ratelimit::RateLimit>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
            tls: None,
            body_limit_bytes: default_body_limit(),
            header_timeout_secs: default_header_timeout(),
            body_timeout_secs: default_body_timeout(),
            max_connections: default_max_connections(),
            idempotency_ttl_secs: default_idempotency_ttl(),
            session_ttl_secs: default_session_ttl(),
            rate_limit: None,
        }
    }
}

/// PEM files of the server's certificate chain and private key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_body_limit() -> usize {
    10 * 1024 * 1024
}
fn default_header_timeout() -> u64 {
    10
}
fn default_body_timeout() -> u64 {
    30
}
fn default_max_connections() -> usize {
    1024
}
fn default_idempotency_ttl() -> u64 {
    24 * 3600
}

fn default_session_ttl() -> u64 {
    8 * 3600
}

/// Bounds on input from outside and on runaway work, `limits:` in the config. Every value from
/// a file, the queue or a command is checked against these at intake, so a hostile or careless
/// input fails alone with a clear error instead of exhausting memory, time or arithmetic.
/// The defaults are generous for real business and far below what would hurt the engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest order file (JSON/CSV, `ordo submit` or the inbox), in bytes.
    pub max_order_file_bytes: u64,
    /// Largest EDI file from a trading partner, in bytes.
    pub max_edi_file_bytes: u64,
    /// Largest bank statement file, in bytes.
    pub max_statement_bytes: u64,
    /// Longest id (order id, customer id, PO number, SKU), in characters.
    pub max_id_chars: usize,
    /// Longest free-text field (names, addresses, notes, remittance text), in characters.
    pub max_text_chars: usize,
    /// Most lines in one order.
    pub max_order_lines: usize,
    /// Largest quantity on one order line.
    pub max_quantity: rust_decimal::Decimal,
    /// Largest unit price on one order line.
    pub max_unit_price: rust_decimal::Decimal,
    /// Most steps one instance may run before it fails as a runaway (a loop in a workflow).
    pub max_steps_per_instance: u64,
    /// Longest excerpt of an input quoted in an error or a quarantine reason, in characters.
    pub max_excerpt_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_order_file_bytes: 32 * 1024 * 1024,
            max_edi_file_bytes: 32 * 1024 * 1024,
            max_statement_bytes: 64 * 1024 * 1024,
            max_id_chars: 100,
            max_text_chars: 2_000,
            max_order_lines: 1_000,
            max_quantity: rust_decimal::Decimal::from(10_000_000u32),
            max_unit_price: rust_decimal::Decimal::from(100_000_000u32),
            max_steps_per_instance: 10_000,
            max_excerpt_chars: 200,
        }
    }
}

impl Limits {
    /// The bounds order intake checks (`ordo_contract::intake`, every channel).
    pub fn order_bounds(&self) -> ordo_contract::Bounds {
        ordo_contract::Bounds {
            max_id_chars: self.max_id_chars,
            max_text_chars: self.max_text_chars,
            max_order_lines: self.max_order_lines,
            max_quantity: self.max_quantity,
            max_unit_price: self.max_unit_price,
            max_excerpt_chars: self.max_excerpt_chars,
        }
    }
}

fn default_durability() -> Durability {
    Durability::Normal
}
fn default_pg_connections() -> u32 {
    8
}
fn default_prefix() -> String {
    "ordo".into()
}
fn default_prefetch() -> u16 {
    256
}
fn default_visibility() -> u64 {
    30
}
fn default_data() -> PathBuf {
    "data".into()
}
fn default_workflows() -> PathBuf {
    "workflows".into()
}
fn default_rules() -> PathBuf {
    "rules".into()
}
fn default_outbound() -> PathBuf {
    "data/outbound".into()
}
fn default_inbox() -> PathBuf {
    "data/inbox".into()
}
fn default_partners() -> PathBuf {
    "config/partners".into()
}
fn default_banks() -> PathBuf {
    "config/banks".into()
}
fn default_reconciliation() -> PathBuf {
    "config/reconciliation.yaml".into()
}
fn default_accounts() -> PathBuf {
    "config/accounts.yaml".into()
}
fn default_company() -> PathBuf {
    "config/company.yaml".into()
}
fn default_shutdown_grace() -> u64 {
    crate::runtime::SHUTDOWN_GRACE.as_secs()
}
fn default_workers() -> usize {
    2
}
fn default_batch() -> usize {
    128
}
fn default_connect_secs() -> u64 {
    60
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// The embedded default used when no config file exists.
    pub fn embedded_default() -> Self {
        Config {
            store: StoreConfig {
                sqlite: Some("data/ordo.db".into()),
                postgres: None,
                schema: None,
                durability: Durability::Normal,
                connections: default_pg_connections(),
            },
            queue: QueueConfig {
                embedded: Some(serde_json::json!({})),
                amqp: None,
                prefix: default_prefix(),
                prefetch: default_prefetch(),
                visibility_secs: default_visibility(),
            },
            workflows: default_workflows(),
            rules: default_rules(),
            outbound: default_outbound(),
            inbox: default_inbox(),
            partners: default_partners(),
            banks: default_banks(),
            reconciliation: default_reconciliation(),
            company: default_company(),
            accounts: default_accounts(),
            // SQLite has one writer; a second worker only waits for it.
            workers: 1,
            batch: default_batch(),
            connect_retry_secs: default_connect_secs(),
            shutdown_grace_secs: default_shutdown_grace(),
            limits: Limits::default(),
            data: default_data(),
            allowed_folders: Vec::new(),
            http: Some(HttpConfig::default()),
            intake: None,
            webhooks: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let p = path.display().to_string();
        let mut text = String::new();
        let mut cfg = if path.exists() {
            text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
                path: p.clone(),
                message: e.to_string(),
            })?;
            serde_saphyr::from_str::<Config>(&text).map_err(|e| ConfigError::Invalid {
                path: p.clone(),
                message: e
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("invalid")
                    .to_string(),
            })?
        } else if path == Path::new("config/ordo.yaml") {
            Config::embedded_default()
        } else {
            return Err(ConfigError::Invalid {
                path: p,
                message: "no such file".into(),
            });
        };
        cfg.apply_env()?;
        // the inbox and outbound folders follow a moved data root unless set
        if cfg.data != default_data() {
            if cfg.inbox == default_inbox() {
                cfg.inbox = cfg.data.join("inbox");
            }
            if cfg.outbound == default_outbound() {
                cfg.outbound = cfg.data.join("outbound");
            }
        }
        cfg.validate(&p)?;
        cfg.check_folders(&p, &text)?;
        Ok(cfg)
    }

    /// The data root and allow-list every channel folder is checked against.
    pub fn folders(&self) -> crate::channels::folders::Folders {
        crate::channels::folders::Folders::new(&self.data, &self.allowed_folders)
    }

    /// `inbox` and `outbound` inside the data root or `allowed_folders`; an error is located
    /// `path:line:col` at the key (`path:1:1` when it comes from the environment or a default).
    fn check_folders(&self, path: &str, text: &str) -> Result<(), ConfigError> {
        let folders = self.folders();
        for (key, dir) in [("inbox", &self.inbox), ("outbound", &self.outbound)] {
            if let Err(e) = folders.check(dir) {
                let (line, col) = key_position(text, key);
                return Err(ConfigError::Invalid {
                    path: format!("{path}:{line}:{col}"),
                    message: format!("{key}: {e}"),
                });
            }
        }
        Ok(())
    }

    fn apply_env(&mut self) -> Result<(), ConfigError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("ORDO_SQLITE") {
            self.store.sqlite = Some(v.into());
            self.store.postgres = None;
        }
        if let Some(v) = var("ORDO_POSTGRES") {
            self.store.postgres = Some(v);
            self.store.sqlite = None;
        }
        if let Some(v) = var("ORDO_PG_SCHEMA") {
            self.store.schema = Some(v);
        }
        if let Some(v) = var("ORDO_AMQP") {
            self.queue.amqp = Some(v);
            self.queue.embedded = None;
        }
        if let Some(v) = var("ORDO_AMQP_PREFIX") {
            self.queue.prefix = v;
        }
        if let Some(v) = var("ORDO_WORKFLOWS") {
            self.workflows = v.into();
        }
        if let Some(v) = var("ORDO_RULES") {
            self.rules = v.into();
        }
        if let Some(v) = var("ORDO_DATA") {
            self.data = v.into();
        }
        if let Some(v) = var("ORDO_INBOX") {
            self.inbox = v.into();
        }
        if let Some(v) = var("ORDO_PARTNERS") {
            self.partners = v.into();
        }
        if let Some(v) = var("ORDO_BANKS") {
            self.banks = v.into();
        }
        if let Some(v) = var("ORDO_RECONCILIATION") {
            self.reconciliation = v.into();
        }
        if let Some(v) = var("ORDO_COMPANY") {
            self.company = v.into();
        }
        if let Some(v) = var("ORDO_ACCOUNTS") {
            self.accounts = v.into();
        }
        if let Some(v) = var("ORDO_OUTBOUND") {
            self.outbound = v.into();
        }
        if let Some(v) = var("ORDO_SHUTDOWN_GRACE_SECS") {
            self.shutdown_grace_secs = v.trim().parse().map_err(|_| ConfigError::Invalid {
                path: "ORDO_SHUTDOWN_GRACE_SECS".into(),
                message: format!(
                    "not a number of seconds: {:?}",
                    ordo_contract::excerpt(&v, 40)
                ),
            })?;
        }
        if let Some(v) = var("ORDO_WORKERS") {
            // Refused, not ignored: a typo must not silently leave the file's value in force.
            self.workers = v.trim().parse().map_err(|_| ConfigError::Invalid {
                path: "ORDO_WORKERS".into(),
                message: format!(
                    "not a number of workers: {:?}",
                    ordo_contract::excerpt(&v, 40)
                ),
            })?;
        }
        Ok(())
    }

    fn validate(&self, path: &str) -> Result<(), ConfigError> {
        let bad = |m: &str| {
            Err(ConfigError::Invalid {
                path: path.to_string(),
                message: m.to_string(),
            })
        };
        match (&self.store.sqlite, &self.store.postgres, &self.queue.amqp) {
            (Some(_), None, None) => {}
            (None, Some(_), Some(_)) => {}
            (Some(_), None, Some(_)) => {
                return bad(
                    "store.sqlite works with the embedded queue only; use store.postgres with queue.amqp",
                );
            }
            (None, Some(_), None) => {
                return bad(
                    "store.postgres needs queue.amqp (the embedded queue lives in the SQLite file)",
                );
            }
            _ => return bad("store: set exactly one of sqlite or postgres"),
        }
        if self.shutdown_grace_secs > 3600 {
            return bad("shutdown_grace_secs: at most 3600 (an hour)");
        }
        if self.workers == 0 || self.batch == 0 {
            return bad("workers and batch must be at least 1");
        }
        if let Some(problem) = self
            .http
            .as_ref()
            .and_then(|h| h.rate_limit)
            .and_then(|r| r.problem())
        {
            return bad(&problem);
        }
        if self.http.as_ref().is_some_and(|h| h.max_connections == 0) {
            return bad("http.max_connections must be at least 1");
        }
        let hooks = crate::api::webhooks::validate(&self.webhooks);
        if !hooks.is_empty() {
            return bad(&hooks.join("\n"));
        }
        Ok(())
    }

    pub fn is_embedded(&self) -> bool {
        self.store.sqlite.is_some()
    }
}

/// 1-based line and column of the top-level or nested key `key:` in a YAML text, `(1, 1)`
/// when it is not there (`ordo_workflow::key_position`, the one locator of config keys).
pub fn key_position(text: &str, key: &str) -> (usize, usize) {
    ordo_workflow::key_position(text, &[key]).unwrap_or((1, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_backends_are_refused_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("ordo-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.yaml");
        std::fs::write(&p, "store: { sqlite: x.db }\nqueue: { amqp: amqp://x }\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("embedded queue only"), "{e}");
        std::fs::write(
            &p,
            "store: { sqlite: x.db, bogus: 1 }\nqueue: { embedded: {} }\n",
        )
        .unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
    }
}
