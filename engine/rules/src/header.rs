//! The `//!` header at the top of a rule file.
//!
//! ```text
//! //! inputs: order, customer
//! //! outcomes: approved, review, rejected
//! ```
//!
//! Header lines come first (blank lines may separate them); the first other line ends the
//! header. `inputs:` is required and names the variables the rule reads; `outcomes:` is
//! optional. A `//!` line further down is an error, so a misplaced header is never ignored.

use crate::Diagnostic;

pub(crate) const KNOWN_KEYS: &str = "inputs, outcomes";
const EMPTY_ITEM: &str = "empty entry in the list (a stray comma?)";

#[derive(Debug, Default)]
pub(crate) struct Header {
    pub inputs: Vec<String>,
    pub outcomes: Option<Vec<String>>,
}

/// 1-based column (in characters) of byte offset `byte` in `line`.
fn col_of(line: &str, byte: usize) -> usize {
    line[..byte].chars().count() + 1
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_outcome_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

pub(crate) fn parse(path: &str, src: &str) -> Result<Header, Diagnostic> {
    let diag = |line: usize, col: usize, message: String| Diagnostic {
        path: path.to_string(),
        line,
        col,
        message,
    };
    let mut header = Header::default();
    let mut seen_inputs = false;
    let mut in_header = true;

    for (idx, line) in src.lines().enumerate() {
        let line_no = idx + 1;
        let indent = line.len() - line.trim_start().len();
        let trimmed = &line[indent..];
        let is_header_line = trimmed.starts_with("//!");
        if !in_header {
            if is_header_line {
                return Err(diag(
                    line_no,
                    col_of(line, indent),
                    "header lines (`//! key: value`) must come first in the file, before any code or ordinary comment".into(),
                ));
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if !is_header_line {
            in_header = false;
            continue;
        }
        // Byte offset (in `line`) of the text after `//!`.
        let body_start = indent + 3;
        let body = &line[body_start..];
        let key_start = body_start + (body.len() - body.trim_start().len());
        let Some(colon) = body.find(':') else {
            return Err(diag(
                line_no,
                col_of(line, key_start),
                format!(
                    "expected a header line of the form `//! key: value` (known keys: {KNOWN_KEYS})"
                ),
            ));
        };
        let key = body[..colon].trim();
        let value_start = body_start + colon + 1;
        let items = split_list(line, value_start);
        match key {
            "inputs" => {
                if seen_inputs {
                    return Err(diag(
                        line_no,
                        col_of(line, key_start),
                        "`inputs:` is declared twice".into(),
                    ));
                }
                seen_inputs = true;
                if items.is_empty() {
                    return Err(diag(
                        line_no,
                        col_of(line, value_start),
                        "`inputs:` lists no names; write e.g. `//! inputs: order, customer`".into(),
                    ));
                }
                for (name, at) in items {
                    if name.is_empty() {
                        return Err(diag(line_no, col_of(line, at), EMPTY_ITEM.into()));
                    }
                    if !is_identifier(name) {
                        return Err(diag(
                            line_no,
                            col_of(line, at),
                            format!(
                                "input name `{name}` is not a valid variable name (letters, digits and `_`, not starting with a digit)"
                            ),
                        ));
                    }
                    if header.inputs.iter().any(|n| n == name) {
                        return Err(diag(
                            line_no,
                            col_of(line, at),
                            format!("input `{name}` is listed twice"),
                        ));
                    }
                    header.inputs.push(name.to_string());
                }
            }
            "outcomes" => {
                if header.outcomes.is_some() {
                    return Err(diag(
                        line_no,
                        col_of(line, key_start),
                        "`outcomes:` is declared twice".into(),
                    ));
                }
                if items.is_empty() {
                    return Err(diag(
                        line_no,
                        col_of(line, value_start),
                        "`outcomes:` lists no outcomes; write e.g. `//! outcomes: approved, review` or remove the line".into(),
                    ));
                }
                let mut outcomes: Vec<String> = Vec::new();
                for (name, at) in items {
                    if name.is_empty() {
                        return Err(diag(line_no, col_of(line, at), EMPTY_ITEM.into()));
                    }
                    if !is_outcome_name(name) {
                        return Err(diag(
                            line_no,
                            col_of(line, at),
                            format!(
                                "outcome `{name}` is not a valid outcome name (letters, digits, `_`, `-`, `.`)"
                            ),
                        ));
                    }
                    if outcomes.iter().any(|n| n == name) {
                        return Err(diag(
                            line_no,
                            col_of(line, at),
                            format!("outcome `{name}` is listed twice"),
                        ));
                    }
                    outcomes.push(name.to_string());
                }
                header.outcomes = Some(outcomes);
            }
            "" => {
                return Err(diag(
                    line_no,
                    col_of(line, key_start),
                    format!("header line has no key before `:` (known keys: {KNOWN_KEYS})"),
                ));
            }
            other => {
                return Err(diag(
                    line_no,
                    col_of(line, key_start),
                    format!("unknown header key `{other}` (known keys: {KNOWN_KEYS})"),
                ));
            }
        }
    }
    if !seen_inputs {
        return Err(diag(
            1,
            1,
            "missing `//! inputs: ...` header line naming the variables the rule reads".into(),
        ));
    }
    Ok(header)
}

/// Splits the comma-separated list that starts at byte `start` of `line` into trimmed items with
/// their byte offsets. An empty list gives no items; an empty item (`a,,b`) is kept as "" so the
/// caller reports it.
fn split_list(line: &str, start: usize) -> Vec<(&str, usize)> {
    let rest = &line[start..];
    if rest.trim().is_empty() {
        return Vec::new();
    }
    let mut items = Vec::new();
    let mut offset = start;
    for part in rest.split(',') {
        let lead = part.len() - part.trim_start().len();
        items.push((part.trim(), offset + lead));
        offset += part.len() + 1;
    }
    items
}
