//! One run of the real app, opened as a WebDriver session, with the few actions tests need.
//!
//! Every helper waits (up to [`WAIT`]) for what it needs and panics with a clear message when it
//! does not come; before panicking it saves `failure.png` and `failure.html` of the window.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thirtyfour::{By, Capabilities, TypingData, WebDriver, WebElement};

use crate::{axe, process};

/// How long a helper waits for an element or a text before it gives up.
pub const WAIT: Duration = Duration::from_secs(10);
/// How often a waiting helper looks again.
const POLL: Duration = Duration::from_millis(100);
/// How long one WebDriver command may take (creating a session starts the app).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the app may take to exit once its session has ended.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The file in the data directory that the running app keeps locked, so that a second launch on
/// the same folder gives way (`src-tauri/src/single_instance.rs`).
const APP_LOCK: &str = "app.lock";

/// The real app, started by tauri-driver with `--data-dir <dir>` and any extra arguments.
///
/// End it with [`AppSession::quit`]; starting another one on the same data directory afterwards
/// is a restart of the app.
#[derive(Debug)]
pub struct AppSession {
    driver: WebDriver,
    application: PathBuf,
    data_dir: PathBuf,
    artifacts: PathBuf,
    /// A web browser (WebKitGTK's MiniBrowser) rather than the app: it has no data directory and
    /// no lock, and ends with its session.
    browser: bool,
}

impl AppSession {
    /// Creates a session on the tauri-driver at `server_url`, which starts `application`.
    /// Screenshots go to `artifacts`.
    pub async fn start(
        server_url: &str,
        application: &Path,
        data_dir: &Path,
        extra_args: &[&str],
        artifacts: &Path,
    ) -> AppSession {
        if !application.is_file() {
            panic!(
                "the app binary {} does not exist: build it with `cargo build -p pops-centre` \
                 (`cargo xtask test` does), or set POPS_APP_BINARY",
                application.display()
            );
        }
        let mut args = vec![Value::from("--data-dir"), Value::from(data_dir.to_string_lossy())];
        args.extend(extra_args.iter().map(|a| Value::from(*a)));
        let driver = new_session(server_url, application, args, artifacts).await;
        AppSession {
            driver,
            application: application.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            artifacts: artifacts.to_path_buf(),
            browser: false,
        }
    }

    /// A session on WebKitGTK's MiniBrowser (the engine the app's window uses), started by the
    /// tauri-driver at `server_url` in automation mode, for web pages that are not the app's:
    /// head office's pages on the hub. The same helpers work on it; [`AppSession::quit`] closes it.
    pub async fn start_browser(server_url: &str, artifacts: &Path) -> AppSession {
        let browser = minibrowser();
        let driver = new_session(server_url, &browser, vec![Value::from("--automation")], artifacts).await;
        AppSession {
            driver,
            application: browser,
            data_dir: PathBuf::new(),
            artifacts: artifacts.to_path_buf(),
            browser: true,
        }
    }

    /// The underlying thirtyfour session, for anything the helpers do not cover.
    pub fn driver(&self) -> &WebDriver {
        &self.driver
    }

    /// The data directory this run of the app was started with.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Clears the field at `css`, then types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let driver = &self.driver;
        self.poll(&format!("fill {css}"), || async move {
            let element = find(driver, css).await?;
            centre(driver, &element).await;
            element.clear().await.map_err(|e| e.to_string())?;
            element.send_keys(text).await.map_err(|e| e.to_string())
        })
        .await
    }

    /// Clicks the element at `css`, once it is there and can be clicked.
    pub async fn click(&self, css: &str) {
        let driver = &self.driver;
        self.poll(&format!("click {css}"), || async move {
            let element = find(driver, css).await?;
            centre(driver, &element).await;
            element.click().await.map_err(|e| e.to_string())
        })
        .await
    }

    /// Chooses the option labelled `label` in the `<select>` at `css`.
    pub async fn select(&self, css: &str, label: &str) {
        let driver = &self.driver;
        self.poll(&format!("choose {label:?} in {css}"), || async move {
            let options = find(driver, css).await?.find_all(By::Tag("option")).await.map_err(|e| e.to_string())?;
            let mut labels = Vec::new();
            for option in options {
                let text = option.text().await.map_err(|e| e.to_string())?;
                if text.trim() == label {
                    return option.click().await.map_err(|e| e.to_string());
                }
                labels.push(text);
            }
            Err(format!("its options are {labels:?}"))
        })
        .await
    }

    /// The visible text of the element at `css`, once it is there.
    pub async fn text(&self, css: &str) -> String {
        let driver = &self.driver;
        self.poll(&format!("read the text of {css}"), || async move {
            find(driver, css).await?.text().await.map_err(|e| e.to_string())
        })
        .await
    }

    /// The current value of the form field at `css`, once it is there.
    pub async fn value(&self, css: &str) -> String {
        let driver = &self.driver;
        self.poll(&format!("read the value of {css}"), || async move {
            let value = find(driver, css).await?.value().await.map_err(|e| e.to_string())?;
            Ok(value.unwrap_or_default())
        })
        .await
    }

    /// Waits until an element matches `css`, and returns it.
    pub async fn wait_for(&self, css: &str) -> WebElement {
        let driver = &self.driver;
        self.poll(&format!("wait for {css}"), || async move { find(driver, css).await }).await
    }

    /// Waits until the text of the element at `css` contains `needle`, and returns the text.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let driver = &self.driver;
        self.poll(&format!("wait for {css} to contain {needle:?}"), || async move {
            let text = find(driver, css).await?.text().await.map_err(|e| e.to_string())?;
            if text.contains(needle) { Ok(text) } else { Err(format!("its text is {text:?}")) }
        })
        .await
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let driver = &self.driver;
        self.poll(&format!("wait for {css} to go"), || async move {
            let found = driver.find_all(By::Css(css)).await.map_err(|e| e.to_string())?;
            if found.is_empty() { Ok(()) } else { Err(format!("{} element(s) still match", found.len())) }
        })
        .await
    }

    /// Whether an element matches `css` right now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        match self.driver.find_all(By::Css(css)).await {
            Ok(found) => !found.is_empty(),
            Err(e) => panic!("{}", self.failure(&format!("look for {css}: {e}")).await),
        }
    }

    /// Types `key` into whatever has the focus: a [`thirtyfour::Key`] such as `Key::Enter`, or text.
    pub async fn press_key(&self, key: impl Into<TypingData>) {
        let key = key.into();
        let sent = match self.driver.active_element().await {
            Ok(element) => element.send_keys(key).await,
            Err(e) => Err(e),
        };
        if let Err(e) = sent {
            panic!("{}", self.failure(&format!("press a key: {e}")).await);
        }
    }

    /// Saves a PNG of the window as `<workspace>/target/e2e-artifacts/<test>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.artifacts.join(format!("{name}.png"));
        if let Err(e) = self.driver.screenshot(&path).await {
            panic!("could not save the screenshot {}: {e}", path.display());
        }
        path
    }

    /// Runs axe-core inside the window on what it shows now, with the WCAG 2.0, 2.1 and 2.2 A and
    /// AA rules ([`axe::WCAG_TAGS`]), and saves the full result as `axe-<screen>.json` in the
    /// test's artefacts folder. Returns the result; see [`AppSession::assert_accessible`].
    ///
    /// `screen` names what is shown, in lower case with hyphens, for example `sign-in`.
    pub async fn axe(&self, screen: &str) -> Value {
        assert!(
            !screen.is_empty() && screen.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "name the screen in lower case letters, digits and hyphens, not {screen:?}"
        );
        let version = match self.driver.execute(axe::inject_script(), Vec::new()).await {
            Ok(ret) => ret.json().clone(),
            Err(e) => panic!("{}", self.failure(&format!("inject axe-core on the {screen:?} screen: {e}")).await),
        };
        if !version.is_string() {
            panic!(
                "{}",
                self.failure(&format!("axe-core did not load on the {screen:?} screen (got {version})")).await
            );
        }
        let outcome = match self.driver.execute_async(axe::RUN_SCRIPT, vec![json!(axe::WCAG_TAGS)]).await {
            Ok(ret) => ret.json().clone(),
            Err(e) => panic!("{}", self.failure(&format!("run axe-core on the {screen:?} screen: {e}")).await),
        };
        let result: Value = match (&outcome["result"], &outcome["error"]) {
            (Value::String(text), _) => serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("axe-core's result on the {screen:?} screen is not JSON: {e}")),
            (_, Value::String(error)) => {
                panic!("{}", self.failure(&format!("axe-core failed on the {screen:?} screen: {error}")).await)
            }
            _ => panic!("{}", self.failure(&format!("axe-core answered {outcome} on the {screen:?} screen")).await),
        };
        let path = self.artifacts.join(format!("axe-{screen}.json"));
        let pretty = serde_json::to_string_pretty(&result).expect("a JSON value serialises");
        if let Err(e) = std::fs::write(&path, pretty) {
            panic!("could not save {}: {e}", path.display());
        }
        result
    }

    /// Runs axe-core on what the window shows now ([`AppSession::axe`]) and panics, listing each
    /// violation's rule, impact, help text and elements, unless there are none.
    pub async fn assert_accessible(&self, screen: &str) {
        let result = self.axe(screen).await;
        if let Some(violations) = axe::describe_violations(screen, &result) {
            let saved = self.artifacts.join(format!("axe-{screen}.json"));
            let message = format!("{violations}\n\n(the full axe-core result is in {})", saved.display());
            panic!("{}", self.failure(&message).await);
        }
    }

    /// Ends the session and waits for the app to exit, so the same data directory can be
    /// opened again by the next [`AppSession`].
    pub async fn quit(self) {
        let AppSession { driver, application, data_dir: data_path, browser, .. } = self;
        if let Err(e) = driver.quit().await {
            panic!("could not end the app's WebDriver session: {e}");
        }
        if browser {
            return;
        }
        let data_dir = data_path.to_string_lossy().into_owned();
        let is_this_app = |argv: &[String]| process::is_app(argv, &application, &data_dir);
        if !process::wait_none(is_this_app, EXIT_TIMEOUT) {
            eprintln!(
                "pops-e2e: the app was still running {EXIT_TIMEOUT:?} after its session ended; \
                 sending it SIGTERM"
            );
            for pid in process::find(is_this_app) {
                process::terminate(pid);
            }
            if !process::wait_none(is_this_app, EXIT_TIMEOUT) {
                panic!("the app (data dir {data_dir}) did not exit after its session ended");
            }
        }
        // Its command line is gone before the kernel has closed its files, so the app can still
        // hold its lock for a moment; a restart started then would find it taken and give way.
        let lock = data_path.join(APP_LOCK);
        if !process::wait_unlocked(&lock, EXIT_TIMEOUT) {
            panic!("{} was still locked {EXIT_TIMEOUT:?} after the app exited", lock.display());
        }
    }

    /// Tries `attempt` until it succeeds or [`WAIT`] has passed; then panics saying what failed.
    async fn poll<T, F, Fut>(&self, what: &str, mut attempt: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            match attempt().await {
                Ok(value) => return value,
                Err(last) if Instant::now() >= deadline => {
                    let message = format!("{what}: gave up after {WAIT:?}; last: {last}");
                    panic!("{}", self.failure(&message).await);
                }
                Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Saves `failure.png` and `failure.html` of the window and returns `message` naming them.
    async fn failure(&self, message: &str) -> String {
        let _ = std::fs::create_dir_all(&self.artifacts);
        let png = self.artifacts.join("failure.png");
        let html = self.artifacts.join("failure.html");
        let mut saved = Vec::new();
        if self.driver.screenshot(&png).await.is_ok() {
            saved.push(png.display().to_string());
        }
        if let Ok(source) = self.driver.source().await
            && std::fs::write(&html, source).is_ok()
        {
            saved.push(html.display().to_string());
        }
        if saved.is_empty() { message.to_string() } else { format!("{message}\n(see {})", saved.join(" and ")) }
    }
}

/// The first element matching `css`, as a message when there is none.
async fn find(driver: &WebDriver, css: &str) -> Result<WebElement, String> {
    driver.find(By::Css(css)).await.map_err(|e| format!("no element matches {css}: {e}"))
}

/// Scrolls `element` to the middle of its scrolling box first. The app scrolls inside its place
/// (the status strip stays put), and WebKitWebDriver's own scrolling can leave an element at the
/// very edge of that box, where it counts as not interactable.
async fn centre(driver: &WebDriver, element: &WebElement) {
    let Ok(arg) = element.to_json() else { return };
    let _ = driver.execute("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});", vec![arg]).await;
}

/// A WebDriver session on the tauri-driver at `server_url`, which starts `application` with `args`.
async fn new_session(server_url: &str, application: &Path, args: Vec<Value>, artifacts: &Path) -> WebDriver {
    let mut capabilities = serde_json::Map::new();
    capabilities
        .insert("tauri:options".to_string(), json!({ "application": application.to_string_lossy(), "args": args }));
    // No pooled connections: when a test panics, thirtyfour ends the session from `Drop` on a
    // runtime of its own with a clone of this client, and a connection pooled by the test's
    // (now blocked) runtime would hang that request until it times out.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("build an HTTP client");
    WebDriver::builder(server_url, Capabilities::from(capabilities)).client(client).await.unwrap_or_else(|e| {
        panic!(
            "could not start {} through tauri-driver at {server_url}: {e}\n\
             (the driver's and the app's own output is in {})",
            application.display(),
            artifacts.join("driver.log").display()
        )
    })
}

/// WebKitGTK's MiniBrowser: `POPS_MINIBROWSER`, else where Debian's libwebkit2gtk-4.1-0 puts it.
pub fn minibrowser() -> PathBuf {
    if let Some(path) = std::env::var_os("POPS_MINIBROWSER").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let found = ["x86_64-linux-gnu", "aarch64-linux-gnu"]
        .iter()
        .map(|triple| PathBuf::from(format!("/usr/lib/{triple}/webkit2gtk-4.1/MiniBrowser")))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "WebKitGTK's MiniBrowser was not found: install libwebkit2gtk-4.1-0 (`cargo xtask test` \
             does), or set POPS_MINIBROWSER to its path"
        )
    })
}
