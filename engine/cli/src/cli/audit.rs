//! `ordo audit [--since] [--who] [--order]`: the audit trail, read only (it is append-only;
//! no command changes it).

use super::{fail, print_json};
use ordo::api::routes::{parse_since, who_actor};
use ordo::runtime::{Engine, EngineError};
use ordo::store::service::AuditFilter;
use ordo_scenario::table::Table;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(
    engine: &Arc<Engine>,
    since: Option<String>,
    who: Option<String>,
    order: Option<String>,
    limit: i64,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let since = match since.as_deref().map(|s| (s, parse_since(s))) {
        Some((s, None)) => return Ok(fail(format!("--since '{s}': RFC 3339 or YYYY-MM-DD"))),
        Some((_, t)) => t,
        None => None,
    };
    if !(1..=100_000).contains(&limit) {
        return Ok(fail("--limit: 1 to 100000"));
    }
    let filter = AuditFilter {
        since,
        actor: who.as_deref().map(who_actor),
        order_id: order,
        after_seq: 0,
        limit,
    };
    let mut tx = engine.store.begin().await?;
    let records = tx.audit_list(&filter).await?;
    tx.rollback().await?;
    if json_out {
        print_json(&json!(records));
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["#", "time", "who", "via", "action", "subject", "after"]);
    for r in records {
        t.row(vec![
            r.seq.to_string(),
            super::inspect::ms_text(r.at),
            r.actor,
            r.via,
            r.action,
            r.subject,
            r.after
                .map(|v| v.to_string())
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}
