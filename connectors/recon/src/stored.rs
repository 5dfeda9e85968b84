//! How an imported statement is kept in the store: a small head document
//! (`bank_statement/<fingerprint>`: status, account, positions, the statement without its
//! entries) and the entries in blocks of [`ENTRY_BLOCK`]
//! (`bank_statement_entries/<fingerprint>:<block>`), each written and read as typed JSON text.
//!
//! Why blocks: a 100,000-entry statement kept whole was one ~100 MB document that the import
//! built as a JSON tree (several times its text) and that every chunk of a run read and parsed
//! whole to take 10,000 entries of it. Now the import writes the entries as it goes and a run
//! reads only the blocks its chunk covers, so both cost in proportion to the entries they
//! touch (issue 19 point 3). A head written before this layout (no `entry_count`) still holds
//! its entries inline and is read as before.

use ordo_bank::{Entry, Statement};
use ordo_contract::{StepContext, StepError, read_doc_text};
use serde::{Deserialize, Serialize};

use crate::permanent;

/// The head document's kind.
pub const HEAD_KIND: &str = "bank_statement";
/// The kind of the entry blocks.
pub const ENTRIES_KIND: &str = "bank_statement_entries";
/// Entries per block: a chunk of a run reads at most one block more than it needs, and a block
/// is a few hundred KB of text.
pub const ENTRY_BLOCK: usize = 1_000;

/// A stored statement's head (`bank_statement/<fingerprint>`). Every field `import` writes,
/// spelt out (not `#[serde(flatten)]`, which buffers a generic tree), so it is written back
/// typed with its new status after the last chunk.
#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct StoredStatement {
    pub fingerprint: String,
    pub file: String,
    pub index: usize,
    pub account: String,
    pub statement_id: String,
    /// 1-based positions in the bank's file of the entries kept (duplicates dropped).
    pub positions: Vec<usize>,
    pub skipped_entries: usize,
    pub status: String,
    pub imported_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_at: Option<String>,
    /// How many entries the blocks hold; `None`: a head of the earlier layout, whose
    /// `statement.entries` holds them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_count: Option<usize>,
    /// Entries per block (the [`ENTRY_BLOCK`] it was written with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_block: Option<usize>,
    /// The statement; its entries are empty unless `entry_count` is `None`.
    pub statement: Statement,
}

impl StoredStatement {
    /// How many entries the statement has, wherever they are kept.
    pub fn total(&self) -> usize {
        self.entry_count.unwrap_or(self.statement.entries.len())
    }
}

/// One block of entries (`bank_statement_entries/<fingerprint>:<block>`).
#[derive(Deserialize, Serialize)]
struct EntryBlock {
    entries: Vec<Entry>,
}

/// The id of block `block` of statement `fp`, zero-padded so blocks list in entry order.
fn block_id(fp: &str, block: usize) -> String {
    format!("{fp}:{block:08}")
}

fn to_text<T: Serialize>(what: &str, v: &T) -> Result<String, StepError> {
    serde_json::to_string(v).map_err(|e| permanent(format!("{what}: {e}")))
}

/// Writes `head` (whose statement's entries are `entries`) in the block layout: the entries
/// block by block, then the head without them. Each block is serialised typed on its own, so
/// the writer never holds more than one block's text beside the statement it parsed.
pub(crate) async fn write(
    ctx: &mut dyn StepContext,
    mut head: StoredStatement,
    entries: Vec<Entry>,
) -> Result<(), StepError> {
    let fp = head.fingerprint.clone();
    head.entry_count = Some(entries.len());
    head.entry_block = Some(ENTRY_BLOCK);
    head.statement.entries = Vec::new();
    let mut it = entries.into_iter();
    let mut block = 0;
    loop {
        let part: Vec<Entry> = it.by_ref().take(ENTRY_BLOCK).collect();
        if part.is_empty() {
            break;
        }
        let text = to_text(ENTRIES_KIND, &EntryBlock { entries: part })?;
        ctx.put_document_text(ENTRIES_KIND, &block_id(&fp, block), text)
            .await?;
        block += 1;
    }
    write_head(ctx, &head).await
}

/// Writes the head alone (its status changed), as text.
pub(crate) async fn write_head(
    ctx: &mut dyn StepContext,
    head: &StoredStatement,
) -> Result<(), StepError> {
    let text = to_text(HEAD_KIND, head)?;
    ctx.put_document_text(HEAD_KIND, &head.fingerprint, text)
        .await?;
    Ok(())
}

/// The head of statement `fp`, `None` when it is not stored.
pub(crate) async fn read_head(
    ctx: &mut dyn StepContext,
    fp: &str,
) -> Result<Option<StoredStatement>, StepError> {
    // By prefix (the port reads text so), the exact id picked out.
    let text = ctx
        .get_documents_text(HEAD_KIND, fp)
        .await?
        .into_iter()
        .find(|(id, _)| id == fp)
        .map(|(_, t)| t);
    match text {
        Some(t) => Ok(Some(read_doc_text(HEAD_KIND, fp, &t).map_err(permanent)?)),
        None => Ok(None),
    }
}

/// Entries `start..end` of the statement `head` describes: from its blocks (only those the
/// range covers), or copied from the inline entries of an earlier head (which keeps them, to be
/// written back whole). A missing or short block is an error naming it, never a shorter chunk.
pub(crate) async fn read_entries(
    ctx: &mut dyn StepContext,
    head: &StoredStatement,
    start: usize,
    end: usize,
) -> Result<Vec<Entry>, StepError> {
    let fp = head.fingerprint.clone();
    if head.entry_count.is_none() {
        return head
            .statement
            .entries
            .get(start..end)
            .map(<[Entry]>::to_vec)
            .ok_or_else(|| permanent(format!("{HEAD_KIND} {fp}: no entries {start}..{end}")));
    }
    let size = match head.entry_block {
        Some(n) if n > 0 => n,
        other => {
            return Err(permanent(format!(
                "{HEAD_KIND} {fp}: field entry_block: {other:?} is not a block size"
            )));
        }
    };
    let mut out = Vec::with_capacity(end.saturating_sub(start));
    let mut block = start / size;
    while block * size < end {
        let id = block_id(&fp, block);
        let text = ctx
            .get_documents_text(ENTRIES_KIND, &id)
            .await?
            .into_iter()
            .find(|(i, _)| *i == id)
            .map(|(_, t)| t)
            .ok_or_else(|| permanent(format!("{ENTRIES_KIND} {id} is not stored")))?;
        let b: EntryBlock = read_doc_text(ENTRIES_KIND, &id, &text).map_err(permanent)?;
        drop(text);
        let first = block * size;
        let expect = size.min(head.total().saturating_sub(first));
        if b.entries.len() != expect {
            return Err(permanent(format!(
                "{ENTRIES_KIND} {id}: field entries: {} entries, the statement's head says {expect}",
                b.entries.len()
            )));
        }
        let from = start.saturating_sub(first);
        let to = (end - first).min(b.entries.len());
        out.extend(b.entries.into_iter().take(to).skip(from));
        block += 1;
    }
    Ok(out)
}
