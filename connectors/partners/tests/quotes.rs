//! `quote.send` over the in-memory transaction port: a quote for a customer whose profile lists
//! `quote` goes out as its page and an 843 (X12 partner) or QUOTES (EDIFACT partner) in one
//! step; a redelivered step sends neither again; a customer without such a profile gets the
//! page only; a stale link to a profile that no longer lists `quote` sends nothing.

use ordo_contract::{Connector, OrderLine};
use ordo_partners::{Partner, QUOTE_PARTNER_DOC, SendDocument, SendQuote};
use ordo_sales::quote::request_quote;
use ordo_sales::testing::{MemoryContext, pricing, try_run};
use rust_decimal::dec;
use serde_json::{Value, json};

fn profile(name: &str, version: &str, documents: &[&str]) -> Partner {
    let (q, their) = if version.starts_with('D') {
        ("14", "3014531200003")
    } else {
        ("ZZ", "ACMEBUYER")
    };
    let p: Partner = serde_json::from_value(json!({ "partner": name, "customer": "C1",
        "version": version, "their_id": { "qualifier": q, "id": their },
        "our_id": { "qualifier": q, "id": if q == "14" { "4012345000009" } else { "ORDOSELLER" } },
        "acknowledgment": if q == "14" { "CONTRL" } else { "997" },
        "documents": documents, "currency": "EUR", "outbound": "/tmp/quotes-out" }))
    .expect("profile");
    assert!(p.validate().is_empty(), "{:?}", p.validate());
    p
}

/// A context with `p` in force for customer C1 (as the engine stores it) and a company.
fn ctx_with(p: Option<&Partner>) -> MemoryContext {
    let mut ctx = MemoryContext::seeded();
    if let Some(p) = p {
        ctx.docs.insert(
            ("partner".into(), p.partner.clone()),
            serde_json::to_value(p).unwrap(),
        );
        ctx.docs.insert(
            (QUOTE_PARTNER_DOC.into(), "C1".into()),
            json!({ "partner": p.partner }),
        );
    }
    ctx.docs.insert(
        ("company".into(), "self".into()),
        json!({ "legal_name": "Seller & Co", "address": { "lines": ["Road 1"], "postal_code": "10115", "city": "Berlin", "country": "DE" } }),
    );
    ctx
}

/// Requests a quote for C1 and runs `quote.send` on it twice (a redelivery); the outputs.
async fn send_twice(ctx: &mut MemoryContext) -> (String, Vec<Value>) {
    let line = OrderLine {
        line_no: 1,
        sku: "WIDGET".into(),
        buyer_part: None,
        vendor_part: None,
        description: None,
        quantity: dec!(3),
        uom: "EA".into(),
        unit_price: None,
    };
    let q = request_quote(ctx, "C1", "EUR", vec![line], None)
        .await
        .expect("requested");
    let number = q["number"].as_str().unwrap().to_string();
    let data = json!({ "order": { "id": number, "customer_id": "C1", "po_number": number,
                       "order_date": "2026-11-23", "currency": "EUR", "lines": [] },
                       "pricing": pricing(&[(1, "WIDGET", dec!(0.30), "standard")]) });
    let mut outs = Vec::new();
    for _ in 0..2 {
        let out = try_run(
            &SendQuote,
            ctx,
            data.clone(),
            json!({ "validity_days": 30 }),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.outcome, "sent");
        outs.push(json!(out.set));
    }
    (number, outs)
}

fn files(ctx: &MemoryContext, ends: &str) -> Vec<Value> {
    ctx.outbound
        .values()
        .filter(|v| v["name"].as_str().is_some_and(|n| n.ends_with(ends)))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_quote_goes_to_an_x12_partner_as_one_843_with_its_page() {
    let p = profile("acme", "4010", &["quote"]);
    let mut ctx = ctx_with(Some(&p));
    let (number, outs) = send_twice(&mut ctx).await;
    assert_eq!(SendQuote.name(), "quote.send");
    let edi = files(&ctx, "-843.edi");
    assert_eq!(edi.len(), 1, "sent once: {edi:?}");
    assert_eq!(files(&ctx, ".html").len(), 1);
    assert_eq!(edi[0]["dir"], "/tmp/quotes-out");
    let text = edi[0]["content"].as_str().unwrap();
    for seg in [
        format!("BQR*00*{number}*"),
        "N1*SE*Seller & Co*ZZ*ORDOSELLER~".to_string(),
        "N1*BY*Acme*ZZ*ACMEBUYER~".into(),
        "PO1*1*1*EA*0.3**VP*WIDGET~".into(),
        "CTT*1~\nAMT*TT*0.30~".into(),
    ] {
        assert!(text.contains(&seg), "{seg}: {text}");
    }
    assert_eq!(outs[0]["edi_quote"]["set"], "843", "{}", outs[0]);
    assert!(outs[1].get("edi_quote").is_none(), "{}", outs[1]);
    let sent = &ctx.docs[&("edi_sent".to_string(), "acme:1".to_string())];
    assert_eq!(sent["document"], "quote");
    assert_eq!(sent["reference"], json!(number));
}

#[tokio::test]
async fn an_edifact_partner_gets_quotes_and_others_only_the_page() {
    let p = profile("cora", "D01B", &["quote"]);
    let mut ctx = ctx_with(Some(&p));
    send_twice(&mut ctx).await;
    let edi = files(&ctx, "-quotes.edi");
    assert_eq!(edi.len(), 1, "{edi:?}");
    let text = edi[0]["content"].as_str().unwrap();
    assert!(
        text.contains("UNH+1+QUOTES:D:01B:UN'") && text.contains("BGM+310+"),
        "{text}"
    );

    // No profile for the customer, or a link to one that no longer lists `quote`: page only.
    let mut ctx = ctx_with(None);
    send_twice(&mut ctx).await;
    assert_eq!(files(&ctx, ".html").len(), 1);
    assert_eq!(files(&ctx, ".edi").len(), 0);
    let p = profile("acme", "4010", &["order_response"]);
    let mut ctx = ctx_with(Some(&p));
    send_twice(&mut ctx).await;
    assert_eq!(files(&ctx, ".edi").len(), 0);
}

#[tokio::test]
async fn edi_send_refuses_to_send_a_quote_itself() {
    let p = profile("acme", "4010", &["quote"]);
    let mut ctx = ctx_with(Some(&p));
    let e = try_run(
        &SendDocument,
        &mut ctx,
        json!({}),
        json!({ "document": "quote" }),
    )
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        e.contains("a quote goes to its partner when `quote.send` sends it"),
        "{e}"
    );
    assert!(ctx.outbound.is_empty());
}
