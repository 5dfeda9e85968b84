//! The demo's order change by EDI (issue 16 point 8): the demo partner (after_sales_edi.rs
//! wrote its profile) orders two discontinued valves by X12 850 — nothing is in stock, so the
//! order waits as a backorder — and then raises the quantity to five by an X12 860. The change
//! goes through the one change path (`ordo order change` and the API use it too), the order
//! keeps both versions, and the partner gets an 865 accepting the change. The oracle checks
//! the three: the 865, the one change applied (version 2), the line's new quantity.

use crate::Say;
use crate::after_sales_edi::{CUSTOMER, PARTNER, files_ending, folder, x12};
use crate::harness::run_until_idle;
use ordo::config::Config;
use ordo::runtime::Engine;
use std::sync::Arc;

const PO: &str = "EDI-CHG-1";

async fn scan(engine: &Arc<Engine>, cfg: &Config, name: &str, text: String) -> Result<(), String> {
    let inbound = folder(cfg, "in");
    std::fs::create_dir_all(&inbound).map_err(|e| format!("{}: {e}", inbound.display()))?;
    let path = inbound.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    ordo::channels::edi::scan(engine)
        .await
        .map_err(|e| e.to_string())?;
    run_until_idle(engine, cfg).await
}

/// The 850, the 860 and the checks (see the module docs); true when all three hold.
pub async fn run(engine: &Arc<Engine>, cfg: &Config, say: Say<'_>) -> Result<bool, String> {
    let date = engine.clock.now().format("%Y%m%d").to_string();
    let sku = crate::demo::OBSOLETE.0;
    let order = x12(
        110,
        "PO",
        &date,
        &[
            "ST*850*0001".into(),
            format!("BEG*00*SA*{PO}**{date}"),
            "N1*ST*DEMO BUYER DC*92*DC01".into(),
            format!("PO1*1*2*EA***VP*{sku}"),
            "CTT*1".into(),
            "SE*6*0001".into(),
        ],
    );
    scan(engine, cfg, "po-edi-chg-1.edi", order).await?;
    let change = x12(
        111,
        "PC",
        &date,
        &[
            "ST*860*0001".into(),
            format!("BCH*04*SA*{PO}**1*{date}"),
            "POC*1*QI*5**EA".into(),
            "CTT*1".into(),
            "SE*5*0001".into(),
        ],
    );
    scan(engine, cfg, "po-edi-chg-1-change.edi", change).await?;

    let id = format!("{CUSTOMER}-{PO}");
    let mut wrong = Vec::new();
    let answers: Vec<String> = files_ending(&folder(cfg, "out"), "-865.edi")
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| t.contains(&format!("BCA*04*AT*{PO}*")))
        .collect();
    if answers.len() != 1 {
        wrong.push(format!(
            "{} 865 file(s) accepting the change of {PO}, expected 1",
            answers.len()
        ));
    }
    let (state, step, data) = crate::demo_changes::state(engine, "order-to-cash", &id).await?;
    // One entry per change applied: the order is at its version 2.
    let changes = data["order_versions"].as_array().map_or(0, Vec::len);
    let quantity = data["order"]["lines"][0]["quantity"].to_string();
    if changes != 1 || quantity.trim_matches('"') != "5" {
        wrong.push(format!(
            "{id}: {changes} change(s) applied, line 1 quantity {quantity}; expected 1 and 5"
        ));
    }
    for w in &wrong {
        say(&format!("MISMATCH: EDI change: {w}"));
    }
    say(&format!(
        "EDI change: {PARTNER}'s 860 raised {id} from 2 to 5 valves (version 2, {state} at {step}), answered by an 865 accepting it"
    ));
    Ok(wrong.is_empty())
}
