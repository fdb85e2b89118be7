//! Benchmark: one check-in commit (record + outbox change + audit entry, SQLCipher, WAL,
//! `synchronous=FULL`) against a bare insert of one row into an unencrypted SQLite file with the
//! same durability, measured in the same run. Target: at most 1.3× the bare insert.

use chrono::Utc;
use pops_domain::visits::{AgeBands, PartyArrival, Slot};
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let user = Uuid::now_v7();

    let mut store = Store::open(&dir.path().join("centre.db"), &DbKey::generate())?;
    // The session's `opened_by` must name an account; foreign keys are on.
    store.connection_for_tests().execute_batch("PRAGMA foreign_keys = OFF")?;
    let session = store.write(Some(user), Utc::now(), |w| visits::open_session(w, "2026-11-25", Slot::Morning))?;
    let party = PartyArrival {
        session_id: session.id,
        adults: 2,
        children: AgeBands { age_3_4: 1, age_5_11: 2, ..Default::default() },
        first_time: true,
        lead_name: None,
    };

    let bare = Connection::open(dir.path().join("bare.db"))?;
    bare.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    bare.pragma_update(None, "synchronous", "FULL")?;
    bare.execute_batch(
        "CREATE TABLE check_in (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, adults INTEGER NOT NULL,
         children INTEGER NOT NULL, first_time INTEGER NOT NULL, arrived_at TEXT NOT NULL)",
    )?;

    let mut ours = Vec::with_capacity(ROUNDS);
    let mut base = Vec::with_capacity(ROUNDS);
    // Interleave the two so that disk and machine noise falls on both alike.
    for _ in 0..ROUNDS {
        let t = Instant::now();
        store.write(Some(user), Utc::now(), |w| visits::check_in(w, &party))?;
        ours.push(t.elapsed());

        let t = Instant::now();
        bare.execute(
            "INSERT INTO check_in VALUES (?1, ?2, 2, 3, 1, ?3)",
            params![Uuid::now_v7().to_string(), session.id.to_string(), Utc::now().to_rfc3339()],
        )?;
        base.push(t.elapsed());
    }
    let (om, bm) = (median(ours.clone()), median(base.clone()));
    println!("check-in commit (SQLCipher, record + outbox + audit): median {om:?}, p99 {:?}", p99(ours));
    println!("bare insert (plain SQLite, one row):                  median {bm:?}, p99 {:?}", p99(base));
    println!("ratio of medians: {:.2}x (target at most 1.30x)", om.as_secs_f64() / bm.as_secs_f64());
    Ok(())
}
