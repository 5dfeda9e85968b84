//! The chart of accounts (`accounts:` in the config, default `config/accounts.yaml`): loaded and
//! validated with `path:line:col` errors by `ordo check` and at start-up. A missing file means
//! the deployment keeps no ledger: connectors' postings are then not written.
//!
//! ```yaml
//! currency: EUR                # the ledger's currency: every posting is in it
//! accounts:
//!   "1400": { name: Receivables, type: asset, role: receivables }
//!   "8400": { name: Revenue 19 %, type: revenue, tax_code: standard }
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    Asset,
    Liability,
    Equity,
    Revenue,
    Expense,
}

/// What `ordo ledger check` needs to find: the receivables control account and the account
/// customer credit (overpayments) is kept on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Receivables,
    CustomerCredit,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AccountType,
    /// The tax code whose revenue or VAT this account takes (documentation for the rule's
    /// author and the export; the rule picks the account).
    #[serde(default)]
    pub tax_code: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
}

/// The tax adviser's numbers for the DATEV header (ask the adviser).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datev {
    /// Beraternummer, 1001 to 9999999.
    pub consultant: u32,
    /// Mandantennummer, 1 to 99999.
    pub client: u32,
    /// Month the fiscal year starts in (1 to 12).
    #[serde(default = "january")]
    pub fiscal_year_start_month: u32,
    /// Sachkontenrahmen: "03" (SKR03) or "04" (SKR04).
    pub chart: String,
}

fn january() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chart {
    /// ISO 4217 code of the ledger's currency.
    pub currency: String,
    /// By account number (4 to 8 digits, as DATEV numbers general ledger accounts).
    pub accounts: BTreeMap<String, Account>,
    /// What the DATEV export's header needs (`ordo ledger export --format datev`).
    #[serde(default)]
    pub datev: Option<Datev>,
    /// The file it was read from (for messages).
    #[serde(skip)]
    pub path: String,
}

impl Chart {
    pub fn account(&self, number: &str) -> Option<&Account> {
        self.accounts.get(number)
    }

    /// The account numbers with a role (exactly one each, checked at load).
    pub fn with_role(&self, role: Role) -> Vec<&str> {
        self.accounts
            .iter()
            .filter(|(_, a)| a.role == Some(role))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Parses and validates; every problem at once, each `path:line:col: message`.
    pub fn parse(shown: &str, text: &str) -> Result<Chart, Vec<String>> {
        let mut chart: Chart =
            serde_saphyr::from_str(text).map_err(|e| vec![ordo_workflow::yaml_error(shown, &e)])?;
        chart.path = shown.to_string();
        let at = |keys: &[&str]| ordo_workflow::locate(shown, text, keys);
        let mut errors = Vec::new();
        let c = &chart.currency;
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(format!(
                "{}: currency '{}' is not an ISO 4217 code such as EUR",
                at(&["currency"]),
                ordo_contract::excerpt(c, 20)
            ));
        }
        if chart.accounts.is_empty() {
            errors.push(format!("{}: the chart has no accounts", at(&["accounts"])));
        }
        for (number, a) in &chart.accounts {
            let n = number.as_str();
            if !(4..=8).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(format!(
                    "{}: account number '{}' must be 4 to 8 digits",
                    at(&["accounts", n]),
                    ordo_contract::excerpt(n, 20)
                ));
            }
            let name = a.name.trim();
            if name.is_empty()
                || a.name.chars().count() > 60
                || a.name.chars().any(char::is_control)
            {
                errors.push(format!(
                    "{}: account {}: the name must be 1 to 60 printable characters",
                    at(&["accounts", n, "name"]),
                    ordo_contract::excerpt(n, 20)
                ));
            }
            if let Some(t) = &a.tax_code
                && (t.is_empty() || t.len() > 16 || !t.bytes().all(|b| b.is_ascii_graphic()))
            {
                errors.push(format!(
                    "{}: account {n}: tax_code must be 1 to 16 printable characters",
                    at(&["accounts", n, "tax_code"])
                ));
            }
        }
        if let Some(d) = &chart.datev {
            if !(1001..=9_999_999).contains(&d.consultant) {
                errors.push(format!(
                    "{}: consultant (Beraternummer) must be 1001 to 9999999",
                    at(&["datev", "consultant"])
                ));
            }
            if !(1..=99_999).contains(&d.client) {
                errors.push(format!(
                    "{}: client (Mandantennummer) must be 1 to 99999",
                    at(&["datev", "client"])
                ));
            }
            if !(1..=12).contains(&d.fiscal_year_start_month) {
                errors.push(format!(
                    "{}: fiscal_year_start_month must be 1 to 12",
                    at(&["datev", "fiscal_year_start_month"])
                ));
            }
            if d.chart != "03" && d.chart != "04" {
                errors.push(format!(
                    "{}: chart must be \"03\" (SKR03) or \"04\" (SKR04)",
                    at(&["datev", "chart"])
                ));
            }
            let lengths: std::collections::BTreeSet<usize> =
                chart.accounts.keys().map(String::len).collect();
            if lengths.len() > 1 {
                errors.push(format!(
                    "{}: DATEV needs one account length (Sachkontenlänge); the chart mixes {:?} digits",
                    at(&["accounts"]),
                    lengths
                ));
            }
        }
        for (role, text_role) in [
            (Role::Receivables, "receivables"),
            (Role::CustomerCredit, "customer-credit"),
        ] {
            let holders = chart.with_role(role);
            match holders.as_slice() {
                [_] => {}
                [] if !chart.accounts.is_empty() => errors.push(format!(
                    "{}: no account has role {text_role} (`ordo ledger check` ties it to the open invoices)",
                    at(&["accounts"])
                )),
                [] => {}
                [_, second, ..] => errors.push(format!(
                    "{}: role {text_role} is given to more than one account",
                    at(&["accounts", second, "role"])
                )),
            }
        }
        if errors.is_empty() {
            Ok(chart)
        } else {
            Err(errors)
        }
    }

    /// Reads the chart; `Ok(None)` when the file does not exist (no ledger is kept).
    pub fn load(path: &Path) -> Result<Option<Chart>, Vec<String>> {
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(vec![format!("{shown}: {e}")]),
            // A chart of accounts is a few hundred lines; anything this large is not one.
            Ok(m) if m.len() > 4 << 20 => {
                return Err(vec![format!(
                    "{shown}: {} bytes is too large for a chart of accounts (at most 4 MiB)",
                    m.len()
                )]);
            }
            Ok(_) => {}
        }
        let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{shown}: {e}")])?;
        Chart::parse(&shown, &text).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "currency: EUR\naccounts:\n  \"1400\": { name: Receivables, type: asset, role: receivables }\n  \"1495\": { name: Customer credit, type: liability, role: customer-credit }\n  \"8400\": { name: Revenue, type: revenue, tax_code: standard }\n";

    #[test]
    fn the_shipped_chart_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/accounts.yaml");
        let chart = Chart::load(&path).unwrap().expect("config/accounts.yaml");
        assert_eq!(chart.currency, "EUR");
        assert_eq!(chart.with_role(Role::Receivables).len(), 1);
        assert_eq!(chart.with_role(Role::CustomerCredit).len(), 1);
    }

    #[test]
    fn problems_are_located() {
        let c = Chart::parse("a.yaml", GOOD).unwrap();
        assert_eq!(c.account("8400").unwrap().kind, AccountType::Revenue);
        let bad = "currency: euro\naccounts:\n  \"14\": { name: Receivables, type: asset, role: receivables }\n  \"1495\": { name: \"\", type: liability, role: receivables }\n";
        let e = Chart::parse("a.yaml", bad).unwrap_err();
        let all = e.join("\n");
        assert!(all.contains("a.yaml:1:1: currency 'euro'"), "{all}");
        assert!(
            all.contains("a.yaml:3:3: account number '14' must be 4 to 8 digits"),
            "{all}"
        );
        assert!(
            all.contains("a.yaml:4:") && all.contains("the name must be"),
            "{all}"
        );
        assert!(all.contains("no account has role customer-credit"), "{all}");
        assert!(
            all.contains("role receivables is given to more than one account"),
            "{all}"
        );
        // A type outside the five, an unknown field, an unquoted number: the parser's located error.
        let e = Chart::parse(
            "a.yaml",
            "currency: EUR\naccounts:\n  \"1400\": { name: R, type: assets }\n",
        )
        .unwrap_err();
        assert!(e[0].starts_with("a.yaml:3:"), "{e:?}");
        let e = Chart::parse(
            "a.yaml",
            "currency: EUR\naccounts:\n  \"1400\": { name: R, type: asset, colour: red }\n",
        )
        .unwrap_err();
        assert!(
            e[0].starts_with("a.yaml:3:") && e[0].contains("colour"),
            "{e:?}"
        );
    }

    #[test]
    fn a_missing_chart_keeps_no_ledger_and_a_huge_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("ordo-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(Chart::load(&dir.join("none.yaml")).unwrap().is_none());
        let big = dir.join("big.yaml");
        std::fs::write(&big, vec![b'#'; (4 << 20) + 1]).unwrap();
        assert!(Chart::load(&big).unwrap_err()[0].contains("too large"));
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Account numbers the posting rule names that the chart does not have, located
/// (`rules/posting.rhai:12:19: account '9999' is not in config/accounts.yaml`): every quoted text
/// of 4 to 8 digits in the rule is taken for an account number.
pub fn unknown_accounts(chart: &Chart, path: &str, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        let mut col = 0;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let text = &after[..end];
            if (4..=8).contains(&text.len())
                && text.bytes().all(|b| b.is_ascii_digit())
                && chart.account(text).is_none()
            {
                let c = code[..col + start].chars().count() + 1;
                out.push(format!(
                    "{path}:{}:{c}: account '{text}' is not in {}",
                    i + 1,
                    chart.path
                ));
            }
            col += start + 1 + end + 1;
            rest = &after[end + 1..];
        }
    }
    out
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn the_shipped_rule_names_only_accounts_of_the_chart_and_an_unknown_one_is_located() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let chart = Chart::load(&root.join("config/accounts.yaml"))
            .unwrap()
            .unwrap();
        let src = std::fs::read_to_string(root.join("rules/posting.rhai")).unwrap();
        assert_eq!(
            unknown_accounts(&chart, "rules/posting.rhai", &src),
            Vec::<String>::new()
        );
        let bad = "let a = \"1400\"; // \"7777\" in a comment is not code\nlet b = #{ x: \"9999\", y: \"12\" };\n";
        assert_eq!(
            unknown_accounts(&chart, "p.rhai", bad),
            [format!(
                "p.rhai:2:15: account '9999' is not in {}",
                chart.path
            )]
        );
    }
}
