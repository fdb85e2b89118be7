//! The database file is encrypted at rest: it does not open without its key or with a wrong one, and
//! a planted name is nowhere in the bytes of the database, its WAL or its shared-memory file.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use pops_store::{DbKey, Error, Store, visits};

const PLANTED: &str = "Zebedee Quartermaine-Fotheringay";

#[test]
fn wrong_or_missing_key_does_not_open_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let fx = common::set_up(dir.path());
    drop(fx.store);
    let path = dir.path().join("centre.db");

    assert!(matches!(Store::open(&path, &DbKey::generate()), Err(Error::WrongKey)));

    // Without any key, SQLite itself cannot read it.
    let plain = rusqlite::Connection::open(&path).unwrap();
    let e = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
    assert!(e.is_err(), "an unkeyed connection read the schema");

    // The right key still opens it, and the wrong attempts changed nothing.
    let store = Store::open(&path, &fx.key).unwrap();
    store.integrity_check().unwrap();
    assert_eq!(common::count(&store, "SELECT count(*) FROM visits_session"), 1);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_planted_name_is_nowhere_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    for _ in 0..20 {
        fx.store
            .write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, Some(PLANTED))))
            .unwrap();
    }
    // Read the files while the WAL still holds the pages, and again after a checkpoint.
    let utf16: Vec<u8> = PLANTED.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let scan = || {
        let mut scanned = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(!contains(&bytes, PLANTED.as_bytes()), "{} holds the name in clear", path.display());
            assert!(!contains(&bytes, &utf16), "{} holds the name in UTF-16", path.display());
            assert!(!contains(&bytes, b"Quartermaine"), "{} holds part of the name", path.display());
            scanned += bytes.len();
        }
        scanned
    };
    assert!(std::fs::metadata(dir.path().join("centre.db-wal")).unwrap().len() > 0, "expected a WAL to scan");
    assert!(scan() > 0);
    fx.store.read(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)).unwrap();
    scan();
    // And the name really is stored: the check is not passing because nothing was written.
    let n = common::count(&fx.store, &format!("SELECT count(*) FROM check_in WHERE lead_name = '{PLANTED}'"));
    assert_eq!(n, 20);
}
