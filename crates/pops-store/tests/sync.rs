//! Sync as stored (schema 6): the enrolment and its token, acknowledgements, quarantine, record
//! states, and reference data pages, on real SQLCipher files.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use pops_domain::change::entity;
use pops_domain::sync::{BatchReply, Enrolment, ReferenceEntry, ReferencePage, Rejected, dataset};
use pops_store::sync::{self, PendingBatch, RecordState};
use pops_store::{Error, Store, audit, outbox, visits};
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

const TOKEN: &str = "tok_Zq8yX3vLmN5pR7tW9bD2fH4jK6cV1sA0eGuIoPyT";

fn enrolment() -> Enrolment {
    Enrolment { device_id: Uuid::now_v7(), centre_id: Uuid::now_v7(), device_token: TOKEN.into() }
}

fn enrol(store: &mut Store, e: &Enrolment) {
    store.write(None, Utc::now(), |w| sync::save_enrolment(w, "https://hub.example.org", e)).unwrap();
}

fn check_in(fx: &mut common::Fixture) -> Uuid {
    fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None))).unwrap().id
}

fn reply(acked_through_seq: i64, rejected: Vec<Rejected>) -> BatchReply {
    BatchReply { acked_through_seq, rejected, server_time: "2026-11-25T10:00:00Z".into() }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_device_token_is_not_in_the_files_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    enrol(&mut fx.store, &enrolment());
    let hub = fx.store.read(sync::hub).unwrap().unwrap();
    assert_eq!(hub.token.expose(), TOKEN, "the token is kept");
    assert!(!format!("{hub:?}").contains(TOKEN), "the token is not printed");
    let scan = || {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(!contains(&bytes, TOKEN.as_bytes()), "{} holds the token in clear", path.display());
            assert!(!contains(&bytes, &TOKEN.as_bytes()[..16]), "{} holds part of the token", path.display());
        }
    };
    scan();
    fx.store.read(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)).unwrap();
    scan();
    // Nor is it in the audit log.
    let entries = fx.store.read(|c| audit::recent(c, 100)).unwrap();
    let enrolled = entries.iter().find(|e| e.action == "device_enrolled").unwrap();
    assert!(!enrolled.detail.contains(TOKEN));
    assert!(entries.iter().all(|e| !e.detail.contains(TOKEN)));
}

#[test]
fn a_change_moves_from_saved_to_queued_to_sent_to_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let id = check_in(&mut fx);
    let states = |s: &Store| s.read(|c| sync::record_states(c, entity::CHECK_IN, &[id])).unwrap()[&id];

    let before = fx.store.read(sync::status).unwrap();
    assert!(!before.enrolled && !before.safe_to_shut && !before.blocked);
    let last = fx.store.read(sync::last_seq).unwrap();
    assert_eq!(before.waiting, last);
    assert_eq!(states(&fx.store), RecordState::Saved);

    let e = enrolment();
    enrol(&mut fx.store, &e);
    let entries = fx.store.read(|c| audit::recent(c, 1)).unwrap();
    assert_eq!(
        (entries[0].action.as_str(), entries[0].detail.clone()),
        ("device_enrolled", format!("hub_device_id={}", e.device_id))
    );
    let status = fx.store.read(sync::status).unwrap();
    assert!(status.enrolled);
    assert_eq!(status.device_id, Some(e.device_id));
    assert_eq!(status.hub_url.as_deref(), Some("https://hub.example.org"));
    assert!(!status.safe_to_shut, "changes are waiting");
    assert_eq!(states(&fx.store), RecordState::Queued);

    let batch = PendingBatch { batch_id: Uuid::now_v7(), first_seq: 1, last_seq: last };
    fx.store.write(None, Utc::now(), |w| sync::begin_batch(w, &batch)).unwrap();
    assert_eq!(fx.store.read(sync::hub).unwrap().unwrap().pending, Some(batch), "the batch survives a restart");
    assert_eq!(states(&fx.store), RecordState::Queued, "not sent until it went out");
    fx.store.write(None, Utc::now(), |w| sync::mark_sent(w, last)).unwrap();
    assert_eq!(states(&fx.store), RecordState::Sent);

    fx.store.write(None, Utc::now(), |w| sync::record_reply(w, &batch, &reply(last, vec![]))).unwrap();
    assert_eq!(states(&fx.store), RecordState::Confirmed);
    let after = fx.store.read(sync::status).unwrap();
    assert_eq!((after.waiting, after.acked_through_seq, after.quarantined), (0, last, 0));
    assert!(after.safe_to_shut && after.last_ack_at.is_some());
    assert_eq!(fx.store.read(sync::hub).unwrap().unwrap().pending, None);

    // A new change to the same record: its latest change decides.
    fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_out(w, id)).unwrap();
    assert_eq!(states(&fx.store), RecordState::Queued);
    assert!(!fx.store.read(sync::status).unwrap().safe_to_shut);
    // A record with no change at all is left out.
    assert!(fx.store.read(|c| sync::record_states(c, entity::CHECK_IN, &[Uuid::now_v7()])).unwrap().is_empty());
}

#[test]
fn rejected_changes_are_quarantined_and_acknowledged_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let ids: Vec<Uuid> = (0..5).map(|_| check_in(&mut fx)).collect();
    enrol(&mut fx.store, &enrolment());
    let last = fx.store.read(sync::last_seq).unwrap();
    let changes = fx.store.read(|c| outbox::changes_after(c, 0, 100)).unwrap();
    let bad = changes.iter().find(|c| c.entity_id == ids[1]).unwrap().clone();
    let batch = PendingBatch { batch_id: Uuid::now_v7(), first_seq: 1, last_seq: last };
    fx.store.write(None, Utc::now(), |w| sync::begin_batch(w, &batch)).unwrap();
    fx.store.write(None, Utc::now(), |w| sync::record_error(w, "Head office cannot be reached.")).unwrap();
    let unknown = Rejected { change_id: Uuid::now_v7(), reason: "not ours".into() };
    let rejected = vec![Rejected { change_id: bad.change_id, reason: "payload fails validation".into() }, unknown];
    let done =
        fx.store.write(None, Utc::now(), |w| sync::record_reply(w, &batch, &reply(last, rejected.clone()))).unwrap();
    assert_eq!((done.acked as i64, done.quarantined, done.unknown_rejections), (last, 1, 1));

    let status = fx.store.read(sync::status).unwrap();
    assert_eq!((status.waiting, status.quarantined), (0, 1));
    assert_eq!(status.last_error, None, "a reply clears the last error");
    let q = fx.store.read(sync::quarantined).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].seq, q[0].change_id, q[0].entity_id), (bad.seq, bad.change_id, ids[1]));
    assert_eq!((q[0].entity.as_str(), q[0].reason.as_str()), ("check_in", "payload fails validation"));
    // Every later change is acknowledged too.
    let unacked = common::count(
        &fx.store,
        "SELECT count(*) FROM outbox WHERE seq > (SELECT confirmed_through_seq FROM sync_state)",
    );
    assert_eq!(unacked, 0);

    // The same reply again (a retry's answer) quarantines nothing twice.
    let again = fx.store.write(None, Utc::now(), |w| sync::record_reply(w, &batch, &reply(last, rejected))).unwrap();
    assert_eq!((again.acked, again.quarantined), (0, 0));
    assert_eq!(fx.store.read(sync::quarantined).unwrap().len(), 1);
    // A change acknowledged before that the hub refuses when it comes again (a device enrolled
    // anew sends from seq 1, and the hub has those changes already) is no news for the manager.
    let old = changes.iter().find(|c| c.entity_id == ids[3]).unwrap();
    let dup = vec![Rejected { change_id: old.change_id, reason: "stored before".into() }];
    let resent = fx.store.write(None, Utc::now(), |w| sync::record_reply(w, &batch, &reply(last, dup))).unwrap();
    assert_eq!((resent.quarantined, resent.unknown_rejections), (0, 0));
    assert_eq!(fx.store.read(sync::status).unwrap().quarantined, 1);
}

#[test]
fn an_acknowledgement_is_final_and_catch_up_only_moves_forward() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    for _ in 0..6 {
        check_in(&mut fx);
    }
    enrol(&mut fx.store, &enrolment());
    let last = fx.store.read(sync::last_seq).unwrap();
    assert!(last >= 8);
    // A batch 5..=8 out when the laptop crashed; the hub had stored it.
    let batch = PendingBatch { batch_id: Uuid::now_v7(), first_seq: 5, last_seq: 8 };
    fx.store.write(None, Utc::now(), |w| sync::begin_batch(w, &batch)).unwrap();
    let n = fx.store.write(None, Utc::now(), |w| sync::catch_up(w, 4)).unwrap();
    assert_eq!(n, 4);
    assert_eq!(fx.store.read(sync::hub).unwrap().unwrap().pending, Some(batch), "the hub lacks 5..=8: kept");
    let n = fx.store.write(None, Utc::now(), |w| sync::catch_up(w, 8)).unwrap();
    assert_eq!(n, 4);
    let hub = fx.store.read(sync::hub).unwrap().unwrap();
    assert_eq!((hub.pending, hub.acked_through_seq), (None, 8));
    assert_eq!(fx.store.write(None, Utc::now(), |w| sync::catch_up(w, 3)).unwrap(), 0, "never back");
    assert_eq!(fx.store.read(sync::hub).unwrap().unwrap().acked_through_seq, 8);
    // The hub claiming more than the laptop has acknowledges only what the laptop has.
    fx.store.write(None, Utc::now(), |w| sync::catch_up(w, last + 50)).unwrap();
    assert_eq!(fx.store.read(sync::status).unwrap().acked_through_seq, last);

    // An acknowledgement cannot be taken back, nor a send, nor an unacknowledged row deleted; an
    // acknowledged one may be.
    for undo in ["UPDATE sync_state SET confirmed_through_seq = 1", "UPDATE sync_state SET sent_through_seq = 1"] {
        let undo = fx.store.read(|c| Ok(c.execute(undo, [])?));
        assert!(matches!(undo, Err(Error::Sqlite(_))), "{undo:?}");
    }
    let id = check_in(&mut fx);
    let _ = id;
    let delete = fx.store.read(|c| Ok(c.execute("DELETE FROM outbox WHERE seq > ?1", [last])?));
    assert!(matches!(delete, Err(Error::Sqlite(_))), "{delete:?}");
    assert_eq!(fx.store.read(|c| Ok(c.execute("DELETE FROM outbox WHERE seq = 1", [])?)).unwrap(), 1);

    // A 409 that moves back re-sends from there; acknowledgements already recorded stay.
    fx.store.write(None, Utc::now(), |w| sync::rewind(w, 3)).unwrap();
    let status = fx.store.read(sync::status).unwrap();
    assert_eq!((status.acked_through_seq, status.waiting), (2, 1));
    // And one that moves forward acknowledges what the hub holds.
    fx.store.write(None, Utc::now(), |w| sync::rewind(w, last + 2)).unwrap();
    let status = fx.store.read(sync::status).unwrap();
    assert_eq!((status.acked_through_seq, status.waiting, status.safe_to_shut), (last + 1, 0, true));
}

#[test]
fn a_refused_token_blocks_until_enrolled_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let first = enrolment();
    enrol(&mut fx.store, &first);
    let last = fx.store.read(sync::last_seq).unwrap();
    fx.store.write(None, Utc::now(), |w| sync::catch_up(w, last)).unwrap();
    let words = "Head office has withdrawn this laptop's permission to send.";
    fx.store.write(None, Utc::now(), |w| sync::block(w, words)).unwrap();
    let status = fx.store.read(sync::status).unwrap();
    assert!(status.blocked);
    assert_eq!(status.last_error.as_deref(), Some(words));
    assert!(fx.store.read(sync::hub).unwrap().unwrap().blocked);

    // The same device enrolled again keeps its acknowledgements.
    let again = Enrolment { device_token: "another-token-another-token-another".into(), ..first.clone() };
    enrol(&mut fx.store, &again);
    let hub = fx.store.read(sync::hub).unwrap().unwrap();
    assert!(!hub.blocked);
    assert_eq!((hub.token.expose(), hub.acked_through_seq), (again.device_token.as_str(), last));
    assert_eq!(fx.store.read(sync::status).unwrap().last_error, None);
    // A new device at the hub starts from nothing acknowledged there.
    let other = enrolment();
    enrol(&mut fx.store, &other);
    let hub = fx.store.read(sync::hub).unwrap().unwrap();
    assert_eq!((hub.device_id, hub.acked_through_seq), (other.device_id, 0));
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM audit WHERE action = 'device_enrolled'"), 3);
}

fn slot(id: &str, name: &str) -> serde_json::Value {
    json!({"id": id, "name": name, "weekday": 2, "starts_at": "09:30", "ends_at": "11:00", "kind": "open"})
}

fn entry(key: &str, version: i64, item: Option<serde_json::Value>) -> ReferenceEntry {
    ReferenceEntry { key: key.into(), version, item }
}

#[test]
fn a_reference_page_with_a_bad_item_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let good = ReferencePage {
        items: vec![entry("mon", 1, Some(slot("mon", "Monday"))), entry("tue", 1, Some(slot("tue", "Tuesday")))],
        next_since: 2,
        has_more: true,
    };
    let n =
        fx.store.write(None, Utc::now(), |w| sync::apply_reference_page(w, dataset::SESSION_SLOTS, 0, &good)).unwrap();
    assert_eq!(n, 2);
    let backwards =
        json!({"id": "wed", "name": "W", "weekday": 3, "starts_at": "11:00", "ends_at": "09:00", "kind": "open"});
    let bad_pages = [
        vec![entry("mon", 2, None), entry("wed", 2, Some(backwards))],
        vec![entry("thu", 2, Some(slot("fri", "Friday")))],
        vec![entry("thu", 0, Some(slot("thu", "Thursday")))],
        vec![entry("x", 2, Some(json!("not an object")))],
    ];
    for items in bad_pages {
        let page = ReferencePage { items, next_since: 4, has_more: false };
        let refused =
            fx.store.write(None, Utc::now(), |w| sync::apply_reference_page(w, dataset::SESSION_SLOTS, 2, &page));
        let Err(Error::Conflict(words)) = refused else { panic!("{refused:?}") };
        assert!(words.contains("Nothing from that page was used"), "{words}");
        fx.store.write(None, Utc::now(), |w| sync::record_error(w, &words)).unwrap();
    }
    let items = fx.store.read(|c| sync::reference_items(c, dataset::SESSION_SLOTS)).unwrap();
    assert_eq!(items, [slot("mon", "Monday"), slot("tue", "Tuesday")], "the delete of mon was not applied either");
    assert_eq!(fx.store.read(|c| sync::reference_cursor(c, dataset::SESSION_SLOTS)).unwrap(), 2);
    assert!(fx.store.read(sync::status).unwrap().last_error.unwrap().contains("session_slots"));
    // A page asked for from a stale cursor, one going backwards, or an unknown dataset: refused too.
    let page = ReferencePage { items: vec![], next_since: 3, has_more: false };
    assert!(
        fx.store.write(None, Utc::now(), |w| sync::apply_reference_page(w, dataset::SESSION_SLOTS, 0, &page)).is_err()
    );
    let back = ReferencePage { items: vec![], next_since: 1, has_more: false };
    assert!(
        fx.store.write(None, Utc::now(), |w| sync::apply_reference_page(w, dataset::SESSION_SLOTS, 2, &back)).is_err()
    );
    assert!(fx.store.write(None, Utc::now(), |w| sync::apply_reference_page(w, "menu", 0, &page)).is_err());
    assert!(fx.store.read(|c| sync::reference_items(c, dataset::PRICE_LIST)).unwrap().is_empty());
}

#[test]
fn any_prefix_of_reference_pages_leaves_cursor_and_items_consistent() {
    // A log of three imports: v1 adds a..e, v2 changes b, removes c and adds f, v3 removes a and
    // re-adds c. Paged by twos as a hub would.
    let mut log = Vec::new();
    for k in ["a", "b", "c", "d", "e"] {
        log.push(entry(k, 1, Some(slot(k, &format!("{k} v1")))));
    }
    log.push(entry("b", 2, Some(slot("b", "b v2"))));
    log.push(entry("c", 2, None));
    log.push(entry("f", 2, Some(slot("f", "f v2"))));
    log.push(entry("a", 3, None));
    log.push(entry("c", 3, Some(slot("c", "c v3"))));
    let pages: Vec<ReferencePage> = log
        .chunks(2)
        .enumerate()
        .map(|(i, c)| ReferencePage {
            items: c.to_vec(),
            next_since: (i as i64 + 1) * 2,
            has_more: (i + 1) * 2 < log.len(),
        })
        .collect();
    for prefix in 0..=pages.len() {
        let dir = tempfile::tempdir().unwrap();
        let mut fx = common::set_up(dir.path());
        let mut since = 0;
        for page in &pages[..prefix] {
            fx.store
                .write(None, Utc::now(), |w| sync::apply_reference_page(w, dataset::SESSION_SLOTS, since, page))
                .unwrap();
            since = page.next_since;
        }
        // What the first `prefix` pages say, applied in order by key.
        let mut model = BTreeMap::new();
        for e in pages[..prefix].iter().flat_map(|p| &p.items) {
            match &e.item {
                Some(item) => model.insert(e.key.clone(), item.clone()),
                None => model.remove(&e.key),
            };
        }
        let items = fx.store.read(|c| sync::reference_items(c, dataset::SESSION_SLOTS)).unwrap();
        assert_eq!(items, model.into_values().collect::<Vec<_>>(), "after {prefix} page(s)");
        let cursor = fx.store.read(|c| sync::reference_cursor(c, dataset::SESSION_SLOTS)).unwrap();
        assert_eq!(cursor, since, "after {prefix} page(s)");
        let versions = common::count(&fx.store, "SELECT COALESCE(max(version), 0) FROM reference_item");
        assert!(versions <= prefix as i64, "no entry from a page not yet applied");
    }
}
