//! Importing one received bank file, all or nothing.
//!
//! The raw bytes are always kept (`bank_file/<sha256>`), whatever the outcome, so nothing a
//! bank sent is ever lost. Then, in order:
//! 1. the same bytes received before → [`ImportOutcome::Duplicate`];
//! 2. the file does not parse, a balance or control total does not add up, or a statement is
//!    for another account or currency than the profile's → [`ImportOutcome::Rejected`] with the
//!    located error; no statement from it is booked;
//! 3. each statement whose fingerprint (account + statement id + sequence) is known, or whose
//!    entries were all seen before (a camt.052 intraday report followed by the camt.053, the
//!    same MT940 resent with a new `:20:`), is skipped as a duplicate; of a statement that
//!    overlaps an earlier one only the new entries are booked;
//! 4. what is left is stored as pending statements for the next `bank.reconcile` run.

use base64::Engine as _;
use ordo_bank::{ParseOptions, Statement, entry_fingerprints, statement_fingerprint};
use ordo_contract::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{normalize_account, permanent, stored};

/// What the engine knows about the bank account a file arrived for.
#[derive(Debug, Clone, Default)]
pub struct ImportProfile {
    /// The profile's name (`config/banks/NAME.yaml`).
    pub account: String,
    /// IBANs / account numbers the statements must be for (empty: any).
    pub identifiers: Vec<String>,
    /// The account's currency (None: any).
    pub currency: Option<String>,
    pub options: ParseOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    Imported {
        file_id: String,
        /// Fingerprints of the statements stored for reconciliation.
        statements: Vec<String>,
        entries: usize,
        /// Entries skipped because an earlier statement already brought them.
        duplicate_entries: usize,
        /// Statements skipped as duplicates, with the reason.
        duplicate_statements: Vec<String>,
    },
    Duplicate {
        file_id: String,
        reason: String,
    },
    Rejected {
        file_id: String,
        error: String,
    },
}

impl ImportOutcome {
    pub fn file_id(&self) -> &str {
        match self {
            ImportOutcome::Imported { file_id, .. }
            | ImportOutcome::Duplicate { file_id, .. }
            | ImportOutcome::Rejected { file_id, .. } => file_id,
        }
    }
}

pub const PENDING_DOC: (&str, &str) = ("bank_queue", "pending");

/// The received file as stored (`bank_file/<sha256>`): its raw content and the verdict.
#[derive(Serialize)]
struct FileDoc<'a> {
    id: &'a str,
    name: &'a str,
    account: &'a str,
    size: usize,
    received_at: &'a str,
    /// `utf-8`, or `base64` for bytes that are not UTF-8.
    encoding: &'static str,
    /// The whole content, for a file of at most [`CONTENT_PART`] bytes of text ...
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    /// ... else how many parts hold it, in order (`bank_file_part/<sha256>:<n>`, each
    /// `{"content": "..."}`), so no one document (and no SQLite record built for it) is the
    /// size of a 70 MB statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_parts: Option<usize>,
    outcome: &'a ImportOutcome,
    status: &'static str,
}

/// The most text of a received file one document holds.
pub const CONTENT_PART: usize = 1 << 20;

/// `text` cut into pieces of at most `max` bytes, on character boundaries.
fn parts(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = max.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (a, b) = rest.split_at(cut);
        out.push(a);
        rest = b;
    }
    out
}

/// Writes the received file's document, its content in parts when large.
async fn store_file(
    ctx: &mut dyn StepContext,
    mut file: FileDoc<'_>,
    content: &str,
) -> Result<(), StepError> {
    if content.len() <= CONTENT_PART {
        file.content = Some(content);
    } else {
        let pieces = parts(content, CONTENT_PART);
        file.content_parts = Some(pieces.len());
        for (n, piece) in pieces.into_iter().enumerate() {
            #[derive(Serialize)]
            struct Part<'a> {
                content: &'a str,
            }
            let text = serde_json::to_string(&Part { content: piece })
                .map_err(|e| permanent(e.to_string()))?;
            ctx.put_document_text("bank_file_part", &format!("{}:{n:06}", file.id), text)
                .await?;
        }
    }
    let text = serde_json::to_string(&file).map_err(|e| permanent(e.to_string()))?;
    ctx.put_document_text("bank_file", file.id, text).await?;
    Ok(())
}

/// [`import_file_with`] quoting at most [`ordo_contract::DEFAULT_EXCERPT_CHARS`] of input.
pub async fn import_file(
    ctx: &mut dyn StepContext,
    profile: &ImportProfile,
    name: &str,
    bytes: &[u8],
) -> Result<ImportOutcome, StepError> {
    import_file_with(
        ctx,
        profile,
        name,
        bytes,
        ordo_contract::DEFAULT_EXCERPT_CHARS,
    )
    .await
}

/// Imports `bytes`, received as `name`, for `profile`. Store errors are `Err`; every verdict
/// about the file itself is an `Ok` outcome (and recorded on `bank_file/<id>`). A rejection
/// quotes at most `max_excerpt` characters of any value from the file
/// ([`ordo_contract::excerpt`], `limits.max_excerpt_chars`).
pub async fn import_file_with(
    ctx: &mut dyn StepContext,
    profile: &ImportProfile,
    name: &str,
    bytes: &[u8],
    max_excerpt: usize,
) -> Result<ImportOutcome, StepError> {
    let file_id = ordo_contract::content_id(bytes);
    if let Some(prev) = ctx.get_document("bank_file", &file_id).await? {
        return Ok(ImportOutcome::Duplicate {
            reason: format!(
                "the same file was already received as '{}' at {} for account {}",
                prev["name"].as_str().unwrap_or("?"),
                prev["received_at"].as_str().unwrap_or("?"),
                prev["account"].as_str().unwrap_or("?"),
            ),
            file_id,
        });
    }
    // Typed, the content borrowed: the file doc of a 70 MB statement as a JSON tree (its text
    // copied into it, then serialised again) cost twice the file on top of the parse.
    let (encoding, content) = match std::str::from_utf8(bytes) {
        Ok(text) => ("utf-8", std::borrow::Cow::Borrowed(text)),
        Err(_) => (
            "base64",
            std::borrow::Cow::Owned(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    };
    let received_at = ctx.now().to_rfc3339();

    let outcome = match check(ctx, profile, name, bytes, max_excerpt).await? {
        Err(error) => ImportOutcome::Rejected {
            file_id: file_id.clone(),
            error,
        },
        Ok(statements) => book(ctx, profile, &file_id, statements).await?,
    };
    let file = FileDoc {
        id: &file_id,
        name,
        account: &profile.account,
        size: bytes.len(),
        received_at: &received_at,
        encoding,
        content: None,
        content_parts: None,
        outcome: &outcome,
        status: match &outcome {
            ImportOutcome::Imported { .. } => "imported",
            ImportOutcome::Duplicate { .. } => "duplicate",
            ImportOutcome::Rejected { .. } => "rejected",
        },
    };
    store_file(ctx, file, &content).await?;
    Ok(outcome)
}

/// Parses and checks the file against the profile; `Ok(Err(message))` is a rejection.
async fn check(
    _ctx: &mut dyn StepContext,
    profile: &ImportProfile,
    name: &str,
    bytes: &[u8],
    max: usize,
) -> Result<Result<Vec<Statement>, String>, StepError> {
    let ex = |s: &str| ordo_contract::excerpt(s, max);
    let statements = match ordo_bank::parse(bytes, &profile.options) {
        Ok(s) => s,
        Err(e) => return Ok(Err(format!("{name}:{}", ex(&e.to_string())))),
    };
    if statements.is_empty() {
        return Ok(Err(format!("{name}: no statement in the file")));
    }
    let ids: Vec<String> = profile
        .identifiers
        .iter()
        .map(|i| normalize_account(i))
        .collect();
    for s in &statements {
        if !ids.is_empty() && !ids.contains(&normalize_account(&s.account)) {
            return Ok(Err(format!(
                "{name}: statement {} is for account {}, not for bank profile '{}' ({})",
                ex(&s.statement_id),
                ex(&s.account),
                profile.account,
                profile.identifiers.join(", ")
            )));
        }
        if let Some(c) = &profile.currency
            && !s.currency.is_empty()
            && !s.currency.eq_ignore_ascii_case(c)
        {
            return Ok(Err(format!(
                "{name}: statement {} is in {}, bank profile '{}' is in {c}",
                ex(&s.statement_id),
                ex(&s.currency),
                profile.account
            )));
        }
    }
    Ok(Ok(statements))
}

async fn book(
    ctx: &mut dyn StepContext,
    profile: &ImportProfile,
    file_id: &str,
    statements: Vec<Statement>,
) -> Result<ImportOutcome, StepError> {
    let mut stored_fps = Vec::new();
    let mut dup_statements = Vec::new();
    let mut entries = 0;
    let mut dup_entries = 0;
    for (index, mut stmt) in statements.into_iter().enumerate() {
        let fp = statement_fingerprint(&stmt);
        if let Some(prev) = stored::read_head(ctx, &fp).await? {
            dup_statements.push(format!(
                "statement {} of account {} was already imported from file {}",
                stmt.statement_id, stmt.account, prev.file
            ));
            continue;
        }
        let efps = entry_fingerprints(&stmt);
        let ids: Vec<&str> = efps.iter().map(String::as_str).collect();
        let seen = ctx.get_documents_by_id("bank_entry", &ids).await?;
        let keep: Vec<bool> = efps.iter().map(|efp| !seen.contains_key(efp)).collect();
        drop(seen);
        let total = stmt.entries.len();
        let fresh = keep.iter().filter(|k| **k).count();
        if total > 0 && fresh == 0 {
            dup_statements.push(format!(
                "statement {} of account {}: all {total} entries were already imported",
                stmt.statement_id, stmt.account
            ));
            dup_entries += total;
            continue;
        }
        dup_entries += total - fresh;
        entries += fresh;
        // Positions in the file, so exceptions and reports point at the entry finance sees.
        let positions: Vec<usize> = (0..total).filter(|i| keep[*i]).map(|i| i + 1).collect();
        let seen_doc =
            serde_json::to_string(&json!({ "statement": fp, "account": profile.account }))
                .map_err(|e| permanent(e.to_string()))?;
        for (efp, k) in efps.iter().zip(&keep) {
            if *k {
                ctx.put_document_text("bank_entry", efp, seen_doc.clone())
                    .await?;
            }
        }
        drop(efps);
        let mut k = keep.iter();
        let mut kept = std::mem::take(&mut stmt.entries);
        kept.retain(|_| *k.next().unwrap_or(&false));
        let head = stored::StoredStatement {
            fingerprint: fp.clone(),
            file: file_id.to_string(),
            index,
            account: profile.account.clone(),
            statement_id: stmt.statement_id.clone(),
            positions,
            skipped_entries: total - fresh,
            status: "pending".into(),
            imported_at: ctx.now().to_rfc3339(),
            reconciled_at: None,
            entry_count: None,
            entry_block: None,
            statement: stmt,
        };
        stored::write(ctx, head, kept).await?;
        stored_fps.push(fp);
    }
    if stored_fps.is_empty() {
        return Ok(ImportOutcome::Duplicate {
            file_id: file_id.to_string(),
            reason: dup_statements.join("; "),
        });
    }
    let mut pending = ctx
        .get_document(PENDING_DOC.0, PENDING_DOC.1)
        .await?
        .unwrap_or_else(|| json!({ "statements": [] }));
    if let Some(list) = pending["statements"].as_array_mut() {
        list.extend(stored_fps.iter().map(|s| Value::from(s.as_str())));
    }
    ctx.put_document(PENDING_DOC.0, PENDING_DOC.1, &pending)
        .await?;
    Ok(ImportOutcome::Imported {
        file_id: file_id.to_string(),
        statements: stored_fps,
        entries,
        duplicate_entries: dup_entries,
        duplicate_statements: dup_statements,
    })
}
