//! Head office through the app's commands: the status the window polls, enrolment with its errors
//! at the right field, the nightly time, and the worker following the session (attached at sign-in,
//! still sending while the screen is locked, detached at sign-out), against the real hub served
//! in-process on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use pops_app::App;
use pops_app::api::*;
use pops_domain::Role;
use pops_domain::sync::RecordState;
use pops_domain::visits::{AgeBands, CheckInPartyInput};
use pops_hub::Storage;
use pops_sync::{SyncConfig, Syncer};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The real hub on a SQLite file, served on 127.0.0.1 from a thread and runtime of its own.
struct Hub {
    storage: Arc<dyn Storage>,
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Hub {
    fn new(dir: &Path) -> Hub {
        let storage = pops_hub::open(dir.join("hub.db").to_str().unwrap()).unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let served = storage.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
                ready_tx.send(listener.local_addr().unwrap().port()).unwrap();
                pops_hub::serve(listener, served, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        let port = ready_rx.recv_timeout(Duration::from_secs(20)).expect("the hub started");
        Hub { storage, port, stop: Some(stop_tx), thread: Some(thread) }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn code(&self) -> String {
        let centre = self.storage.add_centre("HMP Risley Visitor Centre").unwrap();
        self.storage.new_enrolment_code(centre).unwrap()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An app with a sync worker that sends a change half a second after it is written.
fn app_with_sync(dir: &Path) -> (App, Arc<Syncer>) {
    let syncer =
        Arc::new(Syncer::start(SyncConfig { change_debounce: Duration::from_millis(500), ..SyncConfig::default() }));
    let app = App::start_with_sync(common::config(dir), syncer.clone()).unwrap();
    (app, syncer)
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fields(e: &pops_app::Error) -> Vec<&str> {
    e.problems.iter().map(|p| p.field.as_str()).collect()
}

fn enrol_input(address: &str, code: &str) -> SyncEnrolInput {
    SyncEnrolInput { hub_address: address.into(), enrolment_code: code.into() }
}

/// A name no log may hold.
const LEAD_NAME: &str = "Zebedee Quartermaine";

/// Everything logged in this test binary, at every level.
fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn check_in(app: &App) -> Uuid {
    let session = app.get_today().unwrap().sessions[0].session.id;
    app.check_in_party(CheckInPartyInput {
        session_id: Some(session),
        adults: 1,
        children: AgeBands::default(),
        first_time: false,
        lead_name: LEAD_NAME.into(),
        needs: Default::default(),
        help: Default::default(),
        family_id: None,
    })
    .unwrap()
    .id
}

#[test]
fn polling_the_status_is_not_use_of_the_app_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config_idle(dir.path(), Duration::from_millis(600))).unwrap();
    app.set_up_centre(common::set_up_input()).unwrap();
    let before = app.verify_audit_log().unwrap().entries;
    let view = app.sync_status().unwrap();
    assert!(!view.enrolled && !view.safe_to_shut && view.waiting > 0, "{view:?}");
    for _ in 0..5 {
        app.sync_status().unwrap();
    }
    let after = app.verify_audit_log().unwrap().entries;
    assert_eq!(after, before + 1, "only the first check's own entry");
    // Polled past the idle time, the screen locks all the same.
    let start = Instant::now();
    let locked = loop {
        match app.sync_status() {
            Err(e) => break e,
            Ok(_) => assert!(start.elapsed() < Duration::from_secs(5), "polling kept the screen open"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(locked.kind, ErrorKind::Locked);
}

#[test]
fn enrolment_input_is_refused_at_its_field_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _sync) = app_with_sync(dir.path());
    app.set_up_centre(common::set_up_input()).unwrap();
    let e = app.sync_enrol(enrol_input(" ", "")).unwrap_err();
    assert_eq!((e.kind, fields(&e)), (ErrorKind::Invalid, vec!["hub_address", "enrolment_code"]));
    let e = app.sync_enrol(enrol_input("http://hub.pops.org.uk", "ABCD-EFGH-JKMN-PQRS")).unwrap_err();
    assert_eq!(fields(&e), ["hub_address"]);
    assert!(e.problems[0].message.contains("https://") && e.problems[0].message.contains("127.0.0.1"), "{e:?}");
    let e = app.sync_enrol(enrol_input("hub.pops.org.uk", "ABCD-EFGH-JKMN-PQRS")).unwrap_err();
    assert_eq!(fields(&e), ["hub_address"]);
    let e = app.sync_enrol(enrol_input("https://admin:s3cret@hub.pops.org.uk", "ABCD-EFGH-JKMN-PQRS")).unwrap_err();
    assert_eq!(fields(&e), ["hub_address"]);
    assert!(!e.problems[0].message.contains("s3cret"));
    for code in ["WXYZ-1234", "WXYZ-1234-5678-90AU", "WXYZ-1234-5678-90AB-C"] {
        let e = app.sync_enrol(enrol_input("https://hub.pops.org.uk", code)).unwrap_err();
        assert_eq!(fields(&e), ["enrolment_code"], "{code}");
        assert!(!e.message.contains(code), "the code is not repeated back");
    }
    // Nothing listens on this port: head office cannot be reached, for the whole form.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = app.sync_enrol(enrol_input(&format!("http://127.0.0.1:{port}"), "abcd efgh jkmn pqrs")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e:?}");
    assert!(e.problems.is_empty() && e.message.contains("cannot be reached"), "{e:?}");
    assert!(!app.sync_status().unwrap().enrolled);
}

#[test]
fn a_manager_connects_the_laptop_and_changes_reach_head_office_even_while_the_screen_is_locked() {
    let logs = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let (app, sync) = app_with_sync(dir.path());
    common::centre_with_every_role(&app);
    assert!(wait_for("the worker to attach", || sync.status().attached.then_some(true)));

    // A volunteer sees the status and may send, but may not connect the laptop.
    common::sign_in_as(&app, Role::Volunteer);
    assert!(!app.sync_status().unwrap().enrolled);
    app.sync_send_now().unwrap();
    let e = app.sync_enrol(enrol_input(&hub.url(), &hub.code())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);

    let manager = common::sign_in_as(&app, Role::Manager).user.unwrap().account_id;
    // A code head office never made is refused at the code field.
    let e = app.sync_enrol(enrol_input(&hub.url(), "ABCD-EFGH-JKMN-PQRS")).unwrap_err();
    assert_eq!(fields(&e), ["enrolment_code"], "{e:?}");
    assert!(e.problems[0].message.contains("not accepted"), "{e:?}");

    let code = hub.code();
    let view = app.sync_enrol(enrol_input(&format!("{}/", hub.url()), &code.to_lowercase())).unwrap();
    assert!(view.enrolled && !view.blocked, "{view:?}");
    assert_eq!(view.hub_address.as_deref(), Some(hub.url().as_str()));
    let device = view.device_id.unwrap();
    let view = wait_for("everything to reach head office", || {
        let v = app.sync_status().unwrap();
        v.safe_to_shut.then_some(v)
    });
    assert_eq!((view.waiting, view.quarantined), (0, 0));
    assert!(view.last_ack_at.is_some() && view.last_error.is_none() && view.hub_reachable == Some(true));

    // A check-in is sent by itself, the guard having told the worker; the row says so.
    let party = check_in(&app);
    let row_state =
        || app.get_today().unwrap().on_site.iter().find(|c| c.record.id == party).and_then(|c| c.sync_state);
    assert!(matches!(row_state(), Some(RecordState::Queued | RecordState::Sent | RecordState::Confirmed)));
    wait_for("the check-in to be confirmed", || (row_state() == Some(RecordState::Confirmed)).then_some(()));
    assert!(hub.storage.device_changes(device).unwrap().iter().any(|c| c.entity == "check_in" && c.entity_id == party));

    // Checked in, then the screen locked at once: the worker still sends it.
    let party = check_in(&app);
    app.lock_now().unwrap();
    wait_for("the change made before the lock to reach head office", || {
        hub.storage.device_changes(device).unwrap().iter().any(|c| c.entity_id == party).then_some(())
    });
    assert!(sync.status().attached, "the worker keeps its connection while the screen is locked");
    app.unlock_with_pin(UnlockWithPinInput { pin: common::PIN.into() }).unwrap();
    // The hub stores a batch before its reply is committed here: a moment later, it is all in.
    wait_for("the reply to be committed", || app.sync_status().unwrap().safe_to_shut.then_some(()));

    // Head office withdraws the laptop: the next change blocks it, in plain words; a new code
    // connects it again (the same form), and what waited goes.
    hub.storage.revoke_device(device).unwrap();
    let waiting = check_in(&app);
    let view = wait_for("head office's refusal", || {
        let v = app.sync_status().unwrap();
        v.blocked.then_some(v)
    });
    assert!(view.enrolled && !view.safe_to_shut && view.waiting >= 1, "{view:?}");
    assert!(view.last_error.as_deref().unwrap_or_default().contains("new enrolment code"), "{view:?}");
    let second = hub.code();
    let view = app.sync_enrol(enrol_input(&hub.url(), &second)).unwrap();
    assert!(!view.blocked && view.last_error.is_none(), "{view:?}");
    let device = view.device_id.unwrap();
    wait_for("the laptop to be up to date again", || app.sync_status().unwrap().safe_to_shut.then_some(()));
    assert!(hub.storage.device_changes(device).unwrap().iter().any(|c| c.entity_id == waiting));

    // Signing out closes the worker's connection.
    app.sign_out().unwrap();
    wait_for("the worker to detach", || (!sync.status().attached).then_some(()));

    // The audit log names the manager who connected the laptop, and holds neither code nor token.
    let slots = pops_store::keyslots::KeySlots::load(dir.path()).unwrap().unwrap();
    let (_, key) = slots.open_with_passphrase(&common::username(Role::Manager), common::PASSPHRASE).unwrap().unwrap();
    sync.shutdown();
    drop(app);
    let store = pops_store::Store::open(&dir.path().join(pops_store::DATABASE_FILE), &key).unwrap();
    let entries = store.read(|c| pops_store::audit::recent(c, 500)).unwrap();
    let enrolled: Vec<_> = entries.iter().filter(|e| e.action == "device_enrolled").collect();
    assert_eq!(enrolled.len(), 2, "{enrolled:?}");
    assert!(enrolled.iter().all(|e| e.user_id == Some(manager.to_string())), "{enrolled:?}");
    assert!(enrolled.iter().any(|e| e.detail.contains(&device.to_string())));
    let token = store.read(pops_store::sync::hub).unwrap().unwrap().token.expose().to_string();
    let mut secrets = vec![token, LEAD_NAME.to_string()];
    for c in [&code, &second] {
        secrets.push(c.clone());
        secrets.push(pops_domain::sync::normalise_enrolment_code(c).unwrap());
    }
    for secret in &secrets {
        assert!(entries.iter().all(|e| !e.detail.contains(secret.as_str())), "the audit log holds a secret");
    }
    // Nor do the logs, at any level.
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logged.contains("enrolled with head office"), "the logs were captured");
    for secret in &secrets {
        assert!(!logged.contains(secret.as_str()), "the logs hold a code, the token or a name");
    }
}

#[test]
fn the_nightly_time_is_checked_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(common::config(dir.path())).unwrap();
    app.set_up_centre(common::set_up_input()).unwrap();
    assert_eq!(app.get_settings().unwrap().nightly_at, "02:00");
    for bad in ["", "25:00", "2am", "02:60", "midnight"] {
        let e = app.set_sync_time(SetSyncTimeInput { nightly_at: bad.into() }).unwrap_err();
        assert_eq!(fields(&e), ["nightly_at"], "{bad:?}");
    }
    assert_eq!(app.set_sync_time(SetSyncTimeInput { nightly_at: " 3:30 ".into() }).unwrap().nightly_at, "03:30");
    let s = app.get_settings().unwrap();
    assert_eq!(s.nightly_at, "03:30");
    // The other settings leave it as it is.
    let kept = app
        .update_settings(UpdateSettingsInput {
            idle_lock_minutes: 7,
            walkthrough: vec![],
            consent_months: s.consent_months,
        })
        .unwrap();
    assert_eq!(kept.nightly_at, "03:30");
    assert!(app.sync_quarantine().unwrap().changes.is_empty());
}

#[test]
fn a_manager_restores_a_replacement_laptop_from_head_office_and_watches_it_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&dir_a).unwrap();
    std::fs::create_dir_all(&dir_b).unwrap();
    let hub = Hub::new(dir.path());
    let centre = hub.storage.add_centre("HMP Risley Visitor Centre").unwrap();

    // Laptop A: the old laptop, with check-ins that reached head office.
    let (a, sync_a) = app_with_sync(&dir_a);
    common::centre_with_every_role(&a);
    assert!(wait_for("A's worker to attach", || sync_a.status().attached.then_some(true)));
    a.sync_enrol(enrol_input(&hub.url(), &hub.storage.new_enrolment_code(centre).unwrap())).unwrap();
    let parties = [check_in(&a), check_in(&a)];
    wait_for("A's check-ins to reach head office", || a.sync_status().unwrap().safe_to_shut.then_some(()));

    // A holds records of its own: no restore there, and the words say why.
    let view = a.sync_status().unwrap();
    assert!(!view.can_restore && view.restore.is_none(), "{view:?}");
    let refusal = view.restore_refusal.expect("A says why it cannot restore");
    assert!(refusal.contains("records of its own") && refusal.contains("2 check-ins"), "{refusal}");
    let e = a.sync_restore_start().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.message, refusal);

    // Laptop B: a replacement, set up and not yet connected: nothing offered, nothing refused.
    let (b, sync_b) = app_with_sync(&dir_b);
    common::centre_with_every_role(&b);
    assert!(wait_for("B's worker to attach", || sync_b.status().attached.then_some(true)));
    let view = b.sync_status().unwrap();
    assert!(!view.can_restore && view.restore_refusal.is_none() && view.restore.is_none(), "{view:?}");
    // Connected to the same centre with a new code: the restore is offered.
    let view = b.sync_enrol(enrol_input(&hub.url(), &hub.storage.new_enrolment_code(centre).unwrap())).unwrap();
    assert!(view.can_restore && view.restore_refusal.is_none() && view.restore.is_none(), "{view:?}");

    // A volunteer is offered nothing, and may not start it.
    common::sign_in_as(&b, Role::Volunteer);
    let view = b.sync_status().unwrap();
    assert!(!view.can_restore && view.restore_refusal.is_none(), "{view:?}");
    assert_eq!(b.sync_restore_start().unwrap_err().kind, ErrorKind::Forbidden);

    // The manager starts it, and the status polled by the window shows it through to the end.
    common::sign_in_as(&b, Role::Manager);
    let before = b.verify_audit_log().unwrap().entries;
    let view = b.sync_restore_start().unwrap();
    let started = view.restore.expect("the restore is under way");
    assert!(started.percent <= 100 && !started.started_at.is_empty(), "{started:?}");
    let done = wait_for("the restore to finish", || {
        let v = b.sync_status().unwrap();
        let r = v.restore.clone().expect("the restore stays in the status");
        assert!(r.percent <= 100 && (r.percent == 100) == r.finished, "{r:?}");
        r.finished.then_some(v)
    });
    let restore = done.restore.clone().unwrap();
    assert!(restore.applied >= 2 && restore.finished_at.is_some(), "{restore:?}");
    assert_eq!(restore.total, restore.applied + restore.skipped, "{restore:?}");
    assert!(!done.can_restore, "{done:?}");
    let already = done.restore_refusal.expect("restored already, in plain words");
    assert!(already.contains("already restored"), "{already}");

    // B's desk shows A's check-ins.
    let on_site: Vec<Uuid> = b.get_today().unwrap().on_site.iter().map(|c| c.record.id).collect();
    for party in parties {
        assert!(on_site.contains(&party), "A's check-in {party} is on B's desk: {on_site:?}");
    }

    // Starting again is refused with the same plain words.
    let e = b.sync_restore_start().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.message, already);
    // The store audited the start and the finish; polling added nothing else of its own.
    assert!(b.verify_audit_log().unwrap().entries > before);

    sync_a.shutdown();
    sync_b.shutdown();
}
