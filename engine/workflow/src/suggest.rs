//! "Did you mean" hints.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = ((word.chars().count() + 1) / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        let d = strsim::damerau_levenshtein(word, cand);
        // A shared prefix such as `order.` makes a longer word look closer than it is;
        // case-only differences always count as close.
        let close = d <= limit || word.eq_ignore_ascii_case(cand);
        if close && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// ` (did you mean 'x'?)` or the empty string.
pub fn hint<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    closest(word, candidates).map_or_else(String::new, |c| format!(" (did you mean '{c}'?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        assert_eq!(closest("shpi", ["ship", "invoice"]), Some("ship"));
        assert_eq!(
            closest("conector", ["rule", "connector"]),
            Some("connector")
        );
        assert_eq!(
            closest("aproved", ["approved", "rejected"]),
            Some("approved")
        );
        assert_eq!(closest("Ship", ["ship"]), Some("ship"));
        assert_eq!(hint("shpi", ["ship"]), " (did you mean 'ship'?)");
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(closest("zzz", ["ship", "invoice"]), None);
        assert_eq!(closest("ab", ["xy"]), None);
        assert_eq!(closest("ship", std::iter::empty()), None);
        assert_eq!(hint("payment", ["confirm"]), "");
    }

    #[test]
    fn prefers_the_closest() {
        assert_eq!(
            closest("order.confim", ["order.confirm", "order.cancel"]),
            Some("order.confirm")
        );
    }
}
