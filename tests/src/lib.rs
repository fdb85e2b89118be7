//! End-to-end harness: the real pops-centre window under Xvfb, driven through tauri-driver and
//! WebKitWebDriver with `thirtyfour`.
//!
//! Each test makes its own [`Harness`] — its own X display, its own tauri-driver on its own ports
//! and its own temporary data directory — so tests run in parallel without sharing anything:
//!
//! ```no_run
//! # async fn example() {
//! use pops_e2e::Harness;
//!
//! let harness = Harness::new("sign_in_survives_restart");
//! let app = harness.start(harness.data_dir(), &[]).await;
//! app.fill("#field-username", "alice").await;
//! app.click("#signin-submit").await;
//! app.screenshot("signed-in").await;
//! app.assert_accessible("today").await; // axe-core, WCAG 2.x A and AA
//! app.quit().await;
//! // Same data directory again: a restart of the app.
//! let app = harness.start(harness.data_dir(), &[]).await;
//! app.quit().await;
//! # }
//! ```
//!
//! Paths come from the environment when set (`cargo xtask test` sets both):
//! `POPS_TAURI_DRIVER` (else `<workspace>/target/tools/bin/tauri-driver`) and
//! `POPS_APP_BINARY` (else `<workspace>/target/debug/pops-centre`). Screenshots, axe-core's
//! results (`axe-<screen>.json`, from [`AppSession::assert_accessible`]) and the output of
//! tauri-driver, WebKitWebDriver and the app (`driver.log`) go to
//! `<workspace>/target/e2e-artifacts/<test name>/`, and the app's CSV exports to its `exports/`.
//! axe-core itself is read from `<workspace>/ui/node_modules/axe-core/axe.min.js` (the UI's dev
//! dependency).

pub mod axe;
mod display;
mod driver;
mod process;
mod session;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub use display::Display;
pub use driver::Driver;
pub use session::{AppSession, WAIT};
pub use thirtyfour::{Key, WebDriver, WebElement};

/// The workspace root (the parent of this package's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives one level below the workspace root")
        .to_path_buf()
}

/// Where the screenshots and logs of the test called `test_name` go.
pub fn artifacts_dir(test_name: &str) -> PathBuf {
    workspace_root().join("target/e2e-artifacts").join(test_name)
}

/// The app binary the tests drive: `POPS_APP_BINARY`, else `<workspace>/target/debug/pops-centre`.
pub fn app_binary() -> PathBuf {
    std::env::var_os("POPS_APP_BINARY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/pops-centre"))
}

/// Everything one end-to-end test needs: an X display, a tauri-driver on it, a fresh data
/// directory and a folder for artefacts. Dropping it stops them all.
#[derive(Debug)]
pub struct Harness {
    // Fields drop in this order: driver before the display it runs on.
    driver: Driver,
    display: Display,
    data: Option<tempfile::TempDir>,
    artifacts: PathBuf,
    /// The programs and data directories started, to stop any app a test left running.
    started: Mutex<Vec<(PathBuf, PathBuf)>>,
}

impl Harness {
    /// Starts Xvfb and tauri-driver for the test called `test_name` (used for the artefacts
    /// folder, which is emptied first) and makes an empty temporary data directory.
    pub fn new(test_name: &str) -> Harness {
        let artifacts = artifacts_dir(test_name);
        if artifacts.exists() {
            std::fs::remove_dir_all(&artifacts)
                .unwrap_or_else(|e| panic!("could not empty {}: {e}", artifacts.display()));
        }
        std::fs::create_dir_all(&artifacts).unwrap_or_else(|e| panic!("could not create {}: {e}", artifacts.display()));
        let data = tempfile::Builder::new()
            .prefix(&format!("pops-e2e-{test_name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("could not create a temporary data directory: {e}"));
        let display = Display::start();
        // CSV exports made by the app go to the test's artefacts, never to the person's Documents.
        let exports = artifacts.join("exports");
        let driver =
            Driver::start_with_env(&display, Some(&artifacts.join("driver.log")), &[("POPS_EXPORT_DIR", &exports)]);
        Harness { driver, display, data: Some(data), artifacts, started: Mutex::new(Vec::new()) }
    }

    /// This test's own temporary data directory (empty at first; removed after a passing test,
    /// kept after a failing one).
    pub fn data_dir(&self) -> &Path {
        self.data.as_ref().expect("the data directory lives as long as the harness").path()
    }

    /// Where this test's screenshots and `driver.log` go.
    pub fn artifacts(&self) -> &Path {
        &self.artifacts
    }

    /// Where the app started by this harness writes its CSV exports (`POPS_EXPORT_DIR`):
    /// `<artifacts>/exports`.
    pub fn exports(&self) -> PathBuf {
        self.artifacts.join("exports")
    }

    pub fn display(&self) -> &Display {
        &self.display
    }

    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Starts the app ([`app_binary`]) with `--data-dir <data_dir>` followed by `extra_args`.
    pub async fn start(&self, data_dir: &Path, extra_args: &[&str]) -> AppSession {
        self.start_binary(&app_binary(), data_dir, extra_args).await
    }

    /// A browser (WebKitGTK's MiniBrowser, the app window's engine) on this harness's display,
    /// for web pages that are not the app's ([`AppSession::start_browser`]).
    pub async fn start_browser(&self) -> AppSession {
        AppSession::start_browser(&self.driver.url(), &self.artifacts).await
    }

    /// Like [`Harness::start`], with another program in place of the app.
    pub async fn start_binary(&self, application: &Path, data_dir: &Path, extra_args: &[&str]) -> AppSession {
        self.started
            .lock()
            .expect("no panic while holding the list")
            .push((application.to_path_buf(), data_dir.to_path_buf()));
        AppSession::start(&self.driver.url(), application, data_dir, extra_args, &self.artifacts).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // An app whose session was never ended (a test that panicked) is stopped here, politely.
        let started = std::mem::take(self.started.get_mut().unwrap_or_else(|e| e.into_inner()));
        for (app, data_dir) in &started {
            let data_dir = data_dir.to_string_lossy().into_owned();
            let is_left_over = |argv: &[String]| process::is_app(argv, app, &data_dir);
            for pid in process::find(is_left_over) {
                process::terminate(pid);
            }
            process::wait_none(is_left_over, Duration::from_secs(5));
        }
        if std::thread::panicking()
            && let Some(data) = self.data.take()
        {
            let kept = data.keep();
            eprintln!(
                "pops-e2e: test failed; kept its data directory {} and artefacts in {}",
                kept.display(),
                self.artifacts.display()
            );
        }
    }
}
