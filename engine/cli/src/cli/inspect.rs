//! `ordo status`, `ordo instances`, `ordo summary`, `ordo tasks`: what the engine holds, as
//! tables or JSON.

use super::{fail, print_json};
use ordo::runtime::{Engine, EngineError};
use ordo_scenario::table::Table;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;

pub(super) fn ms_text(ms: i64) -> String {
    ordo::clock::ms_to_datetime(ms)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub async fn status(engine: &Arc<Engine>, key: &str, json: bool) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let found = tx.find_instances(key).await?;
    if found.is_empty() {
        tx.rollback().await?;
        return Ok(fail(format!("no order or instance '{key}'")));
    }
    let mut out = Vec::new();
    for inst in &found {
        let history = tx.history(&inst.id).await?;
        let task = tx.open_task_for(&inst.id).await?;
        let edi = ordo::channels::edi::sent_for(tx.as_mut(), inst).await?;
        let returns = ordo::api::returns::returns_of_order(tx.as_mut(), &inst.business_key)
            .await
            .map_err(|e| EngineError::Refused(e.message))?;
        if json {
            out.push(
                json!({ "instance": inst, "history": history, "open_task": task, "edi": edi,
                             "returns": returns }),
            );
            continue;
        }
        let state = match (&inst.end_status, inst.status.as_str()) {
            (Some(e), _) => format!("ended: {e}"),
            (None, s) => s.to_string(),
        };
        println!(
            "{} {}  {} v{}  instance {}",
            inst.business_key, state, inst.workflow, inst.version, inst.id
        );
        println!("  step: {} (attempt {})", inst.step, inst.attempt);
        if let Some(e) = &inst.error {
            println!("  error: {e}");
        }
        if let Some(reasons) = inst.data.get("hold_reasons").and_then(|r| r.as_array()) {
            println!("  held because:");
            for r in reasons {
                println!("    - {}", r.as_str().unwrap_or_default());
            }
        }
        if let Some(t) = task {
            println!(
                "  open task {} for role {}{}",
                t.id,
                t.role,
                t.due_at
                    .map(|d| format!(", due {}", ms_text(d)))
                    .unwrap_or_default()
            );
        }
        for r in &returns {
            // Display only: a field missing from the stored return prints empty.
            let f = |k: &str| r[k].to_string().trim_matches('"').to_string();
            println!(
                "  return {}: line {} qty {} {} — {} {}",
                f("number"),
                f("line_no"),
                f("quantity"),
                f("sku"),
                f("status"),
                r["credit_note"].as_str().unwrap_or_default()
            );
        }
        // The order's versions (`ordo order change`); display only.
        for v in inst.data["order_versions"].as_array().into_iter().flatten() {
            println!(
                "  version {} by {}: {}{}",
                v["version"],
                v["by"].as_str().unwrap_or_default(),
                v["changes"],
                v["reason"]
                    .as_str()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        for d in &edi {
            let ack = match d["ack"]["status"].as_str() {
                Some(st) => format!(
                    "{} {st} received {}",
                    d["ack"]["kind"].as_str().unwrap_or_default(),
                    d["ack"]["received_at"].as_str().unwrap_or_default()
                ),
                None => "not acknowledged yet".to_string(),
            };
            println!(
                "  EDI to {}: {} ({}) control {} sent {}; {ack}",
                d["partner"].as_str().unwrap_or_default(),
                d["document"].as_str().unwrap_or_default(),
                d["set"].as_str().unwrap_or_default(),
                d["control_number"],
                d["sent_at"].as_str().unwrap_or_default(),
            );
        }
        let mut t = Table::new(&["#", "time", "event", "step", "try", "outcome", "detail"]);
        for h in &history {
            let detail = match &h.detail {
                Value::Object(m) if m.is_empty() => String::new(),
                d => d.to_string(),
            };
            t.row(vec![
                h.seq.to_string(),
                ms_text(h.at),
                h.kind.clone(),
                h.step.clone(),
                h.attempt.to_string(),
                h.outcome.clone().unwrap_or_default(),
                detail.chars().take(90).collect(),
            ]);
        }
        print!("{}", t.render());
    }
    tx.rollback().await?;
    if json {
        print_json(&Value::Array(out));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn instances(
    engine: &Arc<Engine>,
    status: Option<&str>,
    limit: i64,
    with_history: bool,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let list = tx.list_instances(status, limit).await?;
    let counts = tx.count_instances().await?;
    let mut histories = Vec::new();
    if with_history {
        for i in &list {
            histories.push(json!({ "instance": i.id, "history": tx.history(&i.id).await? }));
        }
    }
    tx.rollback().await?;
    if json {
        print_json(
            &json!({ "instances": list, "histories": histories, "counts": counts.iter().map(|(w, s, e, n)| json!({"workflow": w, "status": s, "end_status": e, "count": n})).collect::<Vec<_>>() }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["key", "workflow", "status", "step", "error"]);
    for i in &list {
        t.row(vec![
            i.business_key.clone(),
            format!("{} v{}", i.workflow, i.version),
            // Display only: a running instance shows its status, one without error an empty cell.
            i.end_status
                .clone()
                .map(|e| format!("ended: {e}"))
                .unwrap_or(i.status.clone()),
            i.step.clone(),
            i.error
                .clone()
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect(),
        ]);
    }
    print!("{}", t.render());
    let mut c = Table::new(&["workflow", "status", "count"]);
    for (w, s, e, n) in counts {
        c.row(vec![
            w,
            // Display only: a running instance shows its status.
            e.map(|e| format!("ended: {e}")).unwrap_or(s),
            n.to_string(),
        ]);
    }
    print!("{}", c.render());
    Ok(ExitCode::SUCCESS)
}

pub async fn summary(engine: &Arc<Engine>, json: bool) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let v = tx.effects_summary().await?;
    tx.rollback().await?;
    if json {
        print_json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    for (section, entries) in v.as_object().into_iter().flatten() {
        let mut t = Table::new(&[section.as_str(), ""]);
        for (k, n) in entries.as_object().into_iter().flatten() {
            t.row(vec![k.clone(), n.to_string()]);
        }
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tasks(engine: &Arc<Engine>, json: bool) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let open = tx.list_tasks("open").await?;
    let mut rows = Vec::new();
    for t in &open {
        let key = tx
            .load_instance(&t.instance_id)
            .await?
            // Display only: a task whose instance is gone shows an empty key.
            .map(|i| i.business_key)
            .unwrap_or_default();
        rows.push((t.clone(), key));
    }
    tx.rollback().await?;
    if json {
        print_json(&json!(
            rows.iter()
                .map(|(t, k)| json!({ "task": t, "key": k }))
                .collect::<Vec<_>>()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["task", "order", "step", "role", "created", "due"]);
    for (task, key) in rows {
        t.row(vec![
            task.id.to_string(),
            key,
            task.step,
            task.role,
            ms_text(task.created_at),
            // Display only: no due time, an empty cell.
            task.due_at.map(ms_text).unwrap_or_default(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}
