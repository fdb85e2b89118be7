//! Head office, end to end: the real hub served in this test's process on 127.0.0.1 (SQLite file in
//! a temporary folder), and the real app window at 1366×768 connecting to it.
//!
//! - the manager is told the laptop is not connected yet and follows the strip to Settings; an
//!   address that is not encrypted and a code head office never made are refused at their fields;
//!   the right code connects the laptop and the strip says it is safe to shut;
//! - head office goes down: a party checked in waits, the strip counts it and says in plain words
//!   that head office cannot be reached; head office comes back on the same port with the same
//!   database, "Send now" sends it, the strip says safe to shut, the hub holds the check-in, and the
//!   party's row says "Confirmed by head office";
//! - a volunteer sees the strip and "Send now", but no Settings and so no Head office settings.
//!
//! Screenshots and axe-core results go to `target/e2e-artifacts/head_office/`.
#![allow(clippy::unwrap_used)]

use pops_e2e::{AppSession, Harness, Key};
use pops_hub::Storage;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thirtyfour::By;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const USERNAME: &str = "sam.manager";
const PASSPHRASE: &str = "three calm words here";
const PIN: &str = "402917";

/// Long enough for a cycle of the worker and a poll of the strip (every 3 s), with room to spare.
const SYNC_WAIT: Duration = Duration::from_secs(40);

/// The hub, served on the test's runtime until stopped.
struct Hub {
    storage: Arc<dyn Storage>,
    port: u16,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Hub {
    /// Serves the hub database at `db` on 127.0.0.1:`port` (0: any free port).
    async fn start(db: &Path, port: u16) -> Hub {
        let storage = pops_hub::open(db.to_str().unwrap()).unwrap();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = storage.clone();
        let task = tokio::spawn(async move {
            pops_hub::serve(listener, served, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Hub { storage, port, stop, task }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Shuts the server down gracefully and waits until it has.
    async fn shut_down(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

/// First-run set-up at 1366×768, past the recovery code; leaves the manager on Today.
async fn set_up_centre(app: &AppSession) {
    app.driver().set_window_rect(0, 0, 1366, 768).await.unwrap();
    app.wait_for("#field-centre_name").await;
    app.fill("#field-centre_name", "HMP Risley Visitor Centre").await;
    app.click("#field-prison option[value=\"risley\"]").await;
    app.fill("#field-display_name", "Sam Manager").await;
    app.fill("#field-username", USERNAME).await;
    app.fill("#field-passphrase", PASSPHRASE).await;
    app.fill("#field-passphrase_confirm", PASSPHRASE).await;
    app.fill("#field-pin", PIN).await;
    app.click("#setup-submit").await;
    app.click("#recovery-confirm").await;
    app.click("#recovery-continue").await;
    app.wait_for("#today-counts").await;
}

/// Waits (up to [`SYNC_WAIT`]) until the text at `css` contains `needle`; answers the text.
async fn wait_text(app: &AppSession, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + SYNC_WAIT;
    let mut last = String::new();
    loop {
        if let Ok(element) = app.driver().find(By::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if text.contains(needle) {
                return text;
            }
            last = text;
        }
        if Instant::now() > deadline {
            app.screenshot("failure-wait").await;
            panic!("{css} did not come to contain {needle:?} within {SYNC_WAIT:?}; its text was {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The strip's light (`data-light`): green, amber, red or grey.
async fn light(app: &AppSession) -> String {
    app.wait_for("#sync-status").await.attr("data-light").await.unwrap().unwrap_or_default()
}

/// Checks a party of `adults` in on Today (the default session) with the lead name `name`;
/// answers its check-in id.
async fn check_in(app: &AppSession, adults: u32, name: &str) -> String {
    app.press_key(Key::Alt + "1").await;
    app.wait_for("#field-adults").await;
    for _ in 1..adults {
        app.click("#adults-inc").await;
    }
    app.fill("#field-lead_name", name).await;
    app.click("#checkin-submit").await;
    app.wait_for_text("#flash", "Checked in").await;
    let row = app.wait_for_text("#on-site-list [data-check-in-id]", name).await;
    assert!(row.contains(name), "{row}");
    let rows = app.driver().find_all(By::Css("#on-site-list [data-check-in-id]")).await.unwrap();
    for row in rows {
        if row.text().await.unwrap().contains(name) {
            return row.attr("data-check-in-id").await.unwrap().unwrap();
        }
    }
    panic!("no row for {name}");
}

/// Saves a screenshot called `name` after a moment for the window to paint, and checks the screen
/// with axe-core.
async fn shot(app: &AppSession, name: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot(name).await;
    app.assert_accessible(name).await;
}

/// Fails when the window itself scrolls (the status strip would move) or anything scrolls sideways.
async fn assert_fits(app: &AppSession, when: &str) {
    let script = "const els = [document.documentElement, document.body, ...document.querySelectorAll('.place')]; \
        const page = document.scrollingElement; \
        return [Math.max(...els.map((e) => e.scrollWidth - e.clientWidth)), page.scrollHeight - page.clientHeight];";
    let [sideways, down]: [i64; 2] = app.driver().execute(script, Vec::new()).await.unwrap().convert().unwrap();
    assert!(sideways <= 0, "{when}: the screen scrolls sideways by {sideways}px at 1366×768");
    assert!(down <= 0, "{when}: the window itself scrolls by {down}px");
}

/// With Today scrolled to the top: how tall the status strip is, where its top edge is, and where
/// the check-in button's bottom edge is, in CSS pixels.
async fn strip_and_check_in_button(app: &AppSession) -> (f64, f64, f64) {
    let script = "document.querySelector('.place').scrollTop = 0; \
        const strip = document.getElementById('status-strip').getBoundingClientRect(); \
        const button = document.getElementById('checkin-submit').getBoundingClientRect(); \
        return [strip.height, strip.top, button.bottom];";
    let [height, top, bottom]: [f64; 3] = app.driver().execute(script, Vec::new()).await.unwrap().convert().unwrap();
    (height, top, bottom)
}

fn artifacts() -> PathBuf {
    pops_e2e::artifacts_dir("head_office")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_connects_to_head_office_and_its_changes_get_there_through_an_outage() {
    let harness = Harness::new("head_office");
    let hub_dir = tempfile::tempdir().unwrap();
    let hub_db = hub_dir.path().join("hub.db");
    let hub = Hub::start(&hub_db, 0).await;
    let port = hub.port;
    let centre = hub.storage.add_centre("HMP Risley Visitor Centre").unwrap();
    let code = hub.storage.new_enrolment_code(centre).unwrap();

    let app = harness.start(harness.data_dir(), &[]).await;
    set_up_centre(&app).await;

    // ---- Not connected yet: the strip says so, and shows the manager the way.
    let strip = app.wait_for_text("#sync-status", "Not connected to head office yet").await;
    assert!(strip.contains("Connect it in Settings"), "{strip}");
    assert_eq!(light(&app).await, "grey");
    assert!(!app.exists("#sync-send-now").await, "nothing to send to until connected");
    app.click("#sync-connect").await;
    app.wait_for("#sync-enrol-form").await;
    let focused = app.driver().active_element().await.unwrap().id().await.unwrap().unwrap_or_default();
    assert_eq!(focused, "head-office-heading", "the link lands on the Head office settings");

    // An address that is not encrypted, and an empty code: each at its field.
    app.fill("#field-hub_address", "http://hub.example.org").await;
    app.click("#sync-enrol-submit").await;
    let summary = app.wait_for_text("#error-summary", "https://").await;
    assert!(summary.contains("Enter the enrolment code head office gave you"), "{summary}");
    let address = app.text("#field-hub_address-error").await;
    assert!(address.contains("only for a head office server on this laptop itself"), "{address}");
    assert!(app.exists("#error-summary a[href=\"#field-enrolment_code\"]").await);
    shot(&app, "01-settings-address-error").await;

    // A code head office never made: refused at the code field; what was typed is kept.
    app.fill("#field-hub_address", &hub.url()).await;
    app.fill("#field-enrolment_code", "abcd efgh jkmn pqrs").await;
    app.click("#sync-enrol-submit").await;
    let code_error = app.wait_for_text("#field-enrolment_code-error", "not accepted").await;
    assert!(code_error.contains("Ask head office for a new code"), "{code_error}");
    assert_eq!(app.value("#field-hub_address").await, hub.url(), "nothing typed is lost");
    assert_eq!(app.value("#field-enrolment_code").await, "ABCD-EFGH-JKMN-PQRS", "shown as head office writes codes");
    assert!(app.exists("#error-summary a[href=\"#field-enrolment_code\"]").await);
    shot(&app, "02-settings-code-refused").await;

    // The right code, typed in lower case: connected, and everything made so far goes.
    app.fill("#field-enrolment_code", &code.to_lowercase()).await;
    app.click("#sync-enrol-submit").await;
    app.wait_for_text("#flash", "connected to head office").await;
    let details = app.wait_for_text("#sync-details", &hub.url()).await;
    assert!(details.contains("This laptop at head office"), "{details}");
    let device: uuid::Uuid = app.text("#sync-device-id").await.trim().parse().unwrap();
    wait_text(&app, "#sync-headline", "Safe to shut the laptop").await;
    assert_eq!(light(&app).await, "green");
    wait_text(&app, "#sync-last-confirmed", "Last confirmed by head office: today").await;
    assert!(app.text("#quarantine-empty").await.contains("accepted every change"));
    assert!(!app.exists("#sync-problem").await);
    shot(&app, "03-settings-connected").await;

    // ---- Today, with the strip, before the outage: a party goes and is confirmed.
    let first = check_in(&app, 2, "Amira Khan").await;
    let chip = format!("[data-check-in-id=\"{first}\"] .sync-chip");
    wait_text(&app, &chip, "Confirmed by head office").await;
    wait_text(&app, "#sync-headline", "Safe to shut the laptop").await;

    // ---- Head office goes down. A party checked in now waits, and the strip says why.
    hub.shut_down().await;
    let party = check_in(&app, 1, "Jo Bloggs").await;
    let waiting = wait_text(&app, "#sync-headline", "waiting to go to head office").await;
    assert!(waiting.contains("1 change"), "{waiting}");
    assert_eq!(light(&app).await, "amber");
    let party_chip = format!("[data-check-in-id=\"{party}\"] .sync-chip");
    let state = app.text(&party_chip).await;
    assert!(state.contains("Waiting to send") || state.contains("Sent"), "{state}");
    app.click("#sync-send-now").await;
    let problem = wait_text(&app, "#sync-problem", "Head office cannot be reached").await;
    assert!(problem.contains("kept safely on this laptop"), "{problem}");
    assert!(app.text("#sync-headline").await.contains("1 change waiting"), "still waiting");
    let (height, top, bottom) = strip_and_check_in_button(&app).await;
    assert!(bottom <= top, "the check-in button ({bottom}px) is above the strip ({top}px) at 1366×768");
    assert!(height < 110.0, "the strip stays compact with a problem to show: {height}px");
    assert_fits(&app, "Today with head office unreachable").await;
    shot(&app, "04-today-head-office-unreachable").await;

    // ---- Head office is back on the same port with the same database: Send now sends it.
    let hub = Hub::start(&hub_db, port).await;
    app.click("#sync-send-now").await;
    wait_text(&app, "#sync-headline", "Safe to shut the laptop").await;
    assert_eq!(light(&app).await, "green");
    assert!(!app.exists("#sync-problem").await, "the problem has gone");
    let changes = hub.storage.device_changes(device).unwrap();
    assert!(
        changes.iter().any(|c| c.entity == "check_in" && c.entity_id.to_string() == party),
        "the hub holds the check-in made while it was down"
    );
    wait_text(&app, &party_chip, "Confirmed by head office").await;
    let (_, top, bottom) = strip_and_check_in_button(&app).await;
    assert!(bottom <= top, "the check-in button ({bottom}px) is above the strip ({top}px)");
    assert_fits(&app, "Today, safe to shut").await;
    shot(&app, "05-today-safe-to-shut").await;

    // ---- A volunteer sees the strip and Send now, but has no Settings.
    app.press_key(Key::Alt + "7").await;
    app.wait_for("#accounts-list").await;
    app.fill("#field-display_name", "Val Volunteer").await;
    app.fill("#field-username", "val").await;
    app.fill("#field-passphrase", "val has a long passphrase").await;
    app.fill("#field-passphrase_confirm", "val has a long passphrase").await;
    app.fill("#field-pin", "582047").await;
    app.click("#field-role option[value=\"volunteer\"]").await;
    app.click("#add-account-submit").await;
    app.wait_for_text("#accounts-list", "Val Volunteer").await;
    app.click("#lock-button").await;
    app.click("#lock-switch-user").await;
    app.fill("#field-username", "val").await;
    app.fill("#field-passphrase", "val has a long passphrase").await;
    app.click("#signin-submit").await;
    app.wait_for("#today-counts").await;
    wait_text(&app, "#sync-headline", "Safe to shut the laptop").await;
    assert!(app.exists("#sync-send-now").await, "a volunteer may send now");
    assert!(!app.exists("#nav-settings").await, "a volunteer has no Settings");
    assert!(!app.exists("#head-office").await && !app.exists("#sync-connect").await);
    app.click("#sync-send-now").await;
    // One poll of the strip (every 3 s) later, the try has been seen through.
    tokio::time::sleep(Duration::from_secs(4)).await;
    wait_text(&app, "#sync-send-now", "Send now").await;
    wait_text(&app, "#sync-headline", "Safe to shut the laptop").await;
    // The pointer leaves "Send now" (a click on the heading does nothing), so it is not shown hovered.
    app.click("#page-heading").await;
    shot(&app, "06-volunteer-today").await;
    // The README's screenshot: Today at 1366×768, two parties on site, head office up to date.
    std::fs::copy(artifacts().join("06-volunteer-today.png"), artifacts().join("today.png")).unwrap();

    app.quit().await;
    hub.shut_down().await;
}

/// Connects the laptop on Settings → Head office with `code` and waits until it is up to date.
async fn connect(app: &AppSession, hub: &Hub, code: &str) {
    app.press_key(Key::Alt + "7").await;
    app.wait_for("#sync-enrol-form").await;
    app.fill("#field-hub_address", &hub.url()).await;
    app.fill("#field-enrolment_code", code).await;
    app.click("#sync-enrol-submit").await;
    app.wait_for_text("#flash", "connected to head office").await;
    wait_text(app, "#sync-headline", "Safe to shut the laptop").await;
}

/// A replacement laptop restored from head office: laptop A checks two parties in and is told it
/// cannot be restored onto (it holds records of its own); laptop B, newly set up and connected to
/// the same centre, offers the restore with a confirm step, shows it through to "Restored", and
/// its Today then holds A's parties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_laptop_restores_the_centre_from_head_office() {
    let harness = Harness::new("head_office_restore");
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = Hub::start(&hub_dir.path().join("hub.db"), 0).await;
    let centre = hub.storage.add_centre("HMP Risley Visitor Centre").unwrap();

    // ---- Laptop A: connected, two parties checked in and confirmed.
    let a = harness.start(&harness.data_dir().join("a"), &[]).await;
    set_up_centre(&a).await;
    connect(&a, &hub, &hub.storage.new_enrolment_code(centre).unwrap()).await;
    check_in(&a, 2, "Amira Khan").await;
    check_in(&a, 1, "Jo Bloggs").await;
    wait_text(&a, "#sync-headline", "Safe to shut the laptop").await;
    a.press_key(Key::Alt + "7").await;
    let refusal = wait_text(&a, "#restore-refusal", "records of its own").await;
    assert!(refusal.contains("2 check-ins"), "{refusal}");
    assert!(!a.exists("#restore-start").await, "no restore offered on a laptop with records");
    a.quit().await;

    // ---- Laptop B: a replacement, set up and connected to the same centre.
    let b = harness.start(&harness.data_dir().join("b"), &[]).await;
    set_up_centre(&b).await;
    connect(&b, &hub, &hub.storage.new_enrolment_code(centre).unwrap()).await;
    let offer = b.wait_for_text("#restore", "replacement laptop").await;
    assert!(offer.contains("new account"), "{offer}");
    shot(&b, "restore-01-offer").await;
    b.click("#restore-start").await;
    b.wait_for("#restore-confirm-yes").await;
    let focused = b.driver().active_element().await.unwrap().id().await.unwrap().unwrap_or_default();
    assert_eq!(focused, "restore-confirm-yes", "the confirm step takes the focus");
    shot(&b, "restore-02-confirm").await;
    b.click("#restore-confirm-yes").await;
    let done = wait_text(&b, "#restore-status", "Restored:").await;
    assert!(done.contains("skipped"), "{done}");
    assert!(!b.exists("#restore-start").await && !b.exists("#restore-progress").await);
    shot(&b, "restore-03-done").await;

    // ---- B's Today holds A's parties.
    b.press_key(Key::Alt + "1").await;
    wait_text(&b, "#on-site-list", "Amira Khan").await;
    wait_text(&b, "#on-site-list", "Jo Bloggs").await;

    b.quit().await;
    hub.shut_down().await;
}
