//! `cargo build --release -p ordo-cli && cargo run --release -p ordo --example recon_store_bench
//! [-- --payments 100000 --invoices 130000 --customers 5000 --ordo target/release/ordo]`
//!
//! Issue 19 point 3, in the store: a camt.053 of `--payments` credits against `--invoices`
//! open invoices of `--customers` customers stored in an embedded (SQLite) store, imported by
//! `ordo recon import` and matched by `ordo recon run` (chunks of the policy's
//! `chunk_entries`, one transaction each), each a whole process timed with its peak RSS
//! (`/usr/bin/time`). Target: peak ≤ 600 MB for 100,000 entries. Printed beside the ceilings
//! measured in the same run on the same disk: bare SQLite commits/s (one tiny transaction each,
//! as `ordo bench o2c` measures them) and raw document writes (the payment-sized documents the
//! run writes, 10,000 per transaction, nothing else).
//!
//! The workload (invoices and customers) is written straight into the store by this process
//! before the timed commands run: it is the state the timed commands start from, not part of
//! what they do.

// Each example uses part of the shared helpers.
#[allow(dead_code)]
#[path = "support/process.rs"]
mod process;

use std::path::{Path, PathBuf};
use std::time::Instant;

use process::{load_average, num, ordo_binary, timed};

use ordo::store::Store;
use ordo::store::sqlite::{Durability, SqliteStore};
use ordo_bank::workload::{GenConfig, generate, write_camt053};
use serde_json::json;

async fn bare_commits(dir: &Path) -> f64 {
    let store = SqliteStore::open(&dir.join("ceiling.db"), Durability::Normal)
        .await
        .expect("ceiling store");
    let n = 3_000;
    let t = Instant::now();
    for i in 0..n {
        let mut tx = store.begin().await.expect("begin");
        tx.kv_set(&format!("k{i}"), "v").await.expect("kv");
        tx.commit().await.expect("commit");
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    store.close().await;
    rate
}

/// Documents of a payment's size written `per_tx` to a transaction: the raw cost of what a
/// reconciliation run must write at least (one payment per credit).
async fn raw_writes(dir: &Path, n: usize, per_tx: usize) -> f64 {
    let store = SqliteStore::open(&dir.join("ceiling-docs.db"), Durability::Normal)
        .await
        .expect("ceiling store");
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let mut tx = store.begin().await.expect("begin");
        for k in i..(i + per_tx).min(n) {
            let body = json!({ "id": format!("PAY-{k:06}"), "amount": { "amount": "119.00", "currency": "EUR" },
                "received_on": "2026-03-31", "invoice_number": format!("INV-2026-{k:06}"), "customer_id": "C00042",
                "reference": "Rechnung INV-2026-000123", "source": { "bank_entry": format!("bench:S/{k}"), "rule": "reference",
                "reason": "reference INV-2026-000123 in the text, amount equal", "confidence": 99, "statement": "f" } });
            tx.put_document("payment", &format!("PAY-{k:06}"), &body, 0)
                .await
                .expect("put");
        }
        tx.commit().await.expect("commit");
        i += per_tx;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    store.close().await;
    rate
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let payments = num("--payments", 100_000);
    let invoices = num("--invoices", 130_000);
    let customers = num("--customers", 5_000);
    let ordo = ordo_binary();
    let dir = std::env::temp_dir().join(format!("ordo-recon-store-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("banks")).expect("dir");
    let env: Vec<(&str, PathBuf)> = vec![
        ("ORDO_SQLITE", dir.join("ordo.db")),
        ("ORDO_DATA", dir.clone()),
        ("ORDO_BANKS", dir.join("banks")),
        ("ORDO_RECONCILIATION", dir.join("reconciliation.yaml")),
        ("ORDO_INBOX", dir.join("inbox")),
        ("ORDO_PARTNERS", dir.join("partners")),
        ("ORDO_OUTBOUND", dir.join("outbound")),
    ];

    let t = Instant::now();
    let g = generate(&GenConfig {
        seed: 11,
        customers,
        invoices,
        payments,
        ..GenConfig::default()
    });
    let iban = g.statement.account.clone();
    std::fs::write(
        dir.join("banks/bench-eur.yaml"),
        format!(
            "account: bench-eur\niban: {iban}\ncurrency: EUR\nallow_unbalanced: true\ninbound: {}\narchive: {}\nquarantine: {}\n",
            dir.join("bank/inbox").display(),
            dir.join("bank/archive").display(),
            dir.join("bank/quarantine").display()
        ),
    )
    .expect("profile");
    std::fs::write(
        dir.join("reconciliation.yaml"),
        std::fs::read_to_string("config/reconciliation.yaml").unwrap_or_default(),
    )
    .expect("policy");
    let camt = dir.join("statement.xml");
    let mut xml = String::new();
    write_camt053(&g.statement, &mut xml);
    std::fs::write(&camt, &xml).expect("camt");
    let camt_mb = xml.len() as f64 / 1e6;
    drop(xml);

    // The store the commands start from: created by `ordo` itself (any command opening the
    // engine installs the definitions), then the invoices and customers written into it.
    timed(&ordo, &env, &["recon", "exceptions"], None);
    let store = SqliteStore::open(&dir.join("ordo.db"), Durability::Normal)
        .await
        .expect("store");
    for part in g.customers.chunks(5_000) {
        let mut tx = store.begin().await.expect("begin");
        for c in part {
            let body = json!({ "id": c.id, "name": c.name, "currency": "EUR", "credit_limit": 100000,
                               "terms": "net 30", "bank_accounts": c.accounts });
            tx.put_document("customer", &c.id, &body, 0)
                .await
                .expect("put");
        }
        tx.commit().await.expect("commit");
    }
    for part in g.items.chunks(10_000) {
        let mut tx = store.begin().await.expect("begin");
        for it in part {
            let body = json!({ "number": it.number, "order_id": format!("O-{}", it.number), "customer_id": it.customer_id,
                "issue_date": it.issue_date, "due_date": it.due_date, "currency": it.currency, "terms": it.terms,
                "lines": [{ "line_no": 1, "sku": "SKU-1", "quantity": 1, "uom": "EA", "unit_price": it.amount_open,
                            "net_amount": it.amount_open, "tax_rate": 0, "tax_amount": 0 }],
                "net_total": it.amount_open, "tax_total": 0, "total": it.amount_open, "status": "open",
                "open_amount": it.amount_open, "paid_amount": 0, "discount_amount": 0, "discount_until": null,
                "discount_taken": 0, "payments": [],
                "dunning_level": 0, "overdue": false });
            tx.put_document("invoice", &it.number, &body, 0)
                .await
                .expect("put");
        }
        tx.commit().await.expect("commit");
    }
    store.close().await;
    let entries = g.statement.entries.len();
    drop(g);
    println!(
        "workload: {entries} entries ({camt_mb:.1} MB camt.053) x {invoices} open invoices / {customers} customers in the store, prepared in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let camt_s = camt.to_string_lossy().into_owned();
    let imp = timed(
        &ordo,
        &env,
        &["recon", "import", &camt_s, "--account", "bench-eur"],
        None,
    );
    let (imp_s, imp_mb, imp_cpu) = (imp.wall_s, imp.peak_mib, imp.cpu_s);
    let run = timed(&ordo, &env, &["--json", "recon", "run"], None);
    let (run_s, run_mb, run_cpu) = (run.wall_s, run.peak_mib, run.cpu_s);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON summary");
    let peak = imp_mb.max(run_mb);
    println!(
        "ordo recon import: {imp_s:.2} s wall, {imp_cpu:.2} s CPU, peak RSS {imp_mb:.0} MiB; ordo recon run: {run_s:.2} s wall, {run_cpu:.2} s CPU in {} chunk(s), peak RSS {run_mb:.0} MiB ({} matched, {} payments, {} exceptions; load average {}) — target peak <= 600 MB: {}",
        summary["chunks"],
        summary["matched"],
        summary["payments"],
        summary["exceptions"],
        load_average(),
        if peak * 1.048_576 <= 600.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  = {:.0} entries/s matched and booked",
        entries as f64 / run_s
    );
    let commits = bare_commits(&dir).await;
    let writes = raw_writes(&dir, entries, 10_000).await;
    println!(
        "ceilings, same run and disk: bare SQLite commits {commits:.0}/s; raw payment-document writes {writes:.0}/s (10,000 per transaction)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
