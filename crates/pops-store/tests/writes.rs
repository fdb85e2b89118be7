//! Every record write leaves exactly one outbox change and one audit entry, in one transaction; a
//! failed write leaves nothing at all; outbox numbers have no gaps.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use pops_domain::change::Op;
use pops_store::{Error, outbox, visits};

fn totals(store: &pops_store::Store) -> (i64, i64, i64) {
    (
        common::count(store, "SELECT count(*) FROM check_in"),
        common::count(store, "SELECT count(*) FROM outbox"),
        common::count(store, "SELECT count(*) FROM audit"),
    )
}

#[test]
fn each_write_leaves_one_change_and_one_audit_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let (c0, o0, a0) = totals(&fx.store);
    let record = fx
        .store
        .write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None)))
        .unwrap();
    assert_eq!(totals(&fx.store), (c0 + 1, o0 + 1, a0 + 1));

    let change = fx.store.read(|c| outbox::changes_after(c, o0, 10)).unwrap().remove(0);
    assert_eq!(change.seq, o0 + 1);
    assert_eq!(change.entity, "check_in");
    assert_eq!(change.entity_id, record.id);
    assert_eq!(change.op, Op::Upsert);
    assert_eq!(change.user_id, fx.user);
    assert_eq!(change.schema_version, pops_store::schema::VERSION);
    assert_eq!(change.change_id.get_version_num(), 7);
    assert_eq!(change.payload, serde_json::to_value(&record).unwrap());

    let out = fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_out(w, record.id)).unwrap();
    assert_eq!(totals(&fx.store), (c0 + 1, o0 + 2, a0 + 2));
    let change = fx.store.read(|c| outbox::changes_after(c, o0 + 1, 10)).unwrap().remove(0);
    assert_eq!(change.payload, serde_json::to_value(&out).unwrap(), "the payload is the whole new record");
}

#[test]
fn refused_writes_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let record = fx
        .store
        .write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None)))
        .unwrap();
    fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_out(w, record.id)).unwrap();
    let before = totals(&fx.store);

    let twice = fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_out(w, record.id));
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    let unknown =
        fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(uuid::Uuid::now_v7(), None)));
    assert!(matches!(unknown, Err(Error::NotFound(_))), "{unknown:?}");
    let same_slot =
        fx.store.write(Some(fx.user), Utc::now(), |w| visits::add_session(w, "2026-11-25", &common::morning()));
    assert!(matches!(same_slot, Err(Error::Conflict(_))), "{same_slot:?}");
    // A failure after the record and its change were written rolls all of it back.
    let late = fx.store.write(Some(fx.user), Utc::now(), |w| {
        visits::check_in(w, &common::party(fx.session.id, None))?;
        Err::<(), _>(Error::Conflict("stopped on purpose".into()))
    });
    assert!(late.is_err());
    assert_eq!(totals(&fx.store), before);
}

#[test]
fn outbox_numbers_have_no_gaps_and_rows_cannot_be_edited() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    for i in 0..30 {
        let r = fx.store.write(Some(fx.user), Utc::now(), |w| {
            visits::check_in(w, &common::party(fx.session.id, None))?;
            if i % 3 == 0 { Err(Error::Conflict("roll back".into())) } else { Ok(()) }
        });
        assert_eq!(r.is_ok(), i % 3 != 0);
    }
    let changes = fx.store.read(|c| outbox::changes_after(c, 0, 1000)).unwrap();
    for (i, c) in changes.iter().enumerate() {
        assert_eq!(c.seq, i as i64 + 1);
    }
    let conn = fx.store.connection_for_tests();
    assert!(conn.execute("UPDATE outbox SET payload = '{}' WHERE seq = 1", []).is_err());
    assert!(conn.execute("DELETE FROM outbox WHERE seq = 1", []).is_err());
    assert_eq!(changes.len() as i64, common::count(&fx.store, "SELECT count(*) FROM outbox"));
}

#[test]
fn the_store_counts_the_changes_it_commits_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let start = fx.store.changes_written();
    let record = fx
        .store
        .write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None)))
        .unwrap();
    assert_eq!(fx.store.changes_written(), start + 1);
    fx.store.write(Some(fx.user), Utc::now(), |w| w.audit("looked", None, None, "")).unwrap();
    assert_eq!(fx.store.changes_written(), start + 1, "an audit entry alone is no news for head office");
    let refused = fx.store.write(Some(fx.user), Utc::now(), |w| {
        visits::check_out(w, record.id)?;
        Err::<(), _>(Error::Conflict("changed my mind".into()))
    });
    assert!(refused.is_err());
    assert_eq!(fx.store.changes_written(), start + 1, "a rolled-back change is not counted");
    fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_out(w, record.id)).unwrap();
    assert_eq!(fx.store.changes_written(), start + 2);
}
