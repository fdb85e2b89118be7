//! The UI's npm dependencies: `npm ci` when node_modules is missing or package-lock.json changed.

use std::fs;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::step::{Cmd, Failure, Result};

/// Where the hash of the package-lock.json last installed is kept.
const STAMP: &str = "target/xtask/ui-deps.stamp";

/// Runs `npm ci` in ui/ unless node_modules exists and was installed from this very lock file.
pub fn ensure_deps(root: &Path) -> Result<()> {
    let ui = root.join("ui");
    let lock = ui.join("package-lock.json");
    let bytes = fs::read(&lock).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Failure::new(format!(
                "{} is missing: run `npm install` in ui/ once and commit the lock file",
                lock.display()
            ))
        } else {
            Failure::new(format!("could not read {}: {e}", lock.display()))
        }
    })?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let stamp = root.join(STAMP);
    let installed = fs::read_to_string(&stamp).unwrap_or_default();
    if ui.join("node_modules").is_dir() && installed.trim() == hash {
        return Ok(());
    }

    // Forget the old install first, so an interrupted `npm ci` is redone next time.
    match fs::remove_file(&stamp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Failure::new(format!("could not remove {STAMP}: {e}"))),
    }
    Cmd::npm(root).args(["ci", "--no-audit", "--no-fund"]).run()?;
    let write = || -> io::Result<()> {
        if let Some(dir) = stamp.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&stamp, format!("{hash}\n"))
    };
    write().map_err(|e| Failure::new(format!("could not write {}: {e}", stamp.display())))
}
