//! CSV files from outside (order files, goods receipts, master data), read with the `csv`
//! crate (RFC 4180: quoted fields may hold the separator, doubled quotes and line breaks),
//! every cell kept with its `line:col` in the file so errors point at it.
//!
//! The separator is `,`, or `;` when the header has `;` and no `,` (spreadsheets in locales
//! with a decimal comma). A UTF-8 byte-order mark is dropped. Blank lines are skipped. A row
//! with more or fewer cells than the header is an error naming the row and the column.

/// One data row: its line in the file and each cell with its (line, column), 1-based.
#[derive(Debug)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

#[derive(Debug)]
pub struct Cell {
    pub line: usize,
    pub col: usize,
    pub text: String,
}

impl Row {
    /// The trimmed text of cell `i` ("" when absent).
    pub fn get(&self, i: usize) -> &str {
        // Only for a column past the header: read() refuses rows whose cell count differs from it.
        self.cells.get(i).map(|c| c.text.trim()).unwrap_or("")
    }

    /// `shown:line:col` of cell `i` (the row's start when absent).
    pub fn at(&self, shown: &str, i: usize) -> String {
        match self.cells.get(i) {
            Some(c) => format!("{shown}:{}:{}", c.line, c.col),
            None => format!("{shown}:{}:1", self.line),
        }
    }
}

/// A CSV file: header names (trimmed, as written) with the header's line, then the rows.
#[derive(Debug)]
pub struct Table {
    pub header: Vec<String>,
    pub header_line: usize,
    /// (line, column) of each header name, for errors about a column as a whole.
    pub header_at: Vec<(usize, usize)>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Index of the first header among `names` (case-insensitive).
    pub fn col(&self, names: &[&str]) -> Option<usize> {
        self.header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }
}

/// Lines of the text up to a byte offset, counted forward once (records come in order), so
/// locating every cell of a large file stays linear.
struct Lines<'a> {
    text: &'a str,
    byte: usize,
    line: usize,
}

impl Lines<'_> {
    /// The line of byte `at`, at or after the last one asked for.
    fn line_at(&mut self, at: usize) -> usize {
        let at = at.clamp(self.byte, self.text.len());
        self.line += self.text.as_bytes()[self.byte..at]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.byte = at;
        self.line
    }
}

/// Where each field of the record starting at byte `start` begins, as (line, col): a small
/// scan of the raw text that follows quotes the way the parser does, used only to locate.
/// The parser may place a record's start on the line break before it (`\r\n` endings).
fn field_starts(text: &str, start: usize, delim: char, lines: &mut Lines) -> Vec<(usize, usize)> {
    let start = start
        + text[start.min(text.len())..]
            .bytes()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
    let start = start.min(text.len());
    let mut line = lines.line_at(start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut col = text[line_start..start].chars().count() + 1;
    let mut out = vec![(line, col)];
    let mut quoted = false;
    let mut chars = text[start..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                col += 1;
            }
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            '\n' => {
                line += 1;
                col = 0;
            }
            c if c == delim && !quoted => out.push((line, col + 1)),
            _ => {}
        }
        col += 1;
    }
    out
}

/// Reads a whole CSV text; errors are `shown:line:col: message`.
pub fn read(shown: &str, text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // An empty text: comma-delimited, and refused below for its missing header.
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delim = if first.contains(';') && !first.contains(',') {
        ';'
    } else {
        ','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim as u8)
        .from_reader(text.as_bytes());
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut header_at = Vec::new();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = Lines {
        text,
        byte: 0,
        line: 1,
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let (line, col) = e.position().map_or((1, 1), |p| (p.line() as usize, 1));
                return Err(format!("{shown}:{line}:{col}: not valid CSV: {e}"));
            }
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let byte = record.position().map_or(0, |p| p.byte() as usize);
        let starts = field_starts(text, byte, delim, &mut lines);
        let line = starts.first().map_or(1, |s| s.0);
        let Some((_, names)) = &header else {
            header = Some((line, record.iter().map(|c| c.trim().to_string()).collect()));
            header_at = starts;
            continue;
        };
        if record.len() != names.len() {
            let (l, c) = starts
                .get(names.len().min(record.len()))
                .or(starts.last())
                .copied()
                // Error position only.
                .unwrap_or((line, 1));
            return Err(format!(
                "{shown}:{l}:{c}: this row has {} cells, the header (line {}) has {}",
                record.len(),
                header.as_ref().map_or(1, |h| h.0),
                names.len()
            ));
        }
        let cells = record
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // Cell position for messages only; every cell has its start recorded.
                let (line, col) = starts.get(i).copied().unwrap_or((line, 1));
                Cell {
                    line,
                    col,
                    text: t.to_string(),
                }
            })
            .collect();
        rows.push(Row { line, cells });
    }
    let Some((header_line, header)) = header else {
        return Err(format!(
            "{shown}:1:1: empty file (a header row is required)"
        ));
    };
    Ok(Table {
        header,
        header_line,
        header_at,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_line_breaks_bom_and_separators() {
        let t = read(
            "f.csv",
            "\u{feff}a,b,c\r\n\"x, \"\"1\"\"\",\"two\nlines\",3\n\n4,5,6\n",
        )
        .unwrap();
        assert_eq!(t.header, vec!["a", "b", "c"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].get(0), "x, \"1\"");
        assert_eq!(t.rows[0].get(1), "two\nlines");
        assert_eq!(t.rows[0].at("f.csv", 2), "f.csv:3:8");
        assert_eq!(t.rows[1].line, 5);
        assert_eq!(t.rows[1].at("f.csv", 1), "f.csv:5:3");
        let t = read("f.csv", "a;b\n1,5;2\n").unwrap();
        assert_eq!(t.rows[0].get(0), "1,5");
        let e = read("f.csv", "a,b\n1,2\n1,2,3\n").unwrap_err();
        assert_eq!(
            e,
            "f.csv:3:5: this row has 3 cells, the header (line 1) has 2"
        );
        let e = read("f.csv", "a,b\n1\n").unwrap_err();
        assert_eq!(
            e,
            "f.csv:2:1: this row has 1 cells, the header (line 1) has 2"
        );
        assert!(read("f.csv", "\n\n").unwrap_err().contains("empty file"));
    }
}
