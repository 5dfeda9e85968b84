//! Search helpers: bounded subset-sum, one-edit comparison of reference numbers, and the texts
//! of a payment that may hold references.

use rust_decimal::Decimal;

use crate::model::RefKind;

#[allow(clippy::too_many_arguments)]
pub(super) fn subset_dfs(
    c: &[(u32, Decimal)],
    prefix: &[Decimal],
    from: usize,
    left: Decimal,
    slots: usize,
    stack: &mut Vec<u32>,
    found: &mut Vec<Vec<u32>>,
    budget: &mut usize,
) {
    if found.len() > 1 || *budget == 0 {
        return;
    }
    if left.is_zero() {
        if stack.len() >= 2 {
            let mut s = stack.clone();
            s.sort_unstable();
            found.push(s);
        }
        return;
    }
    if slots == 0 || from >= c.len() {
        return;
    }
    for k in from..c.len() {
        *budget = budget.saturating_sub(1);
        if *budget == 0 {
            return;
        }
        if c[k].1 > left {
            continue;
        }
        // The largest `slots` items from k on cannot reach `left`: neither can later ones.
        let end = (k + slots).min(c.len());
        if prefix[end] - prefix[k] < left {
            break;
        }
        stack.push(c[k].0);
        subset_dfs(
            c,
            prefix,
            k + 1,
            left - c[k].1,
            slots - 1,
            stack,
            found,
            budget,
        );
        stack.pop();
        if found.len() > 1 {
            return;
        }
    }
}

/// Texts of transactions that may hold references: remittance, creditor reference (and the
/// number inside an RF or QR reference), referred documents, end-to-end id.
pub(super) fn texts(txs: &[crate::model::TxDetail], info: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for t in txs {
        out.extend(t.remittance.clone());
        if let Some(r) = &t.creditor_ref {
            match r.kind {
                RefKind::Iso11649 if r.valid => {
                    // A valid RF reference has at least 5 characters.
                    out.push(r.value.get(4..).unwrap_or("").to_string())
                }
                RefKind::Qrr if r.valid => out.push(
                    r.value
                        // A valid QRR reference has 27 digits.
                        .get(..26)
                        .unwrap_or("")
                        .trim_start_matches('0')
                        .to_string(),
                ),
                _ => out.push(r.value.clone()),
            }
        }
        out.extend(t.referred_documents.iter().cloned());
        out.extend(t.end_to_end_id.clone());
    }
    if out.is_empty()
        && let Some(i) = info
    {
        out.push(i.to_string());
    }
    out
}

/// Whether `a` and `b` differ by exactly one edit (incl. one adjacent transposition).
pub(super) fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if a.len() == b.len() {
        let (ra, rb) = (&a[pre..], &b[pre..]);
        return ra[1..] == rb[1..]
            || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..]);
    }
    let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
    long[pre + 1..] == short[pre..]
}

#[cfg(test)]
mod tests {
    use super::one_edit;

    #[test]
    fn edits() {
        assert!(one_edit("104711", "104771"));
        assert!(one_edit("104711", "107411"));
        assert!(one_edit("104711", "10471"));
        assert!(!one_edit("104711", "104711"));
        assert!(!one_edit("104711", "117404"));
    }
}
