//! Plain-text tables for human output.
//!
//! Cells come from stored data that may be hostile (a 70,000-character id, a remittance text
//! with newlines and control characters): every cell is shown on one line, control characters
//! escaped, and cut to [`MAX_CELL`] characters with an ellipsis. Padding is done by hand, not
//! with `format!("{:<w$}")`, whose width is limited to `u16::MAX` and panics beyond it.
//! `--json` gives the full values.

/// Widest cell shown, in characters.
pub const MAX_CELL: usize = 60;

pub struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// One line of at most `max` characters: control characters (newlines, NUL, ESC …) escaped
/// as `\n`, `\u{0}`, …, and a longer text cut with `…`.
pub fn cell(text: &str, max: usize) -> String {
    // Escaped characters, stopping one past the limit: enough to know whether to cut.
    let shown: Vec<char> = text
        .chars()
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_default());
            escaped
                .into_iter()
                .flatten()
                .chain((!c.is_control()).then_some(c))
        })
        .take(max + 1)
        .collect();
    if shown.len() <= max {
        return shown.into_iter().collect();
    }
    let mut cut: String = shown[..max.saturating_sub(1)].iter().collect();
    cut.push('…');
    cut
}

impl Table {
    pub fn new(head: &[&str]) -> Self {
        Table {
            head: head.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let shown: Vec<Vec<String>> = std::iter::once(&self.head)
            .chain(&self.rows)
            .map(|r| r.iter().map(|c| cell(c, MAX_CELL)).collect())
            .collect();
        let mut widths: Vec<usize> = Vec::new();
        for r in &shown {
            for (i, c) in r.iter().enumerate() {
                let w = c.chars().count();
                match widths.get_mut(i) {
                    Some(x) => *x = (*x).max(w),
                    None => widths.push(w),
                }
            }
        }
        let mut out = String::new();
        for r in &shown {
            let mut s = String::new();
            for (i, c) in r.iter().enumerate() {
                s.push_str(c);
                if i + 1 < r.len() {
                    let pad = widths[i].saturating_sub(c.chars().count()) + 2;
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_and_hostile_cells_are_cut_to_one_line_without_panicking() {
        let mut t = Table::new(&["key", "status"]);
        let long = "X".repeat(70_000);
        t.row(vec![long.clone(), "running".into()]);
        t.row(vec!["a\nb\0c".into(), "ok".into()]);
        t.row(vec!["short".into()]);
        let out = t.render();
        assert_eq!(out.lines().count(), 4, "{out}");
        for l in out.lines() {
            assert!(l.chars().count() <= 2 * MAX_CELL + 2, "{l}");
        }
        assert!(out.contains(&format!("{}…", "X".repeat(MAX_CELL - 1))));
        assert!(out.contains("a\\nb\\u{0}c"), "{out}");
        assert_eq!(cell("exactly", 7), "exactly");
        assert_eq!(cell("exactly!", 7), "exactl…");
    }
}
