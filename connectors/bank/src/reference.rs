//! Payment references: ISO 11649 creditor references (`RF…`), Swiss QR/ESR references (27
//! digits, mod-10 recursive) and the normalisation that lets the matcher find invoice numbers in
//! free remittance text (tolerant of spaces, prefixes such as `INV`/`RE`/`Rechnung`, leading
//! zeros and several numbers in one text).

use crate::model::RefKind;

pub use ordo_contract::rules::{iban_valid, mod97};

/// Removes spaces from a reference as printed (`RF18 5390 0754 7034` → `RF18539007547034`).
pub fn compact(s: &str) -> String {
    // Fast path: ASCII without whitespace (0x09-0x0D, space) is already compact.
    if s.bytes()
        .all(|b| b < 0x80 && b != b' ' && !(0x09..=0x0D).contains(&b))
    {
        return s.to_owned();
    }
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Whether `s` (spaces allowed) is a valid ISO 11649 creditor reference: `RF`, two check
/// digits, 1-21 alphanumerics, and mod 97 of the rearranged value equal to 1.
pub fn rf_valid(s: &str) -> bool {
    let c = compact(s);
    let b = c.as_bytes();
    if b.len() < 5 || b.len() > 25 || !b[..2].eq_ignore_ascii_case(b"RF") {
        return false;
    }
    if !b[2].is_ascii_digit() || !b[3].is_ascii_digit() {
        return false;
    }
    let rearranged = b[4..].iter().chain(b[..4].iter()).copied();
    mod97(rearranged) == Some(1)
}

/// Builds the ISO 11649 reference for `body` (1-21 alphanumerics), e.g. `RF18539007547034`.
pub fn rf_make(body: &str) -> Option<String> {
    if body.is_empty() || body.len() > 21 || !body.bytes().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let r = mod97(body.bytes().chain(*b"RF00"))?;
    Some(format!("RF{:02}{}", 98 - r, body.to_ascii_uppercase()))
}

const MOD10_TABLE: [u8; 10] = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];

/// Mod-10 recursive check digit (Swiss ESR/ISR and QR reference) of a digit string.
pub fn mod10_recursive(digits: &str) -> Option<u8> {
    let mut carry = 0u8;
    for c in digits.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        carry = MOD10_TABLE[usize::from((carry + (c - b'0')) % 10)];
    }
    Some((10 - carry) % 10)
}

/// Whether `s` (spaces allowed) is a valid 27-digit QR reference / ESR reference.
pub fn qrr_valid(s: &str) -> bool {
    let c = compact(s);
    if c.len() != 27 || !c.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (body, check) = c.split_at(26);
    mod10_recursive(body).map(|d| d + b'0') == check.bytes().next()
}

/// Builds a 27-digit QR reference from up to 26 digits (left-padded with zeros).
pub fn qrr_make(digits: &str) -> Option<String> {
    if digits.len() > 26 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let body = format!("{digits:0>26}");
    let d = mod10_recursive(&body)?;
    Some(format!("{body}{d}"))
}

/// Classifies a structured reference by its declared code (`SCOR`, `QRR`, `ISR Reference`…)
/// and value, and checks its digits.
pub fn classify(code: Option<&str>, value: &str) -> (RefKind, bool) {
    let v = compact(value);
    // absent: the reference type code is optional (camt CdtrRefInf/Tp); the value alone then classifies it.
    let code = code.unwrap_or("").to_ascii_uppercase();
    if v.len() >= 4
        && v[..2].eq_ignore_ascii_case("RF")
        && v[2..4].bytes().all(|b| b.is_ascii_digit())
    {
        return (RefKind::Iso11649, rf_valid(&v));
    }
    if code == "QRR"
        || code.contains("ISR")
        || code.contains("ESR")
        || (v.len() == 27 && v.bytes().all(|b| b.is_ascii_digit()))
    {
        return (RefKind::Qrr, qrr_valid(&v));
    }
    (RefKind::Other, false)
}

/// Words that introduce an invoice number and are not part of it.
const PREFIXES: [&str; 14] = [
    "INVOICE",
    "INV",
    "RECHNUNGSNR",
    "RECHNUNG",
    "RECHN",
    "RE",
    "REF",
    "FACTUUR",
    "FACTURE",
    "FAKTURA",
    "NR",
    "NO",
    "NUMBER",
    "RG",
];

/// The keys an invoice number is indexed by: its uppercase alphanumerics (`INV-0042` →
/// `INV0042`) and, when it has at least 4 digits, its digits without leading zeros (`42`
/// would be too short, `INV-004711` → `4711`).
pub fn invoice_keys(number: &str) -> (String, Option<String>) {
    let full: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    let trimmed = digits.trim_start_matches('0');
    let dkey = (digits.len() >= 4 && trimmed.len() >= 3).then(|| trimmed.to_string());
    (full, dkey)
}

/// Candidate keys found in free text, to be looked up against [`invoice_keys`]: every token
/// (uppercased alphanumerics), every token with a known prefix removed, the digits-only form
/// without leading zeros, and joins of up to three adjacent digit groups (`2024 00123`).
/// Calls `f` for each candidate; duplicates are possible.
pub fn candidate_keys(text: &str, mut f: impl FnMut(&str)) {
    // Tokens live in one buffer (`spans` mark them) and every derived key in a reused one:
    // this runs for every text of every payment, and a string per token was most of its cost.
    let mut toks = String::with_capacity(text.len());
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            toks.push(c.to_ascii_uppercase());
        } else if c == '-' || c == '/' || c == '_' {
            // Separators inside a number (`INV-2024-001`): keep the token going.
            if toks.len() > start {
                toks.push('-');
            }
        } else if toks.len() > start {
            spans.push((start, toks.len()));
            start = toks.len();
        }
    }
    if toks.len() > start {
        spans.push((start, toks.len()));
    }
    let mut buf = String::new();
    let mut alnum = String::new();
    let mut scratch = String::new();
    for (i, &(a, b)) in spans.iter().enumerate() {
        let tok = toks[a..b].trim_end_matches('-');
        alnum.clear();
        alnum.extend(tok.chars().filter(|c| *c != '-'));
        if alnum.is_empty() {
            continue;
        }
        f(&alnum);
        // Prefix glued to the number: `RE12345`, `INV-0042`.
        for p in PREFIXES {
            if let Some(rest) = alnum.strip_prefix(p)
                && !rest.is_empty()
                && rest.as_bytes()[0].is_ascii_digit()
            {
                f(rest);
            }
        }
        // Parts of a separated token: `2024-00123/2024-00124` yields each piece too.
        if tok.contains('-') {
            for part in tok.split('-').filter(|p| !p.is_empty()) {
                f(part);
                digit_key(part, &mut scratch, &mut f);
            }
        }
        digit_key(&alnum, &mut scratch, &mut f);
        // Digit groups split by spaces: `4711 0815` → `47110815` (not `01 03`, a date).
        if alnum.len() >= 3 && alnum.bytes().all(|b| b.is_ascii_digit()) {
            buf.clear();
            buf.push_str(&alnum);
            for &(na, nb) in spans.iter().skip(i + 1).take(2) {
                let next = &toks[na..nb];
                if !next.bytes().all(|b| b.is_ascii_digit()) {
                    break;
                }
                buf.push_str(next);
                f(&buf);
                digit_key(&buf, &mut scratch, &mut f);
            }
        }
    }
}

/// Weak keys of an invoice number, which count only when the amount confirms them: the serial
/// (its last digit group without leading zeros, at least 3 digits: `INV-2026-004711` → `4711`),
/// the serial glued to the year before it (`20264711`, `47112026`, `264711`, `471126`), and for
/// a number of one long digit group its last 4 and 5 digits (`INV-1004711` → `4711`). Sorted,
/// without duplicates.
pub fn weak_keys(number: &str) -> Vec<String> {
    let groups: Vec<&str> = number
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let Some((last, before)) = groups.split_last() else {
        return out;
    };
    let serial = last.trim_start_matches('0');
    if serial.len() >= 3 {
        out.push(serial.to_string());
        if let Some(year) = before.last().filter(|y| y.len() == 4) {
            let yy = &year[2..];
            for y in [*year, yy] {
                out.push(format!("{y}{serial}"));
                out.push(format!("{serial}{y}"));
            }
        }
    }
    if before.is_empty() && last.len() >= 6 {
        for n in [4, 5] {
            let tail = last[last.len() - n..].trim_start_matches('0');
            if tail.len() >= 3 {
                out.push(tail.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The digit runs of `text` without leading zeros, at least 3 digits long: what a weak key
/// (see [`weak_keys`]) is looked up against. Calls `f` for each.
pub fn digit_runs<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    for run in text
        .split(|c: char| !c.is_ascii_digit())
        .map(|r| r.trim_start_matches('0'))
    {
        if run.len() >= 3 {
            f(run);
        }
    }
}

fn digit_key(s: &str, digits: &mut String, f: &mut impl FnMut(&str)) {
    if s.len() < 4 {
        return;
    }
    digits.clear();
    digits.extend(s.chars().filter(|c| c.is_ascii_digit()));
    if digits.len() >= 4 && digits.len() * 2 >= s.len() {
        let t = digits.trim_start_matches('0');
        if t.len() >= 3 {
            f(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rf_round_trip() {
        assert!(rf_valid("RF18 5390 0754 7034"));
        assert!(rf_valid("RF18539007547034"));
        assert!(!rf_valid("RF19539007547034"));
        assert_eq!(rf_make("539007547034").as_deref(), Some("RF18539007547034"));
        let r = rf_make("INV2024001").unwrap_or_default();
        assert!(rf_valid(&r), "{r}");
    }

    #[test]
    fn iban_check() {
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(!iban_valid("DE88 3704 0044 0532 0130 00"));
    }

    #[test]
    fn qrr_round_trip() {
        assert!(qrr_valid("210000000003139471430009017"));
        assert!(!qrr_valid("210000000003139471430009018"));
        let q = qrr_make("4711").unwrap_or_default();
        assert_eq!(q.len(), 27);
        assert!(qrr_valid(&q));
    }

    #[test]
    fn weak_forms_meet_weak_keys_and_strong_keys_do_not_take_them() {
        let keys = weak_keys("INV-2026-004711");
        for text in [
            "2026-4711",
            "4711/26",
            "26 4711",
            "Nr. 4711",
            "20264711",
            "471126",
        ] {
            let mut hit = false;
            digit_runs(text, |r| hit |= keys.iter().any(|k| k == r));
            assert!(hit, "{text} not weakly found in {keys:?}");
            // ... and none of them is a strong reference to the invoice.
            let (full, digits) = invoice_keys("INV-2026-004711");
            let mut strong = false;
            candidate_keys(text, |k| {
                strong |= k == full || Some(k) == digits.as_deref()
            });
            assert!(!strong, "{text} is a strong reference");
        }
        let mut hit = false;
        digit_runs("2026-4712 26", |r| hit |= keys.iter().any(|k| k == r));
        assert!(!hit);
        assert_eq!(weak_keys("INV-1004711"), vec!["1004711", "4711"]);
        assert!(weak_keys("INV-42").is_empty());
        assert!(weak_keys("").is_empty());
    }

    #[test]
    fn candidates_tolerate_spaces_prefixes_and_zeros() {
        let mut got = Vec::new();
        candidate_keys("Rechnung Nr. RE-004711, inv 2024 00123 und INV0815", |k| {
            got.push(k.to_string())
        });
        let (_, d1) = invoice_keys("RE-004711");
        let (_, d2) = invoice_keys("2024-00123");
        let (f3, _) = invoice_keys("INV0815");
        for k in [d1.unwrap_or_default(), d2.unwrap_or_default(), f3] {
            assert!(got.contains(&k), "{k} not in {got:?}");
        }
    }
}
