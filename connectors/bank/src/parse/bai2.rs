//! BAI2 cash-management balance reporting: records 01 (file), 02 (group), 03 (account with
//! summaries), 16 (detail), 88 (continuation), 49/98/99 (trailers). Amounts have implied
//! decimals (the currency's minor unit); type codes 100-399 are credits, 400-699 debits.
//! Every 49/98/99 control total and record count is checked.
//!
//! Records end with `/`; a detail's text runs to the end of the physical record and may contain
//! commas and slashes; several records may share a line and a record may lack its `/`.

use rust_decimal::Decimal;

use super::{ParseOptions, clean, decode_text, yymmdd};
use crate::error::{BankError, Location};
use crate::model::{Balance, Direction, Entry, Format, Statement, Totals, check_balance};

const CODES: [&str; 8] = ["01", "02", "03", "16", "49", "88", "98", "99"];

/// One logical record: code, position, body after `NN,` without the final `/`.
#[derive(Debug)]
struct Rec {
    code: u8,
    line: usize,
    col: usize,
    body: String,
}

fn starts_record(s: &str) -> bool {
    s.len() >= 3 && s.as_bytes()[2] == b',' && CODES.contains(&&s[..2])
}

fn split_records(text: &str) -> Result<Vec<Rec>, BankError> {
    let mut recs: Vec<Rec> = Vec::new();
    let mut open = false; // last record not closed by '/'
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let lineno = i + 1;
        let mut pos = line.len() - line.trim_start().len();
        if line.trim().is_empty() {
            continue;
        }
        if !starts_record(&line[pos..]) {
            match recs.last_mut() {
                Some(r) if open || r.code == 16 || r.code == 88 => {
                    let (cont, closed) = match line.trim_end().strip_suffix('/') {
                        Some(c) => (c, true),
                        None => (line.trim_end(), false),
                    };
                    r.body.push(' ');
                    r.body.push_str(cont.trim());
                    open = !closed;
                    continue;
                }
                _ => {
                    return Err(BankError::at(
                        lineno,
                        pos + 1,
                        "expected a record code (01, 02, 03, 16, 49, 88, 98, 99)",
                    ));
                }
            }
        }
        while pos < line.len() {
            let s = &line[pos..];
            if !starts_record(s) {
                return Err(BankError::at(
                    lineno,
                    pos + 1,
                    format!("unexpected text after a record: {:?}", s.trim()),
                ));
            }
            // starts_record admitted only the two-digit codes of CODES, so this always parses.
            let code = s[..2].parse::<u8>().unwrap_or(0);
            let body = &s[3..];
            let text_like = code == 16 || code == 88;
            let mut end = None;
            for (k, _) in body.match_indices('/') {
                let after = body[k + 1..].trim_start();
                if !text_like || after.is_empty() || starts_record(after) {
                    end = Some(k);
                    break;
                }
            }
            let col = pos + 1;
            match end {
                Some(k) => {
                    recs.push(Rec {
                        code,
                        line: lineno,
                        col,
                        body: body[..k].to_string(),
                    });
                    let after = &body[k + 1..];
                    pos += 3 + k + 1 + (after.len() - after.trim_start().len());
                    open = false;
                }
                None => {
                    recs.push(Rec {
                        code,
                        line: lineno,
                        col,
                        body: body.trim_end().to_string(),
                    });
                    pos = line.len();
                    open = true;
                }
            }
        }
    }
    Ok(recs)
}

/// Digits after the decimal point for a currency (BAI2 amounts are in minor units).
fn minor_digits(ccy: &str) -> u32 {
    match ccy {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Signed minor-unit integer (`+000123`, `-55`, empty = 0).
fn minor(s: &str) -> Option<i128> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    let (neg, d) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty()
        || d.trim_start_matches('0').len() > 20
        || !d.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let v: i128 = d.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Sequential field reader over a record and its 88 continuations.
struct Fields<'a> {
    segs: Vec<&'a str>,
    seg: usize,
    cur: usize,
}

impl<'a> Fields<'a> {
    fn new(segs: Vec<&'a str>) -> Self {
        Fields {
            segs,
            seg: 0,
            cur: 0,
        }
    }
    fn next(&mut self) -> Option<&'a str> {
        while self.seg < self.segs.len() {
            let s = self.segs[self.seg];
            if self.cur <= s.len() {
                let rest = &s[self.cur..];
                return Some(match rest.find(',') {
                    Some(p) => {
                        self.cur += p + 1;
                        &rest[..p]
                    }
                    None => {
                        self.cur = s.len() + 1;
                        rest
                    }
                });
            }
            self.seg += 1;
            self.cur = 0;
        }
        None
    }
    /// Moves to the next continuation when the current one has only empty fields left
    /// (`015,35217175,,,/` ends with one empty field too many in some banks' files).
    fn skip_blank_tail(&mut self) {
        while self.seg + 1 < self.segs.len() {
            let s = self.segs[self.seg];
            if self.cur <= s.len() && !s[self.cur..].trim().chars().all(|c| c == ',') {
                return;
            }
            self.seg += 1;
            self.cur = 0;
        }
    }
    fn at_end(&self) -> bool {
        self.seg >= self.segs.len()
            || (self.seg + 1 == self.segs.len() && self.cur > self.segs[self.seg].len())
    }
    /// Everything not read yet, continuation records joined by a space.
    fn rest_text(&mut self) -> String {
        let mut out = String::new();
        while self.seg < self.segs.len() {
            let s = self.segs[self.seg];
            if self.cur <= s.len() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&s[self.cur..]);
            }
            self.seg += 1;
            self.cur = 0;
        }
        out
    }
}

/// Skips the fields a funds type brings along; returns the value date for `V`.
/// A `V` without a valid date or a `D` without a valid distribution count is refused: reading
/// on would shift every later field (bank and customer reference, text) by the wrong amount.
fn funds(f: &mut Fields<'_>, ty: &str) -> Result<Option<chrono::NaiveDate>, String> {
    match ty.trim() {
        "S" => {
            for _ in 0..3 {
                f.next();
            }
            Ok(None)
        }
        "V" => {
            // A missing field is refused by yymmdd like a malformed one.
            let raw = f.next().unwrap_or("").trim();
            let d = yymmdd(raw.as_bytes())
                .ok_or_else(|| format!("funds type V needs a value date YYMMDD, got {raw:?}"))?;
            f.next();
            Ok(Some(d))
        }
        "D" => {
            // A missing field is refused by the parse like a malformed one.
            let raw = f.next().unwrap_or("").trim();
            let n: usize = raw.parse().ok().filter(|n| *n <= 1000).ok_or_else(|| {
                format!("funds type D needs a distribution count 0-1000, got {raw:?}")
            })?;
            for _ in 0..n * 2 {
                f.next();
            }
            Ok(None)
        }
        // Z, 0, 1, 2 or an empty (defaulted) funds type carry no further fields.
        _ => Ok(None),
    }
}

/// A trailer's control total: unlike amounts in 03/16 it may not be defaulted (empty).
fn control_total(total: &str) -> Option<i128> {
    if total.trim().is_empty() {
        None
    } else {
        minor(total)
    }
}

/// A trailer's record/account/group count: required, a non-negative integer.
fn count(raw: Option<&str>, what: &str) -> Result<i128, String> {
    let raw = raw.unwrap_or("").trim();
    raw.parse::<i128>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("invalid {what} {raw:?} (a count is required)"))
}

struct Acct {
    stmt: Statement,
    line: usize,
    sum: i128,
    records: u64,
    totals: Totals,
}

/// Parses a BAI2 file into one statement per account (03 … 49).
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Statement>, BankError> {
    let text = decode_text(bytes);
    let recs = split_records(&text)?;
    let mut out = Vec::new();
    let mut file_id = String::new();
    let (mut file_sum, mut file_recs, mut file_groups) = (0i128, 0u64, 0u64);
    let (mut grp_sum, mut grp_recs, mut grp_accts) = (0i128, 0u64, 0u64);
    let mut grp_ccy = String::from("USD");
    let mut as_of: Option<chrono::NaiveDate> = None;
    let mut in_group = false;
    let mut seen_file = false;
    let mut seen_end = false;
    let mut acct: Option<Acct> = None;
    let mut warn: Option<Vec<String>> = opts.allow_unbalanced.then(Vec::new);
    let mut i = 0;
    while i < recs.len() {
        let r = &recs[i];
        let mut j = i + 1;
        while j < recs.len() && recs[j].code == 88 {
            j += 1;
        }
        let conts = &recs[i + 1..j];
        let n = 1 + conts.len() as u64;
        let loc = Location::text(r.line, r.col);
        let err = |msg: String| BankError::syntax(loc.clone(), msg);
        if seen_end {
            return Err(err("record after the 99 file trailer".into()));
        }
        if r.code != 1 && !seen_file {
            return Err(err("file must start with a 01 header".into()));
        }
        file_recs += n;
        if in_group {
            grp_recs += n;
        }
        if let Some(a) = acct.as_mut() {
            a.records += n;
        }
        let mut segs = vec![r.body.as_str()];
        segs.extend(conts.iter().map(|c| c.body.as_str()));
        let mut f = Fields::new(segs);
        match r.code {
            1 => {
                if seen_file {
                    return Err(err("second 01 file header".into()));
                }
                seen_file = true;
                for _ in 0..4 {
                    f.next();
                }
                // The file identification number (01 field 5) is part of every statement id,
                // the key that refuses a second import; an empty one is refused.
                file_id = f.next().unwrap_or("").trim().to_string();
                if file_id.is_empty() {
                    return Err(err(
                        "01 file header without a file identification number".into()
                    ));
                }
            }
            2 => {
                if in_group {
                    return Err(err(
                        "02 group header inside an open group (98 missing)".into()
                    ));
                }
                in_group = true;
                grp_recs = n;
                grp_sum = 0;
                grp_accts = 0;
                file_groups += 1;
                f.next();
                f.next();
                f.next();
                // A missing as-of date is refused by yymmdd below.
                let d = f.next().unwrap_or("").trim();
                as_of = Some(
                    yymmdd(d.as_bytes()).ok_or_else(|| err(format!("invalid as-of date {d:?}")))?,
                );
                f.next();
                // absent: the 02 currency is optional and BAI2 then means US dollars.
                let c = f.next().unwrap_or("").trim();
                grp_ccy = if c.is_empty() {
                    "USD".into()
                } else {
                    c.to_string()
                };
            }
            3 => {
                if !in_group {
                    return Err(err("03 account outside a group".into()));
                }
                if acct.is_some() {
                    return Err(err("03 account inside an open account (49 missing)".into()));
                }
                grp_accts += 1;
                let mut stmt = Statement::new(Format::Bai2);
                stmt.account = f.next().unwrap_or("").trim().to_string();
                if stmt.account.is_empty() {
                    return Err(err("03 account record without an account number".into()));
                }
                // absent: the 03 currency is optional; the group's currency applies.
                let c = f.next().unwrap_or("").trim();
                stmt.currency = if c.is_empty() {
                    grp_ccy.clone()
                } else {
                    c.to_string()
                };
                stmt.statement_id = format!(
                    "{}/{}",
                    // Always set: an 03 is refused outside a group and every 02 sets as_of.
                    as_of
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    file_id
                );
                stmt.sequence = Some(format!("group {file_groups}"));
                let scale = minor_digits(&stmt.currency);
                let mut sum = 0i128;
                loop {
                    f.skip_blank_tail();
                    if f.at_end() {
                        break;
                    }
                    // The 03 fields after the account are optional (defaulted) in BAI2: an empty
                    // type code skips the group, an empty funds type is Z (unknown).
                    let ty = f.next().unwrap_or("").trim();
                    let amt = f.next().unwrap_or("");
                    let _count = f.next();
                    let fty = f.next().unwrap_or("");
                    funds(&mut f, fty).map_err(&err)?;
                    if ty.is_empty() {
                        continue;
                    }
                    let v = minor(amt)
                        .ok_or_else(|| err(format!("invalid amount {amt:?} for type {ty}")))?;
                    sum += v;
                    // A defaulted (empty) amount adds nothing to the control total but is no
                    // balance: an opening or closing balance of zero would be invented.
                    let bal = (!amt.trim().is_empty()).then(|| Balance {
                        amount: Decimal::from_i128_with_scale(v, scale),
                        date: as_of,
                    });
                    match ty {
                        "010" if bal.is_some() => stmt.opening = bal,
                        "015" if bal.is_some() => stmt.closing = bal,
                        _ => {}
                    }
                }
                acct = Some(Acct {
                    stmt,
                    line: r.line,
                    sum,
                    records: n,
                    totals: Totals::default(),
                });
            }
            16 => {
                let Some(a) = acct.as_mut() else {
                    return Err(err("16 detail outside an account".into()));
                };
                // A missing type code is refused by the parse below.
                let ty = f.next().unwrap_or("").trim().to_string();
                let code: u16 = ty
                    .parse()
                    .map_err(|_| err(format!("invalid type code {ty:?}")))?;
                let direction = match code {
                    100..=399 => Direction::Credit,
                    400..=699 => Direction::Debit,
                    _ => match opts.bai2_extra_codes.iter().find(|(c, _)| *c == code) {
                        Some((_, d)) => *d,
                        None => {
                            return Err(err(format!(
                                "type code {code} is not a credit (100-399) or debit (400-699) detail; map it in bai2_extra_codes"
                            )));
                        }
                    },
                };
                // A detail without an amount would be a payment of zero: refused like a
                // malformed one.
                let amt = f.next().unwrap_or("");
                let v = minor(amt)
                    .filter(|v| *v >= 0 && !amt.trim().is_empty())
                    .ok_or_else(|| err(format!("invalid detail amount {amt:?}")))?;
                a.sum += v;
                // absent: an empty funds type is Z (unknown availability), no extra fields.
                let fty = f.next().unwrap_or("");
                let value_date = funds(&mut f, fty).map_err(&err)?;
                let bank_ref = f.next().and_then(clean);
                let cust_ref = f.next().and_then(clean);
                let text = clean(&f.rest_text());
                let mut e = Entry::new(
                    Decimal::from_i128_with_scale(v, minor_digits(&a.stmt.currency)),
                    direction,
                    &a.stmt.currency,
                );
                e.booking_date = as_of;
                e.value_date = value_date.or(as_of);
                e.bank_ref = bank_ref;
                e.customer_ref = cust_ref;
                e.bank_tx_code = Some(ty);
                e.info = text.clone();
                e.transactions[0].amount = Some(e.amount);
                e.transactions[0].remittance = text;
                a.totals.add(&e);
                a.stmt.entries.push(e);
            }
            49 => {
                let Some(mut a) = acct.take() else {
                    return Err(err("49 account trailer without an 03 account".into()));
                };
                // A missing total is refused by control_total.
                let total = f.next().unwrap_or("");
                let stated = control_total(total)
                    .ok_or_else(|| err(format!("invalid control total {total:?}")))?;
                control(&mut warn, &loc, "account", "total", stated, a.sum)?;
                let cnt = count(f.next(), "account record count").map_err(&err)?;
                control(
                    &mut warn,
                    &loc,
                    "account",
                    "record count",
                    cnt,
                    i128::from(a.records),
                )?;
                grp_sum += stated;
                let aloc = Location::text(a.line, 1);
                check_balance(&mut a.stmt, &a.totals, || aloc, opts.allow_unbalanced)?;
                out.push(a.stmt);
            }
            98 => {
                if acct.is_some() {
                    return Err(err(
                        "98 group trailer inside an open account (49 missing)".into()
                    ));
                }
                if !in_group {
                    return Err(err("98 group trailer without an 02 group".into()));
                }
                in_group = false;
                // A missing total is refused by control_total.
                let total = f.next().unwrap_or("");
                let stated = control_total(total)
                    .ok_or_else(|| err(format!("invalid control total {total:?}")))?;
                control(&mut warn, &loc, "group", "total", stated, grp_sum)?;
                let na = count(f.next(), "group account count").map_err(&err)?;
                control(
                    &mut warn,
                    &loc,
                    "group",
                    "account count",
                    na,
                    i128::from(grp_accts),
                )?;
                let nr = count(f.next(), "group record count").map_err(&err)?;
                control(
                    &mut warn,
                    &loc,
                    "group",
                    "record count",
                    nr,
                    i128::from(grp_recs),
                )?;
                file_sum += stated;
            }
            99 => {
                if in_group {
                    return Err(err(
                        "99 file trailer inside an open group (98 missing)".into()
                    ));
                }
                seen_end = true;
                // A missing total is refused by control_total.
                let total = f.next().unwrap_or("");
                let stated = control_total(total)
                    .ok_or_else(|| err(format!("invalid control total {total:?}")))?;
                control(&mut warn, &loc, "file", "total", stated, file_sum)?;
                let ng = count(f.next(), "file group count").map_err(&err)?;
                control(
                    &mut warn,
                    &loc,
                    "file",
                    "group count",
                    ng,
                    i128::from(file_groups),
                )?;
                let nr = count(f.next(), "file record count").map_err(&err)?;
                control(
                    &mut warn,
                    &loc,
                    "file",
                    "record count",
                    nr,
                    i128::from(file_recs),
                )?;
            }
            _ => return Err(err("88 continuation without a record to continue".into())),
        }
        i = j;
    }
    if !seen_end {
        // Position of the error only: an empty file is reported at line 1.
        let line = recs.last().map(|r| r.line).unwrap_or(1);
        return Err(BankError::at(line, 1, "file ends without a 99 trailer"));
    }
    // None unless allow_unbalanced: then there are no warnings to copy.
    for w in warn.unwrap_or_default() {
        for s in &mut out {
            s.warnings.push(w.clone());
        }
    }
    Ok(out)
}

/// Checks one trailer value; with `allow_unbalanced` a mismatch becomes a warning.
fn control(
    warn: &mut Option<Vec<String>>,
    loc: &Location,
    level: &'static str,
    what: &'static str,
    stated: i128,
    computed: i128,
) -> Result<(), BankError> {
    if stated == computed {
        return Ok(());
    }
    let err = BankError::ControlTotal {
        loc: loc.clone(),
        level,
        what,
        stated: stated.to_string(),
        computed: computed.to_string(),
    };
    match warn {
        Some(w) => {
            w.push(format!("control total mismatch (imported anyway): {err}"));
            Ok(())
        }
        None => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_slashes_and_commas_stays_whole() {
        let recs = split_records("16,142,100,Z,,,PAY 22/03/66, INV 1/ 16,451,5,Z,,,X/\n")
            .unwrap_or_default();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].body, "142,100,Z,,,PAY 22/03/66, INV 1");
    }

    /// A well-formed file with one 16 detail (`detail`), whose controls are then edited.
    fn file(header: &str, acct: &str, detail: &str, trailers: &str) -> String {
        format!(
            "01,S,R,260301,0800,{header},,,2/\n02,R,S,1,260301,,USD,2/\n03,{acct}/\n16,{detail}/\n{trailers}"
        )
    }

    const OK_TRAILERS: &str = "49,1000,3/\n98,1000,1,5/\n99,1000,1,7/\n";

    fn error_of(text: &str) -> String {
        match parse(text.as_bytes(), &ParseOptions::default()) {
            Ok(s) => panic!("accepted: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_fixture_shape_parses() {
        let text = file(
            "7",
            "111,USD,010,,,,015,1000,,",
            "142,1000,V,260228,,B1,C1,PAY",
            "49,2000,3/\n98,2000,1,5/\n99,2000,1,7/\n",
        );
        let s = parse(text.as_bytes(), &ParseOptions::default()).expect("parses");
        assert_eq!(s[0].statement_id, "2026-03-01/7");
        assert_eq!(
            s[0].entries[0].value_date,
            chrono::NaiveDate::from_ymd_opt(2026, 2, 28)
        );
        assert_eq!(s[0].entries[0].bank_ref.as_deref(), Some("B1"));
    }

    #[test]
    fn a_defaulted_summary_amount_is_no_balance() {
        // 010 with an empty amount: no opening balance (was an opening balance of 0).
        let text = file(
            "7",
            "111,USD,010,,,,015,1000,,",
            "142,1000,Z,B1,C1,PAY",
            "49,2000,3/\n98,2000,1,5/\n99,2000,1,7/\n",
        );
        let s = parse(text.as_bytes(), &ParseOptions::default()).expect("parses");
        assert!(s[0].opening.is_none(), "{:?}", s[0].opening);
        assert_eq!(
            s[0].closing.as_ref().map(|b| b.amount),
            Some(Decimal::new(1000, 2))
        );
    }

    #[test]
    fn missing_required_fields_are_located_errors() {
        const ZERO: &str = "49,0,3/\n98,0,1,5/\n99,0,1,7/\n";
        // (01 file id, 03 body, 16 body, trailers, error position, error text), one case a line
        #[rustfmt::skip]
        let cases = [
            ("", "111,USD", "142,1000,Z,B1,C1,PAY", OK_TRAILERS, "1:1:", "file identification"),
            ("7", ",USD", "142,1000,Z,B1,C1,PAY", OK_TRAILERS, "3:1:", "account number"),
            // was a payment of 0
            ("7", "111,USD", "142,,Z,B1,C1,PAY", ZERO, "4:1:", "detail amount"),
            // was: value date = as-of date, later fields shifted
            ("7", "111,USD", "142,1000,V,,,B1,C1,PAY", OK_TRAILERS, "4:1:", "value date"),
            // was: 0 pairs, the pairs read as references
            ("7", "111,USD", "142,1000,D,x,0,1000,B1,C1,PAY", OK_TRAILERS, "4:1:", "distribution count"),
            // was a control total of 0
            ("7", "111,USD", "142,0,Z,B1,C1,PAY", "49,,3/\n98,0,1,5/\n99,0,1,7/\n", "5:1:", "control total"),
            // garbled counts were -1, reported as a mismatch
            ("7", "111,USD", "142,1000,Z,B1,C1,PAY", "49,1000,x3/\n98,1000,1,5/\n99,1000,1,7/\n", "5:1:", "account record count"),
            ("7", "111,USD", "142,1000,Z,B1,C1,PAY", "49,1000,3/\n98,1000,,5/\n99,1000,1,7/\n", "6:1:", "group account count"),
            ("7", "111,USD", "142,1000,Z,B1,C1,PAY", "49,1000,3/\n98,1000,1,5/\n99,1000,1/\n", "7:1:", "file record count"),
        ];
        for (header, acct, detail, trailers, at, what) in cases {
            let text = file(header, acct, detail, trailers);
            let e = error_of(&text);
            assert!(e.starts_with(at) && e.contains(what), "{text}\n-> {e}");
        }
    }
}
