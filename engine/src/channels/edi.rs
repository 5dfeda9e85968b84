//! The EDI channel: trading partner profiles (`config/partners/*.yaml`, see
//! `ordo_partners::profile`) and one watched inbound folder per partner.
//!
//! Each scan (part of `ordo run`'s services) validates the profiles, stores each one as the
//! `partner/<name>` document the `edi.send` step reads (its outbound folder made absolute, so
//! the outbound dispatcher writes into the partner's folder), then takes every file in every
//! inbound folder (not `.`-names, `.tmp`, `.part`) and processes it in one store transaction
//! ([`ordo_partners::receive_file`]: acks, orders, received acks). After the commit the file
//! moves to `archive/`, or to `quarantine/` beside `NAME.reason.txt` when anything in it needs
//! a person (unknown sender, duplicate, rejected sets, unreadable). A crash between commit and
//! move is healed by the next scan, which finds the file's content stored and finishes the
//! move with the recorded verdict. Files are claimed first (`super::claims`: one process per
//! file), a file over `limits.max_edi_file_bytes` is quarantined unread, and a partner whose
//! folders leave the data root (also through a symbolic link that appeared later) is skipped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ordo_partners::{PARTNER_DOC, Partner, ReceiveOutcome};
use ordo_sales::purchase::SUPPLIER_PARTNER_DOC;

use super::folders::Folders;
use crate::runtime::{Engine, EngineError, TxContext};

/// The folder keys of a partner profile with their default leaf under `DATA/partners/NAME/`.
const FOLDERS: [(&str, &str); 4] = [
    ("inbound", "in"),
    ("outbound", "out"),
    ("archive", "archive"),
    ("quarantine", "quarantine"),
];

/// Loads and validates every `*.yaml` in `dir` (none: no partners). Errors are
/// `path:line:col: message`; any error refuses the whole set. Folders left out default to
/// `DATA/partners/NAME/{in,out,archive,quarantine}`; every folder must pass `folders`.
pub fn load_partners(dir: &Path, folders: &Folders) -> Result<Vec<Partner>, Vec<String>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    let mut out: Vec<Partner> = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{shown}: {e}"));
                continue;
            }
        };
        let mut p: Partner = match serde_saphyr::from_str(&text) {
            Ok(p) => p,
            Err(e) => {
                errors.push(ordo_workflow::yaml_error(&shown, &e));
                continue;
            }
        };
        let line_of = |key: &str| crate::config::key_position(&text, key).0;
        for (key, msg) in p.validate() {
            let (l, c) = crate::config::key_position(&text, key);
            errors.push(format!("{shown}:{l}:{c}: {msg}"));
        }
        for (key, leaf) in FOLDERS {
            let given = p.folder(key);
            let default = folders.root().join("partners").join(&p.partner).join(leaf);
            let path = match folder_slot(&mut p, key) {
                Some(set) => PathBuf::from(set.as_str()),
                None => default,
            };
            match folders.check(&path) {
                Ok(abs) => *folder_slot(&mut p, key) = Some(abs.display().to_string()),
                Err(e) => {
                    let (l, c) = crate::config::key_position(&text, key);
                    let (l, c) = if text.contains(&format!("{key}:")) {
                        (l, c)
                    } else {
                        crate::config::key_position(&text, "partner")
                    };
                    errors.push(format!("{shown}:{l}:{c}: {key} '{given}': {e}"));
                }
            }
        }
        if let Some(s) = p.supplier.as_deref()
            && let Some(other) = out.iter().find(|o| o.supplier.as_deref() == Some(s))
        {
            errors.push(format!(
                "{shown}:{}:1: supplier '{s}' already has the profile '{}': one profile per supplier",
                line_of("supplier"),
                other.partner
            ));
        }
        if p.wants(ordo_partners::QUOTE)
            && let Some(other) = out
                .iter()
                .find(|o| o.customer == p.customer && o.wants(ordo_partners::QUOTE))
        {
            errors.push(format!(
                "{shown}:{}:1: customer '{}' already gets its quotes through the profile '{}': one profile per customer lists `quote`",
                line_of("documents"),
                p.customer,
                other.partner
            ));
        }
        if let Some(other) = out.iter().find(|o| o.partner == p.partner) {
            errors.push(format!(
                "{shown}:{}:1: partner '{}' is defined twice",
                line_of("partner"),
                other.partner
            ));
        }
        if let Some(other) = out
            .iter()
            .find(|o| p.is_edi() && o.is_edi() && o.their_id == p.their_id)
        {
            errors.push(format!(
                "{shown}:{}:1: their_id {}:{} is already partner '{}': interchanges could not be told apart",
                line_of("their_id"),
                p.their_id.qualifier,
                p.their_id.id,
                other.partner
            ));
        }
        out.push(p);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The profile's setting for a folder key of [`FOLDERS`].
fn folder_slot<'p>(p: &'p mut Partner, key: &str) -> &'p mut Option<String> {
    match key {
        "inbound" => &mut p.inbound,
        "outbound" => &mut p.outbound,
        "archive" => &mut p.archive,
        _ => &mut p.quarantine,
    }
}

/// `ordo check`: (lines to print, errors).
pub fn check(dir: &Path, folders: &Folders) -> (Vec<String>, Vec<String>) {
    match load_partners(dir, folders) {
        Ok(p) if p.is_empty() => (Vec::new(), Vec::new()),
        Ok(p) => (
            vec![format!(
                "ok  {} trading partner profile(s) in {}",
                p.len(),
                dir.display()
            )],
            Vec::new(),
        ),
        Err(e) => (Vec::new(), e),
    }
}

static LAST_PROBLEM: Mutex<String> = Mutex::new(String::new());

fn report_once(msg: String) {
    if let Ok(mut last) = LAST_PROBLEM.lock()
        && *last != msg
    {
        for line in msg.lines() {
            tracing::error!("edi channel: {line}");
        }
        *last = msg;
    }
}

fn absolute(p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        return p.to_string();
    }
    std::env::current_dir()
        .map(|d| d.join(path).display().to_string())
        // Without a current directory the path stays as configured (relative to the working directory).
        // Without a current directory the path stays as configured (relative to the working directory).
        .unwrap_or_else(|_| p.to_string())
}

/// The profiles in force, stored for the steps (outbound folder absolute).
pub async fn sync_partners(engine: &Engine) -> Result<Vec<Partner>, EngineError> {
    let partners = match load_partners(&engine.partners_dir, &engine.folders) {
        Ok(p) => p,
        Err(e) => {
            report_once(format!(
                "{}\npartner profiles refused; partner folders are not watched until fixed",
                e.join("\n")
            ));
            return Ok(Vec::new());
        }
    };
    if partners.is_empty() {
        return Ok(partners);
    }
    // Outbound files are written by the dispatcher, whose relative paths mean "under the
    // outbound folder": a partner's folder is made absolute so it lands where configured.
    let partners: Vec<Partner> = partners
        .into_iter()
        .map(|mut p| {
            p.outbound = Some(absolute(&p.folder("outbound")));
            p
        })
        .collect();
    let mut tx = engine.store.begin().await?;
    let mut changed = false;
    for p in &partners {
        // A profile is plain data with string keys: serializing it cannot fail.
        let v = serde_json::to_value(p).unwrap_or_default();
        if tx.get_document(PARTNER_DOC, &p.partner).await?.as_ref() != Some(&v) {
            tx.put_document(PARTNER_DOC, &p.partner, &v, engine.clock.now_ms())
                .await?;
            changed = true;
        }
        // A customer's quotes find their profile by the customer id (a quote names no partner).
        if !p.is_supplier() && p.wants(ordo_partners::QUOTE) {
            let link = serde_json::json!({ "partner": p.partner });
            if tx
                .get_document(ordo_partners::QUOTE_PARTNER_DOC, &p.customer)
                .await?
                .as_ref()
                != Some(&link)
            {
                tx.put_document(
                    ordo_partners::QUOTE_PARTNER_DOC,
                    &p.customer,
                    &link,
                    engine.clock.now_ms(),
                )
                .await?;
                changed = true;
            }
        }
        // A supplier's profile is found by its supplier id (purchasing knows only that).
        if let Some(s) = p.supplier.as_deref().filter(|_| p.is_supplier()) {
            let link = serde_json::json!({ "partner": p.partner });
            if tx.get_document(SUPPLIER_PARTNER_DOC, s).await?.as_ref() != Some(&link) {
                tx.put_document(SUPPLIER_PARTNER_DOC, s, &link, engine.clock.now_ms())
                    .await?;
                changed = true;
            }
        }
    }
    if changed {
        tx.commit().await?;
        tracing::info!(count = partners.len(), "trading partner profiles in force");
    } else {
        tx.rollback().await?;
    }
    Ok(partners)
}

/// One scan of every partner's inbound folder. Returns the number of files taken. The
/// partner's folders are checked again first (a symbolic link may have appeared since the
/// profiles were loaded): a partner whose folders leave the data root is skipped, logged.
pub async fn scan(engine: &Engine) -> Result<usize, EngineError> {
    let partners = sync_partners(engine).await?;
    let mut taken = 0;
    for p in &partners {
        let bad: Vec<String> = FOLDERS
            .iter()
            .filter_map(|(key, _)| engine.folders.check(Path::new(&p.folder(key))).err())
            .collect();
        if !bad.is_empty() {
            report_once(format!(
                "partner {}: {}; its folders are not used until fixed",
                p.partner,
                bad.join("; ")
            ));
            continue;
        }
        let inbound = PathBuf::from(p.folder("inbound"));
        for f in super::claim_files(&inbound) {
            receive_path(engine, &partners, p, &f).await?;
            taken += 1;
        }
    }
    Ok(taken)
}

/// Processes one file from `folder_of`'s inbound folder, then archives or quarantines it.
pub async fn receive_path(
    engine: &Engine,
    partners: &[Partner],
    folder_of: &Partner,
    path: &Path,
) -> Result<ReceiveOutcome, EngineError> {
    let limit = engine.limits.max_edi_file_bytes;
    let super::Inbound { name, bytes, id } = match super::read_inbound(
        path,
        limit,
        "max_edi_file_bytes",
    )? {
        Ok(f) => f,
        Err(reason) => {
            tracing::error!(partner = %folder_of.partner, "EDI file quarantined unread: {reason}");
            let outcome = ReceiveOutcome::Rejected {
                file_id: "oversize".into(),
                error: reason,
            };
            settle_file(folder_of, path, &outcome);
            return Ok(outcome);
        }
    };
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    if let Some(prev) = tx.get_document("edi_file", &id).await?
        && prev["name"] == name.as_str()
    {
        tx.rollback().await?;
        let outcome: ReceiveOutcome = serde::Deserialize::deserialize(&prev["outcome"])
            .map_err(|e| EngineError::Refused(format!("stored file {id}: {e}")))?;
        settle_file(folder_of, path, &outcome);
        return Ok(outcome);
    }
    let outcome = receive_in(
        engine,
        tx.as_mut(),
        partners,
        &folder_of.partner,
        &name,
        &bytes,
        false,
    )
    .await?;
    let enq = tx.enqueued().to_vec();
    tx.commit().await?;
    if !engine.embedded() {
        crate::runtime::publish_enqueued(engine, &enq).await?;
    }
    match &outcome {
        ReceiveOutcome::Processed {
            orders, problems, ..
        } => {
            tracing::info!(partner = %folder_of.partner, file = %name, orders = orders.len(), problems = problems.len(), "EDI file processed");
            for p in problems {
                tracing::warn!(partner = %folder_of.partner, "{p}");
            }
        }
        ReceiveOutcome::Duplicate { reason, .. } => {
            tracing::warn!(partner = %folder_of.partner, file = %name, "EDI file not processed, duplicate: {reason}")
        }
        ReceiveOutcome::Rejected { error, .. } => {
            tracing::error!(partner = %folder_of.partner, file = %name, "EDI file rejected: {error}")
        }
    }
    settle_file(folder_of, path, &outcome);
    Ok(outcome)
}

/// What a partner file means, booked in the caller's transaction (not committed): the
/// inbound folder, the HTTP API (`POST /api/v1/partners/{partner}/files`) and the reprocessing
/// of a quarantined file ([`reprocess_in`]) all receive so. `via` is the partner whose folder
/// or route the file came through, kept on its `edi_file` record (`partner`): a file from an
/// unknown sender belongs to no profile's `their_id`, yet a person finds it under the partner
/// it was delivered for. `reprocess`: see [`ordo_partners::ReceiveOptions::reprocess`]; the
/// record keeps the outcomes it replaces (`previous`).
pub async fn receive_in(
    engine: &Engine,
    tx: &mut dyn crate::store::Tx,
    partners: &[Partner],
    via: &str,
    name: &str,
    bytes: &[u8],
    reprocess: bool,
) -> Result<ReceiveOutcome, EngineError> {
    let before = if reprocess {
        tx.get_document(FILE_DOC, &ordo_contract::content_id(bytes))
            .await?
    } else {
        None
    };
    let opts = ordo_partners::ReceiveOptions {
        max_excerpt_chars: engine.limits.max_excerpt_chars,
        reprocess,
    };
    let mut outcome = {
        let mut ctx = TxContext::command(tx, engine);
        ordo_partners::receive_file_with(&mut ctx, partners, name, bytes, &opts)
            .await
            .map_err(|e| EngineError::Refused(e.to_string()))?
    };
    // Change requests (860/ORDCHG): decided through the one change path, then answered
    // (865/ORDRSP), all in this transaction.
    let pending = outcome.take_pending();
    let quarantined_before = outcome.quarantine_reason().is_some();
    for p in &pending {
        let decided = match &p.request {
            Ok(req) => crate::api::orders::partner_change(engine, tx, &p.partner, req).await?,
            Err(u) => ordo_partners::Decided::rejected(vec![u.reason.clone()]),
        };
        let mut ctx = TxContext::command(tx, engine);
        ordo_partners::answer_change(&mut ctx, partners, p, &decided, &mut outcome)
            .await
            .map_err(|e| EngineError::Refused(e.to_string()))?;
    }
    if !pending.is_empty() {
        let id = outcome.file_id().to_string();
        if let Some(mut file) = tx.get_document(FILE_DOC, &id).await? {
            file["outcome"] = serde_json::to_value(&outcome)
                .map_err(|e| EngineError::Refused(format!("file {id}: {e}")))?;
            tx.put_document(FILE_DOC, &id, &file, engine.clock.now_ms())
                .await?;
        }
        // A refused change is news the file itself did not carry when it was stored.
        if let Some(reason) = outcome.quarantine_reason()
            && !quarantined_before
        {
            let data = serde_json::json!({ "file_id": id, "name": name, "reason": reason });
            let mut ctx = TxContext::command(tx, engine);
            ordo_contract::StepContext::publish(&mut ctx, "edi.rejected", &id, &data)
                .await
                .map_err(|e| EngineError::Refused(e.to_string()))?;
        }
    }
    if matches!(outcome, ReceiveOutcome::Duplicate { .. }) {
        // the record is the first arrival's, unchanged
        return Ok(outcome);
    }
    let id = outcome.file_id();
    if let Some(mut file) = tx.get_document(FILE_DOC, id).await? {
        file["partner"] = serde_json::json!(via);
        if let Some(mut old) = before {
            let mut previous = old["previous"].take();
            let list = match previous.as_array_mut() {
                Some(l) => l,
                None => {
                    previous = serde_json::json!([]);
                    previous.as_array_mut().expect("just made an array")
                }
            };
            list.push(
                serde_json::json!({ "received_at": old["received_at"], "outcome": old["outcome"] }),
            );
            file["previous"] = previous;
        }
        tx.put_document(FILE_DOC, id, &file, engine.clock.now_ms())
            .await?;
    }
    Ok(outcome)
}

/// The store document kind of received partner files (written by `ordo_partners`).
pub const FILE_DOC: &str = "edi_file";

/// What [`reprocess_in`] did.
#[derive(Debug)]
pub enum Reprocessed {
    /// The file went through [`receive_in`] again; its new outcome.
    Done(ReceiveOutcome),
    /// No file with that id was received for that partner.
    NotFound,
    /// The file is not in quarantine (archived, or a duplicate): nothing to do.
    NotQuarantined,
}

/// A quarantined file of `partner` received again from its stored bytes, after a person fixed
/// the profile (`POST /api/v1/partners/{partner}/files/{id}/reprocess`, the console's Partners
/// page): the same [`receive_in`] as the inbound folder, in the caller's transaction. A
/// file's partner is the one it came through (`partner` on its record) or, for a record
/// written before that was kept, any interchange's partner.
pub async fn reprocess_in(
    engine: &Engine,
    tx: &mut dyn crate::store::Tx,
    partners: &[Partner],
    partner: &str,
    id: &str,
) -> Result<Reprocessed, EngineError> {
    let Some(file) = tx.get_document(FILE_DOC, id).await? else {
        return Ok(Reprocessed::NotFound);
    };
    if file_partner(&file).as_deref() != Some(partner) && !mentions(&file, partner) {
        return Ok(Reprocessed::NotFound);
    }
    let outcome: ReceiveOutcome = serde::Deserialize::deserialize(&file["outcome"])
        .map_err(|e| EngineError::Refused(format!("stored file {id}: {e}")))?;
    if outcome.quarantine_reason().is_none() || matches!(outcome, ReceiveOutcome::Duplicate { .. })
    {
        return Ok(Reprocessed::NotQuarantined);
    }
    let bytes = stored_bytes(&file)
        .ok_or_else(|| EngineError::Refused(format!("stored file {id}: content unreadable")))?;
    let name = file["name"].as_str().unwrap_or("reprocessed").to_string();
    let outcome = receive_in(engine, tx, partners, partner, &name, &bytes, true).await?;
    Ok(Reprocessed::Done(outcome))
}

/// The partner a stored file came through (kept since files are reprocessed), if recorded.
pub fn file_partner(file: &serde_json::Value) -> Option<String> {
    file["partner"].as_str().map(str::to_string)
}

/// Whether any interchange of a stored file was from `partner`.
pub fn mentions(file: &serde_json::Value, partner: &str) -> bool {
    file["outcome"]["interchanges"]
        .as_array()
        .is_some_and(|l| l.iter().any(|i| i["partner"] == partner))
}

/// A stored file's bytes (`content`, UTF-8 text or base64 as `encoding` says).
pub fn stored_bytes(file: &serde_json::Value) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let content = file["content"].as_str()?;
    match file["encoding"].as_str() {
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(content)
            .ok(),
        _ => Some(content.as_bytes().to_vec()),
    }
}

/// What was sent to the trading partner an order came from, with their acks (`ordo status`,
/// `GET /api/v1/orders/{id}`): one indexed query for the order's messages.
pub async fn sent_for(
    tx: &mut dyn crate::store::Tx,
    inst: &crate::model::Instance,
) -> Result<Vec<serde_json::Value>, crate::store::StoreError> {
    let Some(partner) = inst.data["order"]["partner"].as_str() else {
        return Ok(Vec::new());
    };
    // through the index of the interchanges by order (migration 0027), not all of the
    // partner's; bounded: an order has a handful
    let prefix = format!("{partner}:");
    Ok(tx
        .documents_where("edi_sent", "order_id", &inst.business_key, 1_000)
        .await?
        .into_iter()
        .filter(|(id, _)| id.starts_with(&prefix))
        .map(|(_, d)| d)
        .collect())
}

fn settle_file(p: &Partner, path: &Path, outcome: &ReceiveOutcome) {
    let reason = outcome.quarantine_reason();
    let dir = PathBuf::from(if reason.is_some() {
        p.folder("quarantine")
    } else {
        p.folder("archive")
    });
    super::settle(
        path,
        &dir,
        reason.as_deref(),
        // A file id shorter than 12 characters is used whole as the tag.
        // A file id shorter than 12 characters is used whole as the tag.
        outcome.file_id().get(..12).unwrap_or(outcome.file_id()),
    );
}
