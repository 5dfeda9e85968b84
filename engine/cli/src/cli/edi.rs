//! `ordo edi …`: a thin front end over the pure `ordo-edi` crate (read, validate, acknowledge,
//! map, write). No engine, no store: files in, JSON or EDI on stdout, located errors on stderr.
//!
//! Errors about a file are `path:line:col: …`, the line and column computed from the byte
//! offset the crate reports (pointing at the element when the issue names one), followed by
//! the interchange / group / transaction control numbers, the segment (file index, position in
//! the set, byte offset) and the element position.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use clap::{Subcommand, ValueEnum};
use ordo::edifile::{error_line as edi_error_line, issue_line, standard_name};
use ordo_contract::{Invoice, Order, Shipment};
use ordo_edi::ack::{self, AckKind, AckOptions, ContrlOptions};
use ordo_edi::map::{self, MapOptions};
use ordo_edi::write::{Document, Envelope};
use ordo_edi::{Lines, PartnerId, Standard, Version};
use serde_json::{Value, json};

use super::{FAIL, fail};

const USAGE: u8 = 2;

#[derive(Subcommand)]
pub enum EdiCommand {
    /// Read and validate an X12 or EDIFACT file (several interchanges allowed) and print it as
    /// JSON: interchanges (envelope, separators, issues), groups, transactions (ack status A/E/R
    /// and their segments with file index, position in the set, byte offset, line and column).
    ///
    /// stdout always gets the JSON of everything that could be read, also when the file is
    /// invalid (then "valid" is false and every issue is in "issues"). stderr gets one located
    /// line per issue (`path:line:col: …`; warnings prefixed `warning:`). A well-formed set
    /// ordo has no table for (an 846, a 214…) is read at the envelope and segment level and
    /// reported as not mapped (a warning, `"mapped": false`). Exit 1 when some issue is an
    /// error (the set would be rejected) or part of the file is unreadable; warnings alone
    /// exit 0.
    Parse {
        file: PathBuf,
        /// Leave the segments out (envelope, structure and issues only).
        #[arg(long)]
        no_segments: bool,
    },
    /// Write the functional acknowledgment of every interchange in FILE to stdout: a 997 (or
    /// 999 with --999) per X12 interchange, a CONTRL per EDIFACT interchange. Sender and
    /// receiver are the inbound envelope's, swapped; separators are the inbound ones. The ack
    /// reports rejections itself (AK5/AK9 R, UCM 4), so exit 0 whenever an ack was written; exit
    /// 1 when part of the file cannot be read or acknowledged (no GS group, unreadable header).
    /// Acknowledgments are never acknowledged: groups of 997/999 and CONTRL messages are left
    /// out, and an interchange holding only acknowledgments (or a TA1) gets nothing (said on
    /// stderr, exit 0). Sets not in --accept are rejected (AK5/IK5 R 1, UCM 4 14).
    /// With --json: {"acks": [{"interchange", "kind", "control_number", "groups", "text"}],
    /// "skipped": [{"interchange", "reason"}]}.
    Ack {
        file: PathBuf,
        /// Transaction sets accepted, comma-separated (a partner profile's `accept:`); default
        /// 850,ORDERS,997,999,CONTRL. Any other set is rejected with code 1.
        #[arg(long, value_delimiter = ',')]
        accept: Vec<String>,
        /// X12: write 999 (005010X231A1) instead of 997.
        #[arg(long = "999")]
        x999: bool,
        /// Control number of the (first) ack interchange (ISA13 = GS06 / UNB 0020); each further
        /// interchange in FILE gets the next number.
        #[arg(long, default_value_t = 1)]
        control: u64,
        /// Only list rejected or with-errors sets (omit AK2..AK5 A / UCM 7).
        #[arg(long)]
        errors_only: bool,
        /// Ack date and time, YYYY-MM-DDTHH:MM[:SS] (default: now, UTC).
        #[arg(long)]
        at: Option<String>,
    },
    /// Map every 850 (X12) / ORDERS (EDIFACT) transaction of FILE to a canonical Order and print
    /// them as a JSON array (the input `ordo submit` takes). The order id is CUSTOMER-PO.
    /// Transactions the 997/CONTRL would reject are not mapped (located errors on stderr, exit
    /// 1) unless --no-validate; the others are still printed, as a partial acceptance would be.
    ToOrder {
        file: PathBuf,
        /// ordo customer id of the sending partner (EDI does not carry it).
        #[arg(long)]
        customer: String,
        /// Trading partner id, copied to Order.partner.
        #[arg(long)]
        partner: Option<String>,
        /// Currency when the order has no CUR / CUX.
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// Map transactions even when validation finds errors.
        #[arg(long)]
        no_validate: bool,
    },
    /// Write canonical documents as one outbound interchange on stdout: order → 855 / ORDRSP,
    /// shipment → 856 / DESADV, invoice → 810 / INVOIC.
    ///
    /// FILE is JSON: one document, an array of documents (one transaction each), or wrappers
    /// {"shipment": {..}, "order": {..}} / {"invoice": {..}, "order": {..}}. A shipment or
    /// invoice needs its order (matched by order_id = order.id): from the wrapper or from
    /// --order FILE (an order or an array of orders).
    Render {
        /// order (855/ORDRSP), shipment (856/DESADV) or invoice (810/INVOIC).
        kind: RenderKind,
        file: PathBuf,
        /// Orders for shipments/invoices: JSON order or array of orders.
        #[arg(long)]
        order: Option<PathBuf>,
        /// x12 (default) or edifact; implied by --version.
        #[arg(long)]
        standard: Option<StandardArg>,
        /// 4010 (X12 default), 5010, d96a (EDIFACT default) or d01b.
        #[arg(long)]
        version: Option<VersionArg>,
        /// Separators. X12: element, component, [repetition,] segment, e.g. `*>^~` or `*>~`
        /// (default `*>~` for 4010, `*>^~` for 5010). EDIFACT: UNA order component, element,
        /// decimal, release, repetition (space: none), segment, e.g. `:+.? '` (the default).
        #[arg(long)]
        separators: Option<String>,
        /// Interchange sender QUALIFIER:ID (ISA05/06, UNB S002).
        #[arg(long, default_value = "ZZ:ORDO")]
        sender: String,
        /// Interchange receiver QUALIFIER:ID (ISA07/08, UNB S003).
        #[arg(long, default_value = "ZZ:PARTNER")]
        receiver: String,
        /// Interchange control number (ISA13 = GS06, UNB 0020).
        #[arg(long, default_value_t = 1)]
        control: u64,
        /// Test interchange (ISA15 T / UNB 0035 1).
        #[arg(long)]
        test: bool,
        /// Ask the partner for an acknowledgment (ISA14 1 / UNB 0031 1).
        #[arg(long)]
        ack_requested: bool,
        /// No line break after each segment terminator.
        #[arg(long)]
        no_newline: bool,
        /// Envelope date and time YYYY-MM-DDTHH:MM[:SS] (default: now, UTC); its date is the
        /// 855/ORDRSP acknowledgment date.
        #[arg(long)]
        at: Option<String>,
    },
    /// Throughput and peak RSS on generated files (X12 850s, EDIFACT ORDERS), beside a memchr
    /// ceiling measured in the same run: streamed validation and `parse --no-segments`
    /// (`ordo::edibench`).
    Bench {
        /// Size of each generated file in MB (500 for the large case).
        #[arg(long, default_value_t = 50)]
        mb: u64,
        /// Folder for the generated files (removed afterwards unless --keep).
        #[arg(long, default_value = "/tmp")]
        dir: PathBuf,
        /// Runs per measure; the best is shown.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        #[arg(long)]
        keep: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderKind {
    #[value(alias = "855", alias = "ordrsp")]
    Order,
    #[value(alias = "856", alias = "desadv")]
    Shipment,
    #[value(alias = "810", alias = "invoic")]
    Invoice,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StandardArg {
    X12,
    Edifact,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VersionArg {
    #[value(name = "4010", alias = "004010")]
    X4010,
    #[value(name = "5010", alias = "005010")]
    X5010,
    #[value(alias = "D96A")]
    D96a,
    #[value(alias = "D01B")]
    D01b,
}

pub fn run(cmd: EdiCommand, json: bool) -> ExitCode {
    match cmd {
        EdiCommand::Parse { file, no_segments } => parse(&file, !no_segments),
        EdiCommand::Bench {
            mb,
            dir,
            runs,
            keep,
        } => {
            let opts = ordo::edibench::BenchOptions {
                mb,
                dir,
                runs,
                keep,
            };
            match ordo::edibench::run(&opts) {
                Ok(r) if json => print_json(&r.to_json()),
                Ok(r) => write_out(r.table().as_bytes()),
                Err(e) => fail(e),
            }
        }
        EdiCommand::Ack {
            file,
            accept,
            x999,
            control,
            errors_only,
            at,
        } => {
            let accept: Vec<String> = if accept.is_empty() {
                ack::DEFAULT_ACCEPT.iter().map(|s| s.to_string()).collect()
            } else {
                accept
                    .iter()
                    .map(|s| s.trim().to_ascii_uppercase())
                    .collect()
            };
            let opts = AckRun {
                x999,
                control,
                errors_only,
                accept,
                json,
            };
            acknowledge(&file, &opts, at.as_deref())
        }
        EdiCommand::ToOrder {
            file,
            customer,
            partner,
            currency,
            no_validate,
        } => {
            let opts = MapOptions {
                customer_id: customer,
                partner,
                default_currency: currency,
            };
            to_order(&file, &opts, !no_validate)
        }
        EdiCommand::Render {
            kind,
            file,
            order,
            standard,
            version,
            separators,
            sender,
            receiver,
            control,
            test,
            ack_requested,
            no_newline,
            at,
        } => {
            let env = match envelope(
                standard,
                version,
                separators.as_deref(),
                &sender,
                &receiver,
                control,
                at.as_deref(),
            ) {
                Ok(mut e) => {
                    e.test = test;
                    e.ack_requested = ack_requested;
                    e.newline = !no_newline;
                    e
                }
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(USAGE);
                }
            };
            render(kind, &file, order.as_deref(), &env, json)
        }
    }
}

/// Writes bytes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub(super) fn write_out(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(format!("stdout: {e}")),
    }
}

/// Pretty JSON and a newline on stdout (see [`write_out`]).
pub(super) fn print_json(v: &Value) -> ExitCode {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    write_out(text.as_bytes())
}

/// `path:line:col: message` for a JSON error (serde's own " at line L column C" dropped).
pub(super) fn json_error(path: &Path, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
    format!("{}:{}:{}: {msg}", path.display(), e.line(), e.column())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `ordo edi parse`: the report streams from [`ordo::edifile::parse`] to stdout (a closed pipe
/// ends it quietly), located problems to stderr.
fn parse(path: &Path, with_segments: bool) -> ExitCode {
    use ordo::edifile::ParseError;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut problems = std::io::stderr().lock();
    match ordo::edifile::parse(path, with_segments, &mut out, &mut problems) {
        Ok(p) if p.valid => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(FAIL),
        Err(ParseError::Open(e)) => fail(e),
        Err(ParseError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(ParseError::Write(e)) => fail(format!("stdout: {e}")),
    }
}

fn timestamp(at: Option<&str>) -> Result<NaiveDateTime, String> {
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
struct AckRun {
    x999: bool,
    control: u64,
    errors_only: bool,
    accept: Vec<String>,
    json: bool,
}

fn acknowledge(path: &Path, run: &AckRun, at: Option<&str>) -> ExitCode {
    let now = match timestamp(at) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(USAGE);
        }
    };
    let input = match read(path) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let lines = Lines::new(&input);
    let mut text = Vec::new();
    let mut acks = Vec::new();
    let mut skipped = Vec::new();
    let mut failed = false;
    let mut next = run.control;
    for r in ordo_edi::read(&input) {
        let ich = match r {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{}", edi_error_line(path, &lines, &e));
                failed = true;
                continue;
            }
        };
        let (l, c) = lines.at(ich.offset);
        if ack::holds_only_acks(&ich) {
            let reason =
                "holds only acknowledgments, which are never acknowledged: nothing written";
            eprintln!(
                "{}:{l}:{c}: interchange {}: {reason}",
                path.display(),
                ordo_contract::excerpt(&ich.control_number, 20)
            );
            skipped.push(json!({ "interchange": ich.control_number, "reason": reason }));
            continue;
        }
        for g in ich.groups.iter().filter(|g| ack::is_ack_group(g)) {
            let at = g
                .header
                .and_then(|h| ich.segments.get(h))
                .map_or(ich.offset, |s| s.offset);
            let (l, c) = lines.at(at);
            eprintln!(
                "{}:{l}:{c}: interchange {} group {}: acknowledgments, not acknowledged",
                path.display(),
                ordo_contract::excerpt(&ich.control_number, 20),
                ordo_contract::excerpt(&g.control_number, 20)
            );
        }
        let mut issues = ordo_edi::validate(&ich);
        issues.extend(ack::refused(&ich, &run.accept));
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
                if run.json {
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
                eprintln!(
                    "{}:{l}:{c}: interchange {}: {e}",
                    path.display(),
                    ich.control_number
                );
                failed = true;
            }
        }
    }
    if run.json {
        print_json(&json!({ "acks": acks, "skipped": skipped }));
    } else {
        write_out(&text);
    }
    if failed {
        ExitCode::from(FAIL)
    } else {
        ExitCode::SUCCESS
    }
}

fn to_order(path: &Path, opts: &MapOptions, validate: bool) -> ExitCode {
    let input = match read(path) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let lines = Lines::new(&input);
    let mut orders = Vec::new();
    let mut failed = false;
    let mut seen = 0;
    for r in ordo_edi::read(&input) {
        let ich = match r {
            Ok(i) => i,
            Err(e) => {
                eprintln!("{}", edi_error_line(path, &lines, &e));
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
                    eprintln!("{}", issue_line(path, &lines, &ich, i));
                }
                let (l, c) = lines.at(header_at);
                eprintln!(
                    "{}:{l}:{c}: interchange {} transaction {}: {} rejected, not mapped",
                    path.display(),
                    ich.control_number,
                    t.control_number,
                    t.set_id
                );
                failed = true;
                continue;
            }
            match map::to_order(&ich, t, opts) {
                Ok(o) => orders.push(o),
                Err(e) => {
                    let (l, c) = lines.at(header_at);
                    eprintln!("{}:{l}:{c}: {e}", path.display());
                    failed = true;
                }
            }
        }
    }
    if seen == 0 && !failed {
        return fail(format!(
            "{}: no 850 or ORDERS transaction in the file",
            path.display()
        ));
    }
    print_json(&json!(orders));
    if failed {
        ExitCode::from(FAIL)
    } else {
        ExitCode::SUCCESS
    }
}

fn partner(flag: &str, s: &str) -> Result<PartnerId, String> {
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

fn envelope(
    standard: Option<StandardArg>,
    version: Option<VersionArg>,
    seps: Option<&str>,
    sender: &str,
    receiver: &str,
    control: u64,
    at: Option<&str>,
) -> Result<Envelope, String> {
    let version = match (standard, version) {
        (_, Some(VersionArg::X4010)) => Version::X12_4010,
        (_, Some(VersionArg::X5010)) => Version::X12_5010,
        (_, Some(VersionArg::D96a)) => Version::D96A,
        (_, Some(VersionArg::D01b)) => Version::D01B,
        (Some(StandardArg::Edifact), None) => Version::D96A,
        (_, None) => Version::X12_4010,
    };
    if let Some(s) = standard {
        let want = match s {
            StandardArg::X12 => Standard::X12,
            StandardArg::Edifact => Standard::Edifact,
        };
        if want != version.standard() {
            return Err(format!(
                "--standard {} does not go with --version {version:?}",
                standard_name(want)
            ));
        }
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

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| json_error(path, &e))
}

fn from_value<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{what}: {e}"))
}

fn render(
    kind: RenderKind,
    path: &Path,
    orders_file: Option<&Path>,
    env: &Envelope,
    json: bool,
) -> ExitCode {
    match render_docs(kind, path, orders_file, env) {
        Ok(docs) => match ordo_edi::write::write(env, &docs) {
            Ok(bytes) => {
                if json {
                    return print_json(&json!({
                        "control_number": env.control_number,
                        "transactions": docs.len(),
                        "text": String::from_utf8_lossy(&bytes),
                    }));
                }
                write_out(&bytes)
            }
            Err(e) => fail(format!("{}: {e}", path.display())),
        },
        Err(e) => fail(e),
    }
}

fn render_docs(
    kind: RenderKind,
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
        RenderKind::Order => "order",
        RenderKind::Shipment => "shipment",
        RenderKind::Invoice => "invoice",
    };
    let mut docs = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        let what = format!("{p}: {key} #{}", n + 1);
        // a wrapper {"shipment": .., "order": ..} or the document itself
        let (doc, order) = match item {
            Value::Object(mut m) if m.contains_key(key) && kind != RenderKind::Order => {
                let d = m.remove(key).unwrap_or_default();
                let o = m.remove("order");
                (d, o)
            }
            Value::Object(mut m)
                if kind == RenderKind::Order && m.len() == 1 && m.contains_key(key) =>
            {
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
            RenderKind::Order => {
                let o: Order = from_value(doc, &what)?;
                let date = env.timestamp.date();
                if x12 {
                    map::order_to_855(&o, date)
                } else {
                    map::order_to_ordrsp(&o, date)
                }
            }
            RenderKind::Shipment => {
                let s: Shipment = from_value(doc, &what)?;
                let o = order_for(&s.order_id)?;
                if x12 {
                    map::shipment_to_856(&s, &o)
                } else {
                    map::shipment_to_desadv(&s, &o)
                }
                .map_err(|e| format!("{what}: {e}"))?
            }
            RenderKind::Invoice => {
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
