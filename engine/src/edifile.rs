//! EDI files as `ordo edi parse` reads them: opened here, streamed through
//! [`ordo_edi::StreamReader`] (one chunk and one interchange held, never the whole file), each
//! interchange validated and written out as JSON as soon as it is read, located problems
//! (`path:line:col: …`) on the error stream. Memory stays flat in the file's size; the largest
//! interchange is bounded by [`ordo_edi::Limits`].
//!
//! Also the located lines and JSON pieces the other `ordo edi` commands print, so that every
//! command words a problem the same way.

use std::io::Write;
use std::path::Path;

use ordo_edi::ack;
use ordo_edi::{EdiError, Interchange, Issue, Lines, SegmentRef, Standard, StreamReader};
use serde_json::{Value, json};

/// `path:line:col: error` (`path: error` when the error has no offset).
pub fn error_line(path: &Path, lines: &Lines, e: &EdiError) -> String {
    match e.offset() {
        Some(offset) => {
            let (l, c) = lines.at(offset);
            format!("{}:{l}:{c}: {e}", path.display())
        }
        None => format!("{}: {e}", path.display()),
    }
}

/// `path:line:col: [warning: ]issue`, pointing at the element when the issue names one.
pub fn issue_line(path: &Path, lines: &Lines, ich: &Interchange<'_>, i: &Issue) -> String {
    let (l, c) = lines.of_issue(ich, i);
    let warn = if i.is_error() { "" } else { "warning: " };
    format!("{}:{l}:{c}: {warn}{i}", path.display())
}

pub fn standard_name(s: Standard) -> &'static str {
    match s {
        Standard::X12 => "x12",
        Standard::Edifact => "edifact",
    }
}

/// One located warning per set ordo has no table for: read, not validated, not mapped.
pub fn not_mapped(path: &Path, lines: &Lines, ich: &Interchange<'_>) -> Vec<String> {
    ordo_edi::validate::not_mapped(ich)
        .map(|(gi, _, t)| {
            let at = ich.segments.get(t.header).map_or(ich.offset, |s| s.offset);
            let (l, c) = lines.at(at);
            let group = ich.groups.get(gi).map_or("", |g| g.control_number.as_str());
            format!(
                "{}:{l}:{c}: warning: interchange {} group {} transaction {}: {} is not mapped by ordo (envelope and segments read; content not validated, no document made)",
                path.display(),
                ordo_contract::excerpt(&ich.control_number, 20),
                ordo_contract::excerpt(group, 20),
                ordo_contract::excerpt(&t.control_number, 20),
                ordo_contract::excerpt(&t.set_id, 20)
            )
        })
        .collect()
}

fn element_json(seg: &SegmentRef<'_, '_>, n: usize, split: bool) -> Value {
    if split {
        let comps: Vec<_> = seg.components(n).collect();
        if comps.len() > 1 {
            return Value::Array(
                (1..=comps.len())
                    // An empty component is shown as "" (comp gives None for it), keeping the positions.
                    .map(|c| Value::String(seg.comp(n, c).unwrap_or_default()))
                    .collect(),
            );
        }
    }
    Value::String(seg.text(n).into_owned())
}

fn segment_json(ich: &Interchange<'_>, i: usize, header: Option<usize>, lines: &Lines) -> Value {
    let Some(seg) = ich.segment(i) else {
        return Value::Null;
    };
    let s = seg.segment();
    let (line, column) = lines.at(s.offset);
    // ISA16 is the component separator itself: envelope headers are not split
    let split = seg.tag() != "ISA";
    let elements: Vec<Value> = (1..=seg.len())
        .map(|n| element_json(&seg, n, split))
        .collect();
    let mut v = json!({
        "tag": seg.tag(),
        "index": s.index,
        "offset": s.offset,
        "line": line,
        "column": column,
        "elements": elements,
    });
    if let Some(h) = header.filter(|&h| i >= h) {
        v["position"] = json!(i - h + 1);
    }
    v
}

fn sep_char(b: u8) -> String {
    (b as char).to_string()
}

fn issue_json(i: &Issue, located: String) -> Value {
    json!({
        "severity": if i.is_error() { "error" } else { "warning" },
        "code": i.code,
        "x12": i.code.x12(),
        "edifact": i.code.edifact(),
        "text": i.code.text(),
        "interchange": i.interchange,
        "group": i.group.as_ref().map(|(n, c)| json!({ "index": n, "control_number": c })),
        "transaction": i.transaction.as_ref().map(|(n, c)| json!({ "index": n, "control_number": c })),
        "segment": i.segment,
        "element": i.element,
        "value": i.value,
        "detail": i.detail,
        "message": located,
    })
}

/// The JSON of one interchange: envelope, separators, issues, groups and transactions with
/// their ack status (and their segments when `with_segments`).
pub fn interchange_json(
    ich: &Interchange<'_>,
    issues: &[Issue],
    messages: Vec<String>,
    warnings: Vec<String>,
    lines: &Lines,
    with_segments: bool,
) -> Value {
    let verdicts = ack::summarize(ich, issues);
    let mut in_txn = vec![false; ich.segments.len()];
    let groups: Vec<Value> = ich
        .groups
        .iter()
        .enumerate()
        .map(|(gi, g)| {
            let gack = verdicts.get(gi);
            let txns: Vec<Value> = g
                .transactions
                .iter()
                .enumerate()
                .map(|(ti, t)| {
                    let status = gack.and_then(|a| a.sets.get(ti)).map(|s| s.status.x12());
                    let mut v = json!({
                        "set_id": t.set_id,
                        "control_number": t.control_number,
                        "version": t.version,
                        "status": status,
                        "mapped": ordo_edi::schema::set_schema(ich.standard, &t.set_id).is_some(),
                        "segment_count": t.end - t.header,
                    });
                    for flag in in_txn.iter_mut().take(t.end).skip(t.header) {
                        *flag = true;
                    }
                    if ordo_edi::map::is_remittance(&t.set_id) {
                        v["remittance"] = remittance_json(ich, gi, ti, t);
                    }
                    if ordo_edi::map::is_change(t) {
                        v["change"] = change_json(ich, t);
                    }
                    if with_segments {
                        v["segments"] = (t.header..t.end)
                            .map(|i| segment_json(ich, i, Some(t.header), lines))
                            .collect();
                    }
                    v
                })
                .collect();
            let seg_index = |i: Option<usize>| i.and_then(|i| ich.segments.get(i)).map(|s| s.index);
            json!({
                "functional_id": g.functional_id,
                "sender": g.sender,
                "receiver": g.receiver,
                "date": g.date,
                "time": g.time,
                "control_number": g.control_number,
                "version": g.version,
                "explicit": g.header.is_some(),
                "header_index": seg_index(g.header),
                "trailer_index": seg_index(g.trailer),
                "status": gack.map(|a| a.status.x12()),
                "transactions": txns,
            })
        })
        .collect();
    let s = ich.separators;
    let (line, column) = lines.at(ich.offset);
    let mut v = json!({
        "standard": standard_name(ich.standard),
        "version": ich.version,
        "syntax_id": ich.syntax_id,
        "sender": ich.sender,
        "receiver": ich.receiver,
        "date": ich.date,
        "time": ich.time,
        "control_number": ich.control_number,
        "ack_requested": ich.ack_requested,
        "test": ich.test,
        "offset": ich.offset,
        "end": ich.end,
        "line": line,
        "column": column,
        "separators": {
            "element": sep_char(s.element),
            "component": sep_char(s.component),
            "repetition": s.repetition.map(sep_char),
            "segment": sep_char(s.segment),
            "release": s.release.map(sep_char),
            "decimal": sep_char(s.decimal),
        },
        "segment_count": ich.segments.len(),
        "valid": !issues.iter().any(Issue::is_error),
        "issues": issues.iter().zip(messages).map(|(i, m)| issue_json(i, m)).collect::<Vec<_>>(),
        "warnings": warnings,
        "groups": groups,
    });
    if with_segments {
        v["envelope"] = (0..ich.segments.len())
            .filter(|&i| !in_txn[i])
            .map(|i| segment_json(ich, i, None, lines))
            .collect();
    }
    v
}

/// The advice an 820/REMADV maps to, without what only a partner profile gives (customer,
/// partner, the advice's store id; a currency the file does not name is `null`); `null` when
/// it cannot be mapped (its located issue says why).
fn remittance_json(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    t: &ordo_edi::Transaction,
) -> Value {
    let opts = ordo_edi::map::MapOptions {
        customer_id: String::new(),
        partner: None,
        default_currency: String::new(),
    };
    match ordo_edi::map::to_remittance(ich, gi, ti, t, &opts) {
        Ok(a) => {
            // Serializing a document of strings and decimals cannot fail.
            let mut v = serde_json::to_value(&a).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.remove("id");
                o.remove("customer_id");
                o.remove("partner");
                if a.currency.is_empty() {
                    o.insert("currency".into(), Value::Null);
                }
            }
            v
        }
        Err(_) => Value::Null,
    }
}

/// The change request an 860/ORDCHG maps to, without the customer a partner profile gives
/// (`order_id` is then `-PO`, so it is left out), or `{error}` saying why it cannot be read.
fn change_json(ich: &Interchange<'_>, t: &ordo_edi::Transaction) -> Value {
    let opts = ordo_edi::map::MapOptions {
        customer_id: String::new(),
        partner: None,
        default_currency: String::new(),
    };
    match ordo_edi::map::to_change_request(ich, t, &opts) {
        Ok(r) => {
            // Serializing a request of strings, dates and decimals cannot fail.
            let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.remove("order_id");
            }
            v
        }
        Err(u) => json!({ "error": u.reason, "po_number": u.po_number }),
    }
}

/// What [`parse`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// No issue is an error and every part of the file was read.
    pub valid: bool,
    pub interchanges: usize,
    pub bytes: usize,
}

/// Why [`parse`] stopped.
#[derive(Debug)]
pub enum ParseError {
    /// The file could not be opened (`path: reason`).
    Open(String),
    /// Writing the report failed (a closed pipe is one: the reader went away).
    Write(std::io::Error),
}

/// Reads `path` interchange by interchange and writes the report to `out` as it goes:
/// `{"file", "interchanges": [...], "errors": [...], "valid"}` (pretty JSON; `interchanges`
/// without segments unless `with_segments`). Every issue and error is also written to
/// `problems`, one located line each.
pub fn parse(
    path: &Path,
    with_segments: bool,
    out: &mut dyn Write,
    problems: &mut dyn Write,
) -> Result<Parsed, ParseError> {
    let file = std::fs::File::open(path)
        .map_err(|e| ParseError::Open(format!("{}: {e}", path.display())))?;
    let mut reader = StreamReader::new(file);
    // Serializing a string or a Value cannot fail (here and below).
    let file_name = serde_json::to_string(&path.display().to_string()).unwrap_or_default();
    write!(out, "{{\n  \"file\": {file_name},\n  \"interchanges\": [")
        .map_err(ParseError::Write)?;
    let mut errors: Vec<Value> = Vec::new();
    let mut valid = true;
    let mut count = 0usize;
    reader
        .for_each(|item| -> Result<(), std::io::Error> {
            let lines = &item.lines;
            match &item.result {
                Ok(ich) => {
                    let mut issues = ordo_edi::validate(ich);
                    // an 820/REMADV is also mapped: missing amounts and totals that do not
                    // add up are located errors, as the partner channel finds them
                    issues.extend(ordo_edi::map::remittance_issues(ich));
                    let msgs: Vec<String> = issues
                        .iter()
                        .map(|i| issue_line(path, lines, ich, i))
                        .collect();
                    for (i, m) in issues.iter().zip(&msgs) {
                        valid &= !i.is_error();
                        writeln!(problems, "{m}")?;
                    }
                    let warnings = not_mapped(path, lines, ich);
                    for w in &warnings {
                        writeln!(problems, "{w}")?;
                    }
                    let v = interchange_json(ich, &issues, msgs, warnings, lines, with_segments);
                    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
                    out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
                    for (n, line) in text.lines().enumerate() {
                        if n > 0 {
                            out.write_all(b"\n")?;
                        }
                        out.write_all(b"    ")?;
                        out.write_all(line.as_bytes())?;
                    }
                    count += 1;
                }
                Err(e) => {
                    let m = error_line(path, lines, e);
                    writeln!(problems, "{m}")?;
                    errors.push(json!({ "message": m }));
                    valid = false;
                }
            }
            Ok(())
        })
        .map_err(ParseError::Write)?;
    let errors = serde_json::to_string_pretty(&errors)
        .unwrap_or_default()
        .replace('\n', "\n  ");
    let close = if count == 0 { "]" } else { "\n  ]" };
    writeln!(
        out,
        "{close},\n  \"errors\": {errors},\n  \"valid\": {valid}\n}}"
    )
    .and_then(|_| out.flush())
    .map_err(ParseError::Write)?;
    Ok(Parsed {
        valid,
        interchanges: count,
        bytes: reader.position(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed report is one JSON document with every interchange and every error, the
    /// problems located by line and column, also for a file that ends in bytes outside any
    /// interchange.
    #[test]
    fn report_is_json_with_located_problems() {
        let dir = std::env::temp_dir().join(format!("ordo-edifile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("two.edi");
        let mut bytes = ordo_edi::workload::x12_interchange(1);
        bytes.extend(ordo_edi::workload::edifact_interchange(2));
        bytes.extend_from_slice(b"\nstray bytes");
        std::fs::write(&path, &bytes).unwrap();
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        let p = parse(&path, false, &mut out, &mut problems).unwrap();
        assert_eq!(p.interchanges, 2);
        assert!(!p.valid);
        let v: Value = serde_json::from_slice(&out).expect("one JSON document");
        assert_eq!(v["interchanges"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["interchanges"][1]["standard"], "edifact");
        assert_eq!(v["valid"], false);
        let problems = String::from_utf8(problems).unwrap();
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        assert!(
            problems.contains(&format!("two.edi:{lines}:1: byte ")),
            "{problems}"
        );
        assert_eq!(v["errors"][0]["message"], problems.trim_end());
        // no interchange at all: still one JSON document
        std::fs::write(&path, b"").unwrap();
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        let p = parse(&path, true, &mut out, &mut problems).unwrap();
        assert_eq!(p.interchanges, 0);
        let v: Value = serde_json::from_slice(&out).expect("one JSON document");
        assert_eq!(v["interchanges"], json!([]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
