//! A writer killed with SIGKILL in the middle of its writes, again and again, never leaves a damaged
//! database, a record without its change, a change without its record, or a broken audit chain.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod common;

use chrono::Utc;
use pops_store::{DbKey, Store, audit, outbox, visits};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROUNDS: usize = 60;

/// The child: writes check-ins and check-outs as fast as it can until it is killed.
#[test]
#[ignore = "the child process of `sigkill_during_writes_leaves_a_whole_database`"]
fn crash_child_writer() {
    let dir = std::env::var("POPS_CRASH_DIR").expect("POPS_CRASH_DIR");
    let key: [u8; 32] = hex::decode(std::env::var("POPS_CRASH_KEY").expect("POPS_CRASH_KEY"))
        .expect("hex key")
        .try_into()
        .expect("32 bytes");
    let mut store = Store::open(&std::path::Path::new(&dir).join("centre.db"), &DbKey::from_bytes(key)).expect("open");
    let (user, session): (String, String) = store
        .read(|c| Ok(c.query_row("SELECT opened_by, id FROM visits_session", [], |r| Ok((r.get(0)?, r.get(1)?)))?))
        .expect("session");
    let user = uuid::Uuid::parse_str(&user).unwrap();
    let session = uuid::Uuid::parse_str(&session).unwrap();
    println!("writing");
    loop {
        let record = store
            .write(Some(user), Utc::now(), |w| visits::check_in(w, &common::party(session, Some("Crash Test"))))
            .expect("check in");
        store.write(Some(user), Utc::now(), |w| visits::check_out(w, record.id)).expect("check out");
    }
}

#[test]
fn sigkill_during_writes_leaves_a_whole_database() {
    let dir = tempfile::tempdir().unwrap();
    let fx = common::set_up(dir.path());
    let key = fx.key.clone();
    drop(fx);
    let mut previous_changes = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child_writer", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("POPS_CRASH_DIR", dir.path())
            .env("POPS_CRASH_KEY", hex::encode(key.as_bytes()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let started = lines.any(|l| l.map(|l| l.contains("writing")).unwrap_or(false));
        assert!(started, "round {round}: the child never started writing");
        // Vary the moment of the kill so it lands in different parts of a commit.
        std::thread::sleep(Duration::from_micros(2_000 + (round as u64 * 7_919) % 40_000));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let store = Store::open(&dir.path().join("centre.db"), &key).unwrap();
        store.integrity_check().unwrap_or_else(|e| panic!("round {round}: {e}"));
        let orphans = common::count(
            &store,
            "SELECT count(*) FROM check_in c WHERE NOT EXISTS
               (SELECT 1 FROM outbox o WHERE o.entity = 'check_in' AND o.entity_id = c.id)",
        );
        assert_eq!(orphans, 0, "round {round}: a check-in without its change");
        let unrecorded = common::count(
            &store,
            "SELECT count(*) FROM outbox o WHERE o.entity = 'check_in' AND NOT EXISTS
               (SELECT 1 FROM check_in c WHERE c.id = o.entity_id)",
        );
        assert_eq!(unrecorded, 0, "round {round}: a change without its check-in");
        // Every check-out's change is there too: left parties have two changes each.
        let left_without_change = common::count(
            &store,
            "SELECT count(*) FROM check_in c WHERE c.left_at IS NOT NULL AND
               (SELECT count(*) FROM outbox o WHERE o.entity_id = c.id) <> 2",
        );
        assert_eq!(left_without_change, 0, "round {round}: a check-out without its change");
        let changes = store.read(|c| outbox::changes_after(c, 0, i64::MAX)).unwrap();
        for (i, c) in changes.iter().enumerate() {
            assert_eq!(c.seq, i as i64 + 1, "round {round}: a gap in the outbox");
        }
        let audit_entries = common::count(&store, "SELECT count(*) FROM audit");
        assert_eq!(audit_entries, changes.len() as i64, "round {round}: every change has its audit entry");
        let v = store.read(audit::verify).unwrap();
        assert_eq!(v.problem, None, "round {round}");
        assert!(changes.len() >= previous_changes, "round {round}: committed changes were lost");
        previous_changes = changes.len();
    }
    assert!(previous_changes > ROUNDS, "the children wrote almost nothing ({previous_changes} changes)");
}
