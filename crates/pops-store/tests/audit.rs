//! The audit log cannot be edited through SQL, and `verify` finds an entry that was edited, removed
//! or cut from the end by someone who got round the triggers.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use pops_store::{audit, visits};

fn fill(fx: &mut common::Fixture) {
    for _ in 0..10 {
        fx.store
            .write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None)))
            .unwrap();
    }
}

fn verify(fx: &common::Fixture) -> audit::Verification {
    fx.store.read(audit::verify).unwrap()
}

#[test]
fn an_untouched_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    fill(&mut fx);
    let v = verify(&fx);
    assert_eq!(v.problem, None);
    assert_eq!(v.entries, common::count(&fx.store, "SELECT count(*) FROM audit"));
    assert!(v.entries >= 13);
}

#[test]
fn the_triggers_refuse_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let fx = common::set_up(dir.path());
    let conn = fx.store.connection_for_tests();
    let e = conn.execute("UPDATE audit SET detail = 'x' WHERE id = 1", []).unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    assert_eq!(verify(&fx).problem, None);
}

fn tampered(sql: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    fill(&mut fx);
    let conn = fx.store.connection_for_tests();
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    conn.execute_batch(sql).unwrap();
    verify(&fx).problem
}

#[test]
fn an_edited_entry_is_found() {
    let p = tampered("UPDATE audit SET detail = 'adults=9' WHERE id = 5").unwrap();
    assert!(p.contains("entry 5 has been changed"), "{p}");
    let p = tampered("UPDATE audit SET user_id = NULL WHERE id = 7").unwrap();
    assert!(p.contains("entry 7"), "{p}");
}

#[test]
fn a_removed_entry_is_found() {
    let p = tampered("DELETE FROM audit WHERE id = 4").unwrap();
    assert!(p.contains("entry 4 is missing"), "{p}");
}

#[test]
fn entries_cut_from_the_end_are_found() {
    let p = tampered("DELETE FROM audit WHERE id > 8").unwrap();
    assert!(p.contains("removed"), "{p}");
}

#[test]
fn a_rehashed_forgery_is_found_by_the_head() {
    // Editing the last entry and fixing its own hash still breaks against the recorded head.
    let p = tampered("UPDATE audit SET hash = 'f00d' WHERE id = (SELECT max(id) FROM audit)").unwrap();
    assert!(p.contains("changed"), "{p}");
}
