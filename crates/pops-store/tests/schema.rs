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
        schema::create_version_1(&tx).unwrap();
        tx.commit().unwrap();
    }
    let upgraded = Store::open(&old_path, &key).unwrap();

    let a = fresh.read(|c| Ok(describe(c))).unwrap();
    let b = upgraded.read(|c| Ok(describe(c))).unwrap();
    assert_eq!(a, b);
    assert!(a.iter().any(|l| l.starts_with("table check_in")));
    assert_eq!(a.last().unwrap(), &format!("user_version {}", schema::VERSION));
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
