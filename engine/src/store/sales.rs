//! The sales aggregates (migration 0020): what the `sales` report reads, per day and key,
//! instead of every invoice ever issued.
//!
//! **Invariant (the aggregates equal the documents):** the first write of an `invoice` or
//! `credit_note` document counts it, in the same transaction, through the one derivation
//! [`derive`]: the document is marked in `sales_counted` (its primary key: a rewrite, such as a
//! payment or a dunning level, finds the mark and adds nothing; a concurrent first write on
//! PostgreSQL waits on the key and then adds nothing), and its lines (a credit note's
//! negated) are added to four tables: per day × currency × item, per day × every key
//! (customer, item, channel, partner), and the document counts per day × currency and per
//! day × document key. PostgreSQL counts in `put_document`/`claim_document`, SQLite where
//! buffered documents are flushed; both buffer the additions in the transaction and upsert
//! them, keys in order, before a savepoint or the commit, so a rollback undoes the document
//! and its figures together and no two transactions lock aggregate rows in opposite orders.
//! The lines of an invoice never change after it is issued (payments, dunning and credit
//! notes rewrite only its collection state; a credit note is a document of its own).
//!
//! An order is counted with its first invoice: the first counted, which is the earliest by
//! (issue date, number) because numbers come from a gapless series in issue order; a rebuild
//! counts in that order. Channel and partner come from the stored `order`.
//!
//! Amounts and quantities are kept exact as integers (whole units and billionths, see
//! [`split`]) so SQL `SUM` adds them without rounding on both backends; a document whose value
//! has more than 9 decimals, that cannot be read as an invoice or has no stored order is not
//! counted but kept in `sales_problems` with its located message, and the report fails naming
//! it (a later write of the document counts it once it reads).
//!
//! `ordo report rebuild` ([`SalesRecords::rebuild_sales`]) recomputes everything from the
//! documents (stores from before the migration are rebuilt when they open, by the `kv` mark
//! `sales.rebuild`); `ordo report check` ([`SalesRecords::sales_check`]) compares the tables
//! with a recomputation in memory.

use super::Result;
use async_trait::async_trait;
use chrono::NaiveDate;
use ordo_contract::Invoice;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The `kv` key migration 0020 sets so the store counts the documents stored before it.
pub const REBUILD_MARK: &str = "sales.rebuild";
/// The document kinds the aggregates count: invoices add, credit notes subtract.
pub const KINDS: [&str; 2] = ["invoice", "credit_note"];
const NANOS: i64 = 1_000_000_000;

/// Whether this process counts documents into the aggregates (and keeps the aging and DSO
/// indexes, store/openitems.rs): always, except in `ordo bench o2c --no-sales-aggregates`,
/// which measures what they cost on a store it throws away.
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Switches counting off (or on again) for the whole process: for the benchmark only; a store
/// written without counting needs `ordo report rebuild`.
pub fn count_in_this_process(on: bool) {
    COUNTING.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// See [`count_in_this_process`].
pub fn counting() -> bool {
    COUNTING.load(std::sync::atomic::Ordering::Relaxed)
}

/// What the aggregates read of an order.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderFacts {
    /// As `ordo_contract::Order::channel`: an order stored without one (written by a tool or a
    /// test harness rather than a channel) has the empty channel, not an error.
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub partner: Option<String>,
}

/// One document's figures: its lines summed per item (negated for a credit note).
#[derive(Debug, Clone, PartialEq)]
pub struct SalesEntry {
    pub day: NaiveDate,
    pub currency: String,
    pub customer: String,
    pub channel: String,
    /// Empty when the order came without a trading partner.
    pub partner: String,
    pub credit: bool,
    pub opens_order: bool,
    /// Per item: net amount and quantity.
    pub items: BTreeMap<String, (Decimal, Decimal)>,
}

/// `d` as whole units and billionths (same sign), exactly; a value with more than 9
/// decimals, or past ±9.2·10¹⁸ units, is refused.
pub fn split(d: Decimal) -> std::result::Result<(i64, i64), String> {
    let d = d.normalize();
    if d.scale() > 9 {
        return Err(format!("{d} has more than 9 decimals"));
    }
    let whole = d.trunc();
    let units = i64::try_from(whole).map_err(|_| format!("{d} is too large"))?;
    let frac = (d - whole) * Decimal::from(NANOS);
    let nanos = i64::try_from(frac).map_err(|_| format!("{d}: fraction"))?;
    Ok((units, nanos))
}

/// The inverse of [`split`] for summed parts (the billionths may exceed one unit).
pub fn join(units: i64, nanos: i64) -> Option<Decimal> {
    Decimal::from(units).checked_add(Decimal::new(nanos, 9))
}

/// Reads a document of `KINDS` for the aggregates.
pub fn read_invoice(kind: &str, id: &str, text: &str) -> std::result::Result<Invoice, String> {
    ordo_contract::read_doc_text::<Invoice>(kind, id, text)
}

/// The entry of one document (see the module docs): lines summed per item with checked
/// arithmetic, each value representable exactly.
pub fn entry(
    kind: &str,
    inv: &Invoice,
    order: &OrderFacts,
    opens_order: bool,
) -> std::result::Result<SalesEntry, String> {
    let credit = kind == "credit_note";
    let label = format!("{} '{}'", kind.replace('_', " "), inv.number);
    let mut items: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for l in &inv.lines {
        let at = |f: &str, e: String| format!("{label}: lines[{}].{f}: {e}", l.line_no);
        split(l.net_amount).map_err(|e| at("net_amount", e))?;
        split(l.quantity).map_err(|e| at("quantity", e))?;
        let (net, qty) = if credit {
            (-l.net_amount, -l.quantity)
        } else {
            (l.net_amount, l.quantity)
        };
        let acc = items.entry(l.sku.clone()).or_default();
        acc.0 = acc
            .0
            .checked_add(net)
            .ok_or_else(|| at("net_amount", "sum overflows".into()))?;
        acc.1 = acc
            .1
            .checked_add(qty)
            .ok_or_else(|| at("quantity", "sum overflows".into()))?;
    }
    Ok(SalesEntry {
        day: inv.issue_date,
        currency: inv.currency.clone(),
        customer: inv.customer_id.clone(),
        channel: order.channel.clone(),
        partner: order.partner.clone().unwrap_or_default(),
        credit,
        opens_order: opens_order && !credit,
        items,
    })
}

/// A document to count: (kind, id, stored text).
pub type DocText<'a> = (&'a str, &'a str, &'a str);
/// A document read whole for a rebuild or a check: (kind, id, stored text).
pub type StoredDoc = (&'static str, String, String);

/// What [`derive`] makes of documents not yet counted.
#[derive(Debug, Default)]
pub struct Derived {
    /// (kind, id, order id, entry), in counting order.
    pub entries: Vec<(String, String, String, SalesEntry)>,
    /// (kind, id, located message).
    pub problems: Vec<(String, String, String)>,
}

/// The one derivation of the aggregates from documents: `docs` not counted yet, the stored
/// orders they name (`orders`, by id, as text) and the orders some counted invoice opened
/// already (`opened`). Invoices are taken by (issue date, number) so the first of an order
/// opens it.
pub fn derive(
    docs: &[DocText<'_>],
    orders: &HashMap<String, String>,
    opened: &HashSet<String>,
) -> Derived {
    let mut out = Derived::default();
    let mut read: Vec<(&str, &str, Invoice)> = Vec::new();
    for (kind, id, text) in docs {
        match read_invoice(kind, id, text) {
            Ok(inv) => read.push((kind, id, inv)),
            Err(e) => out.problems.push((kind.to_string(), id.to_string(), e)),
        }
    }
    read.sort_by(|a, b| (a.2.issue_date, a.1.len(), a.1).cmp(&(b.2.issue_date, b.1.len(), b.1)));
    let mut opening: HashSet<String> = HashSet::new();
    for (kind, id, inv) in read {
        let order = match orders.get(&inv.order_id) {
            None => Err(format!(
                "{} '{id}': order_id: no stored order '{}'",
                kind.replace('_', " "),
                inv.order_id
            )),
            Some(text) => ordo_contract::read_doc_text::<OrderFacts>("order", &inv.order_id, text),
        };
        let opens = kind == "invoice"
            && !opened.contains(&inv.order_id)
            && !opening.contains(&inv.order_id);
        match order.and_then(|o| entry(kind, &inv, &o, opens)) {
            Ok(e) => {
                if e.opens_order {
                    opening.insert(inv.order_id.clone());
                }
                out.entries
                    .push((kind.to_string(), id.to_string(), inv.order_id.clone(), e));
            }
            Err(e) => out.problems.push((kind.to_string(), id.to_string(), e)),
        }
    }
    out
}

/// Sorts documents (kind, id, text) by (issue date, number) as [`derive`] takes them, so a
/// derivation in chunks opens each order with its first invoice; an unreadable date sorts
/// first (it is a problem row either way).
pub fn issue_order(docs: &mut [StoredDoc]) {
    #[derive(Deserialize)]
    struct Dated {
        issue_date: NaiveDate,
    }
    let mut keyed: Vec<(Option<NaiveDate>, StoredDoc)> = docs
        .iter_mut()
        .map(|d| {
            let day = serde_json::from_str::<Dated>(&d.2)
                .ok()
                .map(|x| x.issue_date);
            (day, std::mem::take(d))
        })
        .collect();
    keyed.sort_by(|a, b| (a.0, a.1.1.len(), &a.1.1).cmp(&(b.0, b.1.1.len(), &b.1.1)));
    for (slot, (_, d)) in docs.iter_mut().zip(keyed) {
        *slot = d;
    }
}

/// An aggregate table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SalesTable {
    /// day × currency × item: net, quantity, invoices holding the item.
    Items,
    /// day × currency × customer × item × channel × partner: the same.
    Lines,
    /// day × currency: invoices, credit notes, orders.
    Totals,
    /// day × currency × customer × channel × partner: the same.
    Docs,
}

impl SalesTable {
    pub const ALL: [SalesTable; 4] = [
        SalesTable::Items,
        SalesTable::Lines,
        SalesTable::Totals,
        SalesTable::Docs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SalesTable::Items => "sales_items_day",
            SalesTable::Lines => "sales_lines_day",
            SalesTable::Totals => "sales_totals_day",
            SalesTable::Docs => "sales_docs_day",
        }
    }

    /// The key columns after `day, week, month, quarter`.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            SalesTable::Items => &["currency", "item"],
            SalesTable::Lines => &["currency", "customer", "item", "channel", "partner"],
            SalesTable::Totals => &["currency"],
            SalesTable::Docs => &["currency", "customer", "channel", "partner"],
        }
    }

    /// The stored integer columns.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            SalesTable::Items | SalesTable::Lines => &[
                "net_units",
                "net_nanos",
                "qty_units",
                "qty_nanos",
                "invoices",
            ],
            SalesTable::Totals | SalesTable::Docs => &["invoices", "credit_notes", "orders"],
        }
    }

    /// The figures a row holds, from its integer columns (`net`, `quantity` joined).
    pub fn figures(self, ints: &[i64]) -> Option<Vec<Decimal>> {
        match self {
            SalesTable::Items | SalesTable::Lines => Some(vec![
                join(*ints.first()?, *ints.get(1)?)?,
                join(*ints.get(2)?, *ints.get(3)?)?,
                Decimal::from(*ints.get(4)?),
            ]),
            _ => Some(ints.iter().map(|n| Decimal::from(*n)).collect()),
        }
    }
}

/// Exact sums per key, added in memory before they reach a table (a transaction's buffer, a
/// rebuild, a check's recomputation).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SalesBuffer {
    /// (table, day, key values) → figures as [`SalesTable::figures`] orders them.
    pub rows: BTreeMap<(SalesTable, NaiveDate, Vec<String>), Vec<Decimal>>,
}

impl SalesBuffer {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn bump(
        &mut self,
        table: SalesTable,
        day: NaiveDate,
        key: Vec<String>,
        add: &[Decimal],
    ) -> std::result::Result<(), String> {
        let row = self
            .rows
            .entry((table, day, key))
            .or_insert_with(|| vec![Decimal::ZERO; add.len()]);
        for (r, a) in row.iter_mut().zip(add) {
            *r = r
                .checked_add(*a)
                .ok_or_else(|| format!("{}: sum overflows", table.name()))?;
        }
        Ok(())
    }

    /// Adds one document's entry to every table.
    pub fn add(&mut self, e: &SalesEntry) -> std::result::Result<(), String> {
        let invoice = Decimal::from(!e.credit as i64);
        for (item, (net, qty)) in &e.items {
            let f = [*net, *qty, invoice];
            self.bump(
                SalesTable::Items,
                e.day,
                vec![e.currency.clone(), item.clone()],
                &f,
            )?;
            self.bump(
                SalesTable::Lines,
                e.day,
                vec![
                    e.currency.clone(),
                    e.customer.clone(),
                    item.clone(),
                    e.channel.clone(),
                    e.partner.clone(),
                ],
                &f,
            )?;
        }
        let c = [
            invoice,
            Decimal::from(e.credit as i64),
            Decimal::from(e.opens_order as i64),
        ];
        self.bump(SalesTable::Totals, e.day, vec![e.currency.clone()], &c)?;
        self.bump(
            SalesTable::Docs,
            e.day,
            vec![
                e.currency.clone(),
                e.customer.clone(),
                e.channel.clone(),
                e.partner.clone(),
            ],
            &c,
        )
    }

    /// The integer columns of a row's figures ([`SalesTable::columns`]).
    pub fn ints(table: SalesTable, f: &[Decimal]) -> std::result::Result<Vec<i64>, String> {
        match table {
            SalesTable::Items | SalesTable::Lines => {
                let (nu, nn) = split(f[0])?;
                let (qu, qn) = split(f[1])?;
                let inv = i64::try_from(f[2]).map_err(|e| e.to_string())?;
                Ok(vec![nu, nn, qu, qn, inv])
            }
            _ => f
                .iter()
                .map(|d| i64::try_from(*d).map_err(|e| e.to_string()))
                .collect(),
        }
    }
}

#[cfg(test)]
impl SalesBuffer {
    /// The grouped read of the store done in memory, for the report's unit tests.
    pub fn sums(&self, q: &SalesQuery) -> Vec<SalesSum> {
        let mut out: BTreeMap<Vec<String>, Vec<Decimal>> = BTreeMap::new();
        for ((t, day, key), f) in &self.rows {
            if *t != q.table || q.from.is_some_and(|d| *day < d) || q.to.is_some_and(|d| *day > d) {
                continue;
            }
            let keys: Vec<String> = q
                .group
                .iter()
                .map(|g| match *g {
                    "day" => crate::reports::Period::Day.key(*day),
                    "week" => crate::reports::Period::Week.key(*day),
                    "month" => crate::reports::Period::Month.key(*day),
                    "quarter" => crate::reports::Period::Quarter.key(*day),
                    c => key[t.keys().iter().position(|k| *k == c).unwrap()].clone(),
                })
                .collect();
            let acc = out
                .entry(keys)
                .or_insert_with(|| vec![Decimal::ZERO; f.len()]);
            for (a, x) in acc.iter_mut().zip(f) {
                *a += *x;
            }
        }
        out.into_iter()
            .map(|(keys, figures)| SalesSum { keys, figures })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn values_split_exactly_or_are_refused() {
        for d in [
            dec!(0),
            dec!(12.345),
            dec!(-0.000000001),
            dec!(99999999.99),
            dec!(-7.5),
        ] {
            let (u, n) = split(d).unwrap();
            assert_eq!(join(u, n).unwrap(), d);
        }
        assert_eq!(join(1, 1_500_000_000).unwrap(), dec!(2.5));
        assert!(
            split(dec!(0.0000000001))
                .unwrap_err()
                .contains("9 decimals")
        );
        assert!(split(Decimal::MAX).unwrap_err().contains("too large"));
    }

    #[test]
    fn an_order_opens_with_its_first_invoice_and_bad_documents_are_named() {
        let inv = |n: &str, date: &str, qty: &str| {
            format!(
                r#"{{"number":"{n}","order_id":"O1","customer_id":"C1","issue_date":"{date}","due_date":"{date}","currency":"EUR",
                "terms":{{"net_days":30,"discount_percent":0,"discount_days":0}},"lines":[{{"line_no":1,"sku":"A","quantity":{qty},
                "uom":"EA","unit_price":1,"net_amount":1.5,"tax_rate":0,"tax_amount":0}}],"net_total":1.5,"tax_total":0,"total":1.5}}"#
            )
        };
        let (a, b, c) = (
            inv("INV-10", "2026-01-02", "1"),
            inv("INV-9", "2026-01-02", "1"),
            inv("INV-11", "2026-01-01", "0.0000000001"),
        );
        let orders = HashMap::from([("O1".to_string(), r#"{"channel":"api"}"#.to_string())]);
        let docs = [
            ("invoice", "INV-10", a.as_str()),
            ("invoice", "INV-9", b.as_str()),
            ("invoice", "INV-11", c.as_str()),
            ("invoice", "X", "{}"),
        ];
        let d = derive(&docs, &orders, &HashSet::new());
        let opened: Vec<(&str, bool)> = d
            .entries
            .iter()
            .map(|e| (e.1.as_str(), e.3.opens_order))
            .collect();
        assert_eq!(opened, [("INV-9", true), ("INV-10", false)]);
        assert_eq!(d.problems.len(), 2);
        assert!(
            d.problems
                .iter()
                .any(|p| p.1 == "INV-11" && p.2.contains("lines[1].quantity")),
            "{:?}",
            d.problems
        );
        assert!(
            d.problems
                .iter()
                .any(|p| p.1 == "X" && p.2.contains("invoice 'X'")),
            "{:?}",
            d.problems
        );
        // an order a counted invoice opened already is not opened again
        let d = derive(&docs[..1], &orders, &HashSet::from(["O1".to_string()]));
        assert!(!d.entries[0].3.opens_order);
        // a credit note subtracts and never opens
        let d = derive(
            &[("credit_note", "CN-1", a.as_str())],
            &orders,
            &HashSet::new(),
        );
        let e = &d.entries[0].3;
        assert!(e.credit && !e.opens_order);
        assert_eq!(e.items["A"], (dec!(-1.5), dec!(-1)));
    }
}

/// The period columns every table has, as `--by` names them.
pub const PERIODS: [&str; 4] = ["day", "week", "month", "quarter"];

/// A grouped read of one table: its rows in `[from, to]` summed by `group` (period and key
/// columns of that table, checked against its names).
#[derive(Debug, Clone, PartialEq)]
pub struct SalesQuery {
    pub table: SalesTable,
    pub group: Vec<&'static str>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One grouped row: the `group` values, then the table's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SalesSum {
    pub keys: Vec<String>,
    pub figures: Vec<Decimal>,
}

#[async_trait]
pub trait SalesRecords: Send {
    /// The table's rows grouped as `q` asks (this transaction's additions included).
    async fn sales_sums(&mut self, q: &SalesQuery) -> Result<Vec<SalesSum>>;
    /// Documents that could not be counted, as (kind, id, message); a pending rebuild is one
    /// too.
    async fn sales_problems(&mut self) -> Result<Vec<(String, String, String)>>;
    /// Empties the aggregates and counts every stored invoice and credit note again; returns
    /// how many documents were read. On PostgreSQL it first locks `sales_counted`, so steps
    /// counting documents meanwhile wait and then add to the rebuilt figures.
    async fn rebuild_sales(&mut self) -> Result<usize>;
    /// [`SalesRecords::rebuild_sales`] when the migration's mark is set; removes the mark.
    async fn rebuild_sales_if_marked(&mut self) -> Result<usize>;
    /// Recomputes the aggregates from the documents in memory and lists every row that
    /// differs from the tables (empty: they agree).
    async fn sales_check(&mut self) -> Result<Vec<String>>;
}

/// The SQL of [`SalesRecords`] for one backend's transaction type.
macro_rules! impl_sales_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Counts the documents of `docs` (any kinds; others ignored) not yet counted:
            /// see the module docs of `store/sales.rs`.
            async fn count_sales_docs(&mut self, docs: &[$crate::store::sales::DocText<'_>]) -> Result<()> {
                use $crate::store::sales as s;
                let docs: Vec<s::DocText<'_>> = docs.iter().filter(|d| s::KINDS.contains(&d.0)).copied().collect();
                if docs.is_empty() || !s::counting() {
                    return Ok(());
                }
                let mut counted: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
                for kind in s::KINDS {
                    let ids: Vec<&str> = docs.iter().filter(|d| d.0 == kind).map(|d| d.1).collect();
                    for chunk in ids.chunks(500) {
                        let sql = format!(
                            "SELECT id FROM sales_counted WHERE kind = {} AND id IN {}",
                            param(1),
                            sales_params(2, chunk.len())
                        );
                        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(kind);
                        for id in chunk {
                            q = q.bind(*id);
                        }
                        for r in q.fetch_all(&mut *self.tx).await? {
                            counted.insert((kind.to_string(), r.try_get("id")?));
                        }
                    }
                }
                let fresh: Vec<s::DocText<'_>> = docs
                    .into_iter()
                    .filter(|d| !counted.contains(&(d.0.to_string(), d.1.to_string())))
                    .collect();
                if fresh.is_empty() {
                    return Ok(());
                }
                // The orders they name, and which of those a counted invoice opened.
                let mut order_ids: Vec<String> = Vec::new();
                for (kind, id, text) in &fresh {
                    if let Ok(inv) = s::read_invoice(kind, id, text) {
                        order_ids.push(inv.order_id);
                    }
                }
                order_ids.sort();
                order_ids.dedup();
                let mut orders = std::collections::HashMap::new();
                let mut opened = std::collections::HashSet::new();
                for chunk in order_ids.chunks(500) {
                    let sql = format!("SELECT id, body FROM documents WHERE kind = 'order' AND id IN {}", sales_params(1, chunk.len()));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        orders.insert(r.try_get::<String, _>("id")?, r.try_get::<String, _>("body")?);
                    }
                    let sql = format!("SELECT DISTINCT order_id FROM sales_counted WHERE kind = 'invoice' AND order_id IN {}", sales_params(1, chunk.len()));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        opened.insert(r.try_get::<String, _>("order_id")?);
                    }
                }
                let derived = s::derive(&fresh, &orders, &opened);
                // The marks decide: only a document this transaction marked adds figures.
                for chunk in derived.entries.chunks(300) {
                    let sql = values_sql("INSERT INTO sales_counted (kind, id, order_id)", chunk.len(), 3, " ON CONFLICT (kind, id) DO NOTHING RETURNING kind, id");
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (kind, id, order, _) in chunk {
                        q = q.bind(kind.as_str()).bind(id.as_str()).bind(order.as_str());
                    }
                    let mut won = std::collections::HashSet::new();
                    for r in q.fetch_all(&mut *self.tx).await? {
                        won.insert((r.try_get::<String, _>("kind")?, r.try_get::<String, _>("id")?));
                    }
                    for (kind, id, _, e) in chunk {
                        if won.contains(&(kind.clone(), id.clone())) {
                            self.sales_adds.add(e).map_err(|m| StoreError::Corrupt(format!("{kind} '{id}': {m}")))?;
                        }
                    }
                }
                let mut settled: Vec<(&str, &str)> = derived.entries.iter().map(|(k, i, _, _)| (k.as_str(), i.as_str())).collect();
                settled.extend(derived.problems.iter().map(|(k, i, _)| (k.as_str(), i.as_str())));
                for chunk in settled.chunks(300) {
                    let mut sql = String::from("DELETE FROM sales_problems WHERE ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push_str(" OR ");
                        }
                        sql.push_str(&format!("(kind = {} AND id = {})", param(2 * i + 1), param(2 * i + 2)));
                    }
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (k, i) in chunk {
                        q = q.bind(*k).bind(*i);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                for chunk in derived.problems.chunks(300) {
                    let sql = values_sql("INSERT INTO sales_problems (kind, id, problem)", chunk.len(), 3, "");
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (k, i, p) in chunk {
                        q = q.bind(k.as_str()).bind(i.as_str()).bind(p.as_str());
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            /// Upserts the buffered additions, keys in order (see the module docs).
            async fn flush_sales(&mut self) -> Result<()> {
                use $crate::store::sales::{PERIODS, SalesBuffer, SalesTable};
                if !self.sales_pending.is_empty() {
                    let pending = std::mem::take(&mut self.sales_pending);
                    let refs: Vec<$crate::store::sales::DocText<'_>> = pending.iter().map(|(k, i, t)| (k.as_str(), i.as_str(), t.as_str())).collect();
                    self.count_sales_docs(&refs).await?;
                }
                if self.sales_adds.is_empty() {
                    return Ok(());
                }
                // A day's aggregate row is shared by every invoice of that day: a contended row,
                // so it is upserted under the hot-rows lock like stock and number series
                // (transaction.rs), or two batches could deadlock on it and a stock row.
                self.take_hot_lock().await?;
                let adds = std::mem::take(&mut self.sales_adds);
                for table in SalesTable::ALL {
                    let rows: Vec<(&chrono::NaiveDate, &Vec<String>, Vec<i64>)> = adds
                        .rows
                        .iter()
                        .filter(|((t, _, _), _)| *t == table)
                        .map(|((_, day, key), f)| {
                            SalesBuffer::ints(table, f)
                                .map(|ints| (day, key, ints))
                                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", table.name())))
                        })
                        .collect::<Result<_>>()?;
                    let keys = table.keys();
                    let cols = table.columns();
                    let width = PERIODS.len() + keys.len() + cols.len();
                    let mut pk = vec!["day"];
                    pk.extend(keys);
                    let sets: Vec<String> = cols.iter().map(|c| format!("{c} = {t}.{c} + excluded.{c}", t = table.name())).collect();
                    let head = format!("INSERT INTO {} ({}, {}, {})", table.name(), PERIODS.join(", "), keys.join(", "), cols.join(", "));
                    let tail = format!(" ON CONFLICT ({}) DO UPDATE SET {}", pk.join(", "), sets.join(", "));
                    for chunk in rows.chunks(200) {
                        let sql = values_sql(&head, chunk.len(), width, &tail);
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (day, key, ints) in chunk {
                            for p in [$crate::reports::Period::Day, $crate::reports::Period::Week, $crate::reports::Period::Month, $crate::reports::Period::Quarter] {
                                q = q.bind(p.key(**day));
                            }
                            for k in key.iter() {
                                q = q.bind(k.as_str());
                            }
                            for n in ints {
                                q = q.bind(*n);
                            }
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                }
                Ok(())
            }

            /// Every row of `table`, as the buffer keys them.
            async fn sales_table(&mut self, table: $crate::store::sales::SalesTable) -> Result<$crate::store::sales::SalesBuffer> {
                let mut group = vec!["day"];
                group.extend(table.keys());
                let q = $crate::store::sales::SalesQuery { table, group, from: None, to: None };
                let mut out = $crate::store::sales::SalesBuffer::default();
                for row in $crate::store::sales::SalesRecords::sales_sums(self, &q).await? {
                    let mut keys = row.keys.into_iter();
                    let day: String = keys.next().unwrap_or_default();
                    let day = day.parse().map_err(|e| StoreError::Corrupt(format!("{}: day '{day}': {e}", table.name())))?;
                    out.rows.insert((table, day, keys.collect()), row.figures);
                }
                Ok(out)
            }
        }

        /// `(p_first, …)` for `n` parameters.
        fn sales_params(first: usize, n: usize) -> String {
            let ps: Vec<String> = (first..first + n).map(param).collect();
            format!("({})", ps.join(","))
        }

        #[async_trait]
        impl $crate::store::sales::SalesRecords for $tx {
            async fn sales_sums(&mut self, q: &$crate::store::sales::SalesQuery) -> Result<Vec<$crate::store::sales::SalesSum>> {
                use $crate::store::sales::PERIODS;
                self.flush_buffers().await?;
                for g in &q.group {
                    if !PERIODS.contains(g) && !q.table.keys().contains(g) {
                        return Err(StoreError::Corrupt(format!("{} has no column '{g}'", q.table.name())));
                    }
                }
                let cols = q.table.columns();
                let sums: Vec<String> = cols.iter().map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}")).collect();
                let mut select: Vec<String> = q.group.iter().map(|g| g.to_string()).collect();
                select.extend(sums);
                let mut sql = format!("SELECT {} FROM {} WHERE day >= {} AND day <= {}", select.join(", "), q.table.name(), param(1), param(2));
                if !q.group.is_empty() {
                    let g = q.group.join(", ");
                    sql.push_str(&format!(" GROUP BY {g} ORDER BY {g}"));
                }
                let from = q.from.map(|d| d.to_string()).unwrap_or_default();
                let to = q.to.map(|d| d.to_string()).unwrap_or_else(|| "9999-99-99".into());
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(&mut *self.tx).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut keys = Vec::with_capacity(q.group.len());
                    for g in &q.group {
                        keys.push(r.try_get::<String, _>(*g)?);
                    }
                    let mut ints = Vec::with_capacity(cols.len());
                    for c in cols {
                        // SUM over no rows is NULL: a group has rows, so only the ungrouped
                        // read of an empty range sees it.
                        match r.try_get::<Option<i64>, _>(*c)? {
                            Some(n) => ints.push(n),
                            None => break,
                        }
                    }
                    if ints.len() < cols.len() {
                        continue;
                    }
                    let figures = q.table.figures(&ints).ok_or_else(|| StoreError::Corrupt(format!("{}: sums overflow", q.table.name())))?;
                    out.push($crate::store::sales::SalesSum { keys, figures });
                }
                Ok(out)
            }

            async fn sales_problems(&mut self) -> Result<Vec<(String, String, String)>> {
                self.flush_buffers().await?;
                let mut out = Vec::new();
                let mark = sqlx::query("SELECT value FROM kv WHERE key = $1")
                    .bind($crate::store::sales::REBUILD_MARK)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if mark.is_some() {
                    out.push(("sales".into(), "aggregates".into(), "not built yet: run `ordo report rebuild`".into()));
                }
                for r in sqlx::query("SELECT kind, id, problem FROM sales_problems ORDER BY kind, id").fetch_all(&mut *self.tx).await? {
                    out.push((r.try_get("kind")?, r.try_get("id")?, r.try_get("problem")?));
                }
                Ok(out)
            }

            async fn rebuild_sales(&mut self) -> Result<usize> {
                self.flush_buffers().await?;
                if !LOCK_SALES.is_empty() {
                    sqlx::query(LOCK_SALES).execute(&mut *self.tx).await?;
                }
                for t in ["sales_counted", "sales_problems", "sales_items_day", "sales_lines_day", "sales_totals_day", "sales_docs_day"] {
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM {t}"))).execute(&mut *self.tx).await?;
                }
                let mut n = 0;
                let mut docs: Vec<$crate::store::sales::StoredDoc> = Vec::new();
                for kind in $crate::store::sales::KINDS {
                    for (id, text) in self.get_documents_text(kind, "").await? {
                        docs.push((kind, id, text));
                    }
                }
                // In issue order across chunks, so an order's first invoice opens it.
                $crate::store::sales::issue_order(&mut docs);
                for chunk in docs.chunks(20_000) {
                    let refs: Vec<$crate::store::sales::DocText<'_>> = chunk.iter().map(|(k, i, t)| (*k, i.as_str(), t.as_str())).collect();
                    self.count_sales_docs(&refs).await?;
                    self.flush_sales().await?;
                    n += chunk.len();
                }
                Ok(n)
            }

            async fn rebuild_sales_if_marked(&mut self) -> Result<usize> {
                let marked = sqlx::query("DELETE FROM kv WHERE key = $1 RETURNING key")
                    .bind($crate::store::sales::REBUILD_MARK)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if marked.is_none() {
                    return Ok(0);
                }
                self.rebuild_sales().await
            }

            async fn sales_check(&mut self) -> Result<Vec<String>> {
                use $crate::store::sales::{self as s, SalesBuffer, SalesTable};
                self.flush_buffers().await?;
                let mut docs: Vec<$crate::store::sales::StoredDoc> = Vec::new();
                for kind in s::KINDS {
                    for (id, text) in self.get_documents_text(kind, "").await? {
                        docs.push((kind, id, text));
                    }
                }
                let mut orders = std::collections::HashMap::new();
                for (id, text) in self.get_documents_text("order", "").await? {
                    orders.insert(id, text);
                }
                s::issue_order(&mut docs);
                let mut expected = SalesBuffer::default();
                let mut opened = std::collections::HashSet::new();
                let mut problems = std::collections::BTreeSet::new();
                for chunk in docs.chunks(20_000) {
                    let refs: Vec<s::DocText<'_>> = chunk.iter().map(|(k, i, t)| (*k, i.as_str(), t.as_str())).collect();
                    let d = s::derive(&refs, &orders, &opened);
                    for (_, _, order, e) in &d.entries {
                        if e.opens_order {
                            opened.insert(order.clone());
                        }
                        expected.add(e).map_err(StoreError::Corrupt)?;
                    }
                    problems.extend(d.problems.into_iter().map(|(k, i, _)| (k, i)));
                }
                let mut stored = SalesBuffer::default();
                for t in SalesTable::ALL {
                    stored.rows.extend(self.sales_table(t).await?.rows);
                }
                let mut out = Vec::new();
                for (key, want) in &expected.rows {
                    match stored.rows.get(key) {
                        Some(have) if have == want => {}
                        have => out.push(format!("{} {} {:?}: documents give {want:?}, table has {have:?}", key.0.name(), key.1, key.2)),
                    }
                }
                for (key, have) in &stored.rows {
                    if !expected.rows.contains_key(key) {
                        out.push(format!("{} {} {:?}: table has {have:?}, no document gives it", key.0.name(), key.1, key.2));
                    }
                }
                let stored_problems: std::collections::BTreeSet<(String, String)> = sqlx::query("SELECT kind, id FROM sales_problems")
                    .fetch_all(&mut *self.tx)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("kind")?, r.try_get("id")?)))
                    .collect::<Result<_>>()?;
                if stored_problems != problems {
                    out.push(format!("problems: documents give {problems:?}, table has {stored_problems:?}"));
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use impl_sales_records;
