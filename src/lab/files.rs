//! How the store reads and writes its files: atomically, through the executor, and —
//! under `--dry-run` — into an in-memory overlay instead of the disk.

use super::store::Store;
use crate::error::Result;
use crate::step::Executor;
use std::path::{Path, PathBuf};

/// Writes a `--dry-run` would have made: the executor drops them, and this overlay
/// lets the rest of the same command read them back (a dry-run `run` on a fresh lab
/// sees the networks its dry-run `lab up` would have created). `None` marks removal.
/// Paths are absolute, so one map serves every store of the process.
static OVERLAY: std::sync::Mutex<Option<std::collections::HashMap<PathBuf, Option<Vec<u8>>>>> =
    std::sync::Mutex::new(None);

struct OverlayGuard(
    std::sync::MutexGuard<'static, Option<std::collections::HashMap<PathBuf, Option<Vec<u8>>>>>,
);

impl std::ops::Deref for OverlayGuard {
    type Target = std::collections::HashMap<PathBuf, Option<Vec<u8>>>;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("initialised")
    }
}

impl std::ops::DerefMut for OverlayGuard {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.as_mut().expect("initialised")
    }
}

fn overlay() -> OverlayGuard {
    let mut g = OVERLAY.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(Default::default());
    }
    OverlayGuard(g)
}

/// Names of the entries of a directory on disk (none if it does not exist).
fn disk_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.contains(".tmp"))
        .collect()
}

impl Store {
    /// What the overlay says of a path: written (Some(Some)), removed (Some(None)), or
    /// nothing (None), looking at the path and then its ancestors (a removed directory).
    pub(super) fn overlaid(&self, path: &Path) -> Option<Option<Vec<u8>>> {
        let o = overlay();
        if let Some(v) = o.get(path) {
            return Some(v.clone());
        }
        path.ancestors()
            .skip(1)
            .find(|a| matches!(o.get(*a), Some(None)))
            .map(|_| None)
    }

    pub(super) fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.overlaid(path) {
            Some(Some(bytes)) => Ok(bytes),
            Some(None) => Err(std::io::ErrorKind::NotFound.into()),
            None => std::fs::read(path),
        }
    }

    pub(super) fn read_string(&self, path: &Path) -> Option<String> {
        self.read(path).ok().and_then(|b| String::from_utf8(b).ok())
    }

    pub(super) fn exists(&self, path: &Path) -> bool {
        match self.overlaid(path) {
            Some(v) => v.is_some() || overlay().keys().any(|k| k.starts_with(path) && k != path),
            None => {
                path.exists()
                    || overlay()
                        .iter()
                        .any(|(k, v)| v.is_some() && k.starts_with(path))
            }
        }
    }

    /// The entries of a directory, as they would be after this command's writes.
    pub(super) fn list(&self, dir: &Path) -> Vec<String> {
        let mut names: std::collections::BTreeSet<String> = match self.overlaid(dir) {
            Some(None) => Default::default(),
            _ => disk_entries(dir).into_iter().collect(),
        };
        for (k, v) in overlay().iter() {
            let Ok(rest) = k.strip_prefix(dir) else {
                continue;
            };
            let Some(first) = rest.components().next() else {
                continue;
            };
            let name = first.as_os_str().to_string_lossy().into_owned();
            let direct = rest.components().count() == 1;
            match v {
                Some(_) => {
                    names.insert(name);
                }
                None if direct => {
                    names.remove(&name);
                }
                None => {}
            }
        }
        names.into_iter().collect()
    }

    /// Write a record (atomically), through the executor.
    pub(super) fn put(&self, ex: &Executor, path: &Path, data: Vec<u8>) -> Result<()> {
        if let Some(parent) = path.parent() {
            ex.create_dir(parent)?;
        }
        ex.write_atomic(path, &data)?;
        if !ex.effects() {
            overlay().insert(path.to_path_buf(), Some(data));
        }
        Ok(())
    }

    /// Remove a record or a directory of them, through the executor.
    pub(super) fn del(&self, ex: &Executor, path: &Path) -> Result<()> {
        ex.remove_path(path)?;
        if !ex.effects() {
            let mut o = overlay();
            o.retain(|k, _| !k.starts_with(path));
            o.insert(path.to_path_buf(), None);
        }
        Ok(())
    }
}
