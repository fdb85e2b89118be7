//! Restoring a centre onto a replacement laptop: laptop A has a busy day and sends it to the real
//! hub (served in-process on 127.0.0.1); laptop B, set up as the app sets one up and enrolled to the
//! same centre with a new code, restores from the hub through its worker, then carries on as a new
//! device. Real SQLCipher files throughout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../pops-store/tests/common/day.rs"]
mod day;

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use chrono::Utc;
use common::{Hub, logs, wait_for};
use pops_domain::change::entity;
use pops_domain::visits::{AgeBands, HelpGiven, PartyArrival, SupportNeeds};
use pops_store::restore::{self, RestoreProgress};
use pops_store::sync::{self, RecordState, SyncState};
use pops_store::{DbKey, Store, audit, outbox, visits};
use pops_sync::{Opener, RestoreError, SyncConfig, SyncError, Syncer};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(120);

/// One laptop: its database file and key, the app's own connection, and what set-up made.
struct Laptop {
    path: PathBuf,
    key: DbKey,
    store: Store,
    setup: day::SetUp,
}

impl Laptop {
    fn new(dir: &Path, manager_name: &str) -> Laptop {
        let key = DbKey::generate();
        let path = dir.join("centre.db");
        let mut store = Store::open(&path, &key).unwrap();
        let setup = day::set_up(&mut store, &key, manager_name);
        Laptop { path, key, store, setup }
    }

    fn opener(&self) -> Opener {
        let (path, key) = (self.path.clone(), self.key.clone());
        Box::new(move || Store::open(&path, &key))
    }

    fn status(&self) -> SyncState {
        self.store.read(sync::status).unwrap()
    }

    fn device_id(&self) -> Uuid {
        self.store.read(sync::hub).unwrap().unwrap().device_id
    }

    fn centre_id(&self) -> Uuid {
        self.store.read(sync::hub).unwrap().unwrap().centre_id
    }

    fn outbox(&self) -> Vec<pops_domain::change::Change> {
        self.store.read(|c| outbox::changes_after(c, 0, i64::MAX)).unwrap()
    }

    fn progress(&self) -> Option<RestoreProgress> {
        self.store.read(restore::progress).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.store.read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
    }
}

fn worker(laptop: &Laptop, config: SyncConfig) -> Syncer {
    logs();
    let syncer = Syncer::start(config);
    syncer.attach(laptop.opener());
    syncer
}

fn quick() -> SyncConfig {
    SyncConfig {
        backoff_base: Duration::from_millis(100),
        day_cap: Duration::from_secs(1),
        night_cap: Duration::from_secs(1),
        ..SyncConfig::default()
    }
}

/// Waits until nothing is waiting and the last error is gone.
fn drained(laptop: &Laptop) -> SyncState {
    wait_for("the outbox to drain", LONG, || {
        let s = laptop.status();
        (s.enrolled && s.waiting == 0 && s.last_error.is_none()).then_some(s)
    })
}

/// Waits, reading only the worker's live status (no IO on the test's own connection, which could
/// otherwise hold a read that keeps the worker's checkpoint from emptying the log), until the
/// restore has finished and the cycle that finished it has ended.
fn restored(syncer: &Syncer) -> RestoreProgress {
    wait_for("the restore to finish", LONG, || {
        let live = syncer.status();
        live.restore.filter(|p| p.finished() && !live.sending && !live.restoring)
    })
}

/// Laptop A, enrolled to a new centre at the hub, after its busy day has reached the hub; its
/// worker is stopped (the laptop is lost).
fn old_laptop(dir: &Path, hub: &Hub) -> (Laptop, day::Day, Uuid) {
    let mut a = Laptop::new(dir, "Ada Manager");
    let d = day::busy_day(&mut a.store, &a.key, a.setup.manager);
    let centre = hub.storage.add_centre("HMP Liverpool Visitor Centre").unwrap();
    let syncer = worker(&a, quick());
    syncer.enrol(&hub.url(), &hub.storage.new_enrolment_code(centre).unwrap()).unwrap();
    drained(&a);
    drop(syncer);
    (a, d, centre)
}

/// Laptop B: set up, Today opened once (its templates made Saturday's empty sessions), enrolled to
/// `centre` with a new code, its set-up sent.
fn new_laptop(dir: &Path, hub: &Hub, centre: Uuid, config: SyncConfig) -> (Laptop, Syncer) {
    let mut b = Laptop::new(dir, "Bea Manager");
    b.store.write(Some(b.setup.manager), Utc::now(), |w| visits::sessions_from_templates(w, "2026-11-28", 6)).unwrap();
    let syncer = worker(&b, config);
    syncer.enrol(&hub.url(), &hub.storage.new_enrolment_code(centre).unwrap()).unwrap();
    drained(&b);
    (b, syncer)
}

fn party(session: Uuid) -> PartyArrival {
    PartyArrival {
        session_id: session,
        adults: 2,
        children: AgeBands { age_2: 1, ..Default::default() },
        first_time: false,
        lead_name: Some("Mary Seacole".into()),
        needs: SupportNeeds::default(),
        help: HelpGiven::default(),
        family_id: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The decrypted bytes of a SQLCipher 4 file: pages of 4,096 bytes, each AES-256-CBC under the raw
// key, with 80 reserved bytes at the end of each page (the IV, then the HMAC); page 1 starts with
// the 16-byte salt in clear. Write-ahead log frames hold pages encrypted the same way.

const PAGE: usize = 4096;
const RESERVE: usize = 80;

fn decrypt_page(key: &DbKey, page: &[u8], first: bool) -> Vec<u8> {
    let from = if first { 16 } else { 0 };
    let iv = &page[PAGE - RESERVE..PAGE - RESERVE + 16];
    let mut data = page[from..PAGE - RESERVE].to_vec();
    cbc::Decryptor::<aes::Aes256>::new(key.as_bytes().into(), iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .unwrap();
    data
}

/// Every page of the database file and every frame of its write-ahead log, decrypted.
fn decrypted(laptop: &Laptop) -> Vec<u8> {
    let file = std::fs::read(&laptop.path).unwrap();
    assert_eq!(file.len() % PAGE, 0);
    let mut out = Vec::new();
    for (i, page) in file.chunks(PAGE).enumerate() {
        let plain = decrypt_page(&laptop.key, page, i == 0);
        if i == 0 {
            // The SQLite header from byte 16: the page size (4096, big-endian) and 80 reserved bytes.
            assert_eq!((plain[0], plain[1], plain[4]), (0x10, 0x00, 80), "the decryption is right");
        }
        out.extend(plain);
    }
    let wal = laptop.path.with_extension("db-wal");
    if let Ok(log) = std::fs::read(&wal) {
        let frames = log.get(32..).unwrap_or_default();
        for frame in frames.chunks(24 + PAGE).filter(|f| f.len() == 24 + PAGE) {
            let page_no = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            out.extend(decrypt_page(&laptop.key, &frame[24..], page_no == 1));
        }
    }
    out
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

// ---------------------------------------------------------------------------------------------

#[test]
fn a_replacement_laptop_restores_the_centre_and_carries_on_as_a_new_device() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let dir_a = tempfile::tempdir().unwrap();
    let (a, d, centre) = old_laptop(dir_a.path(), &hub);
    let a_device = a.device_id();
    let dir_b = tempfile::tempdir().unwrap();
    // Small pages, so that a lead name the restore writes and a later page clears is committed to
    // the file in between (a name written and cleared within one page never reaches the disk).
    let small_pages = SyncConfig { restore_page: 1, ..quick() };
    let (b, syncer) = new_laptop(dir_b.path(), &hub, centre, small_pages);
    assert_eq!(b.centre_id(), a.centre_id(), "enrolled to the same centre");
    let b_device = b.device_id();
    assert_ne!(b_device, a_device);
    let set_up = b.outbox();
    let own_templates = b.count("SELECT count(*) FROM session_template");
    let own_sessions = b.count("SELECT count(*) FROM visits_session");

    let started = syncer.restore(b.setup.manager).unwrap();
    assert!(!started.finished() && started.after == 0);
    let done = restored(&syncer);
    let at_hub = hub.storage.device_changes(a_device).unwrap().len() + set_up.len();
    assert_eq!((done.total, done.done(), done.percent), (at_hub as i64, at_hub as i64, 100));
    assert_eq!(done.skipped, 3 + set_up.len() as i64, "A's centre and accounts, and B's own set-up");
    let status = drained(&b);
    assert!(status.safe_to_shut && status.last_error.is_none());
    assert_eq!(b.progress(), Some(done.clone()), "the app reads the same progress from its connection");
    let live = syncer.status();
    assert_eq!((live.restore.as_ref(), live.restoring), (Some(&done), false));

    // Every read the app makes answers the same on B as it did on A.
    let on_a = a.store.read(|c| Ok(day::reads(c, &d))).unwrap();
    let on_b = b.store.read(|c| Ok(day::reads(c, &d))).unwrap();
    assert_eq!(on_a, on_b);
    assert_eq!(on_b["today"]["sessions"].as_array().unwrap().len(), 3);

    // The erased family's personal data is nowhere in B's file bytes, decrypted, nor in its log.
    syncer.shutdown();
    let bytes = decrypted(&b);
    assert!(holds(&bytes, "Aisha Khan") && holds(&bytes, "aisha"), "the scan can see names and index tokens");
    for private in day::REMOVED_NAMES.iter().chain(&day::REMOVED_DETAILS) {
        assert!(!holds(&bytes, private), "{private} is in B's file");
        let lower = private.to_lowercase();
        for word in lower.split(' ').filter(|w| w.len() >= 6) {
            assert!(!holds(&bytes, word), "{word} is in B's file");
        }
    }

    // B's outbox holds only B's own changes: its set-up, then its set-up templates retired and their
    // empty sessions cancelled when the centre's came. None of A's changes went back to the hub.
    let outbox = b.outbox();
    assert_eq!(&outbox[..set_up.len()], &set_up[..]);
    assert_eq!(outbox.len() as i64, set_up.len() as i64 + own_templates + own_sessions);
    let b_records: HashSet<Uuid> = set_up.iter().map(|c| c.entity_id).collect();
    assert!(outbox.iter().all(|c| b_records.contains(&c.entity_id)));
    let a_changes: HashSet<Uuid> =
        hub.storage.device_changes(a_device).unwrap().into_iter().map(|c| c.change_id).collect();
    let b_at_hub = hub.storage.device_changes(b_device).unwrap();
    assert_eq!(
        b_at_hub.iter().map(|c| c.change_id).collect::<Vec<_>>(),
        outbox.iter().map(|c| c.change_id).collect::<Vec<_>>()
    );
    assert!(b_at_hub.iter().all(|c| !a_changes.contains(&c.change_id)));
    assert!(hub.storage.quarantined(b_device).unwrap().is_empty());
    b.store.read(audit::verify).unwrap();
    assert_eq!(b.count("SELECT count(*) FROM audit WHERE action = 'restore_started'"), 1);
    assert_eq!(b.count("SELECT count(*) FROM audit WHERE action = 'restore_finished'"), 1);

    // B carries on: a check-in to one of A's sessions reaches the hub as B's device's change.
    let mut b = b;
    let syncer = worker(&b, quick());
    let session = d.sessions[0];
    let manager = b.setup.manager;
    let mine = b.store.write(Some(manager), Utc::now(), |w| visits::check_in(w, &party(session))).unwrap();
    syncer.changed();
    drained(&b);
    let last = hub.storage.device_changes(b_device).unwrap().pop().unwrap();
    assert_eq!((last.entity.as_str(), last.entity_id, last.user_id), (entity::CHECK_IN, mine.id, manager));
    let record = hub.storage.centre_record(centre, entity::CHECK_IN, mine.id).unwrap().unwrap();
    assert_eq!(record["session_id"], session.to_string());
    let today = b.store.read(|c| visits::day(c, day::DAY)).unwrap();
    assert_eq!(today.on_site.len(), 3, "A's two parties still on site, and B's");
    // Restored records came from head office: confirmed; B's own, once acknowledged, too.
    let states = b.store.read(|c| sync::record_states(c, entity::CHECK_IN, &[d.check_ins[0], mine.id])).unwrap();
    assert_eq!(states[&d.check_ins[0]], RecordState::Confirmed);
    assert_eq!(states[&mine.id], RecordState::Confirmed);
    assert!(matches!(syncer.restore(manager), Err(RestoreError::Refused(w)) if w.contains("already restored")));
}

#[test]
fn a_restore_stopped_part_way_carries_on_after_a_restart_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let dir_a = tempfile::tempdir().unwrap();
    let (mut a, d, centre) = old_laptop(dir_a.path(), &hub);
    // Many more changes, so that a restore one change a page takes a while.
    let session = d.sessions[0];
    let manager = a.setup.manager;
    a.store
        .write(Some(manager), Utc::now(), |w| (0..600).try_for_each(|_| visits::check_in(w, &party(session)).map(drop)))
        .unwrap();
    let syncer = worker(&a, quick());
    drained(&a);
    drop(syncer);
    let a_device = a.device_id();

    let dir_b = tempfile::tempdir().unwrap();
    let one_a_page = SyncConfig { restore_page: 1, ..quick() };
    let (b, syncer) = new_laptop(dir_b.path(), &hub, centre, one_a_page);
    let manager_b = b.setup.manager;
    syncer.restore(manager_b).unwrap();
    // Stop the laptop mid-restore: the worker and its connection go, a page may be in flight.
    let start = Instant::now();
    loop {
        let p = syncer.status().restore;
        if p.as_ref().is_some_and(|p| p.after > 50) {
            break;
        }
        assert!(start.elapsed() < LONG, "the restore never got going");
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(syncer);
    let part = b.progress().unwrap();
    assert!(!part.finished(), "{part:?}");
    assert!(part.done() > 50 && part.done() < part.total, "{part:?}");
    let restored_so_far = b.count("SELECT count(*) FROM check_in");
    assert!(restored_so_far < 605);

    // The laptop starts again: attached, the worker carries on from the stored cursor.
    let syncer = worker(&b, quick());
    let done = restored(&syncer);
    let total = (hub.storage.device_changes(a_device).unwrap().len() + b.outbox().len()) as i64;
    assert!(done.total <= total && done.total >= done.done() - 1);
    assert_eq!(done.done(), done.total, "every change of the centre dealt with once");
    assert_eq!(b.count("SELECT count(*) FROM check_in"), a.count("SELECT count(*) FROM check_in"));
    assert_eq!(b.count("SELECT count(*) FROM audit WHERE action = 'restore_started'"), 1);
    assert_eq!(b.count("SELECT count(*) FROM audit WHERE action = 'restore_finished'"), 1);
    drained(&b);
    assert_eq!(b.store.read(|c| Ok(day::reads(c, &d))).unwrap(), a.store.read(|c| Ok(day::reads(c, &d))).unwrap());
    b.store.integrity_check().unwrap();
    assert_eq!(b.count("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    let outbox = b.outbox();
    let a_changes: HashSet<Uuid> =
        hub.storage.device_changes(a_device).unwrap().into_iter().map(|c| c.change_id).collect();
    assert!(outbox.iter().all(|c| !a_changes.contains(&c.change_id)));
}

#[test]
fn restoring_onto_a_laptop_that_holds_records_is_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let centre = hub.storage.add_centre("HMP Liverpool Visitor Centre").unwrap();

    // Not signed in: the worker has no store.
    let idle = Syncer::start(SyncConfig::default());
    assert_eq!(idle.restore(Uuid::now_v7()), Err(RestoreError::Sync(SyncError::NotSignedIn)));

    // Not enrolled.
    let dir_b = tempfile::tempdir().unwrap();
    let mut b = Laptop::new(dir_b.path(), "Bea Manager");
    let syncer = worker(&b, quick());
    let Err(RestoreError::Refused(words)) = syncer.restore(b.setup.manager) else { panic!("not refused") };
    assert!(words.starts_with("Enrol this laptop with head office first"), "{words}");

    // Enrolled, but the desk has been used: a session added by hand and two check-ins.
    syncer.enrol(&hub.url(), &hub.storage.new_enrolment_code(centre).unwrap()).unwrap();
    let manager = b.setup.manager;
    b.store
        .write(Some(manager), Utc::now(), |w| {
            let s = visits::add_session(
                w,
                "2026-11-25",
                &pops_domain::visits::SessionTimes {
                    name: "Morning visits".into(),
                    starts_at: "09:30".into(),
                    ends_at: "11:30".into(),
                    kind: pops_domain::visits::VisitKind::Open,
                },
            )?;
            visits::check_in(w, &party(s.id))?;
            visits::check_in(w, &party(s.id))
        })
        .unwrap();
    let refused = syncer.restore(manager).unwrap_err();
    let RestoreError::Refused(words) = &refused else { panic!("{refused:?}") };
    assert!(
        words.starts_with(
            "This laptop already holds records of its own (2 check-ins, 1 session added or cancelled by hand)."
        ),
        "{words}"
    );
    assert_eq!(refused.to_string(), *words, "the words are shown as they are");
    assert!(!words.contains("Mary Seacole"));
    assert_eq!(b.progress(), None);
    assert_eq!(syncer.status().restore, None);
    // The laptop carries on as it was: its records go to head office.
    syncer.send_now();
    drained(&b);
    assert_eq!(b.count("SELECT count(*) FROM audit WHERE action = 'restore_started'"), 0);
}

#[test]
fn a_restore_waits_out_the_hub_being_away_and_the_laptops_own_changes_still_go() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let port = hub.port;
    let dir_a = tempfile::tempdir().unwrap();
    let (mut a, d, centre) = old_laptop(dir_a.path(), &hub);
    let session = d.sessions[0];
    let manager = a.setup.manager;
    a.store
        .write(Some(manager), Utc::now(), |w| (0..600).try_for_each(|_| visits::check_in(w, &party(session)).map(drop)))
        .unwrap();
    let syncer = worker(&a, quick());
    drained(&a);
    drop(syncer);

    let dir_b = tempfile::tempdir().unwrap();
    let (mut b, syncer) = new_laptop(dir_b.path(), &hub, centre, SyncConfig { restore_page: 1, ..quick() });
    let b_device = b.device_id();
    let manager_b = b.setup.manager;
    syncer.restore(manager_b).unwrap();
    wait_for("the restore to get going", LONG, || syncer.status().restore.filter(|p| p.after > 20));

    // The desk checks a party in to one of B's own sessions while the restore goes on: it reaches
    // the hub without waiting for the restore to end.
    let own_session = b.store.read(|c| visits::day(c, "2026-11-28")).unwrap().sessions[0].session.id;
    let mine = b.store.write(Some(manager_b), Utc::now(), |w| visits::check_in(w, &party(own_session))).unwrap();
    syncer.changed();
    let progress_then = wait_for("B's check-in at the hub", LONG, || {
        let at_hub = hub.storage.device_changes(b_device).unwrap();
        at_hub.iter().any(|c| c.entity_id == mine.id).then(|| syncer.status().restore.unwrap())
    });
    assert!(!progress_then.finished(), "sent while the restore was still under way: {progress_then:?}");

    // Head office goes away part-way: the failure is kept in plain words, and retried with backoff.
    let storage = hub.stop();
    let status = wait_for("the failure", LONG, || {
        let s = syncer.status();
        (s.failures >= 1 && !s.sending).then_some(s)
    });
    assert_eq!(status.hub_reachable, Some(false));
    assert!(!status.restore.as_ref().unwrap().finished());
    assert_eq!(b.status().last_error.as_deref(), Some(pops_sync::UNREACHABLE));
    let part = b.progress().unwrap();
    assert!(!part.finished() && part.done() < part.total);

    // Back on the same address: the backoff's next try carries on from the cursor.
    let hub = Hub::serve(storage, port);
    let done = restored(&syncer);
    assert_eq!(done.done(), done.total);
    drained(&b);
    assert_eq!(b.count("SELECT count(*) FROM check_in"), a.count("SELECT count(*) FROM check_in") + 1);
    assert_eq!(b.status().last_error, None);
    // B's check-in made its set-up session no longer empty: it stays; the other one is cancelled.
    let saturday = b.store.read(|c| visits::day(c, "2026-11-28")).unwrap().sessions;
    let cancelled: Vec<bool> = saturday.iter().map(|s| s.session.cancelled_at.is_some()).collect();
    assert_eq!(cancelled.iter().filter(|c| **c).count(), 1, "{cancelled:?}");
    assert!(b.store.read(|c| visits::session(c, own_session)).unwrap().unwrap().cancelled_at.is_none());
    let ids: HashSet<Uuid> = b.outbox().iter().map(|c| c.change_id).collect();
    let at_hub: HashSet<Uuid> = hub.storage.device_changes(b_device).unwrap().iter().map(|c| c.change_id).collect();
    assert_eq!(ids, at_hub, "B's own changes, and only those, are B's at the hub");
    b.store.integrity_check().unwrap();
}
