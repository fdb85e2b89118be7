//! The end-to-end harness itself works: Xvfb starts and stops, tauri-driver answers and leaves
//! nothing behind, and the session helpers work on a real WebKitGTK window. Needs no app binary:
//! `fixtures/stand-in-app` runs WebKitGTK's MiniBrowser in its place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pops_e2e::{Display, Driver, Harness, Key};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn xvfb_starts_on_its_own_display_and_stops_on_drop() {
    let first = Display::start();
    let second = Display::start();
    assert_ne!(first.number(), second.number(), "two displays share a number");
    assert!(first.socket().exists(), "{} is missing", first.socket().display());

    let socket = first.socket();
    let pid = first.pid();
    drop(first);
    wait_until("Xvfb has removed its socket", || !socket.exists());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
            || std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.is_empty()),
        "Xvfb (pid {pid}) is still running"
    );
    assert!(second.socket().exists(), "stopping one display stopped the other");
}

#[test]
fn tauri_driver_answers_status_and_stops_with_its_native_driver() {
    let display = Display::start();
    let driver = Driver::start(&display, None);
    // Several in a row: each must leave tauri-driver's pooled connection to WebKitWebDriver usable.
    for _ in 0..5 {
        let (code, body) = driver.status().expect("GET /status");
        assert_eq!(code, 200, "/status answered {code}: {body}");
        assert!(body.contains("ready"), "/status said {body}");
    }

    let (port, native_port) = (driver.port(), driver.native_port());
    drop(driver);
    let listening = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    wait_until("tauri-driver has closed its port", || !listening(port));
    wait_until("WebKitWebDriver has closed its port", || !listening(native_port));
}

#[test]
fn harness_gives_each_test_its_own_display_driver_and_data_dir() {
    let harness = Harness::new("harness_self_test");
    assert!(harness.data_dir().is_dir());
    assert_eq!(
        std::fs::read_dir(harness.data_dir()).expect("read the data dir").count(),
        0,
        "the data dir starts empty"
    );
    assert!(harness.artifacts().ends_with("target/e2e-artifacts/harness_self_test"));
    assert!(harness.artifacts().join("driver.log").is_file());
    let (code, _) = harness.driver().status().expect("GET /status");
    assert_eq!(code, 200);

    let data_dir = harness.data_dir().to_path_buf();
    drop(harness);
    assert!(!data_dir.exists(), "a passing test's data dir is removed");
}

#[tokio::test]
async fn session_helpers_drive_a_webkit_window_and_restart_it() {
    let harness = Harness::new("harness_session_helpers");
    let stand_in = fixture("stand-in-app");
    let page = format!("file://{}", fixture("page.html").display());

    for run in 1..=2 {
        let app = harness.start_binary(&stand_in, harness.data_dir(), &[]).await;
        app.driver().goto(&page).await.expect("open the test page");

        assert_eq!(app.value("#field-username").await, "preset");
        app.fill("#field-username", "alice").await;
        assert_eq!(app.value("#field-username").await, "alice");
        app.click("#signin-submit").await;
        assert_eq!(app.wait_for_text("#greeting", "Hello").await, "Hello, alice");

        app.select("#field-prison", "HMP Manchester").await;
        assert_eq!(app.value("#field-prison").await, "man");

        app.click("#field-username").await;
        app.press_key(Key::Enter).await;
        assert_eq!(app.text("#greeting").await, "Enter pressed");

        assert!(!app.exists("#late").await || run > 1);
        app.wait_for("#late").await;
        assert!(app.exists("#late").await);
        assert!(!app.exists("#no-such-element").await);

        let shot = app.screenshot(&format!("run-{run}")).await;
        assert!(std::fs::read(&shot).is_ok_and(|png| png.starts_with(b"\x89PNG")), "{} is not a PNG", shot.display());
        assert!(shot.starts_with(harness.artifacts()));

        // quit() returns once the program has exited, so the same data dir can be reopened.
        app.quit().await;
    }
}

/// axe-core runs inside a real WebKitGTK page: it reports the WCAG failures of a page that has
/// them, saves its full result, and passes the same page put right (after a navigation, so the
/// library is injected afresh).
#[tokio::test]
async fn axe_finds_wcag_failures_in_a_webkit_page_and_passes_one_without() {
    let harness = Harness::new("harness_axe");
    let app = harness.start_binary(&fixture("stand-in-app"), harness.data_dir(), &[]).await;

    let bad = format!("file://{}", fixture("inaccessible.html").display());
    app.driver().goto(&bad).await.expect("open the inaccessible page");
    app.wait_for("#nameless").await;
    let result = app.axe("inaccessible").await;
    let found = pops_e2e::axe::violation_ids(&result);
    for rule in ["html-has-lang", "label", "color-contrast", "button-name"] {
        assert!(found.contains(&rule), "axe-core missed {rule}: it found {found:?}");
    }
    let saved = harness.artifacts().join("axe-inaccessible.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("the result is saved")).expect("saved as JSON");
    assert_eq!(saved, result, "the saved result is the full result");
    assert_eq!(saved["testEngine"]["name"], "axe-core");
    let report = pops_e2e::axe::describe_violations("inaccessible", &result).expect("violations are described");
    for selector in ["#unlabelled", "#faint", "#nameless"] {
        assert!(report.contains(&format!("* {selector}")), "{selector} is not named in:\n{report}");
    }

    let good = format!("file://{}", fixture("accessible.html").display());
    app.driver().goto(&good).await.expect("open the accessible page");
    app.wait_for("#named").await;
    app.assert_accessible("accessible").await;
    app.quit().await;
}
