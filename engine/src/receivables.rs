//! Receivables aging: the open amounts of the stored invoices, per currency, by how long they
//! are past due (not yet due, 1-30, 31-60, 61-90, over 90 days). Each invoice is read as the
//! typed view reconciliation reads (`InvoiceCollection`), so a stored invoice missing its open
//! amount or due date is an error naming it, never a zero. Sums are checked.

use chrono::NaiveDate;
use ordo_contract::{InvoiceCollection, read_doc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

/// The bucket labels, in order.
pub const BUCKETS: [&str; 5] = ["not due", "1-30", "31-60", "61-90", "over 90"];

/// One currency's aging.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgingRow {
    pub currency: String,
    /// Open amounts per bucket of [`BUCKETS`].
    pub buckets: [Decimal; 5],
    pub total: Decimal,
    /// Open invoices counted.
    pub invoices: usize,
}

fn bucket(days_past_due: i64) -> usize {
    match days_past_due {
        i64::MIN..=0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// Ages `invoices` (key, stored document) on `today`; paid and cancelled ones are left out.
/// Rows are ordered by currency.
pub fn aging<'a>(
    invoices: impl IntoIterator<Item = (&'a str, &'a Value)>,
    today: NaiveDate,
) -> Result<Vec<AgingRow>, String> {
    let mut rows: Vec<AgingRow> = Vec::new();
    for (key, doc) in invoices {
        let inv: InvoiceCollection = read_doc("invoice", key, doc)?;
        if inv.is_closed() || inv.open_amount.is_zero() {
            continue;
        }
        let i = match rows.iter().position(|r| r.currency == inv.currency) {
            Some(i) => i,
            None => {
                rows.push(AgingRow {
                    currency: inv.currency.clone(),
                    buckets: [Decimal::ZERO; 5],
                    total: Decimal::ZERO,
                    invoices: 0,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        let b = bucket((today - inv.due_date).num_days());
        let overflow = || format!("invoice {key}: the aging sum overflows");
        row.buckets[b] = row.buckets[b]
            .checked_add(inv.open_amount)
            .ok_or_else(overflow)?;
        row.total = row
            .total
            .checked_add(inv.open_amount)
            .ok_or_else(overflow)?;
        row.invoices += 1;
    }
    rows.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(rows)
}

/// The aging of every invoice in the store on `today`.
pub async fn aging_in(
    tx: &mut dyn crate::store::Tx,
    today: NaiveDate,
) -> Result<Result<Vec<AgingRow>, String>, crate::store::StoreError> {
    let docs = tx.get_documents("invoice", "").await?;
    Ok(aging(docs.iter().map(|(k, v)| (k.as_str(), v)), today))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    fn inv(status: &str, currency: &str, open: &str, due: &str) -> Value {
        json!({ "number": "INV-1", "status": status, "customer_id": "C1", "currency": currency,
                "total": Decimal::from_str_exact(open).unwrap(),
                "open_amount": Decimal::from_str_exact(open).unwrap(), "issue_date": "2026-01-01",
                "due_date": due, "terms": { "net_days": 30 }, "payments": [],
                "paid_amount": 0, "discount_amount": 0, "discount_until": null,
                "discount_taken": 0, "dunning_level": 0, "overdue": false })
    }

    #[test]
    fn invoices_fall_in_their_buckets_per_currency() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let docs = [
            ("A", inv("open", "EUR", "10.10", "2026-07-15")),
            ("B", inv("open", "EUR", "5", "2026-06-30")),
            ("C", inv("partially_paid", "EUR", "7.5", "2026-06-29")),
            ("D", inv("open", "EUR", "1", "2026-04-30")),
            ("E", inv("in_collection", "EUR", "2", "2026-01-01")),
            ("F", inv("paid", "EUR", "0", "2026-01-01")),
            ("G", inv("open", "CHF", "3", "2026-05-30")),
        ];
        let rows = aging(docs.iter().map(|(k, v)| (*k, v)), today).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].currency, "CHF");
        assert_eq!(
            rows[0].buckets,
            [dec!(0), dec!(0), dec!(3), dec!(0), dec!(0)]
        );
        let eur = &rows[1];
        assert_eq!(
            eur.buckets,
            [dec!(15.10), dec!(7.5), dec!(0), dec!(1), dec!(2)]
        );
        assert_eq!((eur.total, eur.invoices), (dec!(25.60), 5));
    }

    #[test]
    fn an_invoice_without_open_amount_is_named() {
        let mut v = inv("open", "EUR", "1", "2026-01-01");
        v.as_object_mut().unwrap().remove("open_amount");
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let e = aging([("INV-9", &v)], today).unwrap_err();
        assert!(e.contains("INV-9") && e.contains("open_amount"), "{e}");
    }
}
