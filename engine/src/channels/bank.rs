//! The bank channel: account profiles (`config/banks/*.yaml`), the watched inbound folder per
//! account, and the reconciliation policy (`config/reconciliation.yaml`).
//!
//! ```yaml
//! # config/banks/main-eur.yaml
//! account: main-eur                  # the profile's name, shown on exceptions and reports
//! iban: DE44 5001 0517 5407 3249 31  # statements must be for this account (or one of `numbers`)
//! numbers: []                        # other account ids the bank uses (BAI2, MT940 :25:)
//! currency: EUR
//! csv_mapping: ing-de                # only for CSV exports: a preset or a mapping file
//! allow_unbalanced: false            # import statements whose balances do not add up (warned)
//! inbound: data/bank/main-eur/inbox          # watched; defaults shown
//! archive: data/bank/main-eur/archive
//! quarantine: data/bank/main-eur/quarantine
//! ```
//!
//! The watcher (part of `ordo run`'s services, and `ordo recon import`) takes each file in an
//! inbound folder (not names starting with `.` or ending in `.tmp`/`.part`: senders write
//! those first and rename), imports it in one store transaction ([`ordo_recon::import_file`]),
//! and only after the commit moves it: imported → `archive/`, rejected or duplicate →
//! `quarantine/` beside a `NAME.reason.txt`. A crash between commit and move leaves the file
//! in the inbox; the next scan finds its content already stored and finishes the move, so a
//! file is never imported twice nor lost. Matching runs in `workflows/bank-reconciliation.yaml`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ordo_bank::ParseOptions;
use ordo_bank::parse::csv::CsvMapping;
use ordo_recon::{ImportOutcome, ImportProfile, POLICY_DOC, ReconPolicy};
use serde::Deserialize;

use super::folders::Folders;
use crate::runtime::{Engine, EngineError, TxContext};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    account: String,
    #[serde(default)]
    iban: Option<String>,
    #[serde(default)]
    numbers: Vec<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    csv_mapping: Option<String>,
    #[serde(default)]
    allow_unbalanced: bool,
    #[serde(default)]
    inbound: Option<PathBuf>,
    #[serde(default)]
    archive: Option<PathBuf>,
    #[serde(default)]
    quarantine: Option<PathBuf>,
}

/// A loaded bank account profile.
#[derive(Debug, Clone)]
pub struct BankChannel {
    pub path: String,
    pub profile: ImportProfile,
    pub inbound: PathBuf,
    pub archive: PathBuf,
    pub quarantine: PathBuf,
}

/// Loads every `*.yaml` in `dir` (a missing folder means no bank accounts). Errors are
/// `path:line:col: message`; any error refuses the whole set.
pub fn load_profiles(dir: &Path, folders: &Folders) -> Result<Vec<BankChannel>, Vec<String>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match load_profile(&p, folders) {
            Ok(ch) => {
                if out
                    .iter()
                    .any(|o: &BankChannel| o.profile.account == ch.profile.account)
                {
                    errors.push(format!(
                        "{}:1:1: bank account '{}' is defined twice",
                        ch.path, ch.profile.account
                    ));
                }
                out.push(ch)
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn load_profile(path: &Path, folders: &Folders) -> Result<BankChannel, String> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let f: ProfileFile =
        serde_saphyr::from_str(&text).map_err(|e| ordo_workflow::yaml_error(&shown, &e))?;
    let at = |key: &str| {
        let line = crate::config::key_position(&text, key).0;
        format!("{shown}:{line}:1")
    };
    if f.account.is_empty()
        || !f
            .account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "{}: account '{}' must be letters, digits, '-' or '_'",
            at("account"),
            f.account
        ));
    }
    if let Some(c) = &f.currency
        && (c.len() != 3 || !c.chars().all(|c| c.is_ascii_uppercase()))
    {
        return Err(format!(
            "{}: currency '{c}' is not an ISO 4217 code such as EUR",
            at("currency")
        ));
    }
    if let Some(iban) = &f.iban
        && !ordo_contract::rules::iban_valid(iban)
    {
        return Err(format!(
            "{}: '{iban}' is not a valid IBAN (check digits)",
            at("iban")
        ));
    }
    let mut options = ParseOptions {
        allow_unbalanced: f.allow_unbalanced,
        default_currency: f.currency.clone(),
        ..ParseOptions::default()
    };
    if let Some(m) = &f.csv_mapping {
        options.csv = Some(match CsvMapping::profile(m) {
            Some(preset) => preset,
            None => {
                // A mapping file, relative to the profile's folder.
                // A profile path without a parent lies in the working directory.
                let file = path.parent().unwrap_or(Path::new(".")).join(m);
                let text = std::fs::read_to_string(&file).map_err(|_| {
                    format!(
                        "{}: csv_mapping '{m}' is neither a preset (ing-de, sparkasse-camt-v8, fr-debit-credit, generic-en) nor a file next to the profile",
                        at("csv_mapping")
                    )
                })?;
                serde_saphyr::from_str(&text)
                    .map_err(|e| ordo_workflow::yaml_error(&file.display().to_string(), &e))?
            }
        });
    }
    let base = folders.root().join("bank").join(&f.account);
    let mut identifiers: Vec<String> = f.iban.iter().cloned().collect();
    identifiers.extend(f.numbers.iter().cloned());
    let checked = |key: &str, set: Option<PathBuf>, leaf: &str| {
        let given = set.is_some();
        // absent: an unset folder key means the documented default folder under bank/ACCOUNT.
        let path = set.unwrap_or_else(|| base.join(leaf));
        folders.check(&path).map_err(|e| {
            let (l, c) = crate::config::key_position(&text, if given { key } else { "account" });
            format!("{shown}:{l}:{c}: {key}: {e}")
        })
    };
    let inbound = checked("inbound", f.inbound, "inbox")?;
    let archive = checked("archive", f.archive, "archive")?;
    let quarantine = checked("quarantine", f.quarantine, "quarantine")?;
    Ok(BankChannel {
        path: shown,
        inbound,
        archive,
        quarantine,
        profile: ImportProfile {
            account: f.account,
            identifiers,
            currency: f.currency,
            options,
        },
    })
}

/// Reads and validates the reconciliation policy; a missing file is the default policy.
pub fn load_policy(path: &Path) -> Result<ReconPolicy, String> {
    let shown = path.display().to_string();
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(ReconPolicy::default());
    };
    let policy: ReconPolicy =
        serde_saphyr::from_str(&text).map_err(|e| ordo_workflow::yaml_error(&shown, &e))?;
    policy.validate().map_err(|e| format!("{shown}: {e}"))?;
    Ok(policy)
}

/// Everything `ordo check` validates here: (lines to print, errors).
pub fn check(banks: &Path, policy: &Path, folders: &Folders) -> (Vec<String>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    match load_profiles(banks, folders) {
        Ok(p) if !p.is_empty() => ok.push(format!(
            "ok  {} bank account profile(s) in {}",
            p.len(),
            banks.display()
        )),
        Ok(_) => {}
        Err(e) => errors.extend(e),
    }
    match load_policy(policy) {
        Ok(_) if policy.exists() => ok.push(format!("ok  {}", policy.display())),
        Ok(_) => {}
        Err(e) => errors.push(e),
    }
    (ok, errors)
}

/// The last problem logged by the watcher, so a broken profile is reported once, not every
/// second.
static LAST_PROBLEM: Mutex<String> = Mutex::new(String::new());

fn report_once(msg: String) {
    if let Ok(mut last) = LAST_PROBLEM.lock()
        && *last != msg
    {
        for line in msg.lines() {
            tracing::error!("bank channel: {line}");
        }
        *last = msg;
    }
}

/// Stores the policy file's content as the policy in force when it changed and is valid.
pub async fn sync_policy(engine: &Engine) -> Result<(), EngineError> {
    let policy = match load_policy(&engine.recon_policy) {
        Ok(p) => p,
        Err(e) => {
            report_once(format!("{e} (the previous policy stays in force)"));
            return Ok(());
        }
    };
    // The policy is plain data with string keys: serializing it cannot fail.
    let value = serde_json::to_value(&policy).unwrap_or_default();
    let mut tx = engine.store.begin().await?;
    if tx.get_document(POLICY_DOC.0, POLICY_DOC.1).await?.as_ref() == Some(&value) {
        tx.rollback().await?;
        return Ok(());
    }
    tx.put_document(POLICY_DOC.0, POLICY_DOC.1, &value, engine.clock.now_ms())
        .await?;
    tx.commit().await?;
    tracing::info!(path = %engine.recon_policy.display(), "reconciliation policy in force");
    Ok(())
}

/// One scan of every inbound folder. Returns the number of files taken.
pub async fn scan(engine: &Engine) -> Result<usize, EngineError> {
    let channels = match load_profiles(&engine.banks_dir, &engine.folders) {
        Ok(c) => c,
        Err(e) => {
            report_once(format!(
                "{}\nbank profiles refused; inbound folders are not watched until fixed",
                e.join("\n")
            ));
            return Ok(0);
        }
    };
    if channels.is_empty() {
        return Ok(0);
    }
    sync_policy(engine).await?;
    let mut taken = 0;
    for ch in &channels {
        // checked again at every scan: a symbolic link may have appeared since
        let bad: Vec<String> = [&ch.inbound, &ch.archive, &ch.quarantine]
            .iter()
            .filter_map(|d| engine.folders.check(d).err())
            .collect();
        if !bad.is_empty() {
            report_once(format!(
                "bank account {}: {}; its folders are not used until fixed",
                ch.profile.account,
                bad.join("; ")
            ));
            continue;
        }
        for f in super::claim_files(&ch.inbound) {
            import_path(engine, ch, &f, true).await?;
            taken += 1;
        }
    }
    Ok(taken)
}

/// Imports one file for `ch`; with `move_file`, archives or quarantines it after the commit.
pub async fn import_path(
    engine: &Engine,
    ch: &BankChannel,
    path: &Path,
    move_file: bool,
) -> Result<ImportOutcome, EngineError> {
    let limit = engine.limits.max_statement_bytes;
    let super::Inbound { name, bytes, id } = match super::read_inbound(
        path,
        limit,
        "max_statement_bytes",
    )? {
        Ok(f) => f,
        Err(reason) if move_file => {
            tracing::error!(account = %ch.profile.account, "bank file quarantined unread: {reason}");
            let outcome = ImportOutcome::Rejected {
                file_id: "oversize".into(),
                error: reason,
            };
            settle_file(ch, path, &outcome);
            return Ok(outcome);
        }
        Err(reason) => return Err(EngineError::Refused(reason)),
    };
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    // Stored before, under this very name and account: a crash hit between the commit and the
    // move last time. Finish the move with the recorded verdict.
    if let Some(prev) = tx.get_document("bank_file", &id).await?
        && prev["name"] == name.as_str()
        && prev["account"] == ch.profile.account.as_str()
    {
        tx.rollback().await?;
        let outcome: ImportOutcome = serde::Deserialize::deserialize(&prev["outcome"])
            .map_err(|e| EngineError::Refused(format!("stored file {id}: {e}")))?;
        if move_file {
            settle_file(ch, path, &outcome);
        }
        return Ok(outcome);
    }
    let outcome = import_in(engine, tx.as_mut(), ch, &name, &bytes).await?;
    tx.commit().await?;
    match &outcome {
        ImportOutcome::Imported {
            statements,
            entries,
            duplicate_entries,
            ..
        } => {
            tracing::info!(account = %ch.profile.account, file = %name, statements = statements.len(), entries, duplicate_entries, "bank file imported")
        }
        ImportOutcome::Duplicate { reason, .. } => {
            tracing::warn!(account = %ch.profile.account, file = %name, "bank file not booked, duplicate: {reason}")
        }
        ImportOutcome::Rejected { error, .. } => {
            tracing::error!(account = %ch.profile.account, file = %name, "bank file rejected: {error}")
        }
    }
    if move_file {
        settle_file(ch, path, &outcome);
    }
    Ok(outcome)
}

/// What a statement file means, booked in the caller's transaction (not committed): the
/// inbound folder and the HTTP API (`POST /api/v1/banks/{account}/statements`) both import so.
pub async fn import_in(
    engine: &Engine,
    tx: &mut dyn crate::store::Tx,
    ch: &BankChannel,
    name: &str,
    bytes: &[u8],
) -> Result<ImportOutcome, EngineError> {
    let mut ctx = TxContext::command(tx, engine);
    let max = engine.limits.max_excerpt_chars;
    ordo_recon::import_file_with(&mut ctx, &ch.profile, name, bytes, max)
        .await
        .map_err(|e| EngineError::Refused(e.to_string()))
}

fn settle_file(ch: &BankChannel, path: &Path, outcome: &ImportOutcome) {
    let (dir, reason) = match outcome {
        ImportOutcome::Imported { .. } => (&ch.archive, None),
        ImportOutcome::Duplicate { reason, .. } => (
            &ch.quarantine,
            Some(format!("duplicate, nothing booked: {reason}")),
        ),
        ImportOutcome::Rejected { error, .. } => (
            &ch.quarantine,
            Some(format!("rejected, nothing booked: {error}")),
        ),
    };
    super::settle(
        path,
        dir,
        reason.as_deref(),
        // A file id shorter than 12 characters is used whole as the tag.
        outcome.file_id().get(..12).unwrap_or(outcome.file_id()),
    );
}
/// `ordo recon check-index`: the differences between the open-items index and the invoice
/// documents (`ordo_recon::openitems::check_index`), read in one transaction that is rolled
/// back; empty when they agree. `Err` when the check itself could not run.
pub async fn check_open_items(engine: &Engine) -> Result<Result<Vec<String>, String>, EngineError> {
    let mut tx = engine.store.begin().await?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        ordo_recon::openitems::check_index(&mut ctx).await
    };
    tx.rollback().await?;
    Ok(r.map_err(|e| e.to_string()))
}

/// Reconciles every pending statement now (`ordo recon run`), as the `bank.reconcile` step
/// does: chunks of the policy's `chunk_entries` entries, each its own committed transaction,
/// until nothing is pending. Returns the summary of all chunks (counts added up, the reports
/// of the statements finished). A failing chunk rolls back alone; the chunks before it stay
/// committed and the statement continues from there next time.
pub async fn reconcile_now(
    engine: &Engine,
) -> Result<Result<serde_json::Value, String>, EngineError> {
    use serde_json::{Value, json};
    let mut total = json!({ "statements": 0, "matched": 0, "payments": 0, "exceptions": 0,
                            "skipped": 0, "chunks": 0, "reports": [] });
    let mut statements = std::collections::BTreeSet::new();
    loop {
        let mut tx = engine.store.begin().await?;
        engine.refresh_clock(tx.as_mut()).await?;
        let r = {
            let mut ctx = TxContext::command(tx.as_mut(), engine);
            match ordo_recon::stored_policy(&mut ctx).await {
                Ok(p) => ordo_recon::run_reconciliation_chunk(&mut ctx, p.chunk_entries).await,
                Err(e) => Err(e),
            }
        };
        let summary = match r {
            Ok(s) => s,
            Err(e) => {
                tx.rollback().await?;
                return Ok(Err(e.to_string()));
            }
        };
        crate::app::commit_and_publish(engine, tx).await?;
        // The counts are the summary `run_reconciliation_chunk` just built (numbers).
        for k in ["matched", "payments", "exceptions", "skipped", "chunks"] {
            let add = if k == "chunks" {
                1
            } else {
                summary[k].as_u64().unwrap_or(0)
            };
            total[k] = json!(total[k].as_u64().unwrap_or(0) + add);
        }
        for r in summary["reports"].as_array().into_iter().flatten() {
            statements.insert(format!("{}:{}", r["account"], r["statement_id"]));
            if let Some(list) = total["reports"].as_array_mut() {
                list.push(r.clone());
            }
        }
        if summary["more"] != Value::Bool(true) {
            break;
        }
    }
    total["statements"] = json!(statements.len());
    Ok(Ok(total))
}

/// The per-statement reconciliation reports, as stored (`ordo recon reports` and
/// `GET /api/v1/recon/reports` both list them).
pub async fn reports(tx: &mut dyn crate::store::Tx) -> Result<Vec<serde_json::Value>, EngineError> {
    Ok(tx
        .get_documents("bank_report", "")
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .collect())
}
