//! The `ordo edi` tools beside parsing (`edifile.rs`): acknowledge a file, map its orders to
//! canonical orders, render canonical documents as EDI. Pure work over the `ordo-edi` crate:
//! bytes and values in, bytes, documents and located problems out; the command line reads the
//! files and prints.

use crate::edifile::{error_line, issue_line, standard_name};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use ordo_contract::{Invoice, Order, Shipment};
use ordo_edi::ack::{self, AckKind, AckOptions, ContrlOptions};
use ordo_edi::map::{self, MapOptions};
use ordo_edi::write::{Document, Envelope};
use ordo_edi::{Lines, PartnerId, Standard, Version};
use serde_json::{Value, json};
use std::path::Path;

/// Which canonical document `render_docs` maps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DocKind {
    /// 855 / ORDRSP.
    Order,
    /// 856 / DESADV.
    Shipment,
    /// 810 / INVOIC.
    Invoice,
}

/// `--at` as a business timestamp (now when absent).
pub fn timestamp(at: Option<&str>) -> Result<NaiveDateTime, String> {
    let Some(s) = at else {
        return Ok(Utc::now().naive_utc());
    };
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| format!("--at {s:?}: expected YYYY-MM-DDTHH:MM[:SS] or YYYY-MM-DD"))
}

/// What `ordo edi ack` was asked for.
pub struct AckRun {
    pub x999: bool,
    pub control: u64,
    pub errors_only: bool,
    /// Transaction sets the profile accepts; others are rejected with AK5/IK5 code 1.
    pub accept: Vec<String>,
}

/// What [`acknowledge`] produced.
pub struct Acks {
    /// The acknowledgments, one interchange each, in file order.
    pub text: Vec<u8>,
    /// Per acknowledged interchange: its control number, the ack kind and number, the
    /// groups' verdicts and the ack's text.
    pub acks: Vec<Value>,
    pub skipped: Vec<Value>,
    /// Located lines for a person (errors and notes).
    pub problems: Vec<String>,
    /// True when an interchange could not be read or acknowledged.
    pub failed: bool,
}

/// Acknowledges every interchange of `input` (read from `path`, named in the problems): the
/// acknowledgments' text, per interchange a summary, the interchanges skipped (they hold only
/// acknowledgments, which are never acknowledged) and located problems.
pub fn acknowledge(path: &Path, input: &[u8], run: &AckRun, now: NaiveDateTime) -> Acks {
    let lines = Lines::new(input);
    let mut text = Vec::new();
    let mut acks = Vec::new();
    let mut skipped = Vec::new();
    let mut problems = Vec::new();
    let mut failed = false;
    let mut next = run.control;
    for r in ordo_edi::read(input) {
        let ich = match r {
            Ok(i) => i,
            Err(e) => {
                problems.push(error_line(path, &lines, &e));
                failed = true;
                continue;
            }
        };
        let (l, c) = lines.at(ich.offset);
        if ack::holds_only_acks(&ich) {
            let reason =
                "holds only acknowledgments, which are never acknowledged: nothing written";
            problems.push(format!(
                "{}:{l}:{c}: interchange {}: {reason}",
                path.display(),
                ordo_contract::excerpt(&ich.control_number, 20)
            ));
            skipped.push(json!({ "interchange": ich.control_number, "reason": reason }));
            continue;
        }
        for g in ich.groups.iter().filter(|g| ack::is_ack_group(g)) {
            let at = g
                .header
                .and_then(|h| ich.segments.get(h))
                .map_or(ich.offset, |s| s.offset);
            let (l, c) = lines.at(at);
            problems.push(format!(
                "{}:{l}:{c}: interchange {} group {}: acknowledgments, not acknowledged",
                path.display(),
                ordo_contract::excerpt(&ich.control_number, 20),
                ordo_contract::excerpt(&g.control_number, 20)
            ));
        }
        let mut issues = ordo_edi::validate(&ich);
        issues.extend(ack::refused(&ich, &run.accept));
        // as the partner channel: an 820/REMADV whose amounts are missing or do not add up
        issues.extend(ordo_edi::map::remittance_issues(&ich));
        let (kind, result) = match ich.standard {
            Standard::X12 => {
                let kind = if run.x999 {
                    AckKind::X999
                } else {
                    AckKind::X997
                };
                let mut o = AckOptions::new(kind, next, now);
                o.include_accepted = !run.errors_only;
                let name = if run.x999 { "999" } else { "997" };
                (name, ack::x12_ack(&ich, &issues, &o))
            }
            Standard::Edifact => {
                let mut o = ContrlOptions::new(next, now);
                o.include_accepted = !run.errors_only;
                ("CONTRL", ack::contrl(&ich, &issues, &o))
            }
        };
        match result {
            Ok(bytes) => {
                {
                    acks.push(json!({
                        "interchange": ich.control_number,
                        "kind": kind,
                        "control_number": next,
                        "groups": ack::summarize(&ich, &issues),
                        "text": String::from_utf8_lossy(&bytes),
                    }));
                }
                text.extend_from_slice(&bytes);
                next += 1;
            }
            Err(e) => {
                problems.push(format!(
                    "{}:{l}:{c}: interchange {}: {e}",
                    path.display(),
                    ich.control_number
                ));
                failed = true;
            }
        }
    }
    Acks {
        text,
        acks,
        skipped,
        problems,
        failed,
    }
}

/// What [`orders_of`] produced.
pub struct Mapped {
    pub orders: Vec<Order>,
    pub problems: Vec<String>,
    pub failed: bool,
    /// 850 / ORDERS transactions seen.
    pub seen: usize,
}

/// The 850 and ORDERS transactions of `input` mapped to canonical orders (those the
/// validation rejects are reported, not mapped), with located problems.
pub fn orders_of(path: &Path, input: &[u8], opts: &MapOptions, validate: bool) -> Mapped {
    let lines = Lines::new(input);
    let mut orders = Vec::new();
    let mut problems = Vec::new();
    let mut failed = false;
    let mut seen = 0;
    for r in ordo_edi::read(input) {
        let ich = match r {
            Ok(i) => i,
            Err(e) => {
                problems.push(error_line(path, &lines, &e));
                failed = true;
                continue;
            }
        };
        let issues = if validate {
            ordo_edi::validate(&ich)
        } else {
            Vec::new()
        };
        let verdicts = ack::summarize(&ich, &issues);
        for (gi, ti, t) in ich.transactions() {
            if t.set_id != "850" && t.set_id != "ORDERS" {
                continue;
            }
            seen += 1;
            let g = verdicts.get(gi);
            let accepted = g.is_none_or(|g| {
                g.status != ack::AckStatus::Rejected
                    && g.sets.get(ti).is_none_or(|s| s.status.is_accepted())
            });
            let header_at = ich.segments.get(t.header).map_or(ich.offset, |s| s.offset);
            if !accepted {
                for i in issues.iter().filter(|i| {
                    i.is_error()
                        && i.group.as_ref().is_some_and(|g| g.0 == gi)
                        && i.transaction.as_ref().is_none_or(|x| x.0 == ti)
                }) {
                    problems.push(issue_line(path, &lines, &ich, i));
                }
                let (l, c) = lines.at(header_at);
                problems.push(format!(
                    "{}:{l}:{c}: interchange {} transaction {}: {} rejected, not mapped",
                    path.display(),
                    ich.control_number,
                    t.control_number,
                    t.set_id
                ));
                failed = true;
                continue;
            }
            match map::to_order(&ich, t, opts) {
                Ok(o) => orders.push(o),
                Err(e) => {
                    let (l, c) = lines.at(header_at);
                    problems.push(format!("{}:{l}:{c}: {e}", path.display()));
                    failed = true;
                }
            }
        }
    }
    Mapped {
        orders,
        problems,
        failed,
        seen,
    }
}

pub fn partner(flag: &str, s: &str) -> Result<PartnerId, String> {
    match s.split_once(':') {
        Some((q, id)) if !q.is_empty() && !id.is_empty() => Ok(PartnerId {
            qualifier: q.to_string(),
            id: id.to_string(),
        }),
        _ => Err(format!(
            "--{flag} {s:?}: expected QUALIFIER:ID, e.g. ZZ:ACME"
        )),
    }
}

/// The envelope `ordo edi render` writes: the version (4010 by default, D96A for EDIFACT), the
/// parties as `QUALIFIER:ID`, separators as a profile writes them.
pub fn envelope(
    standard: Option<Standard>,
    version: Option<Version>,
    seps: Option<&str>,
    sender: &str,
    receiver: &str,
    control: u64,
    at: Option<&str>,
) -> Result<Envelope, String> {
    let version = match (standard, version) {
        (_, Some(v)) => v,
        (Some(Standard::Edifact), None) => Version::D96A,
        (_, None) => Version::X12_4010,
    };
    if let Some(want) = standard
        && want != version.standard()
    {
        return Err(format!(
            "--standard {} does not go with --version {version:?}",
            standard_name(want)
        ));
    }
    let mut env = Envelope::new(
        version,
        partner("sender", sender)?,
        partner("receiver", receiver)?,
        control,
        timestamp(at)?,
    );
    if let Some(s) = seps {
        env.separators =
            ordo_partners::parse_separators(s, version).map_err(|e| format!("--{e}"))?;
    }
    Ok(env)
}

/// `path:line:col: message` for a JSON error (serde's own " at line L column C" dropped).
pub fn json_error(path: &Path, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
    format!("{}:{}:{}: {msg}", path.display(), e.line(), e.column())
}

pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| json_error(path, &e))
}

pub fn from_value<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{what}: {e}"))
}

/// The documents of a JSON file (one or an array; shipments and invoices with their order inline
/// or from `orders_file`) mapped to EDI transactions for `env`'s standard.
pub fn render_docs(
    kind: DocKind,
    path: &Path,
    orders_file: Option<&Path>,
    env: &Envelope,
) -> Result<Vec<Document>, String> {
    let p = path.display();
    let items = match read_json(path)? {
        Value::Array(a) => a,
        v => vec![v],
    };
    if items.is_empty() {
        return Err(format!("{p}: no documents"));
    }
    let mut extra: Vec<Order> = Vec::new();
    if let Some(f) = orders_file {
        let what = f.display().to_string();
        extra = match read_json(f)? {
            Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| from_value(v, &format!("{what}: order #{}", i + 1)))
                .collect::<Result<_, _>>()?,
            v => vec![from_value(v, &what)?],
        };
    }
    let x12 = env.version.standard() == Standard::X12;
    let key = match kind {
        DocKind::Order => "order",
        DocKind::Shipment => "shipment",
        DocKind::Invoice => "invoice",
    };
    let mut docs = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        let what = format!("{p}: {key} #{}", n + 1);
        // a wrapper {"shipment": .., "order": ..} or the document itself
        let (doc, order) = match item {
            Value::Object(mut m) if m.contains_key(key) && kind != DocKind::Order => {
                // The guard checked that `key` is there.
                let d = m.remove(key).unwrap_or_default();
                let o = m.remove("order");
                (d, o)
            }
            Value::Object(mut m)
                if kind == DocKind::Order && m.len() == 1 && m.contains_key(key) =>
            {
                // The guard checked that `key` is there.
                (m.remove(key).unwrap_or_default(), None)
            }
            v => (v, None),
        };
        let order_for = |id: &str| -> Result<Order, String> {
            if let Some(o) = &order {
                return from_value(o.clone(), &format!("{what}: order"));
            }
            extra
                .iter()
                .find(|o| o.id == id)
                .cloned()
                .ok_or_else(|| {
                    format!("{what}: no order '{id}' (give it in the file as {{\"{key}\": .., \"order\": ..}} or with --order FILE)")
                })
        };
        let d = match kind {
            DocKind::Order => {
                let o: Order = from_value(doc, &what)?;
                let date = env.timestamp.date();
                if x12 {
                    map::order_to_855(&o, date)
                } else {
                    map::order_to_ordrsp(&o, date)
                }
            }
            DocKind::Shipment => {
                let s: Shipment = from_value(doc, &what)?;
                let o = order_for(&s.order_id)?;
                if x12 {
                    map::shipment_to_856(&s, &o)
                } else {
                    map::shipment_to_desadv(&s, &o)
                }
                .map_err(|e| format!("{what}: {e}"))?
            }
            DocKind::Invoice => {
                let i: Invoice = from_value(doc, &what)?;
                let o = order_for(&i.order_id)?;
                if x12 {
                    map::invoice_to_810(&i, &o)
                } else {
                    map::invoice_to_invoic(&i, &o)
                }
                .map_err(|e| format!("{what}: {e}"))?
            }
        };
        docs.push(d);
    }
    Ok(docs)
}
