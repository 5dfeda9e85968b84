//! What `ordo check` and `ordo rules test` verify, as data: the deployment's configuration
//! (bank and partner profiles, the reconciliation policy, the company profile, workflows and
//! rules, with located errors and cycle warnings) and the analysts' rule test cases. The
//! command line prints the reports; the API can serve them.

use crate::app;
use crate::config::Config;
use crate::registry::Registry;
use crate::runtime::EngineError;
use ordo_rules::CaseResult;

/// A configuration that loads: what was checked, and warnings worth a person's look.
pub struct ConfigReport {
    /// `ok  …` / `--  …` lines for profiles and the company.
    pub checked: Vec<String>,
    /// (name, version, path, steps) per workflow, the latest version of each.
    pub workflows: Vec<(String, u32, String, usize)>,
    pub rules: usize,
    /// Cycles without a wait or a task, located.
    pub warnings: Vec<String>,
}

/// Checks the whole configuration; every located error at once when something is wrong.
pub fn check_config(cfg: &Config) -> Result<ConfigReport, EngineError> {
    let registry = Registry::standard();
    let host = app::rule_host();
    let folders = cfg.folders();
    let (mut checked, mut errors) =
        crate::channels::bank::check(&cfg.banks, &cfg.reconciliation, &folders);
    let (edi_ok, edi_errors) = crate::channels::edi::check(&cfg.partners, &folders);
    checked.extend(edi_ok);
    errors.extend(edi_errors);
    match crate::company::load(&cfg.company) {
        Ok(Some(c)) => checked.push(format!(
            "ok  company {} ({})",
            c.legal_name,
            cfg.company.display()
        )),
        Ok(None) => checked.push(format!(
            "--  no company profile at {}: invoices cannot be printed",
            cfg.company.display()
        )),
        Err(e) => errors.extend(e),
    }
    match crate::ledger::Chart::load(&cfg.accounts) {
        Ok(Some(c)) => {
            checked.push(format!(
                "ok  chart of accounts: {} accounts in {} ({})",
                c.accounts.len(),
                c.currency,
                cfg.accounts.display()
            ));
            let rule = cfg.rules.join(format!("{}.rhai", crate::ledger::RULE));
            match std::fs::read_to_string(&rule) {
                Ok(src) => errors.extend(crate::ledger::chart::unknown_accounts(
                    &c,
                    &rule.display().to_string(),
                    &src,
                )),
                Err(e) => errors.push(format!(
                    "{}: {e}: the ledger ({}) needs its posting rule",
                    rule.display(),
                    cfg.accounts.display()
                )),
            }
        }
        Ok(None) => checked.push(format!(
            "--  no chart of accounts at {}: no ledger is kept",
            cfg.accounts.display()
        )),
        Err(e) => errors.extend(e),
    }
    let defs = match app::load_definitions(cfg, &registry, &host) {
        Ok(defs) if errors.is_empty() => defs,
        Ok(_) => return Err(EngineError::Definitions(errors)),
        Err(EngineError::Definitions(mut e)) => {
            e.extend(errors);
            return Err(EngineError::Definitions(e));
        }
        Err(e) => return Err(e),
    };
    let warnings = defs
        .latest
        .values()
        .flat_map(|wf| ordo_workflow::cycle_warnings(wf))
        .map(|d| d.to_string())
        .collect();
    let workflows = defs
        .latest
        .values()
        .map(|wf| (wf.name.clone(), wf.version, wf.path.clone(), wf.steps.len()))
        .collect();
    Ok(ConfigReport {
        checked,
        workflows,
        rules: defs.rules.len(),
        warnings,
    })
}

/// What one rule's test file gave.
pub enum RuleTests {
    /// The rule or its test file does not compile: the located diagnostic.
    Broken(String),
    /// No `<name>.test.yaml` beside the rule.
    NoCases {
        test_path: String,
    },
    Ran(Vec<CaseResult>),
}

/// Runs the test cases of every rule under `cfg.rules` (or only `only`), by rule name.
/// `Err` when `only` names no rule or the folder cannot be read.
pub fn test_rules(cfg: &Config, only: Option<&str>) -> Result<Vec<(String, RuleTests)>, String> {
    test_rules_in(&cfg.rules, only)
}

/// [`test_rules`] for the rules folder `dir` (`ordo test rules`, the console's Workflows and
/// rules page).
pub fn test_rules_in(
    dir: &std::path::Path,
    only: Option<&str>,
) -> Result<Vec<(String, RuleTests)>, String> {
    let host = app::rule_host();
    let files = crate::runtime::defs::read_dir_files(dir, "rhai").map_err(|e| e.join("\n"))?;
    let mut out = Vec::new();
    for (path, src) in &files {
        let name = std::path::Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let rule = match host.compile(&name, path, src) {
            Ok(r) => r,
            Err(d) => {
                out.push((name, RuleTests::Broken(d.to_string())));
                continue;
            }
        };
        let test_path = dir.join(format!("{name}.test.yaml"));
        let Ok(test_src) = std::fs::read_to_string(&test_path) else {
            let test_path = test_path.display().to_string();
            out.push((name, RuleTests::NoCases { test_path }));
            continue;
        };
        let result = match host.run_tests(&rule, &test_path.display().to_string(), &test_src) {
            Err(d) => RuleTests::Broken(d.to_string()),
            Ok(cases) => RuleTests::Ran(cases),
        };
        out.push((name, result));
    }
    match only {
        Some(o) if out.is_empty() => Err(format!("no rule '{o}' in {}", dir.display())),
        _ => Ok(out),
    }
}
