//! The demo's credit note sent by EDI (issue 15 point 7): a trading partner's X12 850 comes in
//! through the partner channel, runs through order-to-cash to its invoice, and a credit note on
//! one unit of that invoice goes back to the partner as an 810 credit memo (BIG07 `CR`, the
//! corrected invoice in `REF*OI`), written by `workflows/credit-note-edi.yaml` through the same
//! outbound path as every partner file. The check: the credit note's `credit-note-edi` instance
//! ended `sent`, exactly one `*-810-credit.edi` is in the partner's outbound folder, it names
//! the credit note and the invoice, and ordo's own validator (`ordo edi parse`) reads it valid.
//! The independent validators of `tools/edi-crosscheck` run on the same kind of file in CI
//! (`write_samples`); the demo does not need Python or node to pass.
//!
//! The demo's store has no partner profiles of its own (harness.rs keeps real ones out), so the
//! profile is written here, in the demo's folder, for one of the demo's customers.

use crate::Say;
use crate::harness::{invoices, run_until_idle};
use ordo::api::auth::Actor;
use ordo::config::Config;
use ordo::runtime::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The demo partner's name, customer and interchange ids.
pub(crate) const PARTNER: &str = "demo-x12";
pub(crate) const CUSTOMER: &str = "C001";
const THEM: &str = "DEMOBUYER";
const US: &str = "ORDOSELLER";
const PO: &str = "EDI-1";

fn pad(s: &str, n: usize) -> String {
    format!("{s:<n$}")
}

/// An X12 4010 850 from the demo partner: `qty` of `sku` at its list price, dated `date`
/// (`YYYYMMDD`).
fn x850(date: &str, sku: &str, qty: u32, price: &str) -> String {
    x12(
        101,
        "PO",
        date,
        &[
            "ST*850*0001".to_string(),
            format!("BEG*00*SA*{PO}**{date}"),
            "N1*ST*DEMO BUYER DC*92*DC01".to_string(),
            format!("PO1*1*{qty}*EA*{price}**VP*{sku}"),
            "CTT*1".to_string(),
            "SE*6*0001".to_string(),
        ],
    )
}

/// One X12 4010 interchange from the demo partner holding the set `body` (ST to SE), control
/// number `ctl` for the interchange and the group, functional group code `gs01`.
pub(crate) fn x12(ctl: u32, gs01: &str, date: &str, body: &[String]) -> String {
    let short = &date[2..];
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*{short}*1200*U*00401*{ctl:09}*0*P*>~\nGS*{gs01}*{THEM}*{US}*{date}*1200*{ctl}*X*004010~\n{}~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad(THEM, 15),
        pad(US, 15),
        body.join("~\n"),
        e = pad("", 10)
    )
}

pub(crate) fn folder(cfg: &Config, name: &str) -> PathBuf {
    cfg.data.join("partners").join(PARTNER).join(name)
}

/// Files in `dir` whose names end with `suffix`, sorted.
pub(crate) fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    out.sort();
    out
}

/// The partner profile, its 850, the order through to its invoice, a credit note for one unit
/// and its 810 credit memo checked. Every deviation is said through `bad`.
pub async fn run(
    engine: &Arc<Engine>,
    cfg: &Config,
    me: &Actor,
    say: Say<'_>,
    bad: &mut impl FnMut(String),
) -> Result<(), String> {
    let (sku, price, ..) = crate::demo::ITEMS[0];
    let profile = format!(
        "partner: {PARTNER}\ncustomer: {CUSTOMER}\nversion: \"4010\"\n\
         their_id: {{ qualifier: ZZ, id: {THEM} }}\nour_id: {{ qualifier: ZZ, id: {US} }}\n\
         separators: \"*>^~\"\nacknowledgment: \"997\"\ndocuments: [invoice, credit_note, change_response]\n\
         currency: EUR\ninbound: {}\noutbound: {}\narchive: {}\nquarantine: {}\n",
        folder(cfg, "in").display(),
        folder(cfg, "out").display(),
        folder(cfg, "archive").display(),
        folder(cfg, "quarantine").display()
    );
    std::fs::create_dir_all(&cfg.partners)
        .map_err(|e| format!("{}: {e}", cfg.partners.display()))?;
    let path = cfg.partners.join(format!("{PARTNER}.yaml"));
    std::fs::write(&path, profile).map_err(|e| format!("{}: {e}", path.display()))?;
    let inbound = folder(cfg, "in");
    std::fs::create_dir_all(&inbound).map_err(|e| format!("{}: {e}", inbound.display()))?;
    let date = engine.clock.now().format("%Y%m%d").to_string();
    let po = inbound.join("po-edi-1.edi");
    std::fs::write(&po, x850(&date, sku, 2, price))
        .map_err(|e| format!("{}: {e}", po.display()))?;
    let taken = ordo::channels::edi::scan(engine)
        .await
        .map_err(|e| e.to_string())?;
    if taken != 1 {
        bad(format!(
            "EDI: the partner channel took {taken} files, not 1"
        ));
        return Ok(());
    }
    run_until_idle(engine, cfg).await?;
    let order = format!("{CUSTOMER}-{PO}");
    let invs = invoices(engine).await?;
    let Some(inv) = invs.iter().find(|i| i.invoice.order_id == order) else {
        bad(format!("EDI: order {order} from {PARTNER} has no invoice"));
        return Ok(());
    };
    let number = inv.invoice.number.clone();
    let one = [ordo_sales::CreditLine {
        line_no: 1,
        quantity: rust_decimal::Decimal::ONE,
    }];
    let cn = crate::after_sales::in_tx(engine, async |tx| {
        ordo::api::finance::issue_credit_note(
            engine,
            tx,
            me,
            &number,
            Some(&one),
            "demo: one unit short",
        )
        .await
    })
    .await?;
    let cn = cn["number"].as_str().unwrap_or_default().to_string();
    run_until_idle(engine, cfg).await?;

    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let sent = tx.find_instances(&cn).await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let ended: Vec<String> = sent
        .iter()
        .filter(|i| i.workflow == "credit-note-edi")
        .map(|i| i.end_status.clone().unwrap_or_else(|| i.status.clone()))
        .collect();
    let memos = files_ending(&folder(cfg, "out"), "-810-credit.edi");
    let [memo] = memos.as_slice() else {
        bad(format!(
            "EDI: credit note {cn} of {number}: credit-note-edi ended {ended:?}, {} credit memo files in {}",
            memos.len(),
            folder(cfg, "out").display()
        ));
        return Ok(());
    };
    let text = std::fs::read_to_string(memo).map_err(|e| format!("{}: {e}", memo.display()))?;
    let mut problems = Vec::new();
    let parsed = ordo::edifile::parse(memo, false, &mut std::io::sink(), &mut problems)
        .map_err(|e| format!("{}: {e:?}", memo.display()))?;
    // BIG: date, credit note number, date, the order's PO, then BIG07 CR (credit memo).
    let names = text.contains(&format!("*{cn}*")) && text.contains(&format!("*{PO}***CR~"));
    let refers = text.contains(&format!("REF*OI*{number}~"));
    if ended != ["sent"] || !parsed.valid || !names || !refers {
        bad(format!(
            "EDI: credit note {cn} of {number}: credit-note-edi ended {ended:?}; {}: valid {}, names the credit note {names}, refers to the invoice {refers}; {}",
            memo.display(),
            parsed.valid,
            String::from_utf8_lossy(&problems).trim()
        ));
        return Ok(());
    }
    say(&format!(
        "after sales: credit note {cn} of {number} (order {order} from partner {PARTNER} by X12 850) sent as an 810 credit memo, {} (valid)",
        memo.file_name().and_then(|n| n.to_str()).unwrap_or("?")
    ));
    Ok(())
}
