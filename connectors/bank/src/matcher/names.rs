//! Fuzzy party-name comparison, modelled on rapidfuzz's `token_set_ratio` but not equal to it
//! (the character ratio below is Levenshtein-based, see [`ratio`]; integer arithmetic): case,
//! punctuation, word order and legal-form words (`GmbH`, `Ltd`, `B.V.`) are ignored.

const LEGAL: [&str; 24] = [
    "GMBH", "AG", "KG", "OHG", "UG", "EK", "LTD", "LIMITED", "INC", "LLC", "CORP", "CO", "BV",
    "NV", "SA", "SAS", "SARL", "SRL", "SPA", "PLC", "AB", "AS", "OY", "THE",
];

/// Uppercase ASCII-folded words without legal forms, sorted and deduplicated.
pub fn tokens(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() && !LEGAL.contains(&cur.as_str()) {
            out.push(std::mem::take(cur));
        }
        cur.clear();
    };
    for c in name.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => cur.push(c.to_ascii_uppercase()),
            'ä' | 'Ä' => cur.push_str("AE"),
            'ö' | 'Ö' => cur.push_str("OE"),
            'ü' | 'Ü' => cur.push_str("UE"),
            'ß' => cur.push_str("SS"),
            'é' | 'è' | 'ê' | 'É' => cur.push('E'),
            'á' | 'à' | 'â' => cur.push('A'),
            '.' | '\'' => {}
            _ => flush(&mut cur, &mut out),
        }
    }
    flush(&mut cur, &mut out);
    out.sort();
    out.dedup();
    out
}

fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// 0-100 similarity of two strings: `100 * (|a| + |b| - lev(a, b)) / (|a| + |b|)`, rounded
/// down, where `lev` is the Levenshtein distance (insertion, deletion and substitution each
/// cost 1) of the first 80 bytes of each. rapidfuzz's `ratio` uses the Indel distance instead,
/// where a substitution costs 2, so for strings that differ by substitutions this scores
/// higher than rapidfuzz (`"MEIER"`/`"MAIER"`: 90 here, 80 there); the thresholds in
/// `MatchConfig::name_threshold` are calibrated on this function.
fn ratio(a: &str, b: &str) -> u32 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let total = a.len() + b.len();
    if total == 0 {
        return 100;
    }
    let (a, b) = (&a[..a.len().min(80)], &b[..b.len().min(80)]);
    let d = levenshtein(a, b);
    let total = a.len() + b.len();
    (100 * (total.saturating_sub(d)) / total) as u32
}

/// Token-set ratio of two names (0-100): 100 when one name's words contain the other's.
pub fn name_score(a: &str, b: &str) -> u8 {
    score_tokens(&tokens(a), &tokens(b))
}

pub fn score_tokens(ta: &[String], tb: &[String]) -> u8 {
    if ta.is_empty() || tb.is_empty() {
        return 0;
    }
    let inter: Vec<&String> = ta.iter().filter(|t| tb.binary_search(t).is_ok()).collect();
    // Sharing less than half the words of the shorter name cannot reach a useful score unless
    // the words are misspelt versions of each other; only then compare characters.
    if inter.len() * 2 < ta.len().min(tb.len()) && inter.is_empty() && ta.len() > 1 && tb.len() > 1
    {
        return 0;
    }
    let only_a: Vec<&String> = ta.iter().filter(|t| tb.binary_search(t).is_err()).collect();
    let only_b: Vec<&String> = tb.iter().filter(|t| ta.binary_search(t).is_err()).collect();
    let join = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    let i = join(&inter);
    let sa = if i.is_empty() {
        join(&only_a)
    } else {
        format!("{i} {}", join(&only_a)).trim_end().to_string()
    };
    let sb = if i.is_empty() {
        join(&only_b)
    } else {
        format!("{i} {}", join(&only_b)).trim_end().to_string()
    };
    let mut best = ratio(&sa, &sb);
    if !i.is_empty() {
        // Both sides contain all shared words: a subset counts as a match only if it is most
        // of the shorter name, so "Hans" does not match "Hans Meier Logistik".
        let short = ta.len().min(tb.len());
        if inter.len() == short && (inter.len() >= 2 || only_a.is_empty() || only_b.is_empty()) {
            best = best.max(ratio(&i, &sa).min(ratio(&i, &sb)).max(if inter.len() >= 2 {
                95
            } else {
                0
            }));
        }
    }
    best.min(100) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_levenshtein_based_as_documented() {
        assert_eq!(ratio("MEIER", "MAIER"), 90);
        assert_eq!(ratio("ABC", "ABC"), 100);
        assert_eq!(ratio("AB", "CD"), 50);
        assert_eq!(ratio("", ""), 100);
    }

    #[test]
    fn names() {
        assert_eq!(name_score("Müller GmbH", "MUELLER"), 100);
        assert!(name_score("Acme Industries Ltd", "ACME INDUSTRIES") >= 95);
        assert!(name_score("Acme Industries", "Acme Industires") >= 85);
        assert!(name_score("Hans Meier", "Peter Schulz") < 60);
        assert!(name_score("Schmidt Logistik", "Schmitt Elektro") < 85);
    }
}
