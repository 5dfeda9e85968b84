//! Printing invoices and credit notes: find the stored document by its number, make its page
//! from its one HTML template (`ordo_sales::export::invoice_html` / `credit_note_html`, with
//! the seller from the company profile) and print that page to PDF with the renderer the
//! statement of account uses (`receivables::html_to_pdf`, headless Chromium). The CLI
//! (`ordo invoice N --html|--pdf`) and the API (`GET /api/v1/invoices/{n}`,
//! `GET /api/v1/credit-notes/{n}` with `Accept: text/html` or `application/pdf`) call these.

use crate::store::{StoreError, Tx};
use ordo_contract::Company;
use serde_json::Value;
use std::path::Path;

/// What a number names: invoices (`INV-…`) and credit notes (`CN-…`) have their own series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printable {
    Invoice,
    CreditNote,
}

impl Printable {
    /// The stored document kind.
    pub fn kind(self) -> &'static str {
        match self {
            Printable::Invoice => "invoice",
            Printable::CreditNote => ordo_sales::credit_note::SERIES,
        }
    }
}

/// The stored invoice or credit note numbered `number` (an invoice first).
pub async fn find(tx: &mut dyn Tx, number: &str) -> Result<Option<(Printable, Value)>, StoreError> {
    for p in [Printable::Invoice, Printable::CreditNote] {
        if let Some(doc) = tx.get_document(p.kind(), number).await? {
            return Ok(Some((p, doc)));
        }
    }
    Ok(None)
}

/// The page of a stored document, the seller from `company`.
pub fn html(
    what: Printable,
    doc: &Value,
    company: &Company,
    logo: Option<&str>,
) -> Result<String, String> {
    match what {
        Printable::Invoice => ordo_sales::export::invoice_html(doc, company, logo),
        Printable::CreditNote => ordo_sales::export::credit_note_html(doc, company, logo),
    }
}

/// The page with the seller from the company profile file (validated as `ordo check` does) and
/// its logo; no profile is an error: a document needs the seller's legal name and address.
pub fn html_from_config(profile: &Path, what: Printable, doc: &Value) -> Result<String, String> {
    let company = match crate::company::load(profile) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(format!(
                "{}: no company profile; invoices and credit notes need the seller's legal name, address and VAT id (see config/company.yaml in the repository)",
                profile.display()
            ));
        }
        Err(e) => return Err(e.join("\n")),
    };
    let logo = match &company.logo {
        Some(l) => Some(crate::company::logo_data_uri(profile, l)?),
        None => None,
    };
    html(what, doc, &company, logo.as_deref())
}

/// The PDF of `page` as bytes (for the API): printed by the one renderer into a temporary
/// file, off the async threads (the browser takes a while), then read back and removed.
pub async fn pdf_bytes(page: String) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir().join(format!(
            "ordo-print-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let out = dir.join("document.pdf");
        let r = crate::receivables::html_to_pdf(&page, &out)
            .and_then(|()| std::fs::read(&out).map_err(|e| format!("{}: {e}", out.display())));
        let _ = std::fs::remove_dir_all(&dir);
        r
    })
    .await
    .map_err(|e| format!("PDF printing stopped: {e}"))?
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
