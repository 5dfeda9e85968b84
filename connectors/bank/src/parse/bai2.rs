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
fn funds(f: &mut Fields<'_>, ty: &str) -> Option<chrono::NaiveDate> {
    match ty.trim() {
        "S" => {
            for _ in 0..3 {
                f.next();
            }
            None
        }
        "V" => {
            let d = f.next().and_then(|d| yymmdd(d.trim().as_bytes()));
            f.next();
            d
        }
        "D" => {
            let n: usize = f.next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
            for _ in 0..n.min(1000) * 2 {
                f.next();
            }
            None
        }
        _ => None,
    }
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
                file_id = f.next().unwrap_or("").trim().to_string();
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
                let d = f.next().unwrap_or("").trim();
                as_of = Some(
                    yymmdd(d.as_bytes()).ok_or_else(|| err(format!("invalid as-of date {d:?}")))?,
                );
                f.next();
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
                let c = f.next().unwrap_or("").trim();
                stmt.currency = if c.is_empty() {
                    grp_ccy.clone()
                } else {
                    c.to_string()
                };
                stmt.statement_id = format!(
                    "{}/{}",
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
                    let ty = f.next().unwrap_or("").trim();
                    let amt = f.next().unwrap_or("");
                    let _count = f.next();
                    let fty = f.next().unwrap_or("");
                    funds(&mut f, fty);
                    if ty.is_empty() {
                        continue;
                    }
                    let v = minor(amt)
                        .ok_or_else(|| err(format!("invalid amount {amt:?} for type {ty}")))?;
                    sum += v;
                    let bal = Some(Balance {
                        amount: Decimal::from_i128_with_scale(v, scale),
                        date: as_of,
                    });
                    match ty {
                        "010" => stmt.opening = bal,
                        "015" => stmt.closing = bal,
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
                let amt = f.next().unwrap_or("");
                let v = minor(amt)
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| err(format!("invalid detail amount {amt:?}")))?;
                a.sum += v;
                let fty = f.next().unwrap_or("");
                let value_date = funds(&mut f, fty);
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
                let total = f.next().unwrap_or("");
                let stated =
                    minor(total).ok_or_else(|| err(format!("invalid control total {total:?}")))?;
                control(&mut warn, &loc, "account", "total", stated, a.sum)?;
                let cnt = f.next().unwrap_or("").trim();
                control(
                    &mut warn,
                    &loc,
                    "account",
                    "record count",
                    cnt.parse::<i128>().unwrap_or(-1),
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
                let total = f.next().unwrap_or("");
                let stated =
                    minor(total).ok_or_else(|| err(format!("invalid control total {total:?}")))?;
                control(&mut warn, &loc, "group", "total", stated, grp_sum)?;
                let na = f.next().unwrap_or("").trim();
                control(
                    &mut warn,
                    &loc,
                    "group",
                    "account count",
                    na.parse::<i128>().unwrap_or(-1),
                    i128::from(grp_accts),
                )?;
                let nr = f.next().unwrap_or("").trim();
                control(
                    &mut warn,
                    &loc,
                    "group",
                    "record count",
                    nr.parse::<i128>().unwrap_or(-1),
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
                let total = f.next().unwrap_or("");
                let stated =
                    minor(total).ok_or_else(|| err(format!("invalid control total {total:?}")))?;
                control(&mut warn, &loc, "file", "total", stated, file_sum)?;
                let ng = f.next().unwrap_or("").trim();
                control(
                    &mut warn,
                    &loc,
                    "file",
                    "group count",
                    ng.parse::<i128>().unwrap_or(-1),
                    i128::from(file_groups),
                )?;
                let nr = f.next().unwrap_or("").trim();
                control(
                    &mut warn,
                    &loc,
                    "file",
                    "record count",
                    nr.parse::<i128>().unwrap_or(-1),
                    i128::from(file_recs),
                )?;
            }
            _ => return Err(err("88 continuation without a record to continue".into())),
        }
        i = j;
    }
    if !seen_end {
        let line = recs.last().map(|r| r.line).unwrap_or(1);
        return Err(BankError::at(line, 1, "file ends without a 99 trailer"));
    }
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
}
