//! What a person needs to look at the demo's results themselves: a config file that opens the
//! demo's embedded store with every other command (`ordo --config DIR/ordo.yaml run`, `ledger`,
//! `instances` …), and demo users for the API and the web console, one per role a person
//! works in.

use ordo::api::auth::{self, Actor};
use ordo::api::users::{self, UserChange};
use ordo::config::Config;
use ordo::runtime::Engine;
use std::path::Path;
use std::sync::Arc;

/// The demo's users: (name, roles). Each one's password is `demo-NAME` (the demo's store is a
/// sandbox on loopback; a real deployment sets passwords with `ordo users passwd`).
pub const DEMO_USERS: [(&str, &str); 4] = [
    ("manager", "sales-manager"),
    ("finance", "finance"),
    ("viewer", "viewer"),
    ("admin", "admin"),
];

/// Writes `DIR/ordo.yaml` for the embedded store `cfg` ran on and adds the demo users (with
/// passwords, no tokens printed) in one transaction; returns the lines to print. The cluster
/// backend gets none: its schema is dropped after the run unless `--keep`.
pub async fn open_demo_store(
    engine: &Arc<Engine>,
    cfg: &Config,
    dir: &Path,
) -> Result<Vec<String>, String> {
    let Some(db) = &cfg.store.sqlite else {
        return Ok(Vec::new());
    };
    let abs = |p: &Path| std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()));
    let q = |p: &Path| -> Result<String, String> {
        // JSON strings are YAML strings: any path quoted safely.
        Ok(serde_json::to_string(&abs(p)?.to_string_lossy()).unwrap_or_default())
    };
    // Without an http section `ordo run` starts no server; the demo's file gives the default.
    let listen = cfg
        .http
        .as_ref()
        .map_or("127.0.0.1:8080", |h| h.listen.as_str());
    let listen = if listen == "off" {
        "127.0.0.1:8080"
    } else {
        listen
    };
    let yaml = format!(
        "# Written by `ordo demo`: opens the demo's store with every other command.\n\
         store:\n  sqlite: {}\nqueue:\n  embedded: {{}}\nworkflows: {}\nrules: {}\n\
         outbound: {}\ninbox: {}\npartners: {}\nbanks: {}\nreconciliation: {}\ncompany: {}\n\
         accounts: {}\ndata: {}\nworkers: 1\nhttp:\n  listen: {}\n",
        q(db)?,
        q(&cfg.workflows)?,
        q(&cfg.rules)?,
        q(&cfg.outbound)?,
        q(&cfg.inbox)?,
        q(&cfg.partners)?,
        q(&cfg.banks)?,
        q(&cfg.reconciliation)?,
        q(&cfg.company)?,
        q(&cfg.accounts)?,
        q(&cfg.data)?,
        listen,
    );
    let file = dir.join("ordo.yaml");
    std::fs::write(&file, yaml).map_err(|e| format!("{}: {e}", file.display()))?;
    let now = engine.clock.now_ms();
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    // The demo sets its users up as the system would, with the audit records an admin's
    // `ordo users add` and `passwd` write.
    let demo = Actor {
        id: "system:demo".into(),
        via: "cli",
        roles: vec!["admin".into()],
    };
    let refused = |e: users::Refused| match e {
        users::Refused::Invalid(m) => m,
        users::Refused::Store(e) => e.to_string(),
    };
    for (name, roles) in DEMO_USERS {
        let hash = auth::hash_password(&format!("demo-{name}"))?;
        users::change_user(tx.as_mut(), &demo, name, UserChange::Add { roles }, now)
            .await
            .map_err(refused)?;
        users::change_user(
            tx.as_mut(),
            &demo,
            name,
            UserChange::Password { hash: &hash },
            now,
        )
        .await
        .map_err(refused)?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let users: Vec<String> = DEMO_USERS
        .iter()
        .map(|(n, r)| format!("{n} ({r})"))
        .collect();
    let serve = format!(
        "`ordo --config {} run` serves the API and the web console on http://{listen}/ — sign in as {}; each one's password is demo-NAME",
        file.display(),
        users.join(", ")
    );
    Ok(vec![
        format!(
            "the demo's store stays in {}: open it with `ordo --config {} COMMAND` (run, instances, ledger trial-balance, …)",
            dir.display(),
            file.display()
        ),
        serve,
    ])
}
