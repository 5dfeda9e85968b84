//! Channels: where documents enter and leave ordo through folders. Each channel reads its
//! profiles from `config/`, takes inbound files in one store transaction each (raw bytes or
//! content hash kept), and moves a file only after that transaction committed. Outbound files
//! go through the outbox (`runtime::services::FILE_CHANNEL`), written after commit, atomically.
//!
//! Shared by every channel: the folders they may use ([`folders`]: inside the data root or
//! `allowed_folders`), claiming a file for one process ([`claims`]), reading it within its
//! size limit ([`read_inbound`]) and settling it ([`settle`]).

pub mod bank;
mod claims;
pub mod csvfile;
pub mod edi;
pub mod folders;
pub mod orders;

pub(crate) use claims::{claim_files, shown};

use std::path::{Path, PathBuf};

/// The regular files waiting in `dir`, in name order. Names starting with `.` or ending in
/// `.tmp` / `.part` are files a sender is still writing (it renames them when done) and are
/// left alone. Symbolic links are never followed (one could point anywhere, `/etc/shadow`):
/// they are left where they are, with a warning.
pub(crate) fn inbound_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            // Lossy, not empty: a name that is not UTF-8 is still filtered by its visible parts.
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part") {
                return false;
            }
            match e.file_type() {
                Ok(t) if t.is_symlink() => {
                    warn_once(
                        &e.path(),
                        &format!(
                            "{}: a symbolic link in an inbound folder is not read; move the file itself there",
                            e.path().display()
                        ),
                    );
                    false
                }
                Ok(t) => t.is_file(),
                Err(_) => false,
            }
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// Logs `msg` about `key` once per process (a broken folder is not reported every second).
pub(crate) fn warn_once(key: &Path, msg: &str) {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<(PathBuf, String)>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(HashSet::new()));
    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    if seen.len() < 10_000 && seen.insert((key.to_path_buf(), msg.to_string())) {
        tracing::warn!("{msg}");
    }
}

/// A file taken from an inbound folder: its name, its bytes and the id its content is stored
/// under ([`ordo_contract::content_id`]).
pub(crate) struct Inbound {
    pub name: String,
    pub bytes: Vec<u8>,
    pub id: String,
}

/// The bytes of a file of at most `max` bytes, or `Err(size)` for a larger one, which is not
/// read into memory: its size is checked first, and the read is bounded in case it grows
/// meanwhile. Every inbound channel (orders, receipts, partner files, statements) reads so.
pub(crate) fn read_bounded(path: &Path, max: u64) -> std::io::Result<Result<Vec<u8>, u64>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > max {
        return Ok(Err(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}

/// Reads an inbound file of at most `max` bytes (`limit` names the setting). A larger one is
/// not read into memory at all (its size is checked first, and the read is bounded in case it
/// grows meanwhile): `Ok(Err(reason))`, a short reason for its quarantine.
pub(crate) fn read_inbound(
    path: &Path,
    max: u64,
    limit: &str,
) -> Result<Result<Inbound, String>, crate::runtime::EngineError> {
    // Lossy rather than a placeholder: a name that is not UTF-8 keeps its readable parts in
    // messages and in the archive. "file" only for a path without a name (never a listed file).
    let name = path
        .file_name()
        .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
    let io = |e: std::io::Error| crate::runtime::EngineError::Refused(format!("{name}: {e}"));
    let too_large = |size: u64| {
        Ok(Err(format!(
            "{name}: {size} bytes, over limits.{limit} ({max} bytes): not read, nothing booked"
        )))
    };
    let bytes = match read_bounded(path, max).map_err(io)? {
        Ok(b) => b,
        Err(size) => return too_large(size),
    };
    let id = ordo_contract::content_id(&bytes);
    Ok(Ok(Inbound { name, bytes, id }))
}

/// Moves a processed inbound file into `dir` (archive or quarantine), beside
/// `NAME.reason.txt` when there is a reason. A name already there gets `tag-` in front. A failure
/// is logged; the file stays and the next scan finishes the move from the recorded verdict.
pub(crate) fn settle(path: &Path, dir: &Path, reason: Option<&str>, tag: &str) {
    // Lossy rather than a placeholder: a name that is not UTF-8 keeps its readable parts in
    // messages and in the archive. "file" only for a path without a name (never a listed file).
    let name = path
        .file_name()
        .map_or_else(|| "file".to_string(), |n| n.to_string_lossy().into_owned());
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
                .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
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

/// Files waiting in the quarantine folders for a person, by channel (`edi`: every partner's,
/// `bank`: every account's, `orders`: the order inbox's), for `/metrics`. Reason files
/// (`NAME.reason.txt`) and `.`-names are not counted; a folder that does not exist (yet)
/// holds none, and profiles with errors are skipped (`ordo check` reports them).
pub fn quarantined_files(engine: &crate::runtime::Engine) -> Vec<(&'static str, i64)> {
    let count = |dir: &Path| -> i64 {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return 0;
        };
        rd.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                !n.starts_with('.') && !n.ends_with(".reason.txt")
            })
            .count() as i64
    };
    let edi = edi::load_partners(&engine.partners_dir, &engine.folders)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.quarantine.as_deref())
        .map(|q| count(Path::new(q)))
        .sum();
    let bank = bank::load_profiles(&engine.banks_dir, &engine.folders)
        .unwrap_or_default()
        .iter()
        .map(|c| count(&c.quarantine))
        .sum();
    let orders = count(&engine.inbox_dir.join("quarantine"));
    vec![("bank", bank), ("edi", edi), ("orders", orders)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that is not UTF-8 was read as "" (so a partial upload `\xff.tmp` was taken) and
    /// archived as `file`; now its readable parts count and are kept.
    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_keep_their_readable_parts() {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("ordo-channels-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let partial = dir.join(std::ffi::OsStr::from_bytes(b"\xff.tmp"));
        let done = dir.join(std::ffi::OsStr::from_bytes(b"order-\xff.csv"));
        std::fs::write(&partial, "x").expect("write");
        std::fs::write(&done, "x").expect("write");
        assert_eq!(inbound_files(&dir), vec![done.clone()]);
        let name = read_inbound(&done, 100, "max_file_bytes")
            .ok()
            .and_then(Result::ok)
            .map(|i| i.name);
        assert_eq!(name.as_deref(), Some("order-\u{fffd}.csv"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
