//! SWIFT MT940 customer statements (also the German/Dutch/Swiss bank dialects): `:20:` `:25:`
//! `:28C:` `:60F|M:` `:61:` `:86:` `:62F|M:` `:64:` `:65:`, optional SWIFT blocks
//! `{1:}{2:}{4: … -}`. `:61:` subfields (value date, entry date, C/D/RC/RD, funds code, amount
//! with comma, type, customer//bank reference, supplementary details with `/OCMT/` `/CHGS/`).
//! `:86:` is kept raw and also read as German GVC `?00…?63` (SEPA `EREF+`/`SVWZ+`…), Dutch
//! `/EREF/ /NAME/ /REMI/ /IBAN/`, or free text.

use super::{ParseOptions, clean, decimal_amount, decode_text, digits, yymmdd};
use crate::error::{BankError, Location};
use crate::model::{Balance, Direction, Entry, Format, Statement, Totals, TxDetail, check_balance};
use crate::reference;

/// One tag with its content lines and the line its tag stands on.
struct Field {
    tag: String,
    line: usize,
    lines: Vec<String>,
}

/// Parses every statement in an MT940 file.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Statement>, BankError> {
    let text = decode_text(bytes);
    let mut out = Vec::new();
    let mut builder: Option<Builder> = None;
    let mut field: Option<Field> = None;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let mut line = raw.trim_end_matches(['\r', '\n']);
        if line.starts_with('{') {
            // SWIFT block header; the text block may start on the same line after `{4:`.
            match line.find("{4:") {
                Some(p) => line = &line[p + 3..],
                None => continue,
            }
            if line.trim().is_empty() {
                continue;
            }
        }
        let t = line.trim();
        if t == "-" || t.starts_with("-}") {
            flush(&mut field, &mut builder)?;
            finish(&mut builder, &mut out, opts)?;
            continue;
        }
        if let Some((tag, rest)) = split_tag(line) {
            flush(&mut field, &mut builder)?;
            if tag == "20" {
                finish(&mut builder, &mut out, opts)?;
                builder = Some(Builder::new(lineno));
            }
            field = Some(Field {
                tag: tag.to_string(),
                line: lineno,
                lines: vec![rest.to_string()],
            });
        } else if let Some(f) = field.as_mut() {
            if !line.trim().is_empty() {
                f.lines.push(line.to_string());
            }
        } else if !line.trim().is_empty() && builder.is_some() {
            return Err(BankError::at(lineno, 1, "text outside a tag"));
        }
    }
    flush(&mut field, &mut builder)?;
    finish(&mut builder, &mut out, opts)?;
    if out.is_empty() {
        return Err(BankError::at(1, 1, "no MT940 statement (:20:) found"));
    }
    Ok(out)
}

/// `:61:` → (`61`, rest); only `:NN:` or `:NNA:` counts as a tag.
fn split_tag(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    if b.len() < 4 || b[0] != b':' || !b[1].is_ascii_digit() || !b[2].is_ascii_digit() {
        return None;
    }
    if b[3] == b':' {
        return Some((&line[1..3], &line[4..]));
    }
    if b.len() >= 5 && b[3].is_ascii_alphabetic() && b[4] == b':' {
        return Some((&line[1..4], &line[5..]));
    }
    None
}

struct Builder {
    stmt: Statement,
    start_line: usize,
    totals: Totals,
    last_tag: String,
}

impl Builder {
    fn new(line: usize) -> Self {
        Builder {
            stmt: Statement::new(Format::Mt940),
            start_line: line,
            totals: Totals::default(),
            last_tag: String::new(),
        }
    }
}

fn flush(field: &mut Option<Field>, builder: &mut Option<Builder>) -> Result<(), BankError> {
    let Some(f) = field.take() else { return Ok(()) };
    let Some(b) = builder.as_mut() else {
        // Header lines before the first :20: (`:940:` and the like) are ignored.
        return Ok(());
    };
    // Every field starts with its tag line, so there is a first line; an empty one is
    // refused where the tag needs a value (:20: in finish, :25:, :60:, :61:, :62: below).
    let first = f.lines.first().map(String::as_str).unwrap_or("");
    let col = f.tag.len() + 3;
    match f.tag.as_str() {
        "20" => b.stmt.statement_id = first.trim().to_string(),
        "25" => {
            let acct = first.trim();
            b.stmt.account_is_iban = reference::iban_valid(acct);
            b.stmt.account = if b.stmt.account_is_iban {
                reference::compact(acct)
            } else {
                acct.to_string()
            };
        }
        "28" | "28C" => b.stmt.sequence = clean(first),
        "60F" | "60M" => {
            let (bal, ccy) = balance(first, f.line, col)?;
            b.stmt.opening = Some(bal);
            b.stmt.currency = ccy;
        }
        "62F" | "62M" => {
            let (bal, ccy) = balance(first, f.line, col)?;
            if !b.stmt.currency.is_empty() && ccy != b.stmt.currency {
                return Err(BankError::at(
                    f.line,
                    col + 7,
                    format!(
                        "closing currency {ccy} differs from opening {}",
                        b.stmt.currency
                    ),
                ));
            }
            b.stmt.closing = Some(bal);
        }
        "61" => {
            if b.stmt.opening.is_none() {
                return Err(BankError::at(
                    f.line,
                    1,
                    ":61: before the opening balance :60F:/:60M:",
                ));
            }
            let e = entry(
                &f,
                &b.stmt.currency,
                b.stmt.opening.as_ref().and_then(|o| o.date),
            )?;
            b.stmt.entries.push(e);
        }
        "86" => {
            if b.last_tag == "61"
                && let Some(e) = b.stmt.entries.last_mut()
            {
                apply_86(e, &f.lines);
            }
        }
        _ => {}
    }
    b.last_tag = f.tag;
    Ok(())
}

fn finish(
    builder: &mut Option<Builder>,
    out: &mut Vec<Statement>,
    opts: &ParseOptions,
) -> Result<(), BankError> {
    let Some(mut b) = builder.take() else {
        return Ok(());
    };
    let loc = Location::text(b.start_line, 1);
    // :20: is the statement's reference and part of its identity: an empty one is refused.
    if b.stmt.statement_id.is_empty() {
        return Err(BankError::syntax(
            loc,
            ":20: transaction reference is empty",
        ));
    }
    if b.stmt.account.is_empty() {
        return Err(BankError::syntax(
            loc,
            format!("statement {} has no :25: account", b.stmt.statement_id),
        ));
    }
    if b.stmt.opening.is_none() || b.stmt.closing.is_none() {
        return Err(BankError::syntax(
            loc,
            format!(
                "statement {} needs :60F:/:60M: and :62F:/:62M:",
                b.stmt.statement_id
            ),
        ));
    }
    for e in &b.stmt.entries {
        b.totals.add(e);
    }
    check_balance(&mut b.stmt, &b.totals, || loc, opts.allow_unbalanced)?;
    out.push(b.stmt);
    Ok(())
}

/// `C200219EUR931052,29`
fn balance(s: &str, line: usize, col: usize) -> Result<(Balance, String), BankError> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 11 {
        return Err(BankError::at(
            line,
            col,
            format!("balance too short: {s:?}"),
        ));
    }
    let debit = match b[0] {
        b'C' => false,
        b'D' => true,
        _ => return Err(BankError::at(line, col, "balance mark must be C or D")),
    };
    let date = yymmdd(&b[1..7])
        .ok_or_else(|| BankError::at(line, col + 1, "invalid balance date (YYMMDD)"))?;
    if !b[7..10].iter().all(u8::is_ascii_alphabetic) {
        return Err(BankError::at(
            line,
            col + 7,
            format!("invalid currency {:?}", String::from_utf8_lossy(&b[7..10])),
        ));
    }
    let ccy = &s[7..10];
    let amount = decimal_amount(&s[10..])
        .ok_or_else(|| BankError::at(line, col + 10, format!("invalid amount {:?}", &s[10..])))?;
    Ok((
        Balance {
            amount: if debit { -amount } else { amount },
            date: Some(date),
        },
        ccy.to_ascii_uppercase(),
    ))
}

/// `2002010219RDR1027,25N068NONREF//BANKREF` + supplementary lines.
fn entry(
    f: &Field,
    currency: &str,
    opening: Option<chrono::NaiveDate>,
) -> Result<Entry, BankError> {
    // An empty :61: is refused by the value date check below.
    let s = f.lines.first().map(String::as_str).unwrap_or("");
    let b = s.as_bytes();
    let at = |i: usize, msg: &str| BankError::at(f.line, 5 + i, format!(":61: {msg}"));
    let value_date = b
        .get(0..6)
        .and_then(yymmdd)
        .ok_or_else(|| at(0, "invalid value date (YYMMDD)"))?;
    let mut i = 6;
    let mut booking_date = None;
    if b.len() >= i + 4 && b[i..i + 4].iter().all(u8::is_ascii_digit) {
        // The four bytes were just checked to be digits, so digits() always succeeds.
        let (m, d) = (
            digits(&b[i..i + 2]).unwrap_or(0),
            digits(&b[i + 2..i + 4]).unwrap_or(0),
        );
        let mut y = chrono::Datelike::year(&value_date);
        let vm = chrono::Datelike::month(&value_date);
        if m == 12 && vm == 1 {
            y -= 1;
        } else if m == 1 && vm == 12 {
            y += 1;
        }
        booking_date = Some(
            chrono::NaiveDate::from_ymd_opt(y, m, d)
                .ok_or_else(|| at(i, "invalid entry date (MMDD)"))?,
        );
        i += 4;
    } else if b.len() >= i + 4 && &b[i..i + 4] == b"    " {
        i += 4;
    }
    let upper = |k: usize| b.get(k).map(u8::to_ascii_uppercase);
    let (direction, reversal) = match (upper(i), upper(i + 1)) {
        (Some(b'R'), Some(b'C')) => (Direction::Debit, true),
        (Some(b'R'), Some(b'D')) => (Direction::Credit, true),
        (Some(b'C'), _) => (Direction::Credit, false),
        (Some(b'D'), _) => (Direction::Debit, false),
        _ => return Err(at(i, "debit/credit mark must be C, D, RC or RD")),
    };
    i += if reversal { 2 } else { 1 };
    if b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        i += 1; // funds code (third letter of the currency code)
    }
    let amt_start = i;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b',') {
        i += 1;
    }
    let amount = decimal_amount(&s[amt_start..i])
        .ok_or_else(|| at(amt_start, &format!("invalid amount {:?}", &s[amt_start..i])))?;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    // Too short is refused by the length check below.
    let ty = s.get(i..(i + 4).min(s.len())).unwrap_or("");
    if ty.len() < 4 || !matches!(ty.as_bytes()[0], b'N' | b'F' | b'S') {
        return Err(at(
            i,
            &format!("transaction type must be N/F/S + 3 characters, found {ty:?}"),
        ));
    }
    let refs = &s[i + 4..];
    let (cust, bank) = match refs.find("//") {
        Some(p) => (&refs[..p], Some(&refs[p + 2..])),
        None => (refs, None),
    };
    let mut e = Entry::new(amount, direction, currency);
    e.value_date = Some(value_date);
    e.booking_date = booking_date.or(Some(value_date));
    let _ = opening;
    e.reversal = reversal;
    e.bank_tx_code = Some(ty.trim().to_string());
    e.customer_ref = clean(cust).filter(|c| c != "NONREF");
    e.bank_ref = bank.and_then(clean).filter(|c| c != "NONREF");
    let supp: Vec<&str> = f.lines.iter().skip(1).map(String::as_str).collect();
    let supp_text = supp.join(" ");
    if let Some(c) = slash_field(&supp_text, "/CHGS/") {
        // `/CHGS/EUR0,50/`: a malformed amount is refused, not read as "no charges".
        let amount = c.get(3..).and_then(decimal_amount).ok_or_else(|| {
            BankError::at(f.line + 1, 1, format!(":61: invalid /CHGS/ charges {c:?}"))
        })?;
        e.charges = Some(amount);
    }
    if let Some(first) = supp.first().map(|l| l.trim())
        && !first.contains(' ')
        && reference::iban_valid(first)
    {
        e.transactions[0].counterparty_account = Some(first.to_string());
    }
    Ok(e)
}

/// The value after `key` up to the next `/` (`/CHGS/EUR0,50/` → `EUR0,50`).
fn slash_field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let p = s.find(key)? + key.len();
    let rest = &s[p..];
    // split always yields a first item; the fallback is never taken.
    Some(rest.split('/').next().unwrap_or(rest))
}

/// Joins wrapped `:86:` lines: without a separator after a full line (the bank wrapped
/// mid-word), with a space after a short one.
fn join_wrapped(lines: &[String], full: usize) -> String {
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 && lines[i - 1].chars().count() < full {
            out.push(' ');
        }
        out.push_str(
            l.trim_end_matches(' ')
                .trim_start_matches(|c: char| i > 0 && c == ' ' && l.len() < full),
        );
    }
    out
}

fn apply_86(e: &mut Entry, lines: &[String]) {
    let raw = clean(&lines.join(" "));
    let tx = &mut e.transactions[0];
    // An empty :86: has no GVC structure; it is then read as free text.
    let b = lines.first().map(|l| l.as_bytes()).unwrap_or(b"");
    if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && (b[3] == b'?' || b[3] == b'\x1f') {
        gvc(tx, &lines.concat(), e.bank_tx_code.as_mut());
    } else {
        let joined = join_wrapped(lines, 65);
        if !dutch(tx, &joined) {
            tx.remittance = clean(&joined);
        }
    }
    if tx.amount.is_none() {
        tx.amount = Some(e.amount);
    }
    e.info = raw;
}

/// German `ddd?00…?10…?20…` structure.
fn gvc(tx: &mut TxDetail, s: &str, code: Option<&mut String>) {
    let sep = if s.as_bytes().get(3) == Some(&b'?') {
        '?'
    } else {
        '\x1f'
    };
    let mut purpose: Vec<&str> = Vec::new();
    let mut name = String::new();
    for part in s[3..].split(sep).skip(1) {
        if part.len() < 2 || !part.is_char_boundary(2) {
            continue;
        }
        let (k, v) = part.split_at(2);
        match k {
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" | "60" | "61"
            | "62" | "63" => purpose.push(v),
            "31" => tx.counterparty_account = clean(v).map(|a| reference::compact(&a)),
            "32" | "33" => name.push_str(v),
            _ => {}
        }
    }
    if let Some(c) = code {
        c.push_str(&format!(" GVC{}", &s[..3]));
    }
    tx.counterparty_name = clean(&name);
    let mut text = String::new();
    for (i, p) in purpose.iter().enumerate() {
        if i > 0 && purpose[i - 1].chars().count() < 27 {
            text.push(' ');
        }
        text.push_str(p);
    }
    let keys = [
        "EREF+", "KREF+", "MREF+", "CRED+", "DEBT+", "SVWZ+", "ABWA+", "ABWE+", "OAMT+", "COAM+",
        "IBAN+", "BIC+",
    ];
    let mut found: Vec<(usize, &str)> = keys
        .iter()
        .filter_map(|k| text.find(k).map(|p| (p, *k)))
        .collect();
    if found.is_empty() {
        tx.remittance = clean(&text);
        return;
    }
    found.sort();
    for (n, (p, k)) in found.iter().enumerate() {
        let end = found.get(n + 1).map(|x| x.0).unwrap_or(text.len());
        // Keys found at the same place (one inside another) leave an empty value.
        let v = clean(text.get(p + k.len()..end).unwrap_or(""));
        match *k {
            "EREF+" => tx.end_to_end_id = v.filter(|s| s != "NOTPROVIDED"),
            "MREF+" => tx.mandate_id = v,
            "SVWZ+" => tx.remittance = v,
            _ => {}
        }
    }
    if tx.remittance.is_none() {
        tx.remittance = clean(&text[..found[0].0]);
    }
}

/// Dutch `/EREF/…/ORDP//NAME/…/REMI/…/IBAN/…` structure; false if none of its keys occur.
fn dutch(tx: &mut TxDetail, s: &str) -> bool {
    const KEYS: [&str; 14] = [
        "/EREF/", "/ORDP/", "/BENM/", "/NAME/", "/REMI/", "/ISDT/", "/IBAN/", "/BIC/", "/CSID/",
        "/MARF/", "/RTRN/", "/ADDR/", "/PREF/", "/CNTP/",
    ];
    let mut found: Vec<(usize, &str)> = Vec::new();
    for k in KEYS {
        let mut from = 0;
        while let Some(p) = s[from..].find(k) {
            found.push((from + p, k));
            from += p + k.len();
        }
    }
    if !found
        .iter()
        .any(|(_, k)| matches!(*k, "/REMI/" | "/NAME/" | "/EREF/" | "/IBAN/"))
    {
        return false;
    }
    found.sort();
    for (n, (p, k)) in found.iter().enumerate() {
        let end = found.get(n + 1).map(|x| x.0).unwrap_or(s.len());
        // Keys share slashes (`/BENM//NAME/`): an overlapped key has an empty value.
        let v = clean(s.get(p + k.len()..end).unwrap_or("").trim_matches('/'));
        match *k {
            "/EREF/" => tx.end_to_end_id = v.filter(|x| x != "NOTPROVIDED"),
            "/NAME/" => tx.counterparty_name = v,
            "/REMI/" => tx.remittance = v.map(|r| r.trim_start_matches("USTD//").to_string()),
            "/IBAN/" => tx.counterparty_account = v.map(|a| reference::compact(&a)),
            "/MARF/" => tx.mandate_id = v,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::{Decimal, dec};

    #[test]
    fn reversal_of_debit_is_a_credit() {
        let f = ":20:X\n:25:DE11222220220222220200\n:60F:C200219EUR100,00\n:61:2002010219RDR27,25N068NONREF\n:86:899?00STORNO?20RE 4711\n:62F:C200219EUR127,25\n-";
        let s = parse(f.as_bytes(), &ParseOptions::default()).unwrap_or_default();
        assert_eq!(s.len(), 1);
        let e = &s[0].entries[0];
        assert_eq!(
            (e.direction, e.reversal, e.amount),
            (Direction::Credit, true, dec!(27.25))
        );
        assert_eq!(e.transactions[0].remittance.as_deref(), Some("RE 4711"));
    }

    #[test]
    fn bad_mark_is_located() {
        let f = ":20:X\n:25:1\n:60F:C200219EUR100,00\n:61:200201X27,25N068NONREF\n:62F:C200219EUR127,25\n";
        let e = parse(f.as_bytes(), &ParseOptions::default())
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("4:11: :61: debit/credit mark must be C, D, RC or RD")
        );
    }

    #[test]
    fn empty_reference_and_bad_charges_are_located() {
        let err = |f: &str| {
            parse(f.as_bytes(), &ParseOptions::default())
                .err()
                .map(|e| e.to_string())
        };
        // An empty :20: (was a statement with an empty id).
        assert_eq!(
            err(":20:\n:25:1\n:60F:C200219EUR100,00\n:62F:C200219EUR100,00\n-").as_deref(),
            Some("1:1: :20: transaction reference is empty")
        );
        // /CHGS/ without a readable amount (was: no charges).
        let charges = |c: &str| {
            format!(
                ":20:X\n:25:1\n:60F:C200219EUR100,00\n:61:2002010219CR27,25NTRFNONREF\n/CHGS/{c}/\n:62F:C200219EUR127,25\n-"
            )
        };
        assert_eq!(
            err(&charges("EURx")).as_deref(),
            Some("5:1: :61: invalid /CHGS/ charges \"EURx\"")
        );
        let ok = parse(charges("EUR0,50").as_bytes(), &ParseOptions::default());
        assert_eq!(ok.map(|s| s[0].entries[0].charges), Ok(Some(dec!(0.50))));
    }

    #[test]
    fn amounts_keep_zero() {
        assert_eq!(decimal_amount("0,"), Some(Decimal::ZERO));
    }
}
