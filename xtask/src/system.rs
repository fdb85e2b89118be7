//! Debian packages the project needs: checked with dpkg, installed with apt-get only when missing.

use std::io;
use std::process::{Command, Stdio};

use crate::step::{Cmd, Failure, Result};

/// What building the desktop app needs.
pub const BUILD: &[&str] = &["libwebkit2gtk-4.1-dev", "build-essential", "pkg-config", "libssl-dev", "curl", "file"];

/// What the tests need on top: a headless X server, the WebKit WebDriver, screenshots, PostgreSQL.
pub const TEST: &[&str] =
    &["xvfb", "xauth", "webkit2gtk-driver", "imagemagick", "dbus-x11", "fonts-dejavu-core", "postgresql"];

/// Installs whichever of `packages` are not installed; does nothing (one dpkg-query call) otherwise.
pub fn ensure(packages: &[&str]) -> Result<()> {
    let Some(absent) = missing(packages)? else {
        eprintln!(
            "xtask: dpkg-query not found, so not checking system packages (this expects Debian 12); \
             make sure these are installed: {}",
            packages.join(" ")
        );
        return Ok(());
    };
    if absent.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing missing system packages: {}", absent.join(" "));
    let root = std::path::Path::new("/");
    let apt = |args: &[&str]| -> Cmd {
        let cmd = if is_root() { Cmd::new("env", root) } else { Cmd::new("sudo", root).arg("env") };
        cmd.arg("DEBIAN_FRONTEND=noninteractive").arg("apt-get").args(args)
    };
    apt(&["update"]).run()?;
    apt(&["install", "-y", "--no-install-recommends"]).args(&absent).run()?;
    match missing(packages)? {
        Some(still) if !still.is_empty() => Err(Failure::new(format!(
            "apt-get finished but these packages are still not installed: {}",
            still.join(" ")
        ))),
        _ => Ok(()),
    }
}

/// The packages among `packages` whose dpkg status is not "… ok installed";
/// `None` when this machine has no dpkg.
fn missing(packages: &[&str]) -> Result<Option<Vec<String>>> {
    let output = match Command::new("dpkg-query")
        .arg("-W")
        .arg("-f=${Package}\t${Status}\n")
        .args(packages)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::new(format!("could not run dpkg-query: {e}"))),
    };
    // dpkg-query exits 1 when a package is unknown to dpkg; the lines it did print still count.
    let listing = String::from_utf8_lossy(&output.stdout);
    let installed: Vec<&str> = listing
        .lines()
        .filter_map(|line| {
            let (name, status) = line.split_once('\t')?;
            let words: Vec<&str> = status.split_whitespace().collect();
            (words.get(1) == Some(&"ok") && words.get(2) == Some(&"installed")).then_some(name)
        })
        .collect();
    Ok(Some(packages.iter().filter(|p| !installed.contains(p)).map(|p| p.to_string()).collect()))
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
