//! `sales`: net revenue, quantity, orders and gross margin of the invoices issued in the
//! period less the credit notes issued in it, by day/week/month/quarter and by customer,
//! item, item group, channel and partner.
//!
//! The report reads the sales aggregates (`store/sales.rs`: per day and key, kept in the
//! transaction that writes each invoice and credit note), never the documents, so its cost is
//! the aggregate rows of the period, not the book. Revenue is the invoice lines' net (before
//! tax) less the credit notes' lines, so the report of a period adds up to the `net_total` of
//! that period's invoices less its credit notes to the cent ([`tie_out`], and the tie-out
//! tests on both backends). Cost is the item's `cost` in the master data (now, like the item
//! group); margin counts only the lines whose item has a cost (`costed net` shows how much
//! revenue that is), and is n/a where no line has one. `orders` counts each order with its
//! first invoice; `invoices` and `credit notes` count documents. By item the counts are
//! kept per item (an invoice with two items counts for each; orders are n/a); by item group
//! they are n/a (an invoice may hold several items of one group). The currency is always a
//! key: amounts in different currencies are never added. A document the aggregates could not
//! count fails the report naming it.

use super::{ChartKind, Dim, Failure, Params, Period, Report, ReportError, add, percent, read};
use crate::store::Tx;
use crate::store::sales::{SalesQuery, SalesSum, SalesTable};
use ordo_contract::Invoice;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Every dimension but the reconciliation's (statement, rule), which come last.
const DIMS: &[Dim] = Dim::ALL.split_at(9).0;

/// What the report reads of an item (other fields ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemFacts {
    #[serde(default)]
    pub cost: Option<Decimal>,
    #[serde(default)]
    pub group: Option<String>,
}

/// Rows of one aggregate table grouped by `cols` (their names, as the table's columns).
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    pub cols: Vec<&'static str>,
    pub rows: Vec<SalesSum>,
}

impl Grouped {
    fn get<'a>(&self, row: &'a SalesSum, col: &str) -> Option<&'a str> {
        let i = self.cols.iter().position(|c| *c == col)?;
        row.keys.get(i).map(String::as_str)
    }
}

#[derive(Default)]
struct Acc {
    net: Decimal,
    quantity: Decimal,
    item_invoices: Decimal,
    counts: Option<[Decimal; 3]>,
    costed_net: Decimal,
    cost: Decimal,
    costed: bool,
}

fn column(d: Dim) -> &'static str {
    match d {
        Dim::Customer => "customer",
        Dim::Channel => "channel",
        Dim::Partner => "partner",
        Dim::Item | Dim::ItemGroup => "item",
        other => other.name(),
    }
}

/// What `run` asks the store: the lines (per item) and, unless grouped by item or item
/// group, the document counts.
fn queries(params: &Params, dims: &[Dim]) -> (SalesQuery, Option<SalesQuery>) {
    let doc_dims: Vec<&'static str> = dims
        .iter()
        .filter(|d| matches!(d, Dim::Customer | Dim::Channel | Dim::Partner))
        .map(|d| column(*d))
        .collect();
    let mut group: Vec<&'static str> = dims
        .iter()
        .filter(|d| matches!(d, Dim::Period(_)))
        .map(|d| d.name())
        .collect();
    group.push("currency");
    group.extend(&doc_dims);
    let by_item = dims.iter().any(|d| matches!(d, Dim::Item | Dim::ItemGroup));
    let counts = (!by_item).then(|| SalesQuery {
        table: if doc_dims.is_empty() {
            SalesTable::Totals
        } else {
            SalesTable::Docs
        },
        group: group.clone(),
        from: params.from,
        to: params.to,
    });
    group.push("item");
    let lines = SalesQuery {
        table: if doc_dims.is_empty() {
            SalesTable::Items
        } else {
            SalesTable::Lines
        },
        group,
        from: params.from,
        to: params.to,
    };
    (lines, counts)
}

/// The report over the aggregates' rows: `lines` grouped by the period, currency, the
/// document dimensions asked and item; `counts` (absent by item or item group) by the same
/// without item.
pub fn compute(
    params: &Params,
    lines: &Grouped,
    counts: Option<&Grouped>,
    items: &HashMap<String, ItemFacts>,
) -> Result<Report, ReportError> {
    let dims = params.dims(DIMS, &[Dim::Period(Period::Month)])?;
    let mut cols: Vec<&str> = vec!["currency"];
    cols.extend(dims.iter().map(|d| d.name()));
    let keys = cols.len();
    cols.extend([
        "net revenue",
        "quantity",
        "orders",
        "invoices",
        "credit notes",
        "costed net",
        "cost",
        "gross margin",
        "margin %",
    ]);
    let mut rep = Report::new("sales", "Sales", params, &cols, keys);
    rep.by = dims.iter().map(|d| d.name().to_string()).collect();
    let by_item = dims.contains(&Dim::Item);
    let by_group = dims.contains(&Dim::ItemGroup);
    let mut groups: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
    let key_of = |g: &Grouped, row: &SalesSum| -> Result<Vec<String>, ReportError> {
        let at = || ReportError::new("sales aggregates", "a grouped row lacks a key");
        let mut key = vec![g.get(row, "currency").ok_or_else(at)?.to_string()];
        for d in &dims {
            let v = g.get(row, column(*d)).ok_or_else(at)?;
            key.push(match d {
                Dim::ItemGroup => items
                    .get(v)
                    .and_then(|i| i.group.clone())
                    .unwrap_or_else(|| "(none)".into()),
                Dim::Partner if v.is_empty() => "(none)".into(),
                _ => v.to_string(),
            });
        }
        Ok(key)
    };
    for row in &lines.rows {
        let key = key_of(lines, row)?;
        let sku = lines.get(row, "item").unwrap_or_default();
        let at = format!("sales aggregates: {}", key.join(" · "));
        let [net, qty, invoices] = row.figures[..] else {
            return Err(ReportError::new(at, "a line row lacks its figures"));
        };
        let acc = groups.entry(key).or_default();
        acc.net = add(acc.net, net, &at)?;
        acc.quantity = add(acc.quantity, qty, &at)?;
        acc.item_invoices = add(acc.item_invoices, invoices, &at)?;
        if let Some(cost) = items.get(sku).and_then(|i| i.cost) {
            let c = cost
                .checked_mul(qty)
                .ok_or_else(|| ReportError::new(&at, "cost × quantity overflows"))?;
            acc.cost = add(acc.cost, c, &at)?;
            acc.costed_net = add(acc.costed_net, net, &at)?;
            acc.costed = true;
        }
    }
    for row in counts.map(|g| &g.rows[..]).unwrap_or_default() {
        let g = counts.unwrap_or(lines);
        let key = key_of(g, row)?;
        let at = format!("sales aggregates: {}", key.join(" · "));
        let [inv, cn, orders] = row.figures[..] else {
            return Err(ReportError::new(at, "a count row lacks its figures"));
        };
        let acc = groups.entry(key).or_default();
        let c = acc.counts.get_or_insert([Decimal::ZERO; 3]);
        c[0] = add(c[0], inv, &at)?;
        c[1] = add(c[1], cn, &at)?;
        c[2] = add(c[2], orders, &at)?;
    }
    for (key, a) in groups {
        let mut row: Vec<super::Cell> = key.into_iter().map(Into::into).collect();
        let margin = if a.costed {
            Some(
                a.costed_net
                    .checked_sub(a.cost)
                    .ok_or_else(|| ReportError::new("gross margin", "overflows"))?,
            )
        } else {
            None
        };
        let invoices = match a.counts {
            Some(c) => Some(c[0]),
            None if by_item && !by_group => Some(a.item_invoices),
            None => None,
        };
        row.extend([
            a.net.into(),
            a.quantity.into(),
            a.counts.map(|c| c[2]).into(),
            invoices.into(),
            a.counts.map(|c| c[1]).into(),
            a.costed_net.into(),
            if a.costed {
                a.cost.into()
            } else {
                super::Cell::NA
            },
            margin.into(),
            match margin {
                Some(m) => percent(m, a.costed_net),
                None => super::Cell::NA,
            },
        ]);
        rep.rows.push(row);
    }
    rep.chart("Net revenue", ChartKind::Bar, "net revenue");
    if counts.is_some() {
        rep.chart("Orders", ChartKind::Bar, "orders");
    }
    rep.notes.push(
        "net revenue: invoice lines before tax less credit note lines, by issue date; orders \
         count with their first invoice; gross margin counts the lines whose item has a cost \
         (costed net), n/a where none has; by item the counts are per item, orders n/a; by \
         item group orders and documents are n/a"
            .into(),
    );
    Ok(rep)
}

/// Σ `net_total` per currency of the invoices issued in the period less the credit notes
/// issued in it, from the documents: what the report must add up to.
pub fn tie_out(
    params: &Params,
    invoices: &[Invoice],
    credit_notes: &[Invoice],
) -> Result<BTreeMap<String, Decimal>, ReportError> {
    let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
    for (docs, sign) in [
        (invoices, Decimal::ONE),
        (credit_notes, Decimal::NEGATIVE_ONE),
    ] {
        for inv in docs.iter().filter(|i| params.contains(i.issue_date)) {
            let t = out.entry(inv.currency.clone()).or_default();
            *t = add(
                *t,
                sign * inv.net_total,
                &format!("document '{}'", inv.number),
            )?;
        }
    }
    Ok(out)
}

/// The stored invoices (`kind` `invoice`) or credit notes (`credit_note`), typed (a missing
/// field is an error naming the document).
pub async fn documents(tx: &mut dyn Tx, kind: &str) -> Result<Vec<Invoice>, Failure> {
    let docs = tx.get_documents(kind, "").await?;
    let mut out = Vec::with_capacity(docs.len());
    for (k, v) in &docs {
        out.push(read::<Invoice>(kind, k, v)?);
    }
    Ok(out)
}

pub async fn run(tx: &mut dyn Tx, params: &Params) -> Result<Report, Failure> {
    let dims = params.dims(DIMS, &[Dim::Period(Period::Month)])?;
    let problems = tx.sales_problems().await?;
    if let Some((kind, id, message)) = problems.first() {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(ReportError::new(
            format!("sales aggregates: {} '{id}'", kind.replace('_', " ")),
            format!("{message}{more}"),
        )
        .into());
    }
    let (lq, cq) = queries(params, &dims);
    let lines = Grouped {
        cols: lq.group.clone(),
        rows: tx.sales_sums(&lq).await?,
    };
    let counts = match cq {
        Some(q) => Some(Grouped {
            cols: q.group.clone(),
            rows: tx.sales_sums(&q).await?,
        }),
        None => None,
    };
    let mut items = HashMap::new();
    for (k, v) in tx.get_documents("item", "").await? {
        let f: ItemFacts = read("item", &k, &v)?;
        items.insert(k, f);
    }
    Ok(compute(params, &lines, counts.as_ref(), &items)?)
}

/// Items and orders as the report reads them, for the tests of other modules.
#[cfg(test)]
pub fn facts(v: &serde_json::Value) -> ItemFacts {
    serde_json::from_value(v.clone()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sales::{SalesBuffer, StoredDoc, derive};
    use rust_decimal::dec;
    use serde_json::{Value, json};
    use std::collections::HashSet;

    fn doc(
        number: &str,
        order: &str,
        customer: &str,
        date: &str,
        lines: &[(&str, &str, &str)],
    ) -> String {
        let lines: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, q, net))| json!({ "line_no": i + 1, "sku": sku, "quantity": q.parse::<Decimal>().unwrap(),
                "uom": "EA", "unit_price": 1, "net_amount": net.parse::<Decimal>().unwrap(), "tax_rate": 0, "tax_amount": 0 }))
            .collect();
        let net: Decimal = lines
            .iter()
            .map(|l| {
                l["net_amount"]
                    .to_string()
                    .trim_matches('"')
                    .parse::<Decimal>()
                    .unwrap()
            })
            .sum();
        json!({ "number": number, "order_id": order, "customer_id": customer,
            "issue_date": date, "due_date": date, "currency": "EUR",
            "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 }, "lines": lines,
            "net_total": net, "tax_total": 0, "total": net })
        .to_string()
    }

    /// Three invoices (O2 invoiced twice) and a credit note on I3, with the orders and items.
    /// Documents, orders (as stored text) and items.
    type Book = (
        Vec<StoredDoc>,
        HashMap<String, String>,
        HashMap<String, ItemFacts>,
    );

    fn book() -> Book {
        let docs = vec![
            (
                "invoice",
                "I1".to_string(),
                doc(
                    "I1",
                    "O1",
                    "C1",
                    "2026-01-05",
                    &[("A", "2", "20.10"), ("B", "1", "5.01")],
                ),
            ),
            (
                "invoice",
                "I2".to_string(),
                doc("I2", "O2", "C2", "2026-01-31", &[("A", "1", "10.05")]),
            ),
            (
                "invoice",
                "I3".to_string(),
                doc("I3", "O2", "C2", "2026-02-01", &[("B", "3", "15.03")]),
            ),
            (
                "credit_note",
                "CN1".to_string(),
                doc("CN1", "O2", "C2", "2026-02-03", &[("B", "1", "5.01")]),
            ),
        ];
        let orders = HashMap::from([
            ("O1".to_string(), json!({ "channel": "api" }).to_string()),
            (
                "O2".to_string(),
                json!({ "channel": "edi", "partner": "ACME" }).to_string(),
            ),
        ]);
        let items = HashMap::from([
            (
                "A".to_string(),
                facts(&json!({ "cost": 4, "group": "tools" })),
            ),
            ("B".to_string(), facts(&json!({}))),
        ]);
        (docs, orders, items)
    }

    /// The report as `run` makes it, with the store's grouped read done in memory.
    fn report(
        p: &Params,
        docs: &[StoredDoc],
        orders: &HashMap<String, String>,
        items: &HashMap<String, ItemFacts>,
    ) -> Result<Report, ReportError> {
        let refs: Vec<_> = docs
            .iter()
            .map(|(k, i, t)| (*k, i.as_str(), t.as_str()))
            .collect();
        let d = derive(&refs, orders, &HashSet::new());
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        let mut buf = SalesBuffer::default();
        for (_, _, _, e) in &d.entries {
            buf.add(e).unwrap();
        }
        let dims = p.dims(DIMS, &[Dim::Period(Period::Month)])?;
        let (lq, cq) = queries(p, &dims);
        let lines = Grouped {
            cols: lq.group.clone(),
            rows: buf.sums(&lq),
        };
        let counts = cq.map(|q| Grouped {
            cols: q.group.clone(),
            rows: buf.sums(&q),
        });
        compute(p, &lines, counts.as_ref(), items)
    }

    fn typed(docs: &[StoredDoc], kind: &str) -> Vec<Invoice> {
        docs.iter()
            .filter(|d| d.0 == kind)
            .map(|d| serde_json::from_str(&d.2).unwrap())
            .collect()
    }

    #[test]
    fn months_add_up_to_the_invoices_less_credit_notes_and_margin_counts_costed_lines() {
        let (docs, orders, items) = book();
        let p = Params::default();
        let r = report(&p, &docs, &orders, &items).unwrap();
        assert_eq!(r.rows.len(), 2);
        let net = r.column("net revenue").unwrap();
        assert_eq!(r.rows[0][1], "2026-01".into());
        assert_eq!(r.rows[0][net], dec!(35.16).into());
        // February: I3 less CN1
        assert_eq!(r.rows[1][net], dec!(10.02).into());
        assert_eq!(r.rows[0][r.column("orders").unwrap()], 2usize.into());
        // O2 was opened in January: February counts no order, one invoice, one credit note
        assert_eq!(r.rows[1][r.column("orders").unwrap()], 0usize.into());
        assert_eq!(r.rows[1][r.column("invoices").unwrap()], 1usize.into());
        assert_eq!(r.rows[1][r.column("credit notes").unwrap()], 1usize.into());
        // A: 3 units at cost 4 against 30.15 of costed net
        assert_eq!(
            r.rows[0][r.column("gross margin").unwrap()],
            dec!(18.15).into()
        );
        assert_eq!(
            r.rows[1][r.column("gross margin").unwrap()],
            super::super::Cell::NA
        );
        let total: Decimal = r.rows.iter().map(|row| row[net].num().unwrap()).sum();
        let tie = tie_out(&p, &typed(&docs, "invoice"), &typed(&docs, "credit_note")).unwrap();
        assert_eq!(total, tie["EUR"]);
    }

    #[test]
    fn by_channel_partner_and_group_within_a_period() {
        let (docs, orders, items) = book();
        let p = Params::parse(
            Some("2026-01-10"),
            Some("2026-02-28"),
            Some("channel,partner,item-group"),
        )
        .unwrap();
        let r = report(&p, &docs, &orders, &items).unwrap();
        let labels: Vec<String> = r.rows.iter().map(|row| r.label(row)).collect();
        assert_eq!(
            labels,
            ["EUR · edi · ACME · (none)", "EUR · edi · ACME · tools"]
        );
        // by item group the document counts cannot be split: n/a, never a guess
        assert_eq!(
            r.rows[0][r.column("invoices").unwrap()],
            super::super::Cell::NA
        );
        let tie = tie_out(&p, &typed(&docs, "invoice"), &typed(&docs, "credit_note")).unwrap();
        assert_eq!(tie["EUR"], dec!(20.07));
        let net = r.column("net revenue").unwrap();
        let total: Decimal = r.rows.iter().map(|row| row[net].num().unwrap()).sum();
        assert_eq!(total, tie["EUR"]);
        // by item, invoices count per item
        let p = Params::parse(None, None, Some("item")).unwrap();
        let r = report(&p, &docs, &orders, &items).unwrap();
        assert_eq!(r.rows[0][r.column("invoices").unwrap()], 2usize.into());
        assert_eq!(r.rows[1][r.column("invoices").unwrap()], 2usize.into());
        assert_eq!(
            r.rows[0][r.column("orders").unwrap()],
            super::super::Cell::NA
        );
    }

    #[test]
    fn an_empty_period_is_no_rows_and_a_lost_order_is_named() {
        let (docs, mut orders, items) = book();
        let p = Params::parse(Some("2030-01-01"), None, None).unwrap();
        assert!(report(&p, &docs, &orders, &items).unwrap().rows.is_empty());
        orders.remove("O1");
        let refs: Vec<_> = docs
            .iter()
            .map(|(k, i, t)| (*k, i.as_str(), t.as_str()))
            .collect();
        let d = derive(&refs, &orders, &HashSet::new());
        assert_eq!(d.problems.len(), 1);
        assert!(
            d.problems[0].2.contains("I1") && d.problems[0].2.contains("O1"),
            "{:?}",
            d.problems
        );
    }
}
