//! Where channels may read and write: every configured folder (partner and bank profiles, the
//! order inbox, the outbound folder) must lie inside the data root (`data:` in the main
//! config, default `data`) or inside one of `allowed_folders:`. [`Folders::check`] is the one
//! check all of them go through, at `ordo check`, at start-up and again at every scan (a
//! symbolic link can appear later).
//!
//! Relative paths resolve against the project (the current directory). A path is inside a
//! base when it is both lexically (after `.` and `..` are resolved) and really (after the
//! symbolic links of its existing part are followed) under it, so `/etc`, `../..` and a link
//! from `data/partners/x/in` to `/etc` are all refused, while a data root that is itself a
//! link (`data -> /srv/ordo`) keeps working.

use std::path::{Component, Path, PathBuf};

/// The data root and the allow-list, absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folders {
    root: PathBuf,
    allowed: Vec<PathBuf>,
}

impl Default for Folders {
    fn default() -> Self {
        Folders::new(Path::new("data"), &[])
    }
}

impl Folders {
    pub fn new(root: &Path, allowed: &[PathBuf]) -> Self {
        Folders {
            root: absolute(root),
            allowed: allowed.iter().map(|p| absolute(p)).collect(),
        }
    }

    /// The data root (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `folder` made absolute when it lies inside the data root or an allowed folder (also
    /// after following symbolic links), else why not.
    pub fn check(&self, folder: &Path) -> Result<PathBuf, String> {
        let abs = absolute(folder);
        let real = real_path(&abs);
        let mut lexically_inside = false;
        for base in std::iter::once(&self.root).chain(&self.allowed) {
            if abs.starts_with(base) {
                lexically_inside = true;
                if real.starts_with(real_path(base)) {
                    return Ok(abs);
                }
            }
        }
        let allowed = if self.allowed.is_empty() {
            String::new()
        } else {
            format!(
                " or allowed_folders ({})",
                self.allowed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(if lexically_inside {
            format!(
                "folder '{}' leads through a symbolic link to {}, outside the data root {}{allowed}",
                folder.display(),
                real.display(),
                self.root.display()
            )
        } else {
            format!(
                "folder '{}' is outside the data root {}{allowed}: add it to allowed_folders in the main config if it is meant",
                folder.display(),
                self.root.display()
            )
        })
    }
}

/// `p` against the current directory, with `.` and `..` resolved lexically.
fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        // Without a current directory the path stays relative, as configured.
        // Without a current directory the path stays relative, as configured.
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The real path of an absolute, normalized path: its longest existing prefix canonicalized
/// (symbolic links followed), the rest appended.
fn real_path(abs: &Path) -> PathBuf {
    let mut existing = abs.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return abs.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_outside_the_root_and_links_leaving_it_are_refused() {
        let dir = std::env::temp_dir().join(format!("ordo-folders-{}", std::process::id()));
        let root = dir.join("data");
        std::fs::create_dir_all(root.join("partners/acme")).unwrap();
        let f = Folders::new(&root, &[dir.join("extra")]);
        assert!(f.check(&root.join("partners/acme/in")).is_ok());
        assert!(f.check(&root.join("partners/../inbox")).is_ok());
        assert!(f.check(&dir.join("extra/in")).is_ok());
        let e = f.check(Path::new("/etc")).unwrap_err();
        assert!(e.contains("outside the data root"), "{e}");
        assert!(f.check(&root.join("../../x")).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", root.join("partners/acme/in")).unwrap();
            let e = f.check(&root.join("partners/acme/in")).unwrap_err();
            assert!(e.contains("symbolic link"), "{e}");
            assert!(f.check(&root.join("partners/acme/in/sub")).is_err());
            // a data root that is itself a link is fine
            std::os::unix::fs::symlink(&root, dir.join("link")).unwrap();
            let g = Folders::new(&dir.join("link"), &[]);
            assert!(g.check(&dir.join("link/partners/acme")).is_ok());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
