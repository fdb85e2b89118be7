//! A database made by an older version and upgraded step by step is the same as a fresh one.
#![allow(clippy::unwrap_used)]

use pops_store::{DbKey, Store, schema};
use rusqlite::Connection;

/// Every table, index and trigger with its SQL, and every column with its declared shape.
fn describe(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        .unwrap();
    let objects: Vec<(String, String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
    for (kind, name, table, sql) in objects {
        let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(format!("{kind} {name} on {table}: {sql}"));
        if kind == "table" {
            let mut cols = conn.prepare(&format!("PRAGMA table_xinfo({name})")).unwrap();
            let c: Vec<String> = cols
                .query_map([], |r| {
                    Ok(format!(
                        "  {} {} notnull={} default={:?} pk={}",
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, i64>(5)?
                    ))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            out.extend(c);
        }
    }
    out.push(format!("user_version {}", conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap()));
    out
}

#[test]
fn upgraded_database_equals_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();

    let fresh = Store::open(&dir.path().join("fresh.db"), &key).unwrap();

    let old_path = dir.path().join("old.db");
    {
        let mut conn = Connection::open(&old_path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 1).unwrap();
        tx.commit().unwrap();
    }
    let upgraded = Store::open(&old_path, &key).unwrap();

    let a = fresh.read(|c| Ok(describe(c))).unwrap();
    let b = upgraded.read(|c| Ok(describe(c))).unwrap();
    assert_eq!(a, b);
    assert!(a.iter().any(|l| l.starts_with("table check_in")));
    assert_eq!(a.last().unwrap(), &format!("user_version {}", schema::VERSION));
    // The hub refuses changes newer than the version it knows: keep the two in step.
    assert_eq!(schema::VERSION, pops_domain::sync::MAX_SCHEMA_VERSION);
}

#[test]
fn a_newer_database_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("centre.db");
    drop(Store::open(&path, &key).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        conn.pragma_update(None, "user_version", schema::VERSION + 1).unwrap();
    }
    assert!(matches!(Store::open(&path, &key), Err(pops_store::Error::TooNew { .. })));
}

#[test]
fn version_2_sessions_and_check_ins_survive_the_upgrade_to_version_3() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("v2.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 2).unwrap();
        tx.execute_batch(
            "INSERT INTO account VALUES ('a1', 'manager', 'M', 'manager', 1, '2026-11-01T10:00:00Z', NULL, 'k');
             INSERT INTO visits_session VALUES ('s1', '2026-11-01', 'afternoon', '2026-11-01T13:00:00Z', 'a1');
             INSERT INTO check_in (id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time,
                                   lead_name, arrived_at, left_at, checked_in_by, checked_out_by)
             VALUES ('c1', 's1', 2, 0, 0, 1, 0, 0, 1, NULL, '2026-11-01T13:05:00Z', NULL, 'a1', NULL);",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let store = Store::open(&path, &key).unwrap();
    let (name, starts, kind): (String, String, String) = store
        .read(|c| {
            Ok(c.query_row("SELECT name, starts_at, kind FROM visits_session WHERE id = 's1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?)
        })
        .unwrap();
    assert_eq!((name.as_str(), starts.as_str(), kind.as_str()), ("Afternoon", "14:00", "open"));
    let (needs, walkthrough): (String, String) = store
        .read(|c| {
            Ok(c.query_row("SELECT needs, walkthrough FROM check_in WHERE id = 'c1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
        })
        .unwrap();
    assert_eq!((needs.as_str(), walkthrough.as_str()), ("{}", "[]"));
    // The check-in still refers to its (rebuilt) session.
    let broken: i64 =
        store.read(|c| Ok(c.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?)).unwrap();
    assert_eq!(broken, 0);
}

#[test]
fn version_3_check_ins_survive_the_upgrades_and_families_can_be_searched_after() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("v3.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 3).unwrap();
        tx.execute_batch(
            "INSERT INTO account VALUES ('a1', 'manager', 'M', 'manager', 1, '2026-11-01T10:00:00Z', NULL, 'k');
             INSERT INTO visits_session (id, date, name, starts_at, ends_at, kind, opened_at, opened_by)
             VALUES ('s1', '2026-11-01', 'Afternoon', '14:00', '16:00', 'open', '2026-11-01T13:00:00Z', 'a1');
             INSERT INTO check_in (id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time,
                                   lead_name, arrived_at, left_at, checked_in_by, checked_out_by)
             VALUES ('c1', 's1', 2, 0, 0, 1, 0, 0, 1, NULL, '2026-11-01T13:05:00Z', NULL, 'a1', NULL);",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let store = Store::open(&path, &key).unwrap();
    let family: Option<String> =
        store.read(|c| Ok(c.query_row("SELECT family_id FROM check_in WHERE id = 'c1'", [], |r| r.get(0))?)).unwrap();
    assert_eq!(family, None);
    store
        .read(|c| {
            c.execute_batch(
                "INSERT INTO family (rid, id, doc) VALUES (1, 'f1', '{}');
                 INSERT INTO family_card (rid, id, names, search_text, consent_expires)
                 VALUES (1, 'f1', 'Anna Nowak', 'Anna Nowak', '2027-11-01');
                 UPDATE check_in SET family_id = 'f1' WHERE id = 'c1';",
            )?;
            Ok(())
        })
        .unwrap();
    let found: i64 = store
        .read(|c| {
            Ok(c.query_row("SELECT rowid FROM family_search WHERE family_search MATCH '\"owa\"'", [], |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(found, 1);
    let visits: (String, i64) = store
        .read(
            |c| Ok(c.query_row("SELECT first_visit, check_ins FROM family_card", [], |r| Ok((r.get(0)?, r.get(1)?)))?),
        )
        .unwrap();
    assert_eq!(visits, ("2026-11-01T13:05:00Z".to_string(), 1), "the card follows the check-ins linked to it");
}

#[test]
fn version_4_families_move_to_cards_and_the_new_indexes_in_version_5() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("v4.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 4).unwrap();
        // Version 4 kept the search text (word starts marked with two U+0001) on the family row.
        tx.execute_batch(
            "INSERT INTO account VALUES ('a1', 'manager', 'M', 'manager', 1, '2026-11-01T10:00:00Z', NULL, 'k');
             INSERT INTO visits_session (id, date, name, starts_at, ends_at, kind, opened_at, opened_by)
             VALUES ('s1', '2026-11-01', 'Afternoon', '14:00', '16:00', 'open', '2026-11-01T13:00:00Z', 'a1');
             INSERT INTO family (id, consent_expires, search_text, doc) VALUES (
                 '0190b3a0-0000-7000-8000-000000000001', '2027-11-01',
                 char(1, 1) || 'Aisha' || char(1, 1) || 'Khan' || char(1, 1) || 'Ali' || char(10)
                     || char(1, 1) || 'Zoë' || char(1, 1) || 'ONeil',
                 json_object('members', json_array(json_object('name', 'Aisha Khan-Ali'),
                                                    json_object('name', 'Zoë O''Neil'))));
             INSERT INTO family (id, removed_at, doc) VALUES ('0190b3a0-0000-7000-8000-000000000002',
                 '2026-11-02T10:00:00Z', json_object('reason', 'consent_withdrawn'));
             INSERT INTO check_in (id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time,
                                   lead_name, arrived_at, left_at, checked_in_by, checked_out_by, family_id)
             VALUES ('c1', 's1', 2, 0, 0, 1, 0, 0, 1, NULL, '2026-11-01T13:05:00Z', NULL, 'a1', NULL,
                     '0190b3a0-0000-7000-8000-000000000001'),
                    ('c2', 's1', 1, 0, 0, 0, 0, 0, 0, NULL, '2026-11-01T13:10:00Z', NULL, 'a1', NULL,
                     '0190b3a0-0000-7000-8000-000000000002');",
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let store = Store::open(&path, &key).unwrap();
    let cards: Vec<(String, String, i64)> = store
        .read(|c| {
            let mut s = c.prepare("SELECT names, search_text, check_ins FROM family_card")?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap();
    assert_eq!(
        cards,
        [("Aisha Khan-Ali\nZoë O'Neil".into(), "Aisha Khan Ali \u{E000} Zoë ONeil".into(), 1)],
        "one card, for the live family only"
    );
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    for query in ["han al", "zoe", "ONEIL", "k"] {
        let found = store.read(|c| pops_store::families::search_families(c, query, today, 20)).unwrap();
        assert_eq!(found.len(), 1, "{query}");
        assert_eq!(found[0].names, ["Aisha Khan-Ali", "Zoë O'Neil"]);
        assert_eq!(found[0].visits.first_visit.as_deref(), Some("2026-11-01T13:05:00Z"));
    }
    store
        .read(|c| {
            c.execute("INSERT INTO family_search (family_search) VALUES ('integrity-check')", [])?;
            Ok(c.execute("INSERT INTO family_word (family_word) VALUES ('integrity-check')", [])?)
        })
        .unwrap();
    let broken: i64 =
        store.read(|c| Ok(c.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?)).unwrap();
    assert_eq!(broken, 0, "the check-ins still refer to their families");
}

#[test]
fn version_5_outbox_rows_are_waiting_for_head_office_after_the_upgrade_to_version_6() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("v5.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 5).unwrap();
        for seq in 1..=3 {
            tx.execute(
                "INSERT INTO outbox (seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version,
                                     payload, audit_id, audit_hash)
                 VALUES (?1, ?2, 'check_in', ?3, 'upsert', '2026-11-01T13:05:00.000Z', ?4, 5, '{}', ?1, 'h')",
                rusqlite::params![
                    seq,
                    uuid::Uuid::now_v7().to_string(),
                    format!("0190b3a0-0000-7000-8000-00000000000{seq}"),
                    uuid::Uuid::now_v7().to_string()
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let store = Store::open(&path, &key).unwrap();
    let status = store.read(pops_store::sync::status).unwrap();
    assert!(!status.enrolled && !status.blocked && !status.safe_to_shut);
    assert_eq!((status.waiting, status.acked_through_seq, status.quarantined), (3, 0, 0));
    let sent: i64 =
        store.read(|c| Ok(c.query_row("SELECT sent_through_seq FROM sync_state", [], |r| r.get(0))?)).unwrap();
    assert_eq!(sent, 0, "nothing has gone out yet");
    let id = uuid::Uuid::parse_str("0190b3a0-0000-7000-8000-000000000002").unwrap();
    let states = store.read(|c| pops_store::sync::record_states(c, "check_in", &[id])).unwrap();
    assert_eq!(states[&id], pops_store::sync::RecordState::Saved);
    assert_eq!(store.read(pops_store::sync::hub).unwrap().map(|h| h.device_id), None);
}

#[test]
fn a_version_6_laptop_has_no_restore_after_the_upgrade_to_version_7() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("v6.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 6).unwrap();
        tx.execute(
            "INSERT INTO session_template (id, weekday, starts_at, doc) VALUES (?1, 3, '14:00', ?2)",
            rusqlite::params![
                "0190b3a0-0000-7000-8000-000000000001",
                r#"{"id":"0190b3a0-0000-7000-8000-000000000001","weekday":3,"name":"Afternoon visits","starts_at":"14:00","ends_at":"16:00","kind":"open","retired_at":null}"#
            ],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let store = Store::open(&path, &key).unwrap();
    assert_eq!(store.read(pops_store::restore::progress).unwrap(), None);
    assert!(!store.read(pops_store::restore::restoring).unwrap());
    // With no restore under way, every live template makes its day's sessions, as before.
    let due = store.read(|c| pops_store::visits::missing_template_sessions(c, "2026-12-02", 3)).unwrap();
    assert_eq!(due.len(), 1);
    let words = store.read(pops_store::restore::check_can_start).unwrap_err().to_string();
    assert!(words.starts_with("Enrol this laptop"), "{words}");
}

#[test]
fn version_8_stamps_on_outbox_rows_become_the_marks_of_version_9() {
    let dir = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = dir.path().join("v8.db");
    let id = |seq: i64| format!("0190b3a0-0000-7000-8000-00000000000{seq}");
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", format!("x'{}'", hex::encode(key.as_bytes()))).unwrap();
        let tx = conn.transaction().unwrap();
        schema::create_version(&tx, 8).unwrap();
        tx.execute(
            "UPDATE sync_state SET hub_url = 'https://hub.example.org', device_id = ?1, centre_id = ?1,
                    device_token = 'token-token-token-token-token-token', acked_through_seq = 3",
            [uuid::Uuid::now_v7().to_string()],
        )
        .unwrap();
        // Rows 1–3 acknowledged, 4–5 sent, 6 neither: each a check-in of its own.
        for seq in 1..=6i64 {
            let acked = (seq <= 3).then_some("2026-11-01T13:06:00.000Z");
            let sent = (seq <= 5).then_some("2026-11-01T13:05:30.000Z");
            tx.execute(
                "INSERT INTO outbox (seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version,
                                     payload, audit_id, audit_hash, acked_at, sent_at)
                 VALUES (?1, ?2, 'check_in', ?3, 'upsert', '2026-11-01T13:05:00.000Z', ?4, 8, '{}', ?1, 'h', ?5, ?6)",
                rusqlite::params![
                    seq,
                    uuid::Uuid::now_v7().to_string(),
                    id(seq),
                    uuid::Uuid::now_v7().to_string(),
                    acked,
                    sent
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let store = Store::open(&path, &key).unwrap();
    let marks: (i64, i64) = store
        .read(|c| {
            Ok(c.query_row("SELECT confirmed_through_seq, sent_through_seq FROM sync_state", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
        })
        .unwrap();
    assert_eq!(marks, (3, 5));
    let status = store.read(pops_store::sync::status).unwrap();
    assert_eq!((status.waiting, status.acked_through_seq, status.safe_to_shut), (3, 3, false));
    let ids: Vec<uuid::Uuid> = (1..=6).map(|s| uuid::Uuid::parse_str(&id(s)).unwrap()).collect();
    let states = store.read(|c| pops_store::sync::record_states(c, "check_in", &ids)).unwrap();
    use pops_store::sync::RecordState::{Confirmed, Queued, Sent};
    let got: Vec<_> = ids.iter().map(|i| states[i]).collect();
    assert_eq!(got, [Confirmed, Confirmed, Confirmed, Sent, Sent, Queued]);
    let columns: i64 = store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM pragma_table_info('outbox') WHERE name IN ('acked_at', 'sent_at')",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(columns, 0, "the stamps are gone");
}
