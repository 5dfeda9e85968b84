//! The demo's supply cases (issue 16 points 4 and 7), run after the main batch is checked so
//! they do not move its counts: a supplier with an X12 profile gets the purchase order an order
//! raised as an 850; its 855 moves the PO's date; its 856 announces the goods and the goods
//! receipt, one short, opens the purchasing task; the rest arrives and the order ships. A
//! made-to-order kit is produced from its bill of materials (its work step approved) and
//! shipped. [`run`] returns whether every one ended as expected, saying what did not.

use crate::Say;
use crate::demo_changes::state;
use crate::harness::{run_until_idle, submit};
use ordo::config::Config;
use ordo::runtime::Engine;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

const SUPPLIER: &str = "S-EDI";
const PARTNER: &str = "demo-steel";
const BOUGHT: &str = "EDI-100";
const KIT: &str = "KIT-100";

/// An 855 or 856 from the demo supplier (segments between ST and SE).
fn x12(ctl: u32, set: &str, body: &[String]) -> String {
    let gs = if set == "855" { "PR" } else { "SH" };
    format!(
        "ISA*00*          *00*          *ZZ*DEMOSTEEL      *ZZ*ORDOBUYER      *261201*1200*U*00401*{ctl:09}*0*P*>~\n\
         GS*{gs}*DEMOSTEEL*ORDOBUYER*20261201*1200*{ctl}*X*004010~\nST*{set}*0001~\n{}~\nSE*{}*0001~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        body.join("~\n"),
        body.len() + 2
    )
}

/// Takes `bytes` from the supplier as its inbound folder would, in one transaction.
async fn receive(
    engine: &Arc<Engine>,
    partner: &ordo_partners::Partner,
    name: &str,
    bytes: &str,
) -> Result<Vec<String>, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let out = ordo::channels::edi::receive_in(
        engine,
        tx.as_mut(),
        std::slice::from_ref(partner),
        "demo",
        name,
        bytes.as_bytes(),
        false,
    )
    .await
    .map_err(|e| e.to_string())?;
    ordo::app::commit_and_publish(engine, tx)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match out {
        ordo_partners::ReceiveOutcome::Processed { problems, .. } => problems,
        other => vec![format!("{other:?}")],
    })
}

async fn document(engine: &Arc<Engine>, kind: &str, id: &str) -> Result<Value, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let d = tx.get_document(kind, id).await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    Ok(d.unwrap_or(Value::Null))
}

/// Approves the open task of the instance keyed `key`; whether there was one.
async fn approve(engine: &Arc<Engine>, key: &str, note: &str) -> Result<bool, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let open = tx.list_tasks("open").await.map_err(|e| e.to_string())?;
    let mut found = false;
    for t in open {
        let k = tx
            .load_instance(&t.instance_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|i| i.business_key);
        if k.as_deref() == Some(key) {
            engine
                .decide_task(tx.as_mut(), t.id, "approved", Some(note))
                .await
                .map_err(|e| e.to_string())?;
            found = true;
            break;
        }
    }
    ordo::app::commit_and_publish(engine, tx)
        .await
        .map_err(|e| e.to_string())?;
    Ok(found)
}

/// The demo part; `customer` ships complete, `component` is a demo item in stock.
pub async fn run(
    engine: &Arc<Engine>,
    cfg: &Config,
    dir: &Path,
    customer: &str,
    component: &str,
    say: Say<'_>,
) -> Result<bool, String> {
    let mut wrong: Vec<String> = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    crate::demo::import_master_data(
        engine,
        &json!({
            "supplier": [ { "id": SUPPLIER, "name": "Demo Steel (EDI)", "min_order_qty": 0, "lead_time_days": 5 } ],
            "item": [
                { "sku": BOUGHT, "description": "Bracket, bought by EDI", "price": 20, "cost": 11, "uom": "EA",
                  "weight_kg": 1, "reorder_point": 0, "reorder_qty": 0, "supplier": SUPPLIER,
                  "lead_time_days": 5, "tax_code": "standard" },
                { "sku": KIT, "description": "Widget kit, made to order", "price": 60, "uom": "EA",
                  "weight_kg": 2, "tax_code": "standard", "made_to_order": true,
                  "bom": [ { "sku": component, "quantity": 2 } ], "work_steps": ["assemble"],
                  "labour_cost": 4 } ],
            "stock": [ { "item": BOUGHT, "location": "main", "quantity": 0 } ] }),
    )
    .await?;
    // The supplier's profile in force, as `ordo run` stores config/partners/*.yaml (the demo
    // writes into its own folder, not the repository's).
    // Absolute, as `ordo run` makes a profile's folders when it loads the file: the outbox
    // resolves a relative path under the outbound root.
    let out_dir = std::path::absolute(dir.join("partners").join(PARTNER).join("out"))
        .map_err(|e| e.to_string())?;
    let partner: ordo_partners::Partner = serde_json::from_value(json!({
        "partner": PARTNER, "role": "supplier", "supplier": SUPPLIER, "version": "4010",
        "their_id": { "qualifier": "ZZ", "id": "DEMOSTEEL" },
        "our_id": { "qualifier": "ZZ", "id": "ORDOBUYER" }, "currency": "EUR",
        "outbound": out_dir.display().to_string() }))
    .map_err(|e| e.to_string())?;
    {
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        let now = engine.clock.now_ms();
        let v = serde_json::to_value(&partner).map_err(|e| e.to_string())?;
        tx.put_document(ordo_partners::PARTNER_DOC, PARTNER, &v, now)
            .await
            .map_err(|e| e.to_string())?;
        tx.put_document(
            ordo_sales::purchase::SUPPLIER_PARTNER_DOC,
            SUPPLIER,
            &json!({ "partner": PARTNER }),
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    let order = |id: &str, sku: &str, q: u32| {
        json!({ "id": id, "customer_id": customer, "po_number": id, "currency": "EUR",
                "order_date": engine.clock.now().date_naive(), "channel": "demo",
                "lines": [{ "line_no": 1, "sku": sku, "quantity": q }] })
    };
    submit(
        engine,
        &[order("DS-EDI", BOUGHT, 5), order("DS-MTO", KIT, 2)],
        2,
    )
    .await?;
    run_until_idle(engine, cfg).await?;
    // C003 has overdue invoices by now (the demo's days went by): a manager approves.
    for key in ["DS-EDI", "DS-MTO"] {
        approve(engine, key, "demo: approved by the manager").await?;
    }
    run_until_idle(engine, cfg).await?;
    let (s, step, data) = state(engine, "order-to-cash", "DS-EDI").await?;
    let po = data["waiting_on"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if s != "waiting" || !po.starts_with("PO-") {
        say(&format!(
            "MISMATCH DS-EDI waits for a purchase order: {s} at {step}, {}",
            ordo_contract::excerpt(&data.to_string(), 600)
        ));
        return Ok(false);
    }
    let (s, _, _) = state(engine, "purchase-send", &po).await?;
    let sent = document(engine, "po-sent", &po).await?;
    let file = sent["file"].as_str().unwrap_or_default().to_string();
    check(
        s == "sent" && sent["set"] == "850",
        format!("{po} sent to {PARTNER} as an 850: {s}, {sent}"),
    );
    let written = std::fs::read_to_string(out_dir.join(&file)).unwrap_or_default();
    check(
        written.contains(&format!("BEG*00*NE*{po}**")),
        format!("{file} in {} holds the 850 of {po}", out_dir.display()),
    );
    let qty = match &document(engine, "purchase-order", &po).await?["lines"][0]["quantity"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };

    // The supplier answers: an 855 with a later date, then an 856 announcing everything.
    let date = (engine.clock.now().date_naive() + chrono::Days::new(20)).format("%Y%m%d");
    let rsp = x12(
        1,
        "855",
        &[
            format!("BAK*00*AC*{po}*20261201"),
            format!("PO1*1*{qty}*EA***VP*{BOUGHT}"),
            format!("ACK*IA*{qty}*EA*068*{date}"),
        ],
    );
    let problems = receive(engine, &partner, "demo-855.edi", &rsp).await?;
    let expected = document(engine, "purchase-order", &po).await?["expected_on"].clone();
    check(
        problems.is_empty()
            && expected.as_str().map(|d| d.replace('-', "")) == Some(date.to_string()),
        format!("the 855 moved {po} to {date}: {expected}, {problems:?}"),
    );
    let asn = x12(
        2,
        "856",
        &[
            "BSN*00*DEMO-ASN-1*20261210*1200".into(),
            "HL*1**S*1".into(),
            "HL*2*1*O*1".into(),
            format!("PRF*{po}"),
            "HL*3*2*I*0".into(),
            format!("LIN**VP*{BOUGHT}"),
            format!("SN1**{qty}*EA"),
        ],
    );
    let problems = receive(engine, &partner, "demo-856.edi", &asn).await?;
    check(problems.is_empty(), format!("the 856 taken: {problems:?}"));
    // One short: stock takes what came, the difference goes to purchasing.
    let less = qty
        .parse::<rust_decimal::Decimal>()
        .map_err(|e| e.to_string())?
        - rust_decimal::Decimal::ONE;
    let receipt = ordo::commands::receive(engine, &po, Some(vec![(BOUGHT.into(), less)]), "main")
        .await
        .map_err(|e| e.to_string())?;
    let gr = receipt["number"].as_str().unwrap_or_default().to_string();
    check(
        receipt["differences"][0]["kind"] == "short",
        format!("{gr} short against the 856: {receipt}"),
    );
    // The production's work step.
    let produced = approve(engine, "DS-MTO:KIT-100:1", "demo: assembled").await?;
    check(
        produced,
        "DS-MTO's production has its work-step task".into(),
    );
    run_until_idle(engine, cfg).await?;
    let (s, step, _) = state(engine, "receipt-difference", &gr).await?;
    check(
        s == "waiting" && step == "settle",
        format!("{gr}'s difference waits for purchasing: {s} at {step}"),
    );
    // The last one arrives; the difference is settled.
    ordo::commands::receive(engine, &po, None, "main")
        .await
        .map_err(|e| e.to_string())?;
    approve(engine, &gr, "demo: supplier sent the missing one").await?;
    run_until_idle(engine, cfg).await?;
    for (wf, key, want) in [
        ("order-to-cash", "DS-EDI", "completed"),
        ("order-to-cash", "DS-MTO", "completed"),
        ("production", "DS-MTO:KIT-100:1", "completed"),
        ("receipt-difference", gr.as_str(), "settled"),
    ] {
        let (s, _, _) = state(engine, wf, key).await?;
        check(s == want, format!("{wf} {key} {want}: {s}"));
    }
    say(&format!(
        "suppliers: {po} sent to {PARTNER} as an 850, its 855 moved it to {date}, its 856 announced {qty}, {gr} was one short (purchasing task settled), DS-EDI shipped; DS-MTO's kits produced and shipped"
    ));
    for w in &wrong {
        say(&format!("MISMATCH {w}"));
    }
    Ok(wrong.is_empty())
}
