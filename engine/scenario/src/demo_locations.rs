//! The demo's second stock location and a replenishment run (issue 16 point 8): a Danish
//! customer who takes complete shipments only orders widgets that both warehouses hold; the
//! allocation rule (`rules/allocation.rhai`) ships from the nearest one that can ship complete,
//! Aarhus, not the default Hamburg. Then a replenishment run (`ordo replenish` starts the same
//! workflow) scans every item per location and completes. The oracle checks the location the
//! order shipped from and the run's end.

use crate::Say;
use crate::harness::{run_until_idle, submit};
use ordo::config::Config;
use ordo::runtime::Engine;
use serde_json::json;
use std::sync::Arc;

const ORDER: &str = "C-DK-LOC-1";

/// The order, the replenishment run and the checks (see the module docs).
pub async fn run(engine: &Arc<Engine>, cfg: &Config, say: Say<'_>) -> Result<bool, String> {
    let sku = crate::demo::ITEMS[0].0;
    crate::demo::import_master_data(
        engine,
        &json!({
            "location": [
                { "id": "main", "name": "Hamburg", "country": "DE", "priority": 1 },
                { "id": "north", "name": "Aarhus", "country": "DK", "priority": 2 } ],
            "customer": [ { "id": "C-DK", "name": "Nordisk", "currency": "EUR",
                            "credit_limit": 100000, "terms": "net 30", "country": "DK",
                            "ship_policy": "complete" } ],
            "stock": [ { "item": sku, "location": "north", "quantity": 20 } ] }),
    )
    .await?;
    let today = engine.clock.now().date_naive();
    submit(
        engine,
        &[
            json!({ "id": ORDER, "customer_id": "C-DK", "po_number": ORDER, "order_date": today,
                  "currency": "EUR", "channel": "demo",
                  "lines": [ { "line_no": 1, "sku": sku, "quantity": 5 } ] }),
        ],
        1,
    )
    .await?;
    run_until_idle(engine, cfg).await?;
    let (state, step, data) = crate::demo_changes::state(engine, "order-to-cash", ORDER).await?;
    let location = data["allocation"]["location"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut ok = true;
    if state != "completed" || location != "north" {
        ok = false;
        say(&format!(
            "MISMATCH: locations: {ORDER} is {state} at {step}, allocated at '{location}'; expected completed from north"
        ));
    }

    let key = ordo::commands::start_replenishment(engine)
        .await
        .map_err(|e| e.to_string())?;
    run_until_idle(engine, cfg).await?;
    let (run_state, run_step, _) =
        crate::demo_changes::state(engine, "replenishment", &key).await?;
    if run_state != "completed" {
        ok = false;
        say(&format!(
            "MISMATCH: replenishment {key} is {run_state} at {run_step}, expected completed"
        ));
    }
    say(&format!(
        "locations: {ORDER} from the Danish customer shipped complete from {location} (Aarhus), not the default Hamburg; replenishment run {key} {run_state}"
    ));
    Ok(ok)
}
