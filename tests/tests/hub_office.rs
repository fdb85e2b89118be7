//! Head office's pages, end to end in a real browser engine: the real hub served in this test's
//! process on 127.0.0.1 (SQLite in a temporary folder) with two centres' changes pushed through
//! its storage, and WebKitGTK's MiniBrowser (the engine of the app's own window) driven through
//! tauri-driver under Xvfb.
//!
//! - the sign-in page; a wrong key refused at its field with the error summary; the right key
//!   signs in (the `__Host-` cookie, `SameSite=Strict`, and the same-origin form checks all as a
//!   browser sends them);
//! - the Centres page: both centres, the one not heard from for 30 hours marked Quiet;
//! - the monthly report for November 2026 with its figures, and a month typed wrong;
//! - the quarantine, with the reason and no payload;
//! - signing out ends the session.
//!
//! Every page is checked with axe-core (WCAG 2.0/2.1/2.2 A and AA). Screenshots and results go
//! to `target/e2e-artifacts/hub_office/`; `centres.png` is the README's picture of the pages.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use pops_domain::change::{Change, Op, entity};
use pops_domain::sync::Batch;
use pops_domain::visits::{AgeBands, CheckIn, VisitKind, VisitsSession};
use pops_e2e::Harness;
use pops_hub::Storage;
use std::sync::Arc;
use uuid::Uuid;

fn change(seq: i64, entity: &str, id: Uuid, payload: serde_json::Value) -> Change {
    Change {
        change_id: Uuid::now_v7(),
        seq,
        entity: entity.into(),
        entity_id: id,
        op: Op::Upsert,
        occurred_at: "2026-11-10T14:00:00.000Z".into(),
        user_id: Uuid::now_v7(),
        schema_version: pops_domain::sync::MAX_SCHEMA_VERSION,
        payload,
    }
}

/// A device of `centre` that sends one November session with `parties` parties of two adults and
/// a child, and (when `bad`) a change the hub cannot apply. Answers the device's token.
fn centre_with_visits(storage: &Arc<dyn Storage>, name: &str, parties: usize, bad: bool) -> String {
    let centre = storage.add_centre(name).unwrap();
    let code = storage.new_enrolment_code(centre).unwrap();
    let device = storage.enrol(&code, Utc::now()).unwrap().unwrap();
    let session = VisitsSession {
        id: Uuid::now_v7(),
        date: "2026-11-10".into(),
        name: "Afternoon visits".into(),
        starts_at: "14:00".into(),
        ends_at: "16:00".into(),
        kind: VisitKind::Open,
        template_id: None,
        opened_at: "2026-11-10T09:00:00Z".into(),
        opened_by: Uuid::now_v7(),
        cancelled_at: None,
        cancelled_by: None,
        cancel_reason: None,
    };
    let mut changes = vec![change(1, entity::VISITS_SESSION, session.id, serde_json::to_value(&session).unwrap())];
    for i in 0..parties {
        let party = CheckIn {
            id: Uuid::now_v7(),
            session_id: session.id,
            adults: 2,
            children: AgeBands { age_5_11: 1, ..Default::default() },
            first_time: i == 0,
            lead_name: Some("Zebedee Quartermaine".into()),
            arrived_at: "2026-11-10T13:40:00Z".into(),
            left_at: None,
            checked_in_by: Uuid::now_v7(),
            checked_out_by: None,
            needs: Default::default(),
            help: Default::default(),
            outcome: None,
            welfare_offered: None,
            walkthrough: vec![],
            family_id: None,
        };
        changes.push(change(
            changes.len() as i64 + 1,
            entity::CHECK_IN,
            party.id,
            serde_json::to_value(&party).unwrap(),
        ));
    }
    if bad {
        let id = Uuid::now_v7();
        let payload = serde_json::json!({"id": id, "note": "Zebedee Quartermaine"});
        changes.push(change(changes.len() as i64 + 1, "tuck_shop", id, payload));
    }
    let last = changes.len() as i64;
    let batch = Batch { batch_id: Uuid::now_v7(), first_seq: 1, last_seq: last, changes };
    let hash = pops_hub::secret::batch_hash(&batch).unwrap();
    storage.push_batch(device.device_id, &batch, &hash, Utc::now()).unwrap();
    device.device_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_office_signs_in_and_reads_every_page() {
    let harness = Harness::new("hub_office");
    let dir = tempfile::tempdir().unwrap();
    let storage = pops_hub::open(dir.path().join("hub.db").to_str().unwrap()).unwrap();
    let busy = centre_with_visits(&storage, "HMP Liverpool", 3, false);
    let quiet = centre_with_visits(&storage, "HMP Garth", 2, true);
    // Liverpool's laptop called head office just now; Garth's 30 hours ago.
    storage.authenticate(&busy, Utc::now()).unwrap();
    storage.authenticate(&quiet, Utc::now() - Duration::hours(30)).unwrap();
    let (_, key) = storage.add_office_key("Reports team", Utc::now()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = storage.clone();
    let server = tokio::spawn(async move {
        pops_hub::serve(listener, served, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });

    let page = harness.start_browser().await;
    page.driver().set_window_rect(0, 0, 1280, 900).await.unwrap();
    page.driver().goto(format!("{base}/office")).await.unwrap();
    page.wait_for_text("h1", "Sign in to head office").await;
    page.screenshot("sign-in").await;
    page.assert_accessible("sign-in").await;

    // A wrong key: the problem at the field and in the summary at the top.
    page.fill("#key", "not-a-key-head-office-ever-made-0000000000").await;
    page.click("main form button[type=submit]").await;
    page.wait_for_text(".error-summary", "not one head office has made").await;
    assert!(page.text("#key-error").await.contains("not one head office has made"));
    page.screenshot("sign-in-refused").await;
    page.assert_accessible("sign-in-refused").await;

    // The right key: the Centres page.
    page.fill("#key", &key).await;
    page.click("main form button[type=submit]").await;
    page.wait_for_text("h1", "Centres").await;
    let text = page.text("main").await;
    assert!(text.contains("HMP Liverpool") && text.contains("HMP Garth"), "{text}");
    assert!(text.contains("Quiet") && text.contains("30 hours ago"), "{text}");
    assert!(text.contains("1 centre has not been heard from"), "{text}");
    assert!(page.text("header").await.contains("Signed in as Reports team"));
    page.screenshot("centres").await;
    page.assert_accessible("centres").await;

    // The monthly report, reached from the navigation, then for November 2026.
    page.click("nav a[href=\"/office/report\"]").await;
    page.wait_for_text("h1", "Monthly report").await;
    page.fill("#month", "2026-11").await;
    page.click("form.month button[type=submit]").await;
    page.wait_for_text("h1", "November 2026").await;
    let report = page.text("table.report").await;
    let rows = page
        .driver()
        .execute(
            "return [...document.querySelectorAll('table.report tr')]
                 .map(r => [...r.cells].map(c => c.textContent.trim()).join('|'));",
            Vec::new(),
        )
        .await
        .unwrap();
    let rows: Vec<String> = rows.convert().unwrap();
    assert_eq!(rows[0], "Figure|HMP Garth|HMP Liverpool|All centres");
    assert!(rows.contains(&"Parties checked in|2|3|5".to_string()), "{rows:?}");
    assert!(rows.contains(&"Visitors|6|9|15".to_string()), "{rows:?}");
    assert!(rows.contains(&"First-visit parties|1|1|2".to_string()), "{rows:?}");
    page.screenshot("report").await;
    page.assert_accessible("report").await;
    page.fill("#month", "Nov").await;
    page.click("form.month button[type=submit]").await;
    page.wait_for_text(".error-summary", "Enter the month as a year and month").await;
    page.assert_accessible("report-month-refused").await;

    // The quarantine: the refused change with its reason, and nothing of its payload.
    page.click("nav a[href=\"/office/quarantine\"]").await;
    page.wait_for_text("main", "1 change in quarantine").await;
    let quarantine = page.text("main").await;
    assert!(quarantine.contains("HMP Garth") && quarantine.contains("not one the hub knows"), "{quarantine}");
    page.assert_accessible("quarantine").await;

    // No page carried a name.
    for (screen, body) in [("centres", &text), ("report", &report), ("quarantine", &quarantine)] {
        assert!(!body.contains("Zebedee") && !body.contains("Quartermaine"), "a name on the {screen} page");
    }

    // Signing out ends the session: the pages ask for the key again.
    page.click("form.signout button").await;
    page.wait_for_text("h1", "Sign in to head office").await;
    page.driver().goto(format!("{base}/office/report")).await.unwrap();
    page.wait_for_text("h1", "Sign in to head office").await;
    page.quit().await;

    let _ = stop.send(());
    server.await.unwrap();
}
