//! Loading what analysts own: `rules/*.rhai` and `workflows/*.yaml`, validated together
//! against the connector registry. A set is swapped in whole or not at all (hot reload keeps
//! the old set when the new one has errors).

use crate::registry::Registry;
use ordo_rules::{Rule, RuleHost};
use ordo_workflow::{Catalog, StepKind, Trigger, Workflow};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

/// One consistent, validated set of workflows and rules.
#[derive(Clone, Default)]
pub struct Definitions {
    /// Latest version of each workflow in the files: what new instances start on.
    pub latest: BTreeMap<String, Arc<Workflow>>,
    pub rules: HashMap<String, Rule>,
    /// event name → workflows it starts.
    pub triggers: BTreeMap<String, Vec<String>>,
    /// Events some `wait:` step listens for (others are not kept when nobody waits).
    pub waited_events: BTreeSet<String>,
    /// Fingerprint of the files, to notice changes cheaply.
    pub fingerprint: u64,
    /// The rule files of the set as (path, source), stored with it at install so commands can
    /// run on the last installed set while a file on disk does not compile.
    pub rule_sources: Vec<(String, String)>,
}

/// `kv` key of the last installed set: its workflow versions and its rules' sources.
pub const INSTALLED_KEY: &str = "defs.installed";

/// What [`INSTALLED_KEY`] holds.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct InstalledSet {
    /// (workflow, version) of each latest workflow of the set.
    pub workflows: Vec<(String, u32)>,
    /// (path, source) of each rule file.
    pub rules: Vec<(String, String)>,
    /// Business time of the install (ms).
    pub installed_at: i64,
}

impl InstalledSet {
    pub fn of(defs: &Definitions, now: i64) -> Self {
        InstalledSet {
            workflows: defs
                .latest
                .values()
                .map(|w| (w.name.clone(), w.version))
                .collect(),
            rules: defs.rule_sources.clone(),
            installed_at: now,
        }
    }

    /// `order-to-cash v2, invoice-collection v2 (installed 2026-03-01 09:00 UTC)`.
    pub fn summary(&self) -> String {
        let wfs: Vec<String> = self
            .workflows
            .iter()
            .map(|(n, v)| format!("{n} v{v}"))
            .collect();
        format!(
            "{} and {} rule(s), installed {}",
            wfs.join(", "),
            self.rules.len(),
            crate::clock::ms_to_datetime(self.installed_at).format("%Y-%m-%d %H:%M UTC")
        )
    }
}

impl Definitions {
    pub fn workflow_names(&self) -> impl Iterator<Item = &str> {
        self.latest.keys().map(String::as_str)
    }
}

/// Files of a folder with the given extension, sorted, as (display path, contents).
pub fn read_dir_files(dir: &Path, ext: &str) -> Result<Vec<(String, String)>, Vec<String>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return Err(vec![format!("{}: cannot read folder: {e}", dir.display())]),
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some(ext))
        .collect();
    paths.sort();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::read_to_string(&p) {
            Ok(s) => out.push((p.display().to_string(), s)),
            Err(e) => errors.push(format!("{}: cannot read: {e}", p.display())),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A cheap fingerprint of file names and contents.
pub fn fingerprint(files: &[(String, String)]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (p, s) in files {
        for b in p.bytes().chain([0u8]).chain(s.bytes()).chain([0xffu8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Compiles every rule and validates every workflow. Returns all located errors, or the set.
pub fn load(
    workflows_dir: &Path,
    rules_dir: &Path,
    registry: &Registry,
    host: &RuleHost,
) -> Result<Definitions, Vec<String>> {
    let mut errors = Vec::new();
    let rule_files = read_dir_files(rules_dir, "rhai").unwrap_or_else(|e| {
        errors.extend(e);
        Vec::new()
    });
    let wf_files = read_dir_files(workflows_dir, "yaml").unwrap_or_else(|e| {
        errors.extend(e);
        Vec::new()
    });
    match load_files(rule_files, wf_files, registry, host) {
        Ok(d) if errors.is_empty() => Ok(d),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.extend(e);
            Err(errors)
        }
    }
}

/// [`load`] from texts: (path, source) of the rule and workflow files.
pub fn load_files(
    rule_files: Vec<(String, String)>,
    wf_files: Vec<(String, String)>,
    registry: &Registry,
    host: &RuleHost,
) -> Result<Definitions, Vec<String>> {
    let mut errors = Vec::new();
    let mut rules = HashMap::new();
    for (path, src) in &rule_files {
        let name = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        match host.compile(&name, path, src) {
            Ok(r) => {
                rules.insert(name, r);
            }
            Err(d) => errors.push(d.to_string()),
        }
    }
    let catalog = Catalog {
        connectors: registry.outcomes(),
        rules: rules
            .iter()
            .map(|(n, r)| (n.clone(), r.outcomes.clone()))
            .collect(),
    };
    // A rule that failed to compile still exists as a name, so workflows that use it report
    // the rule's own error rather than "unknown rule".
    let mut catalog = catalog;
    for (path, _) in &rule_files {
        if let Some(stem) = Path::new(path).file_stem().and_then(|s| s.to_str()) {
            catalog.rules.entry(stem.to_string()).or_insert(None);
        }
    }
    let workflows = match ordo_workflow::load_set(&wf_files, &catalog) {
        Ok(w) => w,
        Err(diags) => {
            errors.extend(diags.iter().map(|d| d.to_string()));
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut defs = Definitions {
        rules,
        fingerprint: fingerprint(&[rule_files.clone(), wf_files].concat()),
        rule_sources: rule_files,
        ..Default::default()
    };
    for wf in workflows {
        if let Trigger::Event { event, .. } = &wf.trigger {
            defs.triggers
                .entry(event.clone())
                .or_default()
                .push(wf.name.clone());
        }
        for s in &wf.steps {
            if let StepKind::Wait { event, .. } = &s.kind {
                defs.waited_events.insert(event.clone());
            }
        }
        let keep = defs
            .latest
            .get(&wf.name)
            .map(|old| old.version < wf.version)
            .unwrap_or(true);
        if keep {
            defs.latest.insert(wf.name.clone(), Arc::new(wf));
        }
    }
    for v in defs.triggers.values_mut() {
        v.sort();
        v.dedup();
    }
    Ok(defs)
}

/// Reports a workflow version whose content changed without a version bump.
pub fn version_clash(wf: &Workflow) -> String {
    let line = wf
        .source
        .lines()
        .position(|l| l.trim_start().starts_with("version:"))
        .map(|i| i + 1)
        .unwrap_or(1);
    format!(
        "{}:{line}:1: workflow '{}' version {} differs from the version {} already stored; \
         running instances stay on the stored one, so bump `version:` to publish a change",
        wf.path, wf.name, wf.version, wf.version
    )
}
