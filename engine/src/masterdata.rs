//! Master data import (`ordo data import`, the demo, `ordo bench o2c`): customers, items,
//! suppliers (documents) and stock levels, from JSON, YAML or CSV, through one set of rules,
//! all or nothing.
//!
//! - JSON and YAML hold `{customer: [..], item: [..], supplier: [..], stock: [..]}`; a CSV file
//!   holds one kind, named by its file (`customers.csv`, `items.csv`, `suppliers.csv`,
//!   `stock.csv`, singular or plural) or by `--kind` (see [`Format::of`]).
//! - Every format is read into one located tree ([`Node`]: each value and key with its
//!   `line:col`; numbers kept as written), then into the typed records ([`CustomerRecord`],
//!   [`ItemRecord`], [`SupplierRecord`], [`StockRecord`]; unknown kinds and fields refused),
//!   then checked by one set of rules ([`Record::check`]). Every error reads
//!   `path:line:col: customer 'C-1': field: reason`; at most [`MAX_ERRORS`] are listed.
//! - [`store`] writes a file's records in one transaction, and only a file without errors.

use crate::config::Limits;
use crate::runtime::{Engine, EngineError};
use ordo_contract::excerpt;
use ordo_contract::intake::{id_problem, text_problem};
use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Errors listed per file; the rest are counted.
pub const MAX_ERRORS: usize = 50;

/// The kinds of master data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Customer,
    Item,
    Supplier,
    Location,
    Stock,
}

const KINDS: &str = "customer, item, supplier, location or stock";

impl Kind {
    /// As JSON/YAML keys and `--kind` write it (and the document kind it is stored as).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Item => "item",
            Kind::Supplier => "supplier",
            Kind::Location => "location",
            Kind::Stock => "stock",
        }
    }

    /// A key of a JSON/YAML file or `--kind`: the singular name only.
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Customer,
            Kind::Item,
            Kind::Supplier,
            Kind::Location,
            Kind::Stock,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }

    /// The fields a record of this kind may have.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Customer => fields_of::<CustomerRecord>(),
            Kind::Item => fields_of::<ItemRecord>(),
            Kind::Supplier => fields_of::<SupplierRecord>(),
            Kind::Location => fields_of::<LocationRecord>(),
            Kind::Stock => fields_of::<StockRecord>(),
        }
    }
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    /// One kind per CSV file.
    Csv(Kind),
}

impl Format {
    /// By extension: `.json`, `.yaml`/`.yml`, `.csv`. A CSV file's kind is `kind` (`--kind`)
    /// when given, else its file name: `customers.csv` or `customer.csv`, `items.csv`,
    /// `suppliers.csv`, `stock.csv`; any other name (`customers_2026.csv`) needs `--kind`.
    pub fn of(path: &Path, kind: Option<&str>) -> Result<Format, String> {
        let shown = path.display();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let format = match ext.as_deref() {
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            Some("csv") => {
                let kind = match kind {
                    Some(k) => Kind::parse(k).ok_or_else(|| {
                        format!("--kind {}: unknown kind (expected {KINDS})", excerpt(k, 60))
                    })?,
                    None => {
                        let stem = path
                            .file_stem()
                            .and_then(|s| s.to_str())
                            // A stem that is not UTF-8 names no kind: refused just below.
                            .unwrap_or_default()
                            .to_ascii_lowercase();
                        let singular = stem.strip_suffix('s').unwrap_or(&stem);
                        Kind::parse(&stem)
                            .or_else(|| Kind::parse(singular).filter(|k| *k != Kind::Stock))
                            .ok_or_else(|| {
                                format!(
                                    "{shown}: the file name does not say which master data it \
                                     holds: name it customers.csv, items.csv, suppliers.csv, \
                                     locations.csv or stock.csv, or give --kind {}",
                                    KINDS.replace(", ", "|").replace(" or ", "|")
                                )
                            })?
                    }
                };
                return Ok(Format::Csv(kind));
            }
            _ => {
                return Err(format!(
                    "{shown}: unknown format (expected a .json, .yaml, .yml or .csv file)"
                ));
            }
        };
        if kind.is_some() {
            return Err(format!(
                "{shown}: --kind is for CSV files; a JSON or YAML file names its kinds"
            ));
        }
        Ok(format)
    }
}

// ---------------------------------------------------------------------------------------
// The typed records: what is stored is exactly what they serialize to.

/// `customer/<id>`, `item/<sku>`, `supplier/<id>`: the one type of each document, shared with
/// the connectors that read them.
pub use ordo_contract::master::{
    Customer as CustomerRecord, Item as ItemRecord, Location as LocationRecord,
    Supplier as SupplierRecord,
};

/// The stock level of `item` at `location` is set to `quantity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRecord {
    pub item: String,
    pub location: String,
    pub quantity: Decimal,
}

/// A file's records, every one valid.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MasterData {
    pub customers: Vec<CustomerRecord>,
    pub items: Vec<ItemRecord>,
    pub suppliers: Vec<SupplierRecord>,
    pub locations: Vec<LocationRecord>,
    pub stock: Vec<StockRecord>,
    /// Bill-of-materials components the file refers to but does not define (checked against
    /// the store at import).
    pub outside: Vec<BomRef>,
}

impl MasterData {
    /// `3 customer, 4 item, 2 supplier, 4 stock` (kinds the file had).
    pub fn counts(&self) -> String {
        [
            (self.customers.len(), "customer"),
            (self.items.len(), "item"),
            (self.suppliers.len(), "supplier"),
            (self.locations.len(), "location"),
            (self.stock.len(), "stock"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, k)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The rules of one record; each problem is reported through [`Check`] at its field.
pub trait Record: DeserializeOwned {
    /// Its id (SKU; `item@location` for stock), unique in a file.
    fn key(&self) -> String;
    fn check(&self, c: &mut Check);
}

impl Record for CustomerRecord {
    fn key(&self) -> String {
        self.id.clone()
    }
    fn check(&self, c: &mut Check) {
        c.id("id", &self.id);
        c.text("name", &self.name);
        c.currency("currency", &self.currency);
        c.non_negative("credit_limit", self.credit_limit);
        if let Some(p) = text_problem(&self.terms, c.limits.max_id_chars) {
            c.fail("terms", p);
        } else if let Err(e) = ordo_contract::PaymentTerms::parse(&self.terms) {
            c.fail("terms", e);
        }
        for (f, v) in [("tax_class", &self.tax_class), ("country", &self.country)] {
            if let Some(v) = v {
                c.id(f, v);
            }
        }
        if let Some(v) = &self.country
            && !(v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()))
        {
            c.fail(
                "country",
                "must be an ISO 3166 country code of two capital letters",
            );
        }
        c.one_of(
            "ship_policy",
            self.ship_policy.as_deref(),
            &["complete", "partial"],
        );
        c.one_of(
            "invoice_per",
            self.invoice_per.as_deref(),
            &["shipment", "order"],
        );
        for (i, a) in self.bank_accounts.iter().enumerate() {
            if let Some(p) = id_problem(a, c.limits.max_id_chars) {
                c.fail_item("bank_accounts", i, format!("an account {p}"));
            } else if looks_like_iban(a)
                && let Err(e) = ordo_contract::rules::check_iban(&excerpt(a, 60))
            {
                c.fail_item("bank_accounts", i, e);
            }
        }
        if self.discount_percent < Decimal::ZERO || self.discount_percent >= Decimal::ONE_HUNDRED {
            c.fail(
                "discount_percent",
                format!("{} must be at least 0 and below 100", self.discount_percent),
            );
        }
    }
}

impl Record for ItemRecord {
    fn key(&self) -> String {
        self.sku.clone()
    }
    fn check(&self, c: &mut Check) {
        c.id("sku", &self.sku);
        c.text("description", &self.description);
        c.non_negative("price", self.price);
        for (f, v) in [
            ("cost", self.cost),
            ("weight_kg", self.weight_kg),
            ("reorder_point", self.reorder_point),
            ("reorder_qty", self.reorder_qty),
            ("max_stock", self.max_stock),
        ] {
            if let Some(v) = v {
                c.non_negative(f, v);
            }
        }
        if let Some(v) = self.labour_cost {
            c.non_negative("labour_cost", v);
        }
        if self.is_made_to_order() && self.bom.is_empty() {
            c.fail("bom", "a made-to-order item needs a bill of materials");
        }
        for (i, b) in self.bom.iter().enumerate() {
            if let Some(p) = id_problem(&b.sku, c.limits.max_id_chars) {
                c.fail_item("bom", i, format!("a component {p}"));
            } else if b.sku == self.sku {
                c.fail_item("bom", i, "an item cannot be its own component");
            }
            if b.quantity <= Decimal::ZERO {
                c.fail_item(
                    "bom",
                    i,
                    format!("quantity of {} must be positive, got {}", b.sku, b.quantity),
                );
            }
        }
        for (i, w) in self.work_steps.iter().enumerate() {
            if let Some(p) = text_problem(w, c.limits.max_id_chars) {
                c.fail_item("work_steps", i, p);
            }
        }
        if let (Some(point), Some(max)) = (self.reorder_point, self.max_stock)
            && max < point
        {
            c.fail(
                "max_stock",
                format!("{max} is below the reorder point {point}"),
            );
        }
        for (f, v) in [
            ("uom", &self.uom),
            ("supplier", &self.supplier),
            ("tax_code", &self.tax_code),
            ("group", &self.group),
        ] {
            if let Some(v) = v {
                c.id(f, v);
            }
        }
    }
}

impl Record for SupplierRecord {
    fn key(&self) -> String {
        self.id.clone()
    }
    fn check(&self, c: &mut Check) {
        c.id("id", &self.id);
        c.text("name", &self.name);
        if let Some(q) = self.min_order_qty {
            c.non_negative("min_order_qty", q);
        }
    }
}

impl Record for LocationRecord {
    fn key(&self) -> String {
        self.id.clone()
    }
    fn check(&self, c: &mut Check) {
        c.id("id", &self.id);
        c.text("name", &self.name);
        if let Some(v) = &self.country
            && !(v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()))
        {
            c.fail(
                "country",
                "must be an ISO 3166 country code of two capital letters",
            );
        }
        // The pseudo locations of counters in the stock table are no place to keep goods.
        if self.id.starts_with(ON_ORDER_PREFIX) || self.id == "ledger" || self.id == "returns" {
            c.fail(
                "id",
                format!("'{}' is reserved for the stock table's counters", self.id),
            );
        }
    }
}

/// The stock table's pseudo locations of what is on order (`on-order`, `on-order:<location>`).
const ON_ORDER_PREFIX: &str = "on-order";

impl Record for StockRecord {
    fn key(&self) -> String {
        format!("{}@{}", self.item, self.location)
    }
    fn check(&self, c: &mut Check) {
        c.id("item", &self.item);
        c.id("location", &self.location);
        c.non_negative("quantity", self.quantity);
    }
}

/// Two letters then two digits: meant as an IBAN, so it must be one (other account numbers,
/// such as a US routing and account number, are only bounded).
fn looks_like_iban(s: &str) -> bool {
    let b: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .take(4)
        .collect();
    b.len() == 4
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// Reports the problems of one record at its fields.
pub struct Check<'a> {
    label: &'a str,
    record: &'a Node,
    errors: &'a mut Errors,
    limits: &'a Limits,
    failed: bool,
}

impl Check<'_> {
    /// Where `field` is written (the record's start when it is absent).
    fn at(&self, field: &str) -> Pos {
        match &self.record.val {
            Val::Map(entries) => entries
                .iter()
                .find(|e| e.key == field)
                .map_or(self.record.pos, |e| e.node.pos),
            _ => self.record.pos,
        }
    }

    pub fn fail(&mut self, field: &str, msg: impl fmt::Display) {
        let at = self.at(field);
        self.errors
            .push(at, format!("{}: {field}: {msg}", self.label));
        self.failed = true;
    }

    /// [`Check::fail`] at element `index` of a list field.
    pub fn fail_item(&mut self, field: &str, index: usize, msg: impl fmt::Display) {
        let at = match &self.record.val {
            Val::Map(entries) => {
                entries
                    .iter()
                    .find(|e| e.key == field)
                    .map(|e| match &e.node.val {
                        Val::List(items) => items.get(index).map_or(e.node.pos, |n| n.pos),
                        _ => e.node.pos,
                    })
            }
            _ => None,
        };
        // Error position only: a field without its own position is reported at its record.
        let at = at.unwrap_or(self.record.pos);
        self.errors
            .push(at, format!("{}: {field}: {msg}", self.label));
        self.failed = true;
    }

    fn id(&mut self, field: &str, v: &str) {
        if let Some(p) = id_problem(v, self.limits.max_id_chars) {
            self.fail(field, p);
        }
    }

    fn text(&mut self, field: &str, v: &str) {
        if v.trim().is_empty() {
            self.fail(field, "is empty");
        } else if let Some(p) = text_problem(v, self.limits.max_text_chars) {
            self.fail(field, p);
        }
    }

    fn currency(&mut self, field: &str, v: &str) {
        if !(v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase())) {
            self.fail(
                field,
                format!(
                    "'{}' is not a currency code (three capital letters, e.g. EUR)",
                    excerpt(v, 20)
                ),
            );
        }
    }

    fn non_negative(&mut self, field: &str, v: Decimal) {
        if v < Decimal::ZERO {
            self.fail(field, format!("{v} must not be negative"));
        }
    }

    fn one_of(&mut self, field: &str, v: Option<&str>, allowed: &[&str]) {
        if let Some(v) = v
            && !allowed.contains(&v)
        {
            self.fail(
                field,
                format!("'{}' is not one of {}", excerpt(v, 40), allowed.join(", ")),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading: file → located tree → records.

/// Reads `path` (at most `limits.max_order_file_bytes`, UTF-8) as [`Format::of`] says, into
/// valid records or every error found.
pub fn read(path: &Path, kind: Option<&str>, limits: &Limits) -> Result<MasterData, Vec<String>> {
    let format = Format::of(path, kind).map_err(|e| vec![e])?;
    let text =
        crate::channels::orders::read_order_file(path, limits).map_err(|e| vec![e.to_string()])?;
    parse(&path.display().to_string(), format, &text, limits)
}

/// Parses and checks a text; `shown` names it in errors.
pub fn parse(
    shown: &str,
    format: Format,
    text: &str,
    limits: &Limits,
) -> Result<MasterData, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Errors::new(shown);
    let root = match format {
        Format::Json => json_tree(shown, text),
        Format::Yaml => yaml_tree(shown, text),
        Format::Csv(kind) => csv_tree(shown, kind, text, &mut errors),
    }
    .map_err(|e| vec![e])?;
    if !errors.list.is_empty() {
        return Err(errors.finish());
    }
    let data = records(&root, limits, &mut errors);
    if errors.list.is_empty() {
        Ok(data)
    } else {
        Err(errors.finish())
    }
}

/// Errors of one file, `shown:line:col: message`, the first [`MAX_ERRORS`] kept.
struct Errors {
    shown: String,
    list: Vec<String>,
    more: usize,
}

impl Errors {
    fn new(shown: &str) -> Errors {
        Errors {
            shown: shown.to_string(),
            list: Vec::new(),
            more: 0,
        }
    }

    fn push(&mut self, at: Pos, msg: impl fmt::Display) {
        if self.list.len() < MAX_ERRORS {
            self.list
                .push(format!("{}:{}:{}: {msg}", self.shown, at.line, at.col));
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.more > 0 {
            self.list.push(format!(
                "{}: … and {} more errors; nothing imported",
                self.shown, self.more
            ));
        }
        self.list
    }
}

fn records(root: &Node, limits: &Limits, errors: &mut Errors) -> MasterData {
    let mut data = MasterData::default();
    let Val::Map(entries) = &root.val else {
        errors.push(
            root.pos,
            format!("expected a mapping of kinds ({KINDS}) to lists of records"),
        );
        return data;
    };
    // First place of each kind's keys, for duplicates within the file.
    let mut seen: HashMap<(Kind, String), Pos> = HashMap::new();
    for e in entries {
        let Some(kind) = Kind::parse(&e.key) else {
            errors.push(
                e.pos,
                format!("unknown kind '{}' (expected {KINDS})", excerpt(&e.key, 60)),
            );
            continue;
        };
        let Val::List(items) = &e.node.val else {
            errors.push(
                e.node.pos,
                format!("'{}' must be a list of records", kind.name()),
            );
            continue;
        };
        for (i, node) in items.iter().enumerate() {
            let mut one = One {
                kind,
                index: i,
                node,
                limits,
                errors,
                seen: &mut seen,
            };
            match kind {
                Kind::Customer => data.customers.extend(one.read()),
                Kind::Item => data.items.extend(one.read()),
                Kind::Supplier => data.suppliers.extend(one.read()),
                Kind::Location => data.locations.extend(one.read()),
                Kind::Stock => data.stock.extend(one.read()),
            }
        }
    }
    bom_check(&mut data, &seen, errors);
    data
}

/// Bills of materials within the file: a cycle is an error at each item on it; a component
/// not in the file is left to the store's check at import ([`MasterData::outside`]).
fn bom_check(data: &mut MasterData, seen: &HashMap<(Kind, String), Pos>, errors: &mut Errors) {
    let boms: HashMap<&str, Vec<&str>> = data
        .items
        .iter()
        .map(|i| {
            (
                i.sku.as_str(),
                i.bom.iter().map(|b| b.sku.as_str()).collect(),
            )
        })
        .collect();
    let at = |sku: &str| {
        seen.get(&(Kind::Item, sku.to_string()))
            .copied()
            .unwrap_or(Pos { line: 1, col: 1 })
    };
    let mut outside = Vec::new();
    for item in &data.items {
        for b in &item.bom {
            if !boms.contains_key(b.sku.as_str()) {
                let p = at(&item.sku);
                outside.push(BomRef {
                    at: format!("{}:{}:{}", errors.shown, p.line, p.col),
                    item: item.sku.clone(),
                    component: b.sku.clone(),
                });
            }
        }
        // Depth-first from the item: a path back to it is a cycle (bounded by the file).
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(item.sku.as_str(), vec![item.sku.as_str()])];
        let mut visited: std::collections::HashSet<&str> = Default::default();
        while let Some((sku, path)) = stack.pop() {
            for &c in boms.get(sku).into_iter().flatten() {
                if c == item.sku {
                    let mut cycle = path.clone();
                    cycle.push(c);
                    errors.push(
                        at(&item.sku),
                        format!(
                            "item '{}': bom: the bill of materials has a cycle: {}",
                            item.sku,
                            cycle.join(" → ")
                        ),
                    );
                    stack.clear();
                    break;
                }
                if boms.contains_key(c) && visited.insert(c) {
                    let mut p = path.clone();
                    p.push(c);
                    stack.push((c, p));
                }
            }
        }
    }
    data.outside = outside;
}

/// A component of a file's item that the file does not define: it must be a stored item.
#[derive(Debug, Clone, PartialEq)]
pub struct BomRef {
    /// `file:line:col` of the item.
    pub at: String,
    pub item: String,
    pub component: String,
}

/// Components of the file's bills of materials that only the store can define: each must be
/// a stored item whose own bill of materials does not lead back to the file's item. The
/// located errors, none when all is well.
pub async fn check_outside_components(
    tx: &mut dyn crate::store::Tx,
    data: &MasterData,
) -> Result<Vec<String>, EngineError> {
    let file: HashMap<&str, &ItemRecord> = data.items.iter().map(|i| (i.sku.as_str(), i)).collect();
    let mut errors = Vec::new();
    for r in &data.outside {
        let Some(doc) = tx.get_document("item", &r.component).await? else {
            errors.push(format!(
                "{}: item '{}': bom: component '{}' is no item (not in this file nor stored)",
                r.at,
                r.item,
                excerpt(&r.component, 60)
            ));
            continue;
        };
        // Walk down from the component through stored items (the file's when it has them),
        // at most 64 levels: reaching the file's item again is a cycle.
        let mut level: Vec<ItemRecord> = match serde_json::from_value(doc) {
            Ok(i) => vec![i],
            Err(e) => {
                errors.push(format!(
                    "{}: item '{}': bom: stored component '{}': {e}",
                    r.at, r.item, r.component
                ));
                continue;
            }
        };
        let mut depth = 0;
        'walk: while !level.is_empty() {
            depth += 1;
            if depth > 64 {
                errors.push(format!(
                    "{}: item '{}': bom: deeper than 64 levels",
                    r.at, r.item
                ));
                break;
            }
            let mut next = Vec::new();
            for i in &level {
                for b in &i.bom {
                    if b.sku == r.item {
                        errors.push(format!(
                            "{}: item '{}': bom: the bill of materials has a cycle through stored item '{}'",
                            r.at, r.item, r.component
                        ));
                        break 'walk;
                    }
                    if let Some(f) = file.get(b.sku.as_str()) {
                        next.push((*f).clone());
                    } else if let Some(d) = tx.get_document("item", &b.sku).await?
                        && let Ok(i) = serde_json::from_value::<ItemRecord>(d)
                    {
                        next.push(i);
                    }
                }
            }
            level = next;
        }
    }
    Ok(errors)
}

/// One record being read.
struct One<'a> {
    kind: Kind,
    index: usize,
    node: &'a Node,
    limits: &'a Limits,
    errors: &'a mut Errors,
    seen: &'a mut HashMap<(Kind, String), Pos>,
}

impl One<'_> {
    /// `customer 'C-1'`, or `customer #3` when its id cannot be read.
    fn label(&self) -> String {
        let key = match self.kind {
            Kind::Item => "sku",
            Kind::Stock => "item",
            _ => "id",
        };
        let id = match &self.node.val {
            Val::Map(entries) => {
                entries
                    .iter()
                    .find(|e| e.key == key)
                    .and_then(|e| match &e.node.val {
                        Val::Str(s) | Val::Cell(s) | Val::Num(s) => Some(s.as_str()),
                        _ => None,
                    })
            }
            _ => None,
        };
        match id {
            Some(id) => format!("{} '{}'", self.kind.name(), excerpt(id, 60)),
            None => format!("{} #{}", self.kind.name(), self.index + 1),
        }
    }

    fn read<T: Record>(&mut self) -> Option<T> {
        let label = self.label();
        let Val::Map(entries) = &self.node.val else {
            self.errors.push(
                self.node.pos,
                format!("{label}: expected a mapping of fields"),
            );
            return None;
        };
        // Every unknown field, not only the first (serde stops at one).
        let fields = self.kind.fields();
        let mut unknown = false;
        for e in entries {
            if !fields.contains(&e.key.as_str()) {
                self.errors.push(
                    e.pos,
                    format!(
                        "{label}: unknown field '{}' ({} fields: {})",
                        excerpt(&e.key, 60),
                        self.kind.name(),
                        fields.join(", ")
                    ),
                );
                unknown = true;
            }
        }
        if unknown {
            return None;
        }
        let record = match T::deserialize(self.node) {
            Ok(r) => r,
            Err(e) => {
                self.errors.push(
                    // Error position only: the record's position when serde gives none.
                    e.pos.unwrap_or(self.node.pos),
                    format!("{label}: {}", e.msg),
                );
                return None;
            }
        };
        let mut c = Check {
            label: &label,
            record: self.node,
            errors: self.errors,
            limits: self.limits,
            failed: false,
        };
        record.check(&mut c);
        let key_at = c.at(match self.kind {
            Kind::Item => "sku",
            Kind::Stock => "item",
            _ => "id",
        });
        if c.failed {
            return None;
        }
        if let Some(first) = self.seen.get(&(self.kind, record.key())) {
            self.errors.push(
                key_at,
                format!(
                    "{label}: appears twice in this file (first at line {}, column {})",
                    first.line, first.col
                ),
            );
            return None;
        }
        self.seen.insert((self.kind, record.key()), key_at);
        Some(record)
    }
}

/// A place in the file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A value of the file with where it is written.
#[derive(Debug)]
pub struct Node {
    pub pos: Pos,
    pub val: Val,
}

#[derive(Debug)]
pub enum Val {
    Null,
    /// A yes/no, with its text when YAML read it from a bare word (`N`, `off`): a text field
    /// takes the word, not `false`.
    Bool(bool, Option<String>),
    /// A number as written (never through a float).
    Num(String),
    Str(String),
    /// A CSV cell: text that is a number or a yes/no when the field wants one.
    Cell(String),
    List(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug)]
pub struct Entry {
    pub key: String,
    /// Where the key is written.
    pub pos: Pos,
    pub node: Node,
}

/// JSON: the syntax checked by serde_json (its `line:col`), then one walk that places values.
fn json_tree(shown: &str, text: &str) -> Result<Node, String> {
    if let Err(e) = serde_json::from_str::<de::IgnoredAny>(text) {
        let msg = e.to_string();
        let tail = format!(" at line {} column {}", e.line(), e.column());
        let msg = msg.strip_suffix(&tail).unwrap_or(&msg);
        return Err(format!("{shown}:{}:{}: {msg}", e.line(), e.column()));
    }
    let mut s = JsonScan {
        text,
        i: 0,
        line: 1,
        col: 1,
    };
    s.value()
        .map_err(|e| format!("{shown}:{}:{}: {e}", s.line, s.col))
}

/// Walks JSON text serde_json has accepted, keeping each value's place (serde_json does not
/// expose it). Nesting is bounded by serde_json's own recursion limit, checked first.
struct JsonScan<'a> {
    text: &'a str,
    i: usize,
    line: usize,
    col: usize,
}

impl JsonScan<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.i..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\n')) {
            self.bump();
        }
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        self.ws();
        match self.bump() {
            Some(c) if c == want => Ok(()),
            _ => Err(format!("expected '{want}'")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.i;
        self.expect('"')?;
        loop {
            match self.bump() {
                Some('\\') => {
                    self.bump();
                }
                Some('"') => break,
                Some(_) => {}
                None => return Err("unterminated string".into()),
            }
        }
        serde_json::from_str(&self.text[start..self.i]).map_err(|e| e.to_string())
    }

    fn value(&mut self) -> Result<Node, String> {
        self.ws();
        let pos = self.pos();
        let val = match self.peek() {
            Some('{') => {
                self.bump();
                let mut entries = Vec::new();
                self.ws();
                if self.peek() == Some('}') {
                    self.bump();
                } else {
                    loop {
                        self.ws();
                        let kpos = self.pos();
                        let key = self.string()?;
                        self.expect(':')?;
                        let node = self.value()?;
                        entries.push(Entry {
                            key,
                            pos: kpos,
                            node,
                        });
                        self.ws();
                        match self.bump() {
                            Some(',') => {}
                            Some('}') => break,
                            _ => return Err("expected ',' or '}'".into()),
                        }
                    }
                }
                Val::Map(entries)
            }
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(']') {
                    self.bump();
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.bump() {
                            Some(',') => {}
                            Some(']') => break,
                            _ => return Err("expected ',' or ']'".into()),
                        }
                    }
                }
                Val::List(items)
            }
            Some('"') => Val::Str(self.string()?),
            Some(c) => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
                {
                    self.bump();
                }
                match &self.text[start..self.i] {
                    "true" => Val::Bool(true, None),
                    "false" => Val::Bool(false, None),
                    "null" => Val::Null,
                    "" => return Err(format!("unexpected '{c}'")),
                    n => Val::Num(n.to_string()),
                }
            }
            None => return Err("unexpected end of input".into()),
        };
        Ok(Node { pos, val })
    }
}

/// YAML through serde-saphyr, every value and key spanned; numbers re-read from their text.
fn yaml_tree(shown: &str, text: &str) -> Result<Node, String> {
    let node: yaml::S<yaml::YNode> =
        serde_saphyr::from_str(text).map_err(|e| ordo_workflow::yaml_error(shown, &e))?;
    yaml::convert(shown, text, &node)
}

mod yaml {
    use super::{Entry, Node, Pos, Val};
    use serde::Deserialize;
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    pub use serde_saphyr::Spanned as S;
    use std::fmt;

    pub enum YNode {
        Null,
        Bool(bool),
        /// Its text is read from the source: serde-saphyr hands floats over as f64.
        Num,
        Str(String),
        Seq(Vec<S<YNode>>),
        Map(Vec<(S<String>, S<YNode>)>),
    }

    impl<'de> Deserialize<'de> for YNode {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = YNode;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("any YAML value")
                }
                fn visit_unit<E>(self) -> Result<YNode, E> {
                    Ok(YNode::Null)
                }
                fn visit_none<E>(self) -> Result<YNode, E> {
                    Ok(YNode::Null)
                }
                fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YNode, D::Error> {
                    YNode::deserialize(d)
                }
                fn visit_bool<E>(self, v: bool) -> Result<YNode, E> {
                    Ok(YNode::Bool(v))
                }
                fn visit_i64<E>(self, _: i64) -> Result<YNode, E> {
                    Ok(YNode::Num)
                }
                fn visit_u64<E>(self, _: u64) -> Result<YNode, E> {
                    Ok(YNode::Num)
                }
                fn visit_i128<E>(self, _: i128) -> Result<YNode, E> {
                    Ok(YNode::Num)
                }
                fn visit_u128<E: de::Error>(self, _: u128) -> Result<YNode, E> {
                    Ok(YNode::Num)
                }
                fn visit_f64<E>(self, _: f64) -> Result<YNode, E> {
                    Ok(YNode::Num)
                }
                fn visit_str<E>(self, v: &str) -> Result<YNode, E> {
                    Ok(YNode::Str(v.to_string()))
                }
                fn visit_string<E>(self, v: String) -> Result<YNode, E> {
                    Ok(YNode::Str(v))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YNode, A::Error> {
                    let mut out = Vec::new();
                    while let Some(item) = seq.next_element()? {
                        out.push(item);
                    }
                    Ok(YNode::Seq(out))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YNode, A::Error> {
                    let mut out = Vec::new();
                    while let Some(entry) = map.next_entry()? {
                        out.push(entry);
                    }
                    Ok(YNode::Map(out))
                }
            }
            d.deserialize_any(V)
        }
    }

    fn pos(loc: &serde_saphyr::Location) -> Pos {
        Pos {
            line: loc.line() as usize,
            col: loc.column() as usize,
        }
    }

    fn source_text<'a>(src: &'a str, loc: &serde_saphyr::Location) -> Option<&'a str> {
        let span = loc.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        src.get(start..start.checked_add(len)?)
    }

    pub fn convert(shown: &str, src: &str, node: &S<YNode>) -> Result<Node, String> {
        let at = pos(&node.referenced);
        let val = match &node.value {
            YNode::Null => Val::Null,
            YNode::Bool(b) => Val::Bool(*b, source_text(src, &node.referenced).map(str::to_string)),
            YNode::Num => {
                let text = source_text(src, &node.referenced).ok_or_else(|| {
                    format!(
                        "{shown}:{}:{}: cannot read the number's text",
                        at.line, at.col
                    )
                })?;
                let t: String = text.chars().filter(|c| *c != '_').collect();
                Val::Num(t.strip_prefix('+').unwrap_or(&t).to_string())
            }
            YNode::Str(s) => Val::Str(s.clone()),
            YNode::Seq(items) => Val::List(
                items
                    .iter()
                    .map(|i| convert(shown, src, i))
                    .collect::<Result<_, _>>()?,
            ),
            YNode::Map(entries) => Val::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        Ok(Entry {
                            key: k.value.clone(),
                            pos: pos(&k.referenced),
                            node: convert(shown, src, v)?,
                        })
                    })
                    .collect::<Result<_, String>>()?,
            ),
        };
        Ok(Node { pos: at, val })
    }
}

/// CSV of one kind: `{kind: [row, …]}` with each non-empty cell a field named by its column.
/// Columns the kind does not have are reported once, at the header. `bank_accounts` holds
/// several accounts separated by `;` (or `|`).
fn csv_tree(shown: &str, kind: Kind, text: &str, errors: &mut Errors) -> Result<Node, String> {
    let t = crate::channels::csvfile::read(shown, text)?;
    let at = |i: usize| {
        // Error position only: a column past the header is reported at the header line.
        let (line, col) = t.header_at.get(i).copied().unwrap_or((t.header_line, 1));
        Pos { line, col }
    };
    let fields = kind.fields();
    for (i, h) in t.header.iter().enumerate() {
        if !fields.contains(&h.as_str()) {
            errors.push(
                at(i),
                format!(
                    "unknown column '{}' ({} fields: {})",
                    excerpt(h, 60),
                    kind.name(),
                    fields.join(", ")
                ),
            );
        } else if t.header[..i].contains(h) {
            errors.push(at(i), format!("column '{h}' appears twice"));
        }
    }
    let rows = t
        .rows
        .iter()
        .map(|row| Node {
            pos: Pos {
                line: row.line,
                col: 1,
            },
            val: Val::Map(
                t.header
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !row.get(*i).is_empty())
                    .map(|(i, h)| {
                        let cell = row.cells.get(i);
                        let pos = cell.map_or(at(i), |c| Pos {
                            line: c.line,
                            col: c.col,
                        });
                        let text = row.get(i);
                        let val = if h == "bank_accounts" {
                            let sep = if text.contains(';') { ';' } else { '|' };
                            Val::List(
                                text.split(sep)
                                    .map(|a| Node {
                                        pos,
                                        val: Val::Cell(a.trim().to_string()),
                                    })
                                    .collect(),
                            )
                        } else {
                            Val::Cell(text.to_string())
                        };
                        Entry {
                            key: h.clone(),
                            pos,
                            node: Node { pos, val },
                        }
                    })
                    .collect(),
            ),
        })
        .collect();
    let top = Pos { line: 1, col: 1 };
    Ok(Node {
        pos: top,
        val: Val::Map(vec![Entry {
            key: kind.name().to_string(),
            pos: top,
            node: Node {
                pos: top,
                val: Val::List(rows),
            },
        }]),
    })
}

// ---------------------------------------------------------------------------------------
// The tree as a serde Deserializer, so the records' derives (and `deny_unknown_fields`) apply
// to every format alike, and each error keeps the place of the value it is about.

/// A deserialization error with the place of the value and the field it concerns.
#[derive(Debug)]
pub struct DeError {
    pos: Option<Pos>,
    msg: String,
    /// The message already names its field.
    named: bool,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            pos: None,
            msg: msg.to_string(),
            named: false,
        }
    }
}

impl DeError {
    fn at(mut self, pos: Pos) -> Self {
        self.pos.get_or_insert(pos);
        self
    }

    fn in_field(mut self, key: &str, pos: Pos) -> Self {
        if !self.named {
            self.msg = format!("{key}: {}", self.msg);
            self.named = true;
        }
        self.at(pos)
    }
}

/// Hands a number over exactly: integers as integers, others as their text (rust_decimal
/// reads text exactly); a number no `Decimal` holds exactly is an error, not a rounded value.
fn visit_number<'de, V: Visitor<'de>>(t: &str, v: V) -> Result<V::Value, DeError> {
    if let Ok(n) = t.parse::<u64>() {
        return v.visit_u64(n);
    }
    if let Ok(n) = t.parse::<i64>() {
        return v.visit_i64(n);
    }
    if Decimal::from_str_exact(t).is_ok() || Decimal::from_scientific(t).is_ok() {
        return v.visit_str(t);
    }
    if t.parse::<f64>().is_ok() {
        return Err(de::Error::custom(format!(
            "{} is not a decimal number ordo can hold exactly",
            excerpt(t, 40)
        )));
    }
    v.visit_str(t)
}

impl<'de> Deserializer<'de> for &Node {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match &self.val {
            Val::Null => v.visit_unit(),
            Val::Bool(b, _) => v.visit_bool(*b),
            Val::Num(t) => visit_number(t, v),
            Val::Str(s) => v.visit_str(s),
            Val::Cell(s) => match s.as_str() {
                "true" => v.visit_bool(true),
                "false" => v.visit_bool(false),
                t => visit_number(t, v),
            },
            Val::List(items) => v.visit_seq(de::value::SeqDeserializer::new(items.iter())),
            Val::Map(entries) => v.visit_map(MapDe {
                entries: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.at(self.pos))
    }

    /// Text fields take a number or a YAML yes/no as it is written (`sku: 0042` stays `0042`,
    /// `name: N` stays `N`).
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.val {
            Val::Num(t) | Val::Cell(t) | Val::Bool(_, Some(t)) => {
                v.visit_str::<DeError>(t).map_err(|e| e.at(self.pos))
            }
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.val {
            Val::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, DeError> for &Node {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, Entry>,
    value: Option<&'a Entry>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(e) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(e);
        let key: de::value::StrDeserializer<DeError> = e.key.as_str().into_deserializer();
        seed.deserialize(key).map(Some).map_err(|err| err.at(e.pos))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let e = self
            .value
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("a value without its key"))?;
        seed.deserialize(&e.node)
            .map_err(|err| err.in_field(&e.key, e.node.pos))
    }
}

/// The field names of a record type, as its derive declares them.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Fields<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields taken"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

// ---------------------------------------------------------------------------------------
// Storing.

/// Writes valid records in `tx`: documents replace those with the same id, stock levels are
/// set (not added to).
pub async fn write(
    tx: &mut dyn crate::store::Tx,
    data: &MasterData,
    now: i64,
) -> Result<(), EngineError> {
    fn doc<T: Serialize>(r: &T) -> Result<serde_json::Value, EngineError> {
        serde_json::to_value(r).map_err(|e| EngineError::Refused(e.to_string()))
    }
    for c in &data.customers {
        tx.put_document("customer", &c.id, &doc(c)?, now).await?;
    }
    for s in &data.suppliers {
        tx.put_document("supplier", &s.id, &doc(s)?, now).await?;
    }
    for l in &data.locations {
        tx.put_document("location", &l.id, &doc(l)?, now).await?;
    }
    for i in &data.items {
        tx.put_document("item", &i.sku, &doc(i)?, now).await?;
    }
    for s in &data.stock {
        let cur = tx.stock_level(&s.item, &s.location).await?;
        tx.adjust_stock(&s.item, &s.location, s.quantity - cur)
            .await?;
    }
    Ok(())
}

/// [`write`] in one transaction of its own.
pub async fn store(engine: &Engine, data: &MasterData) -> Result<(), EngineError> {
    let mut tx = engine.store.begin().await?;
    write(tx.as_mut(), data, engine.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// [`parse`] then [`store`]: what was imported (`3 customer, 4 item`), or the file's errors.
/// [`store`] after the store's check of the file's outside BOM components, in the same
/// transaction: what was imported, or the located errors (nothing stored).
async fn store_checked(
    engine: &Engine,
    data: &MasterData,
) -> Result<Result<String, Vec<String>>, EngineError> {
    let mut tx = engine.store.begin().await?;
    let errors = check_outside_components(tx.as_mut(), data).await?;
    if !errors.is_empty() {
        tx.rollback().await?;
        return Ok(Err(errors));
    }
    write(tx.as_mut(), data, engine.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(Ok(data.counts()))
}

pub async fn import_text(
    engine: &Engine,
    shown: &str,
    format: Format,
    text: &str,
) -> Result<Result<String, Vec<String>>, EngineError> {
    match parse(shown, format, text, &engine.limits) {
        Ok(data) => store_checked(engine, &data).await,
        Err(e) => Ok(Err(e)),
    }
}

/// [`read`] then [`store`].
pub async fn import_file(
    engine: &Engine,
    path: &Path,
    kind: Option<&str>,
) -> Result<Result<String, Vec<String>>, EngineError> {
    match read(path, kind, &engine.limits) {
        Ok(data) => store_checked(engine, &data).await,
        Err(e) => Ok(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    fn errs(shown: &str, format: Format, text: &str) -> Vec<String> {
        parse(shown, format, text, &lim()).expect_err("must be refused")
    }

    const CUSTOMER_JSON: &str = r#"{ "customer": [
  { "id": "C-1", "name": "One", "currency": "EUR", "credit_limit": 100.50, "terms": "net 30",
    "bank_accounts": ["DE89370400440532013000"] }
] }"#;

    #[test]
    fn numbers_stay_exact_in_every_format() {
        let j = parse(
            "m.json",
            Format::Json,
            r#"{"item": [{"sku": "A", "description": "a", "price": 7.335, "cost": 12345678901234567.10}]}"#,
            &lim(),
        )
        .unwrap();
        assert_eq!(j.items[0].price.to_string(), "7.335");
        assert_eq!(j.items[0].cost.unwrap().to_string(), "12345678901234567.10");
        let y = parse(
            "m.yaml",
            Format::Yaml,
            "item:\n  - { sku: A, description: a, price: 7.335, cost: 12345678901234567.10 }\n",
            &lim(),
        )
        .unwrap();
        assert_eq!(y, j);
        let c = parse(
            "items.csv",
            Format::Csv(Kind::Item),
            "sku,description,price,cost\nA,a,7.335,12345678901234567.10\n",
            &lim(),
        )
        .unwrap();
        assert_eq!(c, j);
        // SKUs that look like numbers stay text as written.
        let c = parse(
            "items.csv",
            Format::Csv(Kind::Item),
            "sku,description,price\n0042,\"Bolt, M8\",0.1\n",
            &lim(),
        )
        .unwrap();
        assert_eq!(c.items[0].sku, "0042");
        assert_eq!(c.items[0].description, "Bolt, M8");
        let e = errs(
            "items.csv",
            Format::Csv(Kind::Item),
            "sku;description;price\nA;x;1,5\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("items.csv:2:5: item 'A': price: "),
            "{e:?}"
        );
    }

    #[test]
    fn yaml_words_that_read_as_yes_or_no_stay_text_in_text_fields() {
        let d = parse(
            "m.yaml",
            Format::Yaml,
            "supplier:\n  - { id: N, name: off, lead_time_days: 5 }\n",
            &lim(),
        )
        .unwrap();
        assert_eq!(
            (d.suppliers[0].id.as_str(), d.suppliers[0].name.as_str()),
            ("N", "off")
        );
        let d = parse(
            "m.yaml",
            Format::Yaml,
            "item:\n  - { sku: A, description: a, price: 1, fractional: yes }\n",
            &lim(),
        );
        assert_eq!(d.map(|d| d.items[0].fractional), Ok(Some(true)));
    }

    #[test]
    fn json_errors_are_located_at_the_value() {
        assert!(parse("m.json", Format::Json, CUSTOMER_JSON, &lim()).is_ok());
        let bad = CUSTOMER_JSON
            .replace("\"net 30\"", "\"net thirty\"")
            .replace("DE89370400440532013000", "DE88370400440532013000");
        let e = errs("m.json", Format::Json, &bad);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].starts_with("m.json:2:85: customer 'C-1': terms: payment terms 'net thirty'"),
            "{e:?}"
        );
        assert!(
            e[1].starts_with("m.json:3:23: customer 'C-1': bank_accounts: 'DE88"),
            "{e:?}"
        );
        let e = errs(
            "m.json",
            Format::Json,
            "{\"customer\": [ {\"id\": \"C-1\",, } ]}",
        );
        assert_eq!(e, vec!["m.json:1:29: key must be a string"]);
    }

    #[test]
    fn unknown_kinds_and_fields_and_missing_fields_are_each_reported() {
        let e = errs(
            "m.json",
            Format::Json,
            r#"{"customers": [], "item": [{"sku": "A", "description": "a", "price": 1, "colour": "red", "size": 3}],
"supplier": [{"id": "S"}]}"#,
        );
        assert_eq!(
            e,
            vec![
                "m.json:1:2: unknown kind 'customers' (expected customer, item, supplier, location or stock)",
                "m.json:1:73: item 'A': unknown field 'colour' (item fields: sku, description, price, cost, uom, fractional, weight_kg, reorder_point, reorder_qty, max_stock, supplier, lead_time_days, tax_code, group, made_to_order, bom, work_steps, labour_cost)",
                "m.json:1:90: item 'A': unknown field 'size' (item fields: sku, description, price, cost, uom, fractional, weight_kg, reorder_point, reorder_qty, max_stock, supplier, lead_time_days, tax_code, group, made_to_order, bom, work_steps, labour_cost)",
                "m.json:2:14: supplier 'S': missing field `name`",
            ]
        );
    }

    #[test]
    fn csv_kind_comes_from_the_file_name_or_the_flag() {
        let k = |p: &str, kind: Option<&str>| Format::of(Path::new(p), kind);
        assert_eq!(k("x/customers.csv", None), Ok(Format::Csv(Kind::Customer)));
        assert_eq!(k("item.csv", None), Ok(Format::Csv(Kind::Item)));
        assert_eq!(k("stock.csv", None), Ok(Format::Csv(Kind::Stock)));
        assert_eq!(k("seed.yml", None), Ok(Format::Yaml));
        assert!(
            k("customers_2026.csv", None)
                .unwrap_err()
                .contains("--kind")
        );
        assert_eq!(
            k("customers_2026.csv", Some("customer")),
            Ok(Format::Csv(Kind::Customer))
        );
        assert!(k("customers_2026.csv", Some("customers")).is_err());
        assert!(k("seed.json", Some("customer")).is_err());
        assert!(k("seed.txt", None).is_err());
    }

    #[test]
    fn rules_apply_to_every_record_and_duplicates_are_refused() {
        let e = errs(
            "customers.csv",
            Format::Csv(Kind::Customer),
            "id,name,currency,credit_limit,terms,country,discount_percent\n\
             C-1,One,eur,-1,net 30,Germany,100\n\
             C-2,Two,EUR,5,net 30,DE,0\n\
             C-2,Two again,EUR,5,net 30,DE,0\n",
        );
        assert_eq!(
            e,
            vec![
                "customers.csv:2:9: customer 'C-1': currency: 'eur' is not a currency code (three capital letters, e.g. EUR)",
                "customers.csv:2:13: customer 'C-1': credit_limit: -1 must not be negative",
                "customers.csv:2:23: customer 'C-1': country: must be an ISO 3166 country code of two capital letters",
                "customers.csv:2:31: customer 'C-1': discount_percent: 100 must be at least 0 and below 100",
                "customers.csv:4:1: customer 'C-2': appears twice in this file (first at line 3, column 1)",
            ]
        );
    }

    #[test]
    fn errors_are_bounded() {
        let mut text = String::from("item,location,quantity\n");
        for i in 0..(MAX_ERRORS + 7) {
            text.push_str(&format!("A{i},main,-1\n"));
        }
        let e = errs("stock.csv", Format::Csv(Kind::Stock), &text);
        assert_eq!(e.len(), MAX_ERRORS + 1);
        assert_eq!(
            e.last().map(String::as_str),
            Some("stock.csv: … and 7 more errors; nothing imported")
        );
    }

    const SAME_JSON: &str = r#"{
  "customer": [ { "id": "C-1", "name": "One, Ltd", "currency": "EUR", "credit_limit": 100.50,
                  "open_balance": 0, "terms": "2/10 net 30", "blocked": false,
                  "bank_accounts": ["DE89370400440532013000", "GB29NWBK60161331926819"] } ],
  "supplier": [ { "id": "S-1", "name": "Steel", "lead_time_days": 5 } ],
  "item": [ { "sku": "0042", "description": "Bolt", "price": 7.335, "uom": "BX", "supplier": "S-1" } ],
  "stock": [ { "item": "0042", "location": "main", "quantity": 10 } ]
}"#;

    const SAME_YAML: &str = "customer:
  - id: C-1
    name: One, Ltd
    currency: EUR
    credit_limit: 100.50
    open_balance: 0
    terms: 2/10 net 30
    blocked: false
    bank_accounts: [DE89370400440532013000, GB29NWBK60161331926819]
supplier: [ { id: S-1, name: Steel, lead_time_days: 5 } ]
item: [ { sku: '0042', description: Bolt, price: 7.335, uom: BX, supplier: S-1 } ]
stock: [ { item: '0042', location: main, quantity: 10 } ]
";

    const SAME_CSV: [(&str, Kind, &str); 4] = [
        (
            "customers.csv",
            Kind::Customer,
            "id,name,currency,credit_limit,open_balance,terms,blocked,bank_accounts\n\
             C-1,\"One, Ltd\",EUR,100.50,0,2/10 net 30,false,DE89370400440532013000;GB29NWBK60161331926819\n",
        ),
        (
            "suppliers.csv",
            Kind::Supplier,
            "id,name,lead_time_days\nS-1,Steel,5\n",
        ),
        (
            "items.csv",
            Kind::Item,
            "sku,description,price,uom,supplier,cost\n0042,Bolt,7.335,BX,S-1,\n",
        ),
        (
            "stock.csv",
            Kind::Stock,
            "item,location,quantity\n0042,main,10\n",
        ),
    ];

    /// What a store holds after writing `data`: every document and the stock levels.
    async fn stored(data: &MasterData) -> Vec<(String, String, String)> {
        use crate::store::Store;
        let dir = crate::testing::TempDir::new("ordo_masterdata");
        let store = crate::store::sqlite::SqliteStore::open(
            &dir.path().join("ordo.db"),
            crate::store::sqlite::Durability::Normal,
        )
        .await
        .unwrap();
        let mut tx = store.begin().await.unwrap();
        write(tx.as_mut(), data, 1).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let mut out = Vec::new();
        for kind in ["customer", "item", "supplier"] {
            for (id, doc) in tx.get_documents(kind, "").await.unwrap() {
                out.push((kind.to_string(), id, doc.to_string()));
            }
        }
        let q = tx.stock_level("0042", "main").await.unwrap();
        out.push(("stock".into(), "0042@main".into(), q.to_string()));
        tx.rollback().await.unwrap();
        out
    }

    #[tokio::test]
    async fn the_three_formats_store_the_same_documents() {
        let j = parse("m.json", Format::Json, SAME_JSON, &lim()).unwrap();
        let y = parse("m.yaml", Format::Yaml, SAME_YAML, &lim()).unwrap();
        let mut c = MasterData::default();
        for (shown, kind, text) in SAME_CSV {
            let d = parse(shown, Format::Csv(kind), text, &lim()).unwrap();
            c.customers.extend(d.customers);
            c.items.extend(d.items);
            c.suppliers.extend(d.suppliers);
            c.stock.extend(d.stock);
        }
        assert_eq!(y, j);
        assert_eq!(c, j);
        let docs = stored(&j).await;
        assert_eq!(docs.len(), 4, "{docs:?}");
        assert_eq!(
            docs[0].2,
            r#"{"id":"C-1","name":"One, Ltd","currency":"EUR","credit_limit":100.50,"open_balance":0,"terms":"2/10 net 30","bank_accounts":["DE89370400440532013000","GB29NWBK60161331926819"],"blocked":false,"discount_percent":0}"#
        );
        assert_eq!(docs, stored(&y).await);
        assert_eq!(docs, stored(&c).await);
    }
}
