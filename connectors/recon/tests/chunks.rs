//! Issue 19 point 3: a statement matched in the store in bounded chunks books exactly what one
//! run over the whole statement books, whatever the chunk size, and the entries are kept in
//! blocks that a chunk reads only as far as it needs.

use ordo_bank::ParseOptions;
use ordo_bank::workload::{GenConfig, Generated, generate, write_camt053};
use ordo_recon::{ImportOutcome, ImportProfile, import_file, run_reconciliation_chunk};
use ordo_sales::testing::MemoryContext;
use serde_json::{Value, json};

/// A generated workload (the hard classes included) stored as invoice and customer documents.
fn workload(payments: usize, invoices: usize) -> (Generated, String) {
    let g = generate(&GenConfig {
        seed: 19,
        customers: 40,
        invoices,
        payments,
        hard: true,
        ..GenConfig::default()
    });
    let mut xml = String::new();
    write_camt053(&g.statement, &mut xml);
    (g, xml)
}

fn store(g: &Generated) -> MemoryContext {
    let mut ctx = MemoryContext::default();
    for c in &g.customers {
        ctx.docs.insert(
            ("customer".into(), c.id.clone()),
            json!({ "id": c.id, "name": c.name, "bank_accounts": c.accounts }),
        );
    }
    for it in &g.items {
        ctx.docs.insert(
            ("invoice".into(), it.number.clone()),
            json!({ "number": it.number, "customer_id": it.customer_id, "currency": it.currency,
                    "total": it.amount_open, "open_amount": it.amount_open, "paid_amount": 0,
                    "status": "open", "payments": [], "discount_amount": 0,
                    "discount_until": null, "discount_taken": 0, "dunning_level": 0,
                    "overdue": false, "issue_date": it.issue_date, "due_date": it.due_date,
                    "terms": it.terms }),
        );
    }
    ctx
}

fn profile() -> ImportProfile {
    ImportProfile {
        account: "bench-eur".into(),
        identifiers: Vec::new(),
        currency: Some("EUR".into()),
        options: ParseOptions {
            allow_unbalanced: true,
            ..ParseOptions::default()
        },
    }
}

/// Imports `xml` and returns the statement's fingerprint.
async fn import(ctx: &mut MemoryContext, xml: &str) -> String {
    match import_file(ctx, &profile(), "stmt.xml", xml.as_bytes())
        .await
        .unwrap()
    {
        ImportOutcome::Imported { statements, .. } => statements[0].clone(),
        other => panic!("not imported: {other:?}"),
    }
}

/// Runs chunks of `size` until nothing is pending; returns how many chunks it took.
async fn run(ctx: &mut MemoryContext, size: usize) -> usize {
    let mut chunks = 0;
    loop {
        let s = run_reconciliation_chunk(ctx, size).await.unwrap();
        chunks += 1;
        if s["more"] != json!(true) {
            return chunks;
        }
        assert!(chunks < 10_000, "the run never ends");
    }
}

/// What a run booked, independent of the order its documents were numbered in: every payment
/// (without its generated id) and every exception (without its queue id), sorted; the events;
/// the statement's report.
fn booked(ctx: &MemoryContext, fp: &str) -> (Vec<String>, Vec<String>, Vec<String>, Value) {
    let strip = |kind: &str, field: &str| {
        let mut v: Vec<String> = ctx
            .docs
            .iter()
            .filter(|((k, _), _)| k == kind)
            .map(|(_, d)| {
                let mut d = d.clone();
                if let Some(o) = d.as_object_mut() {
                    o.remove(field);
                }
                d.to_string()
            })
            .collect();
        v.sort();
        v
    };
    let mut events: Vec<String> = ctx
        .events
        .iter()
        .map(|e| format!("{} {} {} {}", e.0, e.1, e.2, e.3))
        .collect();
    events.sort();
    let report = ctx
        .docs
        .get(&("bank_report".to_string(), fp.to_string()))
        .cloned()
        .unwrap_or(Value::Null);
    (
        strip("payment", "id"),
        strip("bank_exception", "id"),
        events,
        json!({ "report": report["report"], "matches": report["matches"] }),
    )
}

/// Payment ids appear in the events' payloads: replace them by a placeholder so the
/// comparison is about what was booked, not the order the series numbered it in.
fn without_ids(mut v: Vec<String>) -> Vec<String> {
    for s in &mut v {
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while let Some(i) = rest.find("PAY-") {
            out.push_str(&rest[..i]);
            out.push_str("PAY-#");
            rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
        }
        out.push_str(rest);
        *s = out;
    }
    v.sort();
    v
}

fn same(a: &MemoryContext, b: &MemoryContext, fp: &str, what: &str) {
    let (pa, ea, va, ra) = booked(a, fp);
    let (pb, eb, vb, rb) = booked(b, fp);
    assert!(!pa.is_empty(), "the whole run booked nothing");
    assert_eq!(pa.len(), pb.len(), "{what}: payments");
    assert_eq!(pa, pb, "{what}: payments");
    assert_eq!(ea, eb, "{what}: exceptions");
    assert_eq!(without_ids(va), without_ids(vb), "{what}: events");
    assert_eq!(ra["report"], rb["report"], "{what}: report totals");
    assert_eq!(ra["matches"], rb["matches"], "{what}: report matches");
}

/// Every chunk size from one entry to the whole statement books the same payments,
/// exceptions, events and report as a single run.
#[tokio::test]
async fn every_chunk_size_books_what_one_chunk_books() {
    let (g, xml) = workload(24, 60);
    let n = g.statement.entries.len();
    let mut whole = store(&g);
    let fp = import(&mut whole, &xml).await;
    assert_eq!(run(&mut whole, usize::MAX).await, 1);
    for size in 1..=n {
        let mut chunked = store(&g);
        assert_eq!(import(&mut chunked, &xml).await, fp);
        let chunks = run(&mut chunked, size).await;
        assert_eq!(chunks, n.div_ceil(size), "chunk size {size}");
        same(&whole, &chunked, &fp, &format!("chunk size {size}"));
    }
}

/// A statement larger than a block: it is stored as a small head and blocks of 1,000
/// entries, chunks that start and end inside blocks read the right entries, and a missing
/// block fails the run naming it, with nothing booked.
#[tokio::test]
async fn chunks_across_entry_blocks_book_what_one_chunk_books() {
    let (g, xml) = workload(2_300, 2_600);
    assert_eq!(g.statement.entries.len(), 2_300);
    let mut whole = store(&g);
    let fp = import(&mut whole, &xml).await;
    let blocks: Vec<&String> = whole
        .docs
        .keys()
        .filter(|(k, _)| k == "bank_statement_entries")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        blocks,
        [0, 1, 2]
            .iter()
            .map(|b| format!("{fp}:{b:08}"))
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    // The raw file, larger than one part, is kept in parts that join to its bytes.
    assert!(xml.len() > ordo_recon::import::CONTENT_PART);
    let file = whole
        .docs
        .iter()
        .find(|((k, _), _)| k == "bank_file")
        .map(|(_, d)| d.clone())
        .unwrap();
    assert_eq!(file["content"], Value::Null);
    let n = xml.len().div_ceil(ordo_recon::import::CONTENT_PART);
    assert_eq!(file["content_parts"], json!(n));
    let joined: String = (0..n)
        .map(|i| {
            let key = (
                "bank_file_part".to_string(),
                format!("{}:{i:06}", file["id"].as_str().unwrap()),
            );
            whole.docs[&key]["content"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(joined, xml);
    let head = &whole.docs[&("bank_statement".to_string(), fp.clone())];
    assert_eq!(head["entry_count"], json!(2_300));
    assert_eq!(head["statement"]["entries"], json!([]));
    run(&mut whole, usize::MAX).await;
    for size in [999, 1_000, 1_001, 1_150] {
        let mut chunked = store(&g);
        import(&mut chunked, &xml).await;
        assert_eq!(run(&mut chunked, size).await, 2_300usize.div_ceil(size));
        same(&whole, &chunked, &fp, &format!("chunk size {size}"));
    }

    let mut broken = store(&g);
    import(&mut broken, &xml).await;
    broken.docs.remove(&(
        "bank_statement_entries".to_string(),
        format!("{fp}:00000001"),
    ));
    let e = run_reconciliation_chunk(&mut broken, 1_500)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(
            "bank_statement_entries {fp}:00000001 is not stored"
        )),
        "{e}"
    );
    assert_eq!(
        broken.docs.keys().filter(|(k, _)| k == "payment").count(),
        0
    );
}

/// A statement stored before the block layout (its entries inline in the head) is still
/// matched, in chunks, as the block layout is, and keeps its entries when it is written back.
#[tokio::test]
async fn a_statement_stored_inline_by_an_earlier_version_is_matched_alike() {
    let (g, xml) = workload(24, 60);
    let mut blocks = store(&g);
    let fp = import(&mut blocks, &xml).await;
    run(&mut blocks, 5).await;

    let mut inline = store(&g);
    import(&mut inline, &xml).await;
    // Rewrite it as the earlier layout: the entries in the head, no blocks.
    let mut head = inline.docs[&("bank_statement".to_string(), fp.clone())].clone();
    let mut entries = Vec::new();
    let ids: Vec<(String, String)> = inline
        .docs
        .keys()
        .filter(|(k, _)| k == "bank_statement_entries")
        .cloned()
        .collect();
    for key in ids {
        let b = inline.docs.remove(&key).unwrap();
        entries.extend(b["entries"].as_array().unwrap().iter().cloned());
    }
    let obj = head.as_object_mut().unwrap();
    obj.remove("entry_count");
    obj.remove("entry_block");
    head["statement"]["entries"] = Value::Array(entries.clone());
    inline
        .docs
        .insert(("bank_statement".to_string(), fp.clone()), head);
    run(&mut inline, 5).await;
    same(&blocks, &inline, &fp, "inline layout");
    let after = &inline.docs[&("bank_statement".to_string(), fp.clone())];
    assert_eq!(after["status"], json!("reconciled"));
    assert_eq!(after["statement"]["entries"], Value::Array(entries));
}
