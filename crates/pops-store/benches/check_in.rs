//! Benchmark: one check-in commit (record + outbox change + audit entry, SQLCipher, WAL,
//! `synchronous=FULL`) against a bare insert of one row into an unencrypted SQLite file with the
//! same durability, measured in the same run. Target: at most 1.3× the bare insert.
//! A third figure, the same bare insert into a SQLCipher file, shows how much of the gap is the
//! encryption itself rather than the outbox and audit rows.

use chrono::Utc;
use pops_domain::visits::{AgeBands, HelpGiven, PartyArrival, SessionTimes, SupportNeeds, VisitKind};
use pops_store::{DbKey, Store, visits};
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};
use uuid::Uuid;

const ROUNDS: usize = 400;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

fn bare_db(path: &std::path::Path, key: Option<&DbKey>) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    if let Some(key) = key {
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes())))?;
    }
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE check_in (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, adults INTEGER NOT NULL,
         children INTEGER NOT NULL, first_time INTEGER NOT NULL, arrived_at TEXT NOT NULL)",
    )?;
    Ok(conn)
}

fn bare_insert(conn: &Connection, session: Uuid) -> rusqlite::Result<usize> {
    conn.prepare_cached("INSERT INTO check_in VALUES (?1, ?2, 2, 3, 1, ?3)")?.execute(params![
        Uuid::now_v7().to_string(),
        session.to_string(),
        Utc::now().to_rfc3339()
    ])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let user = Uuid::now_v7();

    let mut store = Store::open(&dir.path().join("centre.db"), &DbKey::generate())?;
    // The session's `opened_by` must name an account; foreign keys are on.
    store.connection_for_tests().execute_batch("PRAGMA foreign_keys = OFF")?;
    let session = store.write(Some(user), Utc::now(), |w| {
        let times = SessionTimes {
            name: "Morning visits".into(),
            starts_at: "09:30".into(),
            ends_at: "11:30".into(),
            kind: VisitKind::Open,
        };
        visits::add_session(w, "2026-11-25", &times)
    })?;
    let party = PartyArrival {
        session_id: session.id,
        adults: 2,
        children: AgeBands { age_3_4: 1, age_5_11: 2, ..Default::default() },
        first_time: true,
        lead_name: None,
        needs: SupportNeeds::default(),
        help: HelpGiven::default(),
        family_id: None,
    };

    let bare = bare_db(&dir.path().join("bare.db"), None)?;
    let encrypted = bare_db(&dir.path().join("bare-encrypted.db"), Some(&DbKey::generate()))?;

    let mut ours = Vec::with_capacity(ROUNDS);
    let mut base = Vec::with_capacity(ROUNDS);
    let mut base_encrypted = Vec::with_capacity(ROUNDS);
    // Interleave the two so that disk and machine noise falls on both alike.
    for _ in 0..ROUNDS {
        let t = Instant::now();
        store.write(Some(user), Utc::now(), |w| visits::check_in(w, &party))?;
        ours.push(t.elapsed());

        let t = Instant::now();
        bare_insert(&bare, session.id)?;
        base.push(t.elapsed());

        let t = Instant::now();
        bare_insert(&encrypted, session.id)?;
        base_encrypted.push(t.elapsed());
    }
    let (om, bm) = (median(ours.clone()), median(base.clone()));
    println!("check-in commit (SQLCipher, record + outbox + audit): median {om:?}, p99 {:?}", p99(ours));
    println!("bare insert (plain SQLite, one row):                  median {bm:?}, p99 {:?}", p99(base));
    println!("bare insert (SQLCipher, one row):                     median {:?}", median(base_encrypted.clone()));
    println!(
        "encryption alone costs {:.2}x the bare insert; the outbox and audit rows {:.2}x the encrypted bare insert",
        median(base_encrypted.clone()).as_secs_f64() / bm.as_secs_f64(),
        om.as_secs_f64() / median(base_encrypted).as_secs_f64()
    );
    println!("ratio of medians: {:.2}x (target at most 1.30x)", om.as_secs_f64() / bm.as_secs_f64());
    Ok(())
}
