//! Open items and customers from files, for `ordo bank reconcile` (the matcher run on files,
//! without a store): JSON, YAML or CSV (the `csv` crate through `channels::csvfile`, every cell
//! located) into the bank crate's `OpenItem` and `Customer`. Errors are `path:line:col: …`.
//!
//! Optional columns and their stated defaults: `terms` (else net days from issue to due date,
//! or net 30 when the issue date is missing too: the most common terms, and only used to
//! judge early-payment discounts), `issue_date` (else the due date less the net days), `kind`
//! (receivable unless `payable`/`ap`), a customer's `name` and `accounts` (empty).

use crate::channels::csvfile::{self, Row, Table};
use chrono::NaiveDate;
use ordo_bank::{Customer, ItemKind, OpenItem};
use ordo_contract::PaymentTerms;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::path::Path;
use std::str::FromStr;

/// JSON by extension or first character; otherwise CSV (or YAML where the caller allows it).
pub fn is_json(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("csv") => false,
        _ => text.trim_start().starts_with(['[', '{']),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TermsIn {
    Text(String),
    Terms(PaymentTerms),
}

fn terms_de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PaymentTerms>, D::Error> {
    match Option::<TermsIn>::deserialize(d)? {
        None => Ok(None),
        Some(TermsIn::Terms(t)) => Ok(Some(t)),
        Some(TermsIn::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(TermsIn::Text(s)) => PaymentTerms::parse(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
struct InvoiceIn {
    number: String,
    #[serde(alias = "customer_id")]
    customer: String,
    #[serde(alias = "amount", alias = "open", alias = "total")]
    amount_open: Decimal,
    currency: String,
    due_date: NaiveDate,
    #[serde(default)]
    issue_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "terms_de")]
    terms: Option<PaymentTerms>,
    #[serde(default)]
    kind: Option<ItemKind>,
}

impl InvoiceIn {
    /// Refuses an empty number, customer or currency (a JSON `""` passes serde), naming the
    /// file, the invoice and the field.
    fn checked(self, path: &Path, n: usize) -> Result<OpenItem, String> {
        for (field, v) in [
            ("number", &self.number),
            ("customer", &self.customer),
            ("currency", &self.currency),
        ] {
            if v.trim().is_empty() {
                return Err(format!(
                    "{}: invoice {} ({:?}): {field} is empty",
                    path.display(),
                    n + 1,
                    self.number
                ));
            }
        }
        Ok(self.into_item())
    }

    fn into_item(self) -> OpenItem {
        // absent terms: no discount. The net days only place the discount window, which is
        // empty then; they come from the issue and due dates when both are given.
        let terms = self.terms.unwrap_or_else(|| PaymentTerms {
            net_days: self
                .issue_date
                .and_then(|i| u32::try_from((self.due_date - i).num_days()).ok())
                .unwrap_or(30),
            discount_percent: Decimal::ZERO,
            discount_days: 0,
        });
        // absent: the issue date is optional; with terms it is the due date minus the net days
        // (due = issue + net by the terms' definition).
        let issue_date = self
            .issue_date
            .unwrap_or_else(|| self.due_date - chrono::Duration::days(i64::from(terms.net_days)));
        OpenItem {
            number: self.number,
            customer_id: self.customer,
            amount_open: self.amount_open,
            currency: self.currency.trim().to_ascii_uppercase(),
            due_date: self.due_date,
            issue_date,
            terms,
            // absent: an invoice file lists receivables unless an item says `payable`.
            kind: self.kind.unwrap_or(ItemKind::Receivable),
        }
    }
}

#[derive(Deserialize)]
struct InvoicesWrapped {
    invoices: Vec<InvoiceIn>,
}

#[derive(Deserialize)]
struct CustomerIn {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default, alias = "ibans")]
    accounts: Vec<String>,
}

/// A CSV file with its shown name and whether amounts may use a decimal comma (`;` files).
struct Sheet {
    shown: String,
    table: Table,
    decimal_comma: bool,
}

impl Sheet {
    fn read(path: &Path, text: &str) -> Result<Sheet, String> {
        let shown = path.display().to_string();
        let table = csvfile::read(&shown, text)?;
        // An empty file has no first line and no decimal comma (csvfile::read refuses it anyway).
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let decimal_comma = first.contains(';') && !first.contains(',');
        Ok(Sheet {
            shown,
            table,
            decimal_comma,
        })
    }

    /// A column by any of its accepted names (spaces and dashes read as underscores).
    fn col(&self, names: &[&str]) -> Option<usize> {
        self.table.header.iter().position(|h| {
            let h = h.trim().to_ascii_lowercase().replace([' ', '-'], "_");
            names.contains(&h.as_str())
        })
    }

    fn need(&self, names: &[&str]) -> Result<usize, String> {
        self.col(names).ok_or_else(|| {
            format!(
                "{}:{}:1: no column {} in the header ({})",
                self.shown,
                self.table.header_line,
                names.join(" / "),
                self.table.header.join(", ")
            )
        })
    }

    fn text(&self, row: &Row, i: usize, name: &str) -> Result<String, String> {
        match row.get(i) {
            "" => Err(format!("{}: {name} is empty", row.at(&self.shown, i))),
            v => Ok(v.to_string()),
        }
    }

    fn decimal(&self, row: &Row, i: usize, name: &str) -> Result<Decimal, String> {
        let v = row.get(i);
        let mut s = v.replace([' ', '\u{a0}'], "");
        if self.decimal_comma && s.contains(',') && !s.contains('.') {
            s = s.replace(',', ".");
        }
        Decimal::from_str(&s).map_err(|_| {
            format!(
                "{}: {name} {v:?} is not a decimal amount",
                row.at(&self.shown, i)
            )
        })
    }

    fn date(&self, row: &Row, i: usize, name: &str) -> Result<NaiveDate, String> {
        let v = row.get(i);
        NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
            format!(
                "{}: {name} {v:?} is not a date YYYY-MM-DD",
                row.at(&self.shown, i)
            )
        })
    }
}

fn invoices_csv(path: &Path, text: &str) -> Result<Vec<OpenItem>, String> {
    let t = Sheet::read(path, text)?;
    let number = t.need(&["number", "invoice", "invoice_number"])?;
    let customer = t.need(&["customer", "customer_id"])?;
    let amount = t.need(&["amount_open", "amount", "open", "total"])?;
    let currency = t.need(&["currency"])?;
    let due = t.need(&["due_date", "due"])?;
    let issue = t.col(&["issue_date", "issued", "date"]);
    let terms = t.col(&["terms", "payment_terms"]);
    let kind = t.col(&["kind", "type"]);
    let mut out = Vec::with_capacity(t.table.rows.len());
    for row in &t.table.rows {
        let issue_date = match issue {
            Some(i) if !row.get(i).is_empty() => Some(t.date(row, i, "issue_date")?),
            _ => None,
        };
        let terms = match terms {
            Some(i) if !row.get(i).is_empty() => Some(
                PaymentTerms::parse(row.get(i))
                    .map_err(|e| format!("{}: {e}", row.at(&t.shown, i)))?,
            ),
            _ => None,
        };
        let kind = match kind {
            Some(i) => match row.get(i).to_ascii_lowercase().as_str() {
                "" | "receivable" | "ar" => None,
                "payable" | "ap" => Some(ItemKind::Payable),
                v => {
                    return Err(format!(
                        "{}: kind {v:?}: receivable or payable",
                        row.at(&t.shown, i)
                    ));
                }
            },
            None => None,
        };
        let inv = InvoiceIn {
            number: t.text(row, number, "number")?,
            customer: t.text(row, customer, "customer")?,
            amount_open: t.decimal(row, amount, "amount_open")?,
            currency: t.text(row, currency, "currency")?,
            due_date: t.date(row, due, "due_date")?,
            issue_date,
            terms,
            kind,
        };
        out.push(inv.into_item());
    }
    Ok(out)
}

/// `path:line:col: message` for a JSON error.
fn json_error(path: &Path, e: &serde_json::Error) -> String {
    crate::editools::json_error(path, e)
}

/// Open items from a JSON array, `{"invoices": [...]}`, or a CSV file.
pub fn load_invoices(path: &Path, text: &str) -> Result<Vec<OpenItem>, String> {
    if !is_json(path, text) {
        return invoices_csv(path, text);
    }
    let loc = |e: serde_json::Error| json_error(path, &e);
    let list: Vec<InvoiceIn> = if text.trim_start().starts_with('{') {
        serde_json::from_str::<InvoicesWrapped>(text)
            .map_err(loc)?
            .invoices
    } else {
        serde_json::from_str(text).map_err(loc)?
    };
    list.into_iter()
        .enumerate()
        .map(|(n, inv)| inv.checked(path, n))
        .collect()
}

/// Customers (id, name, accounts) from JSON or CSV (accounts separated by `|`, `;` or `,`).
pub fn load_customers(path: &Path, text: &str) -> Result<Vec<Customer>, String> {
    let list: Vec<CustomerIn> = if is_json(path, text) {
        serde_json::from_str(text).map_err(|e| json_error(path, &e))?
    } else {
        let t = Sheet::read(path, text)?;
        let id = t.need(&["id", "customer", "customer_id"])?;
        let name = t.col(&["name"]);
        let accounts = t.col(&["ibans", "iban", "accounts", "account"]);
        let mut out = Vec::new();
        for row in &t.table.rows {
            out.push(CustomerIn {
                id: t.text(row, id, "id")?,
                // absent: the name is optional; without one only ids and IBANs find the customer.
                name: name.map(|i| row.get(i).to_string()).unwrap_or_default(),
                accounts: accounts
                    .map(|i| {
                        row.get(i)
                            .split(['|', ';', ','])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    // absent: a customer without an accounts column has no known IBANs.
                    .unwrap_or_default(),
            });
        }
        out
    };
    Ok(list
        .into_iter()
        .map(|c| Customer {
            id: c.id,
            name: c.name,
            accounts: c
                .accounts
                .iter()
                .map(|a| a.chars().filter(|c| !c.is_whitespace()).collect())
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_open_items_are_read_with_quotes_and_located_errors() {
        let p = Path::new("i.csv");
        let text = "number,customer,amount,currency,due_date\r\n\"INV-1\",\"C,1\",10.50,eur,2026-03-01\n\nINV-2,C2,\"12\",EUR,2026-03-02\n";
        let items = load_invoices(p, text).expect("valid file");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].customer_id, "C,1");
        assert_eq!(items[0].currency, "EUR");
        assert_eq!(items[0].amount_open.to_string(), "10.50");
        let bad = "number,customer,amount,currency,due_date\nINV-1,C1,ten,EUR,2026-03-01\n";
        assert_eq!(
            load_invoices(p, bad).err().as_deref(),
            Some("i.csv:2:10: amount_open \"ten\" is not a decimal amount")
        );
        assert!(load_invoices(p, "number,customer\nINV-1,\"C1\n").is_err());
    }

    #[test]
    fn json_invoices_with_an_empty_key_field_are_refused() {
        let p = Path::new("i.json");
        let inv = |customer: &str, currency: &str| {
            format!(
                r#"[{{"number":"INV-1","customer":"{customer}","amount":"10","currency":"{currency}","due_date":"2026-03-01"}}]"#
            )
        };
        assert_eq!(load_invoices(p, &inv("C1", "EUR")).map(|v| v.len()), Ok(1));
        assert_eq!(
            load_invoices(p, &inv("C1", " ")).err().as_deref(),
            Some("i.json: invoice 1 (\"INV-1\"): currency is empty")
        );
        assert_eq!(
            load_invoices(p, &inv("", "EUR")).err().as_deref(),
            Some("i.json: invoice 1 (\"INV-1\"): customer is empty")
        );
    }

    #[test]
    fn semicolon_files_take_decimal_commas() {
        let p = Path::new("i.csv");
        let text = "number;customer;amount;currency;due_date\nINV-1;C1;1234,56;EUR;2026-03-01\n";
        let items = load_invoices(p, text).expect("valid file");
        assert_eq!(items[0].amount_open.to_string(), "1234.56");
    }
}
