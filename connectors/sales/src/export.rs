//! Invoice export: the stored invoice as pretty JSON, or as a self-contained, printable HTML
//! page (A4, no scripts, no external assets).

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

/// The seller block of a printed document (invoice, quotation): name, address, VAT id and
/// registration from the company profile, escaped.
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
    let seller = seller_html(company);
    let logo = logo
        .map(|uri| format!("<img class=logo src=\"{}\" alt=\"\">", esc(uri)))
        .unwrap_or_default();
    let mut foot = String::new();
    if let Some(b) = &company.bank {
        foot.push_str(&format!(
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
        ));
    }
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
    let discount = match state.discount_until {
        None => String::new(),
        Some(until) => format!(
            "<p>Pay by {until} and deduct {} {cur} early-payment discount.</p>",
            state.discount_amount
        ),
    };
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {num}</title>
<style>{style}</style></head><body>
{logo}<h1>Invoice {num}</h1><p class=seller>{seller}</p>
<table class=totals><tr><td>Customer</td><td>{cust}</td><td>Invoice date</td><td>{issue}</td></tr>
<tr><td>Order</td><td>{order} (your PO {po})</td><td>Due date</td><td>{due}</td></tr>
<tr><td>Shipment</td><td>{ship}</td><td>Terms</td><td>{terms}</td></tr></table>
<h2>Lines</h2>
<table><tr><th>#</th><th>Item</th><th>Description</th><th class=n>Quantity</th><th class=n>Unit price</th><th class=n>Net</th><th class=n>Tax</th><th class=n>Tax amount</th></tr>
{rows}</table>
<table class=totals><tr><td class=n>Net total</td><td class=n>{net} {cur}</td></tr><tr><td class=n>Tax</td><td class=n>{tax} {cur}</td></tr>
<tr><td class=n><b>Total</b></td><td class=n><b>{total} {cur}</b></td></tr><tr><td class=n>Paid</td><td class=n>{paid} {cur}</td></tr>
<tr><td class=n>Open</td><td class=n>{open} {cur}</td></tr></table>
{discount}<p>Status: {status}</p>{foot}</body></html>
"#,
        style = PAGE_STYLE,
        num = esc(&inv.number),
        cust = esc(&inv.customer_id),
        issue = inv.issue_date,
        order = esc(&inv.order_id),
        po = esc(&printed.po_number),
        due = inv.due_date,
        // An invoice of several shipments (per order) names none.
        ship = esc(inv.shipment_id.as_deref().unwrap_or("")),
        terms = esc(&printed.terms_text),
        net = inv.net_total,
        tax = inv.tax_total,
        total = inv.total,
        paid = state.paid_amount,
        open = state.open_amount,
        status = esc(&state.status),
    ))
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
}
