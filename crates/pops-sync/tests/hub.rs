//! The worker against the real hub, served in-process on 127.0.0.1, with real SQLCipher stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Utc;
use common::{Hub, Laptop, attached, drained, hub_changes, wait_for};
use pops_domain::change::Op;
use pops_domain::sync::{Batch, dataset};
use pops_hub::PushOutcome;
use pops_store::sync::{self, PendingBatch, RecordState};
use pops_store::{Store, outbox};
use pops_sync::{REVOKED, SyncConfig, SyncError, Syncer, UNREACHABLE};
use serde_json::json;
use std::time::{Duration, Instant};
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(60);

#[test]
fn twelve_hundred_changes_reach_the_hub_exactly_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    let ids = laptop.check_ins(1200);
    syncer.send_now();
    let status = drained(&laptop);

    let local = laptop.outbox();
    assert!(local.len() > 1200);
    let device = laptop.device_id();
    assert_eq!(hub_changes(&*hub.storage, device), local, "the same change ids and seqs, nothing more");
    assert_eq!(hub.storage.acked_through(device).unwrap(), local.len() as i64);
    assert!(hub.storage.quarantined(device).unwrap().is_empty(), "{:?}", hub.storage.quarantined(device));
    assert_eq!((status.waiting, status.quarantined, status.acked_through_seq), (0, 0, local.len() as i64));
    assert!(status.safe_to_shut && status.last_ack_at.is_some() && !status.blocked);
    let states = laptop.states(&ids);
    assert!(ids.iter().all(|id| states[id] == RecordState::Confirmed));
    let marks: (i64, i64) = laptop
        .store
        .read(|c| {
            Ok(c.query_row("SELECT sent_through_seq, confirmed_through_seq FROM sync_state", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
        })
        .unwrap();
    assert_eq!(marks, (local.len() as i64, local.len() as i64), "every row went out in a batch and was acknowledged");
    let live = wait_for("the cycle to end", LONG, || {
        let live = syncer.status();
        (!live.sending).then_some(live)
    });
    assert!(live.attached);
    assert_eq!(live.hub_reachable, Some(true));
}

#[test]
fn an_enrolment_code_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let code = hub.code();
    let first = tempfile::tempdir().unwrap();
    let a = Laptop::new(first.path());
    let syncer = attached(&a);
    syncer.enrol(&hub.url(), &code).unwrap();
    drained(&a);

    let second = tempfile::tempdir().unwrap();
    let b = Laptop::new(second.path());
    let other = attached(&b);
    let refused = other.enrol(&hub.url(), &code).unwrap_err();
    assert_eq!(refused, SyncError::CodeRefused);
    let words = refused.to_string();
    assert!(words.contains("not accepted") && words.contains("Ask head office for a new code"), "{words}");
    assert!(!words.contains(&code), "the code is not repeated back");
    assert!(!b.status().enrolled);
    assert_eq!(other.enrol(&hub.url(), "   "), Err(SyncError::NoCode));
    assert_eq!(other.enrol(&hub.url(), "NOT-A-REAL-CODE"), Err(SyncError::CodeRefused));
}

#[test]
fn enrolling_needs_a_signed_in_store() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let syncer = Syncer::start(SyncConfig::default());
    assert_eq!(syncer.enrol(&hub.url(), &hub.code()), Err(SyncError::NotSignedIn));
    assert!(!syncer.status().attached);
}

#[test]
fn a_change_the_hub_rejects_is_quarantined_and_the_later_ones_are_still_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    laptop.check_ins(3);
    // A change of a kind the hub does not know, written through the store like any other.
    let odd = Uuid::now_v7();
    let user = laptop.user;
    let bad = laptop
        .store
        .write(Some(user), Utc::now(), |w| w.record("menu_item", odd, Op::Upsert, &json!({"price": 1}), "test", ""))
        .unwrap();
    let later = laptop.check_ins(5);
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    let status = drained(&laptop);

    assert_eq!((status.waiting, status.quarantined), (0, 1));
    assert!(status.safe_to_shut);
    let q = laptop.store.read(sync::quarantined).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].seq, q[0].change_id, q[0].entity.as_str(), q[0].entity_id),
        (bad.seq, bad.change_id, "menu_item", odd)
    );
    assert!(q[0].reason.contains("entity"), "{}", q[0].reason);
    let device = laptop.device_id();
    let at_hub = hub.storage.quarantined(device).unwrap();
    assert_eq!(at_hub.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [bad.change_id]);
    let states = laptop.states(&later);
    assert!(later.iter().all(|id| states[id] == RecordState::Confirmed), "the changes after it are acknowledged");
    let stored: Vec<Uuid> = hub_changes(&*hub.storage, device).into_iter().map(|(_, id)| id).collect();
    assert!(!stored.contains(&bad.change_id));
    assert_eq!(stored.len(), laptop.outbox().len() - 1);
}

#[test]
fn while_the_hub_is_down_changes_wait_and_then_drain_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let port = hub.port;
    let url = hub.url();
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&url, &hub.code()).unwrap();
    drained(&laptop);
    let storage = hub.stop();

    let ids = laptop.check_ins(40);
    syncer.changed();
    syncer.send_now();
    let status = wait_for("the unreachable hub to be reported", LONG, || {
        let s = laptop.status();
        s.last_error.is_some().then_some(s)
    });
    assert_eq!(status.last_error.as_deref(), Some(UNREACHABLE));
    assert!(UNREACHABLE.starts_with("Head office cannot be reached"));
    assert_eq!(status.waiting, 40, "the changes wait on the laptop");
    assert!(!status.safe_to_shut);
    let states = laptop.states(&ids);
    assert!(ids.iter().all(|id| states[id] == RecordState::Queued));
    let live = wait_for("the worker to back off", LONG, || {
        let live = syncer.status();
        (live.failures >= 1 && !live.sending).then_some(live)
    });
    assert_eq!(live.hub_reachable, Some(false));
    assert!(live.next_attempt_at.is_some(), "{live:?}");

    // Head office is back on the same address.
    let hub = Hub::serve(storage, port);
    syncer.send_now();
    let status = drained(&laptop);
    assert!(status.safe_to_shut);
    assert_eq!(hub_changes(&*hub.storage, laptop.device_id()), laptop.outbox());
    // The backoff is reset by the success (once the cycle that drained it has ended).
    let live = wait_for("the cycle to end", LONG, || Some(syncer.status()).filter(|l| !l.sending && l.failures == 0));
    assert_eq!(live.hub_reachable, Some(true));
}

#[test]
fn a_revoked_device_stops_with_plain_words_until_enrolled_again() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    drained(&laptop);
    let first_device = laptop.device_id();
    let before = laptop.outbox().len();
    hub.storage.revoke_device(first_device).unwrap();

    let ids = laptop.check_ins(2);
    syncer.send_now();
    let status = wait_for("the refusal", LONG, || {
        let s = laptop.status();
        s.blocked.then_some(s)
    });
    assert_eq!(status.last_error.as_deref(), Some(REVOKED));
    assert!(REVOKED.contains("withdrawn this laptop's permission") && REVOKED.contains("new enrolment code"));
    assert_eq!(status.waiting, 2);
    wait_for("the worker to settle", LONG, || (!syncer.status().sending).then_some(()));
    assert_eq!(syncer.status().next_attempt_at, None, "nothing is tried while blocked");
    let attempts = syncer.status().attempts;
    syncer.send_now();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(syncer.status().attempts, attempts + 1, "send now finds it blocked and does nothing");
    assert_eq!(hub.storage.acked_through(first_device).unwrap(), before as i64);

    // A new code clears the block; the new device sends from seq 1, and the changes head office
    // already has are no news for the manager.
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    let status = drained(&laptop);
    assert!(!status.blocked && status.safe_to_shut);
    assert_eq!(status.quarantined, 0);
    let second_device = laptop.device_id();
    assert_ne!(second_device, first_device);
    let waiting: Vec<Uuid> = laptop.outbox()[before..].iter().map(|(_, id)| *id).collect();
    let stored: Vec<Uuid> = hub_changes(&*hub.storage, second_device).into_iter().map(|(_, id)| id).collect();
    assert_eq!(stored, waiting, "the two waiting changes reached head office");
    let states = laptop.states(&ids);
    assert!(ids.iter().all(|id| states[id] == RecordState::Confirmed));
}

#[test]
fn after_a_restart_the_worker_resumes_from_the_hub_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    drained(&laptop);
    drop(syncer);

    // Stopped part-way through a long send…
    laptop.check_ins(1500);
    let start = laptop.status().acked_through_seq;
    let syncer = attached(&laptop);
    syncer.send_now();
    wait_for("some progress", LONG, || (laptop.status().acked_through_seq > start).then_some(()));
    drop(syncer);
    // …then a new worker on a new connection carries on.
    let syncer = attached(&laptop);
    syncer.send_now();
    drained(&laptop);
    let device = laptop.device_id();
    assert_eq!(hub_changes(&*hub.storage, device), laptop.outbox());
    assert!(hub.storage.quarantined(device).unwrap().is_empty());
    drop(syncer);

    // The crash between the hub storing a batch and the laptop committing its reply: the batch was
    // kept as pending and reached the hub, the reply never came. One of its changes the hub rejects.
    laptop.check_ins(5);
    let user = laptop.user;
    let odd = laptop
        .store
        .write(Some(user), Utc::now(), |w| w.record("menu_item", Uuid::now_v7(), Op::Upsert, &json!({}), "test", ""))
        .unwrap();
    laptop.check_ins(4);
    let hub_state = laptop.store.read(sync::hub).unwrap().unwrap();
    let first_seq = hub_state.acked_through_seq + 1;
    let last_seq = laptop.store.read(sync::last_seq).unwrap();
    let pending = PendingBatch { batch_id: Uuid::now_v7(), first_seq, last_seq };
    laptop.store.write(None, Utc::now(), |w| sync::begin_batch(w, &pending)).unwrap();
    let changes = laptop.store.read(|c| outbox::changes_after(c, first_seq - 1, 100)).unwrap();
    let batch = Batch { batch_id: pending.batch_id, first_seq, last_seq, changes };
    let hash = pops_hub::secret::batch_hash(&batch).unwrap();
    assert!(matches!(hub.storage.push_batch(device, &batch, &hash, Utc::now()).unwrap(), PushOutcome::Reply(_)));
    assert_eq!(laptop.status().waiting, 10);

    let syncer = attached(&laptop);
    let status = drained(&laptop);
    assert_eq!(status.acked_through_seq, last_seq);
    assert_eq!(laptop.store.read(sync::hub).unwrap().unwrap().pending, None);
    let stored: Vec<(i64, Uuid)> = laptop.outbox().into_iter().filter(|(_, id)| *id != odd.change_id).collect();
    assert_eq!(hub_changes(&*hub.storage, device), stored, "nothing stored twice");
    let at_hub = hub.storage.quarantined(device).unwrap();
    assert_eq!(at_hub.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [odd.change_id], "nothing quarantined twice");
    // The batch went again and the hub answered with the reply it kept, rejection and all.
    let q = laptop.store.read(sync::quarantined).unwrap();
    assert_eq!(q.iter().map(|q| q.change_id).collect::<Vec<_>>(), [odd.change_id]);
    assert_eq!(status.quarantined, 1);
    drop(syncer);
}

#[test]
fn a_pending_batch_goes_again_with_the_same_id_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    drained(&laptop);
    drop(syncer);

    // The laptop kept a batch and stopped before it went out.
    laptop.check_ins(7);
    let first_seq = laptop.status().acked_through_seq + 1;
    let last_seq = laptop.store.read(sync::last_seq).unwrap();
    let pending = PendingBatch { batch_id: Uuid::now_v7(), first_seq, last_seq };
    laptop.store.write(None, Utc::now(), |w| sync::begin_batch(w, &pending)).unwrap();

    let syncer = attached(&laptop);
    drained(&laptop);
    drop(syncer);
    // The hub answers that batch id with these changes as a batch it has (a different body under
    // the same id would be refused as a reused id).
    let changes = laptop.store.read(|c| outbox::changes_after(c, first_seq - 1, 100)).unwrap();
    let batch = Batch { batch_id: pending.batch_id, first_seq, last_seq, changes };
    let hash = pops_hub::secret::batch_hash(&batch).unwrap();
    let device = laptop.device_id();
    let again = hub.storage.push_batch(device, &batch, &hash, Utc::now()).unwrap();
    let PushOutcome::Reply(reply) = again else { panic!("{again:?}") };
    assert!(reply.contains(&format!("\"acked_through_seq\":{last_seq}")), "{reply}");
    let fewer = Batch { last_seq: last_seq - 1, changes: batch.changes[..batch.changes.len() - 1].to_vec(), ..batch };
    let hash = pops_hub::secret::batch_hash(&fewer).unwrap();
    assert_eq!(hub.storage.push_batch(device, &fewer, &hash, Utc::now()).unwrap(), PushOutcome::BatchIdReused);
}

#[test]
fn a_hub_restored_from_an_older_backup_gets_the_lost_changes_again() {
    let dir = tempfile::tempdir().unwrap();
    let hub_dir = tempfile::tempdir().unwrap();
    let backup = tempfile::tempdir().unwrap();
    let hub = Hub::new(hub_dir.path());
    let port = hub.port;
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    drained(&laptop);
    // Head office's backup, taken now.
    drop(hub.stop());
    copy_dir(hub_dir.path(), backup.path());
    let hub = Hub::serve(common::open_hub(hub_dir.path()), port);
    laptop.check_ins(20);
    syncer.send_now();
    let acked = drained(&laptop).acked_through_seq;

    // The hub is restored from the backup: it has lost the last 20 changes.
    drop(hub.stop());
    copy_dir(backup.path(), hub_dir.path());
    let hub = Hub::serve(common::open_hub(hub_dir.path()), port);
    let device = laptop.device_id();
    assert_eq!(hub.storage.acked_through(device).unwrap(), acked - 20);
    laptop.check_ins(5);
    syncer.send_now();
    drained(&laptop);
    // The hub answered 409 with the seq it expected; the laptop sent from there.
    assert_eq!(hub_changes(&*hub.storage, device), laptop.outbox());
    assert!(hub.storage.quarantined(device).unwrap().is_empty());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(to).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("hub.db") {
            std::fs::remove_file(path).unwrap();
        }
    }
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        if name.to_string_lossy().starts_with("hub.db") {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

#[test]
fn reference_data_imported_at_the_hub_is_pulled_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let laptop = Laptop::new(dir.path());
    let prices: Vec<serde_json::Value> = (0..450)
        .map(|i| json!({"id": format!("item-{i:03}"), "name": format!("Item {i}"), "price_pence": 50 + i}))
        .collect();
    assert_eq!(hub.storage.import_reference(dataset::PRICE_LIST, prices.clone()).unwrap(), 1);
    let agencies = vec![json!({"id": "ca", "name": "Citizens Advice", "phone": "0800 144 8848"})];
    hub.storage.import_reference(dataset::PARTNER_AGENCIES, agencies.clone()).unwrap();

    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    let items = |name: &str| laptop.store.read(|c| sync::reference_items(c, name)).unwrap();
    wait_for("the price list", LONG, || (items(dataset::PRICE_LIST).len() == 450).then_some(()));
    assert_eq!(items(dataset::PRICE_LIST), prices, "450 items over three pages of 200");
    wait_for("the agencies", LONG, || (items(dataset::PARTNER_AGENCIES) == agencies).then_some(()));
    assert!(items(dataset::SESSION_SLOTS).is_empty());

    // A new version: one price changed, one item gone.
    let mut v2 = prices.clone();
    v2.remove(0);
    v2[0] = json!({"id": "item-001", "name": "Item 1", "price_pence": 999});
    hub.storage.import_reference(dataset::PRICE_LIST, v2.clone()).unwrap();
    syncer.send_now();
    wait_for("the second version", LONG, || (items(dataset::PRICE_LIST) == v2).then_some(()));
    let cursor = laptop.store.read(|c| sync::reference_cursor(c, dataset::PRICE_LIST)).unwrap();
    assert!(cursor >= 452, "{cursor}");
}

#[test]
fn record_states_and_status_move_from_saved_to_queued_to_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    let ids = laptop.check_ins(1);
    syncer.changed();
    assert_eq!(laptop.states(&ids)[&ids[0]], RecordState::Saved);
    let s = laptop.status();
    assert!(!s.enrolled && !s.safe_to_shut && s.waiting > 0);

    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    drained(&laptop);
    assert_eq!(laptop.states(&ids)[&ids[0]], RecordState::Confirmed);

    // Signed out: the change waits, queued.
    syncer.detach();
    wait_for("the detach", LONG, || (!syncer.status().attached).then_some(()));
    let user = laptop.user;
    laptop.store.write(Some(user), Utc::now(), |w| pops_store::visits::check_out(w, ids[0])).unwrap();
    assert_eq!(laptop.states(&ids)[&ids[0]], RecordState::Queued);
    let s = laptop.status();
    assert_eq!(s.waiting, 1);
    assert!(!s.safe_to_shut);

    // Signed in again: the worker asks the hub, then sends.
    syncer.attach(laptop.opener());
    let s = drained(&laptop);
    assert!(s.safe_to_shut);
    assert_eq!(laptop.states(&ids)[&ids[0]], RecordState::Confirmed);
}

#[test]
fn plain_http_to_anything_but_this_computer_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    let started = Instant::now();
    // Names under example.org are never looked up: the address is refused first.
    for url in ["http://hub.example.org", "http://192.0.2.10:8080", "http://[2001:db8::1]/"] {
        assert_eq!(syncer.enrol(url, "ABCD-EFGH"), Err(SyncError::InsecureAddress), "{url}");
    }
    assert!(matches!(syncer.enrol("ftp://hub.example.org", "ABCD"), Err(SyncError::BadAddress { .. })));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(SyncError::InsecureAddress.to_string().contains("https://"));
    assert!(!laptop.status().enrolled);

    // An address that reached the database some other way is refused by the worker too.
    let mut other = Store::open(&laptop.path, &laptop.key).unwrap();
    let enrolment = pops_domain::sync::Enrolment {
        device_id: Uuid::now_v7(),
        centre_id: Uuid::now_v7(),
        device_token: "t".repeat(40),
    };
    other.write(None, Utc::now(), |w| sync::save_enrolment(w, "http://hub.example.org", &enrolment)).unwrap();
    syncer.send_now();
    let s = wait_for("the refusal", LONG, || {
        let s = laptop.status();
        s.last_error.is_some().then_some(s)
    });
    assert_eq!(s.last_error, Some(SyncError::InsecureAddress.to_string()));
    assert_eq!(syncer.status().hub_reachable, None, "no request was made");
}

#[test]
fn the_nightly_time_is_the_centres_setting_read_at_every_cycle() {
    use chrono_tz::Europe::London;
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let mut laptop = Laptop::new(dir.path());
    let syncer = attached(&laptop);
    syncer.enrol(&hub.url(), &hub.code()).unwrap();
    laptop.check_ins(1);
    drained(&laptop);
    let cycles = wait_for("the first cycle", LONG, || {
        let live = syncer.status();
        (live.attempts > 0 && !live.sending).then_some(live.attempts)
    });
    // After a whole cycle the next try is the reference pull an hour on, or the nightly run at
    // 02:00 if that comes sooner.
    let now = Utc::now();
    let next = syncer.status().next_attempt_at.expect("a next try");
    let default_night = pops_sync::schedule::next_nightly(now, SyncConfig::default().nightly_at);
    if default_night - now < chrono::Duration::minutes(30) {
        eprintln!("skipped: the default nightly run is less than 30 minutes away");
        return;
    }
    assert!(next - now > chrono::Duration::minutes(30), "next try at {next}");

    // The manager moves the nightly run to ten minutes from now: the next cycle follows it,
    // without a restart.
    let soon = (now + chrono::Duration::minutes(10)).with_timezone(&London).format("%H:%M").to_string();
    let settings = laptop.store.read(pops_store::centre::settings).unwrap();
    let user = laptop.user;
    laptop
        .store
        .write(Some(user), Utc::now(), |w| {
            pops_store::centre::save_settings(
                w,
                Uuid::now_v7(),
                &pops_store::centre::Settings { nightly_at: soon.clone(), ..settings },
            )
        })
        .unwrap();
    syncer.changed();
    let next = wait_for("a cycle after the change", LONG, || {
        let live = syncer.status();
        (live.attempts > cycles && !live.sending).then_some(live.next_attempt_at)
    })
    .expect("a next try");
    let wait = next - Utc::now();
    assert!(wait <= chrono::Duration::minutes(10) && wait > chrono::Duration::minutes(8), "{soon}: next try in {wait}");
}
