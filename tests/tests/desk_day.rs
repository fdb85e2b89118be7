//! The visits day at the front desk, end to end through the real window at 1366×768, on a training
//! centre built by `pops-centre demo` (an account for each role, a week of history, nothing today):
//!
//! - a volunteer checks in a first-time party with support needs and help, ticks the walkthrough,
//!   records "failed security checks" (the welfare question must be answered), and checks it out;
//! - a manager runs a roll-call from the fire list (F2) for two parties, exports it, and finishes;
//! - a volunteer logs an enquiry and feedback from Today and the counts go up;
//! - a volunteer adds a session, cannot cancel it while its party is on site, checks the party out,
//!   cancels it, and the check-in form no longer offers it.
//!
//! Screenshots of each screen go to `target/e2e-artifacts/<test>/`.
#![allow(clippy::unwrap_used)]

use pops_e2e::{AppSession, Harness, Key};
use std::time::{Duration, Instant};
use thirtyfour::By;

const VOLUNTEER: (&str, &str, &str) = ("volunteer", "training volunteer pass", "135790");
const MANAGER: (&str, &str, &str) = ("manager", "training manager pass", "246810");

/// Builds the training centre in the harness's data folder (no window).
fn training_centre(harness: &Harness) {
    let out = std::process::Command::new(pops_e2e::app_binary())
        .args(["demo", "--data-dir", harness.data_dir().to_str().unwrap(), "--weeks", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "demo failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts the app at 1366×768 and signs `who` in; leaves them on Today with the check-in form.
async fn sign_in(harness: &Harness, who: (&str, &str, &str)) -> AppSession {
    let app = harness.start(harness.data_dir(), &[]).await;
    app.driver().set_window_rect(0, 0, 1366, 768).await.unwrap();
    app.fill("#field-username", who.0).await;
    app.fill("#field-passphrase", who.1).await;
    app.click("#signin-submit").await;
    app.wait_for("#field-adults").await;
    app
}

/// Saves a screenshot called `name`, after a moment for the window to paint what the test saw,
/// and checks the screen with axe-core.
async fn shot(app: &AppSession, name: &str) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot(name).await;
    app.assert_accessible(name).await;
}

/// Scrolls the element at `css` into view, then saves a screenshot called `name`.
async fn shot_of(app: &AppSession, css: &str, name: &str) {
    app.wait_for(css).await.scroll_into_view().await.unwrap();
    shot(app, name).await;
}

/// Applies the print stylesheet to the screen (the `@media print` rules, copied unconditioned),
/// so a screenshot shows what would be printed.
async fn show_print_styles(app: &AppSession) {
    let script = "const rules = []; \
        for (const sheet of document.styleSheets) { for (const rule of sheet.cssRules) { \
            if (rule instanceof CSSMediaRule && rule.media.mediaText.includes('print')) { \
                for (const inner of rule.cssRules) { if (!(inner instanceof CSSPageRule)) rules.push(inner.cssText); } \
            } } } \
        const style = document.createElement('style'); style.id = 'print-preview'; \
        style.textContent = rules.join(' '); document.head.appendChild(style); return rules.length;";
    let copied = app.driver().execute(script, Vec::new()).await.unwrap();
    let n: i64 = copied.convert().unwrap();
    assert!(n > 5, "the print rules were found ({n})");
}

/// Fails when anything on screen scrolls sideways at 1366×768 (the page, the place, the fire
/// list), or when the window itself scrolls up and down (only the place and the fire list may).
async fn assert_fits_width(app: &AppSession, when: &str) {
    let script = "const els = [document.documentElement, document.body, ...document.querySelectorAll('.place, .fire-list')]; \
        const page = document.scrollingElement; \
        return [Math.max(...els.map((e) => e.scrollWidth - e.clientWidth)), page.scrollHeight - page.clientHeight];";
    let [sideways, down]: [i64; 2] = app.driver().execute(script, Vec::new()).await.unwrap().convert().unwrap();
    assert!(sideways <= 0, "{when}: the screen scrolls sideways by {sideways}px at 1366×768");
    assert!(down <= 0, "{when}: the window itself scrolls by {down}px (the status strip would move)");
}

async fn count(app: &AppSession, name: &str) -> String {
    app.text(&format!("#today-counts [data-count=\"{name}\"]")).await
}

/// Waits until the element at `css` is shown (not merely in the page).
async fn wait_displayed(app: &AppSession, css: &str) {
    let deadline = Instant::now() + pops_e2e::WAIT;
    loop {
        let shown = match app.driver().find(By::Css(css)).await {
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        };
        if shown {
            return;
        }
        assert!(Instant::now() < deadline, "{css} was not shown within {:?}", pops_e2e::WAIT);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the `<details>` at `css` is open.
async fn is_open(app: &AppSession, css: &str) -> bool {
    app.wait_for(css).await.prop("open").await.unwrap().as_deref() == Some("true")
}

async fn is_checked(app: &AppSession, css: &str) -> bool {
    app.wait_for(css).await.is_selected().await.unwrap()
}

/// The id of the element that has the focus.
async fn focused_id(app: &AppSession) -> String {
    app.driver().active_element().await.unwrap().id().await.unwrap().unwrap_or_default()
}

/// The texts of the options of the `<select>` at `css`.
async fn option_texts(app: &AppSession, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for option in app.wait_for(css).await.find_all(By::Tag("option")).await.unwrap() {
        out.push(option.text().await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_sees_a_first_time_party_through_with_needs_walkthrough_and_welfare() {
    let harness = Harness::new("desk_first_visit");
    training_centre(&harness);
    let app = sign_in(&harness, VOLUNTEER).await;
    app.wait_for("#sessions-board [data-session-id]").await;
    assert!(app.text("#on-site-list").await.contains("No one is on site"), "an empty state that says what to do");
    assert_eq!(count(&app, "parties").await, "0");
    shot(&app, "01-today").await;
    assert_fits_width(&app, "Today").await;

    // ---- Two adults and a child of 3, first visit.
    app.click("#adults-inc").await;
    app.click("#children-age_3_4-inc").await;
    app.click("#field-first_time").await;

    // "More about this party" is closed at first and opens from the keyboard.
    assert!(!is_open(&app, "#checkin-more").await, "the disclosure starts closed");
    app.wait_for("#checkin-more-summary").await.focus().await.unwrap();
    app.press_key(Key::Enter).await;
    wait_displayed(&app, "#field-needs-induction_loop").await;
    assert!(is_open(&app, "#checkin-more").await);
    assert_eq!(count(&app, "parties").await, "0", "Enter on the disclosure opens it; it does not check in");

    // An interpreter without a language is asked for, at the field; nothing is lost or saved.
    app.click("#field-needs-interpreter").await;
    app.click("#checkin-submit").await;
    app.wait_for_text("#error-summary", "Enter the language the family needs an interpreter for").await;
    assert!(app.exists("#error-summary a[href=\"#field-needs-interpreter_language\"]").await);
    assert!(app.exists("#field-needs-interpreter_language-error").await, "the message is repeated at the field");
    assert_eq!(app.value("#field-adults").await, "2", "what was typed is kept");
    assert_eq!(count(&app, "parties").await, "0");
    shot(&app, "02-check-in-error").await;

    app.fill("#field-needs-interpreter_language", "Polish").await;
    app.click("#field-needs-step_free_access").await;
    app.click("#field-help-information").await;
    app.click("#field-help-walkthrough").await;
    app.fill("#field-help-signposted_to", "Citizens Advice").await;
    shot_of(&app, "#checkin-more", "03-check-in-more").await;
    assert_fits_width(&app, "check-in with more about the party").await;
    app.click("#checkin-submit").await;
    app.wait_for_text("#flash", "Checked in: 2 adults, 1 child — first visit").await;
    assert!(!app.exists("#error-summary").await);

    let party = app.wait_for_text("#on-site-list [data-check-in-id]", "First visit").await;
    assert!(party.contains("Needs: Step-free access; Interpreter (Polish)"), "{party}");
    assert!(party.contains("1 aged 3 to 4"), "the children by age, in words: {party}");
    assert!(
        party.contains("Help given: Information; First-visit walkthrough; Signposted to Citizens Advice"),
        "{party}"
    );
    assert_eq!(app.value("#field-adults").await, "1", "the form is ready for the next party");
    assert!(!is_checked(&app, "#field-needs-interpreter").await);
    assert!(!is_open(&app, "#checkin-more").await, "and the disclosure is closed again");
    assert_eq!(count(&app, "first_time_parties").await, "1");
    assert_eq!(count(&app, "on_site_people").await, "3");

    // ---- The first-visit walkthrough: ticks are saved at once.
    app.wait_for_text("#on-site-list .walkthrough-toggle", "0 of 8").await;
    app.click("#on-site-list .walkthrough-toggle").await;
    app.click("#on-site-list .walkthrough li:nth-child(1) input").await;
    app.wait_for_text("#on-site-list .walkthrough-toggle", "1 of 8").await;
    app.click("#on-site-list .walkthrough li:nth-child(2) input").await;
    app.wait_for_text("#on-site-list .walkthrough-toggle", "2 of 8").await;
    shot_of(&app, "#on-site-list .walkthrough", "04-walkthrough").await;
    assert_fits_width(&app, "the walkthrough").await;
    app.click("#on-site-list .walkthrough-done").await;
    app.wait_gone("#on-site-list .walkthrough").await;

    // Lock and unlock: the screen is built again from what was saved.
    app.click("#lock-button").await;
    app.wait_for("#lock-screen").await;
    app.fill("#field-pin", VOLUNTEER.2).await;
    app.click("#unlock-submit").await;
    app.wait_for("#today-counts").await;
    app.wait_for_text("#on-site-list .walkthrough-toggle", "2 of 8").await;

    // ---- Failed security checks: the welfare question must be answered.
    app.click("#on-site-list .outcome-toggle").await;
    app.select("#field-outcome", "Failed security checks").await;
    app.wait_for_text(".welfare-prompt", "Offer welfare support").await;
    shot_of(&app, "#on-site-list .outcome-form", "05-welfare-prompt").await;
    app.click("#outcome-submit").await;
    app.wait_for_text("#error-summary", "welfare support").await;
    assert!(app.exists("#error-summary a[href=\"#field-welfare_offered\"]").await);
    assert!(app.exists("#field-welfare_offered-error").await, "the message is repeated at the question");
    assert!(!app.text("#on-site-list").await.contains("Outcome:"), "nothing was saved");
    shot_of(&app, "#on-site-list .outcome-form", "06-welfare-must-be-answered").await;
    assert_fits_width(&app, "the outcome with its error").await;
    app.click("#field-welfare_offered-yes").await;
    app.click("#outcome-submit").await;
    app.wait_for_text("#flash", "Outcome recorded: Failed security checks — welfare support offered").await;
    app.wait_for_text("#on-site-list", "Outcome: Failed security checks — welfare support offered").await;
    app.wait_gone("#field-outcome").await;

    // ---- Check out.
    app.click("#on-site-list .check-out").await;
    app.wait_for_text("#flash", "Checked out: 2 adults, 1 child").await;
    app.wait_for_text("#on-site-list", "No one is on site").await;
    assert_eq!(count(&app, "parties").await, "1");
    assert_eq!(count(&app, "on_site_people").await, "0");
    let left = app.text("#left-today").await;
    assert!(left.contains("Left today (1 party)"), "{left}");
    shot_of(&app, "#on-site-list", "07-after-check-out").await;

    // ---- The fire list with no one on site: says so, starts no roll-call, no export for a volunteer.
    app.press_key(Key::F2).await;
    app.wait_for_text("#fire-empty", "No one is on site").await;
    assert!(!app.exists("#fire-export").await, "only the manager may export");
    assert!(!app.exists("#roll-call-finish").await);
    shot(&app, "08-fire-list-empty").await;
    app.press_key(Key::Escape).await;
    app.wait_gone("#fire-list").await;
    assert!(!app.exists("#roll-call-banner").await);
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roll_call_from_the_fire_list_accounts_for_everyone_on_site() {
    let harness = Harness::new("desk_roll_call");
    training_centre(&harness);
    let app = sign_in(&harness, MANAGER).await;

    // Two parties, by keyboard alone: Alt+N, a count, Enter.
    app.press_key(Key::Alt + "n").await;
    app.press_key(Key::Control + "a").await;
    app.press_key("2").await;
    app.press_key(Key::Enter).await;
    app.wait_for_text("#flash", "Checked in: 2 adults").await;
    app.fill("#field-lead_name", "Practice Family One").await;
    app.press_key(Key::Alt + "n").await;
    assert_eq!(focused_id(&app).await, "field-adults", "Alt+N goes to the adults");
    app.press_key(Key::Control + "a").await;
    app.press_key("1").await;
    app.press_key(Key::Enter).await;
    app.wait_for_text("#today-counts [data-count=\"parties\"]", "2").await;
    assert_eq!(count(&app, "on_site_people").await, "3");
    // From the top of the place, as the desk sees it (this picture is the README's).
    app.driver()
        .execute("document.querySelectorAll('.place, main').forEach((e) => { e.scrollTop = 0; });", vec![])
        .await
        .unwrap();
    shot(&app, "01-today-two-parties").await;

    // ---- F2: the fire list, over everything.
    app.press_key(Key::F2).await;
    app.wait_for_text("#roll-call-progress", "0 of 2 parties accounted for").await;
    let table = app.text("#fire-table").await;
    assert!(table.contains("Practice Family One"), "{table}");
    assert!(table.contains("Afternoon visits") || table.contains("Morning visits"), "the session is named: {table}");
    assert!(app.exists("#fire-export").await, "the manager may export");
    assert!(app.exists("#fire-print").await);
    shot(&app, "02-fire-list").await;
    assert_fits_width(&app, "the fire list").await;

    app.click("#fire-table tbody tr:nth-child(1) .roll-call-tick").await;
    app.wait_for_text("#roll-call-progress", "1 of 2 parties accounted for").await;

    // Escape goes back to Today, where the roll-call in progress shows; F2 comes back to it, saved.
    app.press_key(Key::Escape).await;
    app.wait_gone("#fire-list").await;
    app.wait_for_text("#roll-call-banner", "1 of 2 parties accounted for").await;
    shot(&app, "03-today-roll-call-in-progress").await;
    app.press_key(Key::F2).await;
    app.wait_for_text("#roll-call-progress", "1 of 2 parties accounted for").await;
    assert!(app.wait_for("#fire-table tbody tr:nth-child(1) .roll-call-tick").await.is_selected().await.unwrap());

    app.click("#fire-table tbody tr:nth-child(2) .roll-call-tick").await;
    app.wait_for_text("#roll-call-progress", "2 of 2 parties accounted for").await;
    app.wait_for_text("#roll-call-progress", "Everyone is accounted for").await;
    shot(&app, "04-everyone-accounted-for").await;

    // ---- Print: only the list, large, black on white (the print stylesheet, seen on screen).
    show_print_styles(&app).await;
    assert!(!app.wait_for(".shell").await.is_displayed().await.unwrap(), "Today is not printed");
    assert!(!app.wait_for("#fire-print").await.is_displayed().await.unwrap(), "nor the buttons");
    assert!(app.wait_for("#fire-table").await.is_displayed().await.unwrap(), "the list is");
    let colour = app.wait_for("#fire-table td").await.css_value("color").await.unwrap();
    assert!(colour.contains("0, 0, 0"), "black text: {colour}");
    // The print preview is the screen with print rules forced on: a picture, not a screen to check.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot("05-print-preview").await;
    app.driver().execute("document.getElementById('print-preview').remove()", Vec::new()).await.unwrap();
    wait_displayed(&app, "#fire-print").await;

    // ---- Export: a CSV where the app says.
    app.click("#fire-export").await;
    let said = app.wait_for_text("#fire-export-result", "Saved the fire list (2 parties) to").await;
    let files: Vec<_> = std::fs::read_dir(harness.exports()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(said.contains(files[0].to_str().unwrap()), "the message names the file: {said}");
    let csv = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two parties: {csv}");
    assert!(lines[1..].iter().all(|l| l.ends_with(",yes")), "both accounted for: {csv}");
    assert!(csv.contains("Practice Family One"), "{csv}");

    // ---- Finish: back to Today, the roll-call done.
    app.click("#roll-call-finish").await;
    app.wait_gone("#fire-list").await;
    app.wait_for_text("#flash", "Roll-call finished: 2 of 2 parties accounted for").await;
    assert!(!app.exists("#roll-call-banner").await);
    shot(&app, "06-after-roll-call").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volunteer_logs_an_enquiry_and_feedback_from_today() {
    let harness = Harness::new("desk_enquiry_feedback");
    training_centre(&harness);
    let app = sign_in(&harness, VOLUNTEER).await;
    assert_eq!(count(&app, "enquiries").await, "0");
    assert_eq!(count(&app, "feedback").await, "0");

    // ---- Alt+E: an enquiry, signposted (where to is then needed).
    app.press_key(Key::Alt + "e").await;
    app.wait_for("#enquiry-form").await;
    assert_eq!(focused_id(&app).await, "field-topic", "the first question has the focus");
    app.select("#field-topic", "Transport").await;
    app.click("#field-resolution-signposted").await;
    app.wait_for("#field-signposted_to").await;
    app.click("#enquiry-submit").await;
    app.wait_for_text("#error-summary", "Enter where the person was signposted").await;
    assert!(app.exists("#field-signposted_to-error").await);
    assert_eq!(count(&app, "enquiries").await, "0");
    shot(&app, "01-enquiry-error").await;
    assert_fits_width(&app, "the enquiry form").await;
    app.fill("#field-signposted_to", "Citizens Advice").await;
    app.fill("#field-note", "Buses from Manchester Piccadilly").await;
    app.click("#enquiry-submit").await;
    app.wait_for_text("#flash", "Enquiry logged: Transport, signposted to Citizens Advice").await;
    app.wait_gone("#enquiry-form").await;
    assert_eq!(count(&app, "enquiries").await, "1");
    assert!(app.text("#enquiries-today").await.contains("Enquiries today (1)"));

    // ---- Feedback from its button: nothing chosen is refused, then a complaint on a comment card.
    app.click("#open-feedback").await;
    app.wait_for("#feedback-form").await;
    app.click("#feedback-submit").await;
    let summary = app.wait_for_text("#error-summary", "Choose compliment, complaint or suggestion").await;
    assert!(summary.contains("Write down what the person said"), "{summary}");
    shot(&app, "02-feedback-error").await;
    assert_fits_width(&app, "the feedback form").await;
    app.click("#field-kind-complaint").await;
    app.select("#field-channel", "Comment card").await;
    app.fill("#field-summary", "We waited 40 minutes outside in the rain.").await;
    app.click("#feedback-submit").await;
    app.wait_for_text("#flash", "Feedback logged: complaint, comment card").await;
    app.wait_gone("#feedback-form").await;
    assert_eq!(count(&app, "feedback").await, "1");

    // Alt+F opens the feedback form too; Escape closes it without saving.
    app.press_key(Key::Alt + "f").await;
    app.wait_for("#feedback-form").await;
    app.press_key(Key::Escape).await;
    app.wait_gone("#feedback-form").await;
    assert_eq!(count(&app, "feedback").await, "1");
    shot(&app, "03-today-after").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_session_is_no_longer_offered_for_check_in() {
    let harness = Harness::new("desk_cancel_session");
    training_centre(&harness);
    let app = sign_in(&harness, VOLUNTEER).await;

    // ---- Add a session by hand (an empty form first).
    app.click("#add-session-open").await;
    app.wait_for("#field-name").await;
    app.click("#add-session-submit").await;
    app.wait_for_text("#error-summary", "Enter a name for the session").await;
    assert!(app.exists("#error-summary a[href=\"#field-starts_at\"]").await);
    shot_of(&app, "#add-session-form", "01-add-session-error").await;
    assert_fits_width(&app, "adding a session").await;
    app.fill("#field-name", "Extra visits").await;
    app.fill("#field-starts_at", "20:00").await;
    app.fill("#field-ends_at", "21:00").await;
    app.click("#add-session-submit").await;
    app.wait_for_text("#flash", "Session added: Extra visits, 20:00 to 21:00").await;

    let mut extra = String::new();
    for card in app.driver().find_all(By::Css("#sessions-board [data-session-id]")).await.unwrap() {
        if card.text().await.unwrap().contains("Extra visits") {
            extra = card.attr("data-session-id").await.unwrap().unwrap();
        }
    }
    assert!(!extra.is_empty(), "the new session is on the board");
    let card = format!("#sessions-board [data-session-id=\"{extra}\"]");

    // ---- A party checked in to it.
    app.click(&format!("#field-session_id option[value=\"{extra}\"]")).await;
    app.click("#checkin-submit").await;
    app.wait_for_text("#flash", "Checked in: 1 adult").await;
    app.wait_for_text(&card, "On site 1").await;
    shot(&app, "02-board").await;

    // ---- Cancelling it is refused while the party is on site; the message says what to do.
    app.click(&format!("{card} .cancel-session")).await;
    app.fill("#field-reason", "Prison lockdown").await;
    app.click("#cancel-session-confirm").await;
    app.wait_for_text("#error-summary", "still on site").await;
    shot_of(&app, "#sessions-board", "03-cancel-refused").await;
    assert_fits_width(&app, "cancelling a session").await;
    app.click("#cancel-session-keep").await;
    app.wait_gone("#field-reason").await;

    app.click("#on-site-list .check-out").await;
    app.wait_for_text("#flash", "Checked out: 1 adult").await;
    app.click(&format!("{card} .cancel-session")).await;
    app.fill("#field-reason", "Prison lockdown").await;
    app.click("#cancel-session-confirm").await;
    app.wait_for_text("#flash", "Cancelled: Extra visits, 20:00 to 21:00").await;
    let shown = app.wait_for_text(&card, "Cancelled: Prison lockdown").await;
    assert!(shown.contains("Arrived 1"), "a cancelled session keeps its counts: {shown}");
    assert!(!app.exists(&format!("{card} .cancel-session")).await);

    // ---- The check-in form no longer offers it.
    assert!(!app.exists(&format!("#field-session_id option[value=\"{extra}\"]")).await);
    let offered = option_texts(&app, "#field-session_id").await;
    assert!(!offered.is_empty(), "today's own sessions are still offered");
    assert!(offered.iter().all(|o| !o.contains("Extra visits")), "{offered:?}");
    shot(&app, "04-cancelled").await;
    app.quit().await;
}
