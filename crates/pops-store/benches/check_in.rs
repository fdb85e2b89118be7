//! Benchmark: one check-in commit (record + outbox change + audit entry, SQLCipher, WAL,
//! `synchronous=FULL`) against a bare insert of one row into an unencrypted SQLite file with the
//! same durability, measured in the same run. Target: at most 1.3× the bare insert.
//! A third figure, the same bare insert into a SQLCipher file, shows how much of the gap is the
//! encryption itself rather than the outbox and audit rows.
//!
//! All three are measured in their steady state: each first writes until its write-ahead log has
//! filled and been checkpointed at least once, so that every measured commit overwrites log space
//! already on disk, as a laptop's does after its first hour. A log still growing costs the file
//! system a block allocation and a metadata journal entry on every commit; a short run would charge
//! that to the bare insert (two pages a commit, so its log grows for ~450 commits) and not to the
//! check-in (whose log wraps within ~160), and flatter the ratio.
//!
//! `POPS_BENCH_ROUNDS` sets the measured commits of each (default 1,000).

use chrono::Utc;
use pops_domain::visits::{AgeBands, HelpGiven, PartyArrival, SessionTimes, SupportNeeds, VisitKind};
use pops_store::{DbKey, Store, visits};
use rusqlite::{Connection, params};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Commits of each before measuring: enough for every log to fill (1,000 pages) and wrap.
const WARM_UP: usize = 1_200;

fn rounds() -> usize {
    std::env::var("POPS_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(1_000)
}

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

/// Times `f`, adding the time to `into` when it is given.
fn timed<T, E>(into: Option<&mut Vec<Duration>>, f: impl FnOnce() -> Result<T, E>) -> Result<(), E> {
    let t = Instant::now();
    f()?;
    if let Some(into) = into {
        into.push(t.elapsed());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let user = Uuid::now_v7();

    let mut store = Store::open(&dir.path().join("centre.db"), &DbKey::generate())?;
    // The session's `opened_by` and each check-in's `checked_in_by` name an account, and foreign
    // keys stay on as in the app, so the account row is there (its key slot and PIN are not needed).
    store.connection_for_tests().execute(
        "INSERT INTO account (id, username, display_name, role, created_at, pin_key)
         VALUES (?1, 'bench', 'Bench', 'volunteer', ?2, '')",
        params![user.to_string(), Utc::now().to_rfc3339()],
    )?;
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

    let rounds = rounds();
    let mut ours = Vec::with_capacity(rounds);
    let mut base = Vec::with_capacity(rounds);
    let mut base_encrypted = Vec::with_capacity(rounds);
    // Interleave the three so that disk and machine noise falls on all alike.
    for i in 0..WARM_UP + rounds {
        let measured = i >= WARM_UP;
        timed(measured.then_some(&mut ours), || store.write(Some(user), Utc::now(), |w| visits::check_in(w, &party)))?;
        timed(measured.then_some(&mut base), || bare_insert(&bare, session.id))?;
        timed(measured.then_some(&mut base_encrypted), || bare_insert(&encrypted, session.id))?;
    }
    let (om, bm, em) = (median(ours.clone()), median(base.clone()), median(base_encrypted.clone()));
    println!("{rounds} commits of each, after {WARM_UP} to reach the steady state");
    println!("check-in commit (SQLCipher, record + outbox + audit): median {om:?}, p99 {:?}", p99(ours));
    println!("bare insert (plain SQLite, one row):                  median {bm:?}, p99 {:?}", p99(base));
    println!("bare insert (SQLCipher, one row):                     median {em:?}, p99 {:?}", p99(base_encrypted));
    println!(
        "encryption alone costs {:.2}x the bare insert; the outbox and audit rows {:.2}x the encrypted bare insert",
        em.as_secs_f64() / bm.as_secs_f64(),
        om.as_secs_f64() / em.as_secs_f64()
    );
    println!("ratio of medians: {:.2}x (target at most 1.30x)", om.as_secs_f64() / bm.as_secs_f64());
    Ok(())
}
