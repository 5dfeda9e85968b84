//! Claiming inbound files, so that each is taken by exactly one process, however many
//! `ordo run` share a folder (cluster backend) and whatever crashes.
//!
//! A process claims a file by renaming it into its own claim folder
//! `INBOUND/.claimed/<host>-<pid>-<nonce>/` (a rename is atomic: of two processes renaming the
//! same file, one gets it, the other finds it gone). It then processes the file from there and
//! settles it (archive/quarantine) as before.
//!
//! Liveness: beside its claim folder each process holds an exclusive lock (`flock`) on
//! `INBOUND/.claimed/<id>.lock` for its whole life; the operating system drops the lock when
//! the process dies, however it dies. Every scan looks at the other claim folders: one whose
//! lock can be taken belongs to a dead process, and its files go back into the inbound folder,
//! to be claimed again (the store recognises content it already took, so a file whose
//! transaction committed before the crash is only moved, never booked twice). The lock is
//! taken before the folder is created, so a live claim is never mistaken for a dead one.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// This process's claim in one inbound folder: its folder and the lock that says it is alive.
struct Claim {
    own: PathBuf,
    _lock: File,
}

fn claims() -> &'static Mutex<HashMap<PathBuf, Claim>> {
    static CLAIMS: OnceLock<Mutex<HashMap<PathBuf, Claim>>> = OnceLock::new();
    CLAIMS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `<host>-<pid>-<nonce>`: never reused, also after a pid is.
fn process_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            // No readable hostname: the pid and nonce still make the id unique.
            .unwrap_or_default();
        let host: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(40)
            .collect();
        format!(
            "{}-{}-{}",
            if host.is_empty() { "host" } else { &host },
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
    })
}

/// This process's claim folder in `dir`, created (lock first) on first use.
fn own_claim(dir: &Path) -> std::io::Result<PathBuf> {
    let mut map = claims().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = map.get(dir)
        && c.own.is_dir()
    {
        return Ok(c.own.clone());
    }
    let base = dir.join(".claimed");
    std::fs::create_dir_all(&base)?;
    let id = process_id();
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(base.join(format!("{id}.lock")))?;
    lock.try_lock()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let own = base.join(id);
    std::fs::create_dir_all(&own)?;
    map.insert(
        dir.to_path_buf(),
        Claim {
            own: own.clone(),
            _lock: lock,
        },
    );
    Ok(own)
}

/// Gives the files of dead processes' claims in `dir` back to `dir`.
fn recover(dir: &Path, own: &Path) {
    let base = dir.join(".claimed");
    let Ok(rd) = std::fs::read_dir(&base) else {
        return;
    };
    for entry in rd.flatten() {
        let path = entry.path();
        if path == own || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let lock_path = base.join(format!("{}.lock", entry.file_name().to_string_lossy()));
        let Ok(lock) = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
        else {
            continue;
        };
        if lock.try_lock().is_err() {
            continue; // its process is alive
        }
        let mut moved = 0;
        for f in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            let name = f.file_name();
            let mut target = dir.join(&name);
            if target.exists() {
                target = dir.join(format!("recovered-{}", name.to_string_lossy()));
            }
            if std::fs::rename(f.path(), &target).is_ok() {
                moved += 1;
            }
        }
        if std::fs::remove_dir(&path).is_ok() {
            let _ = std::fs::remove_file(&lock_path);
        }
        if moved > 0 {
            tracing::warn!(folder = %dir.display(), claim = %path.display(), files = moved, "files claimed by a process that died are back in the inbound folder");
        }
    }
}

/// Claims the files waiting in `dir` for this process (see the module docs) and returns their
/// paths in the claim folder: first those this process claimed before and has not settled yet,
/// then the new ones, in name order. An inbound folder this process cannot claim in (no write
/// permission) yields nothing, with a warning.
pub(crate) fn claim_files(dir: &Path) -> Vec<PathBuf> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let own = match own_claim(dir) {
        Ok(o) => o,
        Err(e) => {
            super::warn_once(
                dir,
                &format!("cannot claim files in {}: {e}", dir.display()),
            );
            return Vec::new();
        }
    };
    recover(dir, &own);
    let mut out = super::inbound_files(&own);
    for f in super::inbound_files(dir) {
        let Some(name) = f.file_name() else { continue };
        let target = own.join(name);
        match std::fs::rename(&f, &target) {
            Ok(()) => out.push(target),
            // another process claimed it first
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(file = %f.display(), error = %e, "cannot claim inbound file"),
        }
    }
    out
}

/// How a claimed file is named in messages: where it was dropped (`in/NAME`), not the claim
/// folder it is processed from.
pub(crate) fn shown(dir: &Path, claimed: &Path) -> String {
    claimed
        .file_name()
        .map(|n| dir.join(n))
        // Display only: a path without a file name is shown whole.
        .unwrap_or_else(|| claimed.to_path_buf())
        .display()
        .to_string()
}
