//! The database schema: the full current SQL for a new database, and the steps that bring an older
//! database up to date, one version at a time. The version lives in `PRAGMA user_version`.

use crate::{Error, Result};
use rusqlite::Transaction;

/// The schema version this build writes.
pub const VERSION: i64 = 2;

/// Tables every version has had: the centre, settings, accounts, the outbox and the audit log.
const FOUNDATION: &str = r#"
CREATE TABLE centre (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    prison      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE setting (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;

CREATE TABLE account (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('volunteer', 'early_years', 'coordinator', 'manager')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    pin_key       TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Every change to a record, in order, waiting for (or acknowledged by) head office.
-- `change_id` is a fresh UUIDv7 per change; it carries no index, to keep each write small.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    change_id       TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    op              TEXT NOT NULL CHECK (op IN ('upsert', 'erase')),
    occurred_at     TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    -- The audit entry written with this change, and its hash: the chain's anchor, so that audit
    -- entries cut from the end of the log are found (see audit::verify).
    audit_id        INTEGER NOT NULL,
    audit_hash      TEXT NOT NULL,
    acked_at        TEXT
) STRICT;

CREATE TRIGGER outbox_change_is_fixed BEFORE UPDATE OF
    seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload, audit_id, audit_hash
    ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox changes cannot be edited');
END;

CREATE TRIGGER outbox_keeps_unsent BEFORE DELETE ON outbox WHEN OLD.acked_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'unsent outbox changes cannot be deleted');
END;

-- Who did what, when, to which record. Append-only and hash-chained.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    user_id    TEXT,
    action     TEXT NOT NULL,
    entity     TEXT,
    entity_id  TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
"#;

/// Version 2: visits sessions and check-ins.
const VISITS: &str = r#"
CREATE TABLE visits_session (
    id          TEXT PRIMARY KEY,
    date        TEXT NOT NULL,
    slot        TEXT NOT NULL CHECK (slot IN ('morning', 'afternoon', 'evening')),
    opened_at   TEXT NOT NULL,
    opened_by   TEXT NOT NULL REFERENCES account(id),
    UNIQUE (date, slot)
) STRICT, WITHOUT ROWID;

CREATE TABLE check_in (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES visits_session(id),
    adults          INTEGER NOT NULL CHECK (adults BETWEEN 0 AND 100),
    age_0_1         INTEGER NOT NULL CHECK (age_0_1 >= 0),
    age_2           INTEGER NOT NULL CHECK (age_2 >= 0),
    age_3_4         INTEGER NOT NULL CHECK (age_3_4 >= 0),
    age_5_11        INTEGER NOT NULL CHECK (age_5_11 >= 0),
    age_12_17       INTEGER NOT NULL CHECK (age_12_17 >= 0),
    first_time      INTEGER NOT NULL CHECK (first_time IN (0, 1)),
    lead_name       TEXT,
    arrived_at      TEXT NOT NULL,
    left_at         TEXT,
    checked_in_by   TEXT NOT NULL REFERENCES account(id),
    checked_out_by  TEXT REFERENCES account(id)
) STRICT, WITHOUT ROWID;

CREATE INDEX check_in_session ON check_in(session_id);
"#;

/// Creates every table of the current version in an empty database.
pub fn create(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(FOUNDATION)?;
    tx.execute_batch(VISITS)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

/// Brings a database at `version` up by exactly one version.
fn upgrade_from(tx: &Transaction<'_>, version: i64) -> Result<()> {
    match version {
        1 => tx.execute_batch(VISITS)?,
        _ => return Err(Error::Malformed(format!("no upgrade from schema version {version}"))),
    }
    Ok(())
}

/// Creates the schema, or upgrades it step by step. Runs inside one transaction.
pub fn ensure(tx: &Transaction<'_>) -> Result<()> {
    let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables == 0 {
            return create(tx);
        }
    }
    if version > VERSION {
        return Err(Error::TooNew { found: version, known: VERSION });
    }
    while version < VERSION {
        upgrade_from(tx, version)?;
        version += 1;
        tx.pragma_update(None, "user_version", version)?;
    }
    Ok(())
}

/// The schema as it was at version 1, for the upgrade test.
#[doc(hidden)]
pub fn create_version_1(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch(FOUNDATION)?;
    tx.pragma_update(None, "user_version", 1)?;
    Ok(())
}
