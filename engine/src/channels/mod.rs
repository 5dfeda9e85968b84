//! Channels: where documents enter and leave ordo through folders. Each channel reads its
//! profiles from `config/`, takes inbound files in one store transaction each (raw bytes or
//! content hash kept), and moves a file only after that transaction committed. Outbound files
//! go through the outbox (`runtime::services::FILE_CHANNEL`), written after commit, atomically.

pub mod bank;
pub mod csvfile;
pub mod edi;
pub mod orders;

use std::path::{Path, PathBuf};

/// The files waiting in `dir`, in name order. Names starting with `.` or ending in `.tmp` /
/// `.part` are files a sender is still writing (it renames them when done) and are left alone.
pub(crate) fn inbound_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            p.is_file()
                && !name.starts_with('.')
                && !name.ends_with(".tmp")
                && !name.ends_with(".part")
        })
        .collect();
    files.sort();
    files
}

/// A file taken from an inbound folder: its name, its bytes and the id its content is stored
/// under ([`ordo_contract::content_id`]).
pub(crate) struct Inbound {
    pub name: String,
    pub bytes: Vec<u8>,
    pub id: String,
}

pub(crate) fn read_inbound(path: &Path) -> Result<Inbound, crate::runtime::EngineError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file")
        .to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| crate::runtime::EngineError::Refused(format!("{}: {e}", path.display())))?;
    let id = ordo_contract::content_id(&bytes);
    Ok(Inbound { name, bytes, id })
}

/// Moves a processed inbound file into `dir` (archive or quarantine), beside
/// `NAME.reason.txt` when there is a reason. A name already there gets `tag-` in front. A failure
/// is logged; the file stays and the next scan finishes the move from the recorded verdict.
pub(crate) fn settle(path: &Path, dir: &Path, reason: Option<&str>, tag: &str) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file")
        .to_string();
    let res = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut target = dir.join(&name);
        let mut n = 1;
        while target.exists() {
            n += 1;
            target = dir.join(if n == 2 {
                format!("{tag}-{name}")
            } else {
                format!("{tag}-{n}-{name}")
            });
        }
        if let Some(r) = reason {
            let file_name = target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(&name)
                .to_string();
            std::fs::write(
                dir.join(format!("{file_name}.reason.txt")),
                format!("{}\n", r.trim_end()),
            )?;
        }
        std::fs::rename(path, &target)
    })();
    if let Err(e) = res {
        tracing::warn!(file = %path.display(), error = %e, "could not move the inbound file; will retry");
    }
}
