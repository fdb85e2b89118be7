//! Developer tools installed into the workspace (target/tools), never system-wide.

use std::path::{Path, PathBuf};

use crate::step::{Cmd, Failure, Result};

/// The tauri-driver binary the end-to-end tests use, installed on first need.
pub fn tauri_driver(root: &Path) -> Result<PathBuf> {
    let tools = root.join("target/tools");
    let binary = tools.join("bin/tauri-driver");
    if binary.is_file() {
        return Ok(binary);
    }
    Cmd::cargo(root).args(["install", "tauri-driver", "--locked", "--root"]).arg(&tools).run()?;
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(Failure::new(format!("`cargo install tauri-driver` succeeded but {} does not exist", binary.display())))
    }
}
