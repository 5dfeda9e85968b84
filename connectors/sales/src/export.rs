//! Invoice and credit-note export: the stored document as pretty JSON, or as a self-contained,
//! printable HTML page (A4, no scripts, no external assets) from the one template [`page`]; the
//! PDF is printed from that page (`ordo::receivables::html_to_pdf`).

use ordo_contract::{Company, Invoice, InvoiceCollection, from_doc};
use serde::Deserialize;
use serde_json::Value;

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn invoice_json(doc: &Value) -> String {
    // A `Value` always serializes (its keys are strings).
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

/// What the printed invoice states beside the canonical invoice and its collection state.
#[derive(Deserialize)]
struct Printed {
    po_number: String,
    terms_text: String,
}

/// The seller block (name, address, VAT id, registration, the account to pay to, footer) comes
/// from the company profile; `logo` is a `data:` URI so the page stays self-contained. The
/// stored invoice is read typed: a field it lacks is an error naming it, never a blank on paper.
pub fn invoice_html(doc: &Value, company: &Company, logo: Option<&str>) -> Result<String, String> {
    // Only names the invoice in an error; a document without a number fails just below.
    let key = doc["number"].as_str().unwrap_or("?");
    let typed = |e: ordo_contract::StepError| e.to_string();
    let inv: Invoice = from_doc("invoice", key, doc).map_err(typed)?;
    let state: InvoiceCollection = from_doc("invoice", key, doc).map_err(typed)?;
    let printed: Printed = from_doc("invoice", key, doc).map_err(typed)?;
    let cur = esc(&inv.currency);
    let discount = match state.discount_until {
        None => String::new(),
        Some(until) => format!(
            "<p>Pay by {until} and deduct {} {cur} early-payment discount.</p>",
            state.discount_amount
        ),
    };
    let pay_to = company.bank.as_ref().map(|b| {
        format!(
            "<p>Please pay to {}, IBAN {}{}{}, quoting invoice {}.</p>",
            esc(&company.legal_name),
            esc(&b.iban),
            b.bic
                .as_deref()
                .map(|x| format!(", BIC {}", esc(x)))
                .unwrap_or_default(),
            b.name
                .as_deref()
                .map(|x| format!(" ({})", esc(x)))
                .unwrap_or_default(),
            esc(&inv.number)
        )
    });
    Ok(page(
        &Sheet {
            title: "Invoice",
            inv: &inv,
            head: [
                (
                    "Customer",
                    esc(&inv.customer_id),
                    "Invoice date",
                    inv.issue_date.to_string(),
                ),
                (
                    "Order",
                    order_ref(&inv, &printed.po_number),
                    "Due date",
                    inv.due_date.to_string(),
                ),
                // An invoice of several shipments (per order) names none.
                (
                    "Shipment",
                    esc(inv.shipment_id.as_deref().unwrap_or("")),
                    "Terms",
                    esc(&printed.terms_text),
                ),
            ],
            after_total: vec![("Paid", state.paid_amount), ("Open", state.open_amount)],
            notes: format!("{discount}<p>Status: {}</p>", esc(&state.status)),
            pay_to,
        },
        company,
        logo,
    ))
}

/// What the printed credit note states beside its canonical invoice fields.
#[derive(Deserialize)]
struct PrintedCredit {
    corrects: String,
    reason: String,
    applied: rust_decimal::Decimal,
    credit: rust_decimal::Decimal,
    // A credit note of an order that came without a PO number prints none.
    #[serde(default)]
    po_number: Option<String>,
}

/// A stored credit note (`credit_note/<number>`, see [`crate::credit_note`]) as the same
/// self-contained page as the invoice (one page builder, one seller block): the invoice it
/// corrects, the reason, its lines and totals, and where the amount went — off the invoice's
/// open amount, or to the customer's credit.
pub fn credit_note_html(
    doc: &Value,
    company: &Company,
    logo: Option<&str>,
) -> Result<String, String> {
    let key = doc["number"].as_str().unwrap_or("?");
    let typed = |e: ordo_contract::StepError| e.to_string();
    let cn: Invoice = from_doc("credit_note", key, doc).map_err(typed)?;
    let printed: PrintedCredit = from_doc("credit_note", key, doc).map_err(typed)?;
    let cur = esc(&cn.currency);
    let mut notes = format!("<p>Reason: {}</p>", esc(&printed.reason));
    if !printed.applied.is_zero() {
        notes.push_str(&format!(
            "<p>{} {cur} taken off the open amount of invoice {}.</p>",
            printed.applied,
            esc(&printed.corrects)
        ));
    }
    if !printed.credit.is_zero() {
        notes.push_str(&format!(
            "<p>{} {cur} credited to your account.</p>",
            printed.credit
        ));
    }
    Ok(page(
        &Sheet {
            title: "Credit note",
            inv: &cn,
            head: [
                (
                    "Customer",
                    esc(&cn.customer_id),
                    "Credit note date",
                    cn.issue_date.to_string(),
                ),
                (
                    "Order",
                    order_ref(&cn, printed.po_number.as_deref().unwrap_or("")),
                    "Corrects invoice",
                    esc(&printed.corrects),
                ),
                (
                    "Shipment",
                    esc(cn.shipment_id.as_deref().unwrap_or("")),
                    "",
                    String::new(),
                ),
            ],
            after_total: vec![],
            notes,
            pay_to: None,
        },
        company,
        logo,
    ))
}

fn order_ref(inv: &Invoice, po: &str) -> String {
    format!("{} (your PO {})", esc(&inv.order_id), esc(po))
}

/// One printed document: the invoice's fields with its own title, head rows (label, value,
/// label, value: values already escaped), money rows after the total and closing notes.
struct Sheet<'a> {
    title: &'static str,
    inv: &'a Invoice,
    head: [(&'static str, String, &'static str, String); 3],
    after_total: Vec<(&'static str, rust_decimal::Decimal)>,
    notes: String,
    pay_to: Option<String>,
}

/// The seller block of a printed document (invoice, credit note, quotation): name, address,
/// VAT id and registration from the company profile, escaped.
pub(crate) fn seller_html(company: &Company) -> String {
    let mut seller = format!("<b>{}</b>", esc(&company.legal_name));
    for line in company.address_lines() {
        seller.push_str(&format!("<br>{}", esc(&line)));
    }
    if let Some(v) = &company.vat_id {
        seller.push_str(&format!("<br>VAT id {}", esc(v)));
    }
    if let Some(r) = &company.registration {
        seller.push_str(&format!("<br>{}", esc(r)));
    }
    seller
}

/// The style of a printed document (A4 width, right-aligned numbers, print without margins).
pub(crate) const PAGE_STYLE: &str = "body{font-family:sans-serif;max-width:190mm;margin:10mm auto;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ccc;padding:4px 6px;text-align:left}.n{text-align:right}h1{margin-bottom:0}
.totals td{border:none}.logo{float:right;max-height:20mm}footer{margin-top:8mm;font-size:small;color:#555}@media print{body{margin:0}}";

/// The one template of invoices and credit notes (HTML, and the PDF printed from it).
fn page(s: &Sheet, company: &Company, logo: Option<&str>) -> String {
    let inv = s.inv;
    let seller = seller_html(company);
    let logo = logo
        .map(|uri| format!("<img class=logo src=\"{}\" alt=\"\">", esc(uri)))
        .unwrap_or_default();
    let mut foot = s.pay_to.clone().unwrap_or_default();
    if let Some(f) = &company.invoice_footer {
        foot.push_str(&format!("<footer>{}</footer>", esc(f)));
    }
    let cur = esc(&inv.currency);
    let mut rows = String::new();
    for l in &inv.lines {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{} {}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}%</td><td class=n>{}</td></tr>\n",
            l.line_no, esc(&l.sku), esc(l.description.as_deref().unwrap_or("")), l.quantity, esc(&l.uom),
            l.unit_price, l.net_amount, l.tax_rate, l.tax_amount
        ));
    }
    let head: String = s
        .head
        .iter()
        .map(|(a, x, b, y)| format!("<tr><td>{a}</td><td>{x}</td><td>{b}</td><td>{y}</td></tr>"))
        .collect::<Vec<_>>()
        .join("\n");
    let after: String = s
        .after_total
        .iter()
        .map(|(label, v)| format!("<tr><td class=n>{label}</td><td class=n>{v} {cur}</td></tr>"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} {num}</title>
<style>{style}</style></head><body>
{logo}<h1>{title} {num}</h1><p class=seller>{seller}</p>
<table class=totals>{head}</table>
<h2>Lines</h2>
<table><tr><th>#</th><th>Item</th><th>Description</th><th class=n>Quantity</th><th class=n>Unit price</th><th class=n>Net</th><th class=n>Tax</th><th class=n>Tax amount</th></tr>
{rows}</table>
<table class=totals><tr><td class=n>Net total</td><td class=n>{net} {cur}</td></tr><tr><td class=n>Tax</td><td class=n>{tax} {cur}</td></tr>
<tr><td class=n><b>Total</b></td><td class=n><b>{total} {cur}</b></td></tr>{after}</table>
{notes}{foot}</body></html>
"#,
        title = s.title,
        style = PAGE_STYLE,
        num = esc(&inv.number),
        net = inv.net_total,
        tax = inv.tax_total,
        total = inv.total,
        notes = s.notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    #[test]
    fn html_shows_lines_and_exact_totals_and_escapes_text() {
        let mut doc = json!({ "number": "INV-000007", "order_id": "O-1", "shipment_id": "SH-1", "customer_id": "C<1>", "currency": "EUR", "total": dec!(1.20), "net_total": dec!(1.01), "tax_total": dec!(0.19),
                          "issue_date": "2026-09-21", "due_date": "2026-10-21", "terms": { "net_days": 30, "discount_percent": 2, "discount_days": 10 },
                          "po_number": "PO-1", "terms_text": "2/10 net 30", "status": "open", "open_amount": dec!(1.20), "paid_amount": dec!(0), "discount_taken": dec!(0),
                          "payments": [], "dunning_level": 0, "overdue": false,
                          "discount_until": "2026-10-01", "discount_amount": dec!(0.02),
                          "lines": [{ "line_no": 1, "sku": "WIDGET", "description": "Widget & co", "quantity": dec!(3), "uom": "EA", "unit_price": dec!(0.335), "net_amount": dec!(1.01), "tax_rate": dec!(19), "tax_amount": dec!(0.19) }] });
        let company: Company = serde_json::from_value(json!({
            "legal_name": "Seller & Sons GmbH", "vat_id": "DE123456789", "registration": "HRB 1",
            "address": { "lines": ["Hauptstrasse 1"], "postal_code": "10115", "city": "Berlin", "country": "DE" },
            "bank": { "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX" },
            "invoice_footer": "Managing director: A. Person" }))
        .unwrap();
        let h = invoice_html(&doc, &company, Some("data:image/png;base64,AAAA")).unwrap();
        // The seller comes from the profile, escaped, with the account to pay to.
        assert!(h.contains("<b>Seller &amp; Sons GmbH</b><br>Hauptstrasse 1<br>10115 Berlin<br>DE<br>VAT id DE123456789<br>HRB 1"));
        assert!(h.contains(
            "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX, quoting invoice INV-000007"
        ));
        assert!(h.contains("<footer>Managing director: A. Person</footer>"));
        assert!(h.contains("<img class=logo src=\"data:image/png;base64,AAAA\""));
        assert!(!h.contains("ordo demo GmbH"));
        assert!(h.contains("Invoice INV-000007"));
        assert!(h.contains("C&lt;1&gt;"));
        assert!(h.contains("Widget &amp; co"));
        assert!(h.contains("<b>1.20 EUR</b>"), "totals keep their cents");
        assert!(h.contains("0.335"));
        assert!(h.contains("deduct 0.02 EUR"));
        assert!(!h.contains("<script"));
        // A stored invoice without its open amount is not printed with a blank.
        doc.as_object_mut().unwrap().remove("open_amount");
        let e = invoice_html(&doc, &company, None).unwrap_err();
        assert!(
            e.contains("invoice 'INV-000007'") && e.contains("open_amount"),
            "{e}"
        );
    }

    #[test]
    fn credit_note_html_names_the_invoice_reason_and_where_the_money_went() {
        let mut doc = json!({ "number": "CN-000003", "order_id": "O-1", "shipment_id": "SH-1", "customer_id": "C1", "currency": "EUR",
                          "total": dec!(1.20), "net_total": dec!(1.01), "tax_total": dec!(0.19),
                          "issue_date": "2026-09-30", "due_date": "2026-09-30", "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 },
                          "document": "credit_note", "corrects": "INV-000007", "reason": "broken <glass>", "applied": dec!(0.20), "credit": dec!(1.00),
                          "po_number": "PO-1", "tax_note": null,
                          "lines": [{ "line_no": 1, "sku": "WIDGET", "description": null, "quantity": dec!(3), "uom": "EA", "unit_price": dec!(0.335), "net_amount": dec!(1.01), "tax_rate": dec!(19), "tax_amount": dec!(0.19) }] });
        let company: Company = serde_json::from_value(json!({
            "legal_name": "Seller GmbH", "address": { "lines": ["Hauptstrasse 1"], "postal_code": "10115", "city": "Berlin", "country": "DE" },
            "bank": { "iban": "DE89 3704 0044 0532 0130 00" } }))
        .unwrap();
        let h = credit_note_html(&doc, &company, None).unwrap();
        assert!(h.contains("<h1>Credit note CN-000003</h1>"), "{h}");
        assert!(
            h.contains("<td>Corrects invoice</td><td>INV-000007</td>"),
            "{h}"
        );
        assert!(h.contains("Reason: broken &lt;glass&gt;"));
        assert!(h.contains("0.20 EUR taken off the open amount of invoice INV-000007"));
        assert!(h.contains("1.00 EUR credited to your account"));
        assert!(h.contains("<b>1.20 EUR</b>"));
        assert!(!h.contains("Please pay"), "nothing is due on a credit note");
        doc.as_object_mut().unwrap().remove("reason");
        let e = credit_note_html(&doc, &company, None).unwrap_err();
        assert!(
            e.contains("credit_note 'CN-000003'") && e.contains("reason"),
            "{e}"
        );
    }
}
