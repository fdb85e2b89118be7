//! Opening the encrypted database, and the two ways in: `read`, and `write`, which commits a record,
//! its outbox change and its audit entry in one transaction or not at all.

use crate::key::DbKey;
use crate::{Error, Result, audit, outbox, schema};
use chrono::{DateTime, Utc};
use pops_domain::change::{Change, Op};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use serde::Serialize;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// SQLite's page cache for the open database, in KiB.
pub const CACHE_KIB: i64 = 64 * 1024;

/// An open centre database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Outbox changes committed through this connection since it was opened.
    changes_written: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase)
}

impl Store {
    /// Opens (creating if missing) the database at `path` with `key`, and brings its schema up to date.
    /// A wrong key answers `Error::WrongKey` and changes nothing.
    pub fn open(path: &Path, key: &DbKey) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.pragma_update(None, "key", &*key.pragma_value())?;
        // The first read decides whether the key fits.
        if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            return Err(if is_not_a_database(&e) { Error::WrongKey } else { e.into() });
        }
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Every page read from the file is decrypted (AES and an HMAC), so pages kept in memory save
        // far more than in plain SQLite; the default cache (2 MB) holds little more than the index
        // roots. Up to 64 MiB, taken only as pages are read.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Malformed(format!("journal mode is {mode}, not WAL")));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn, path: path.to_path_buf(), changes_written: 0 };
        // Foreign keys stay off while the schema is brought up to date (see `schema::ensure`).
        store.conn.pragma_update(None, "foreign_keys", false)?;
        let tx = store.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        schema::ensure(&tx)?;
        tx.commit()?;
        store.conn.pragma_update(None, "foreign_keys", true)?;
        Ok(store)
    }

    /// Runs `f` on the database for reading.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn)
    }

    /// Runs `f` in one immediate transaction and commits when it answers `Ok`; on `Err` nothing is
    /// written. `user_id` is who is acting; `now` stamps the changes and audit entries.
    pub fn write<T>(
        &mut self,
        user_id: Option<Uuid>,
        now: DateTime<Utc>,
        f: impl FnOnce(&Writer<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let writer = Writer { tx, user_id, now, changes: Cell::new(0) };
        let value = f(&writer)?;
        let changes = writer.changes.get();
        writer.tx.commit()?;
        self.changes_written += changes;
        Ok(value)
    }

    /// How many outbox changes have been committed through this connection since it was opened:
    /// the app compares it before and after a command to know whether there is news for head office.
    pub fn changes_written(&self) -> u64 {
        self.changes_written
    }

    /// `PRAGMA integrity_check`: `Ok` when SQLite finds nothing wrong.
    pub fn integrity_check(&self) -> Result<()> {
        let answer: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if answer == "ok" { Ok(()) } else { Err(Error::Malformed(format!("integrity check: {answer}"))) }
    }

    /// Direct access for tests that need to tamper with the file on purpose.
    #[doc(hidden)]
    pub fn connection_for_tests(&self) -> &Connection {
        &self.conn
    }
}

/// The open transaction of a `write`, with the two things every record write must do.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
    /// Changes recorded in this transaction (counted once it commits).
    changes: Cell<u64>,
}

impl Writer<'_> {
    pub fn tx(&self) -> &Transaction<'_> {
        &self.tx
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user_id
    }

    /// Records a change to a record already written in this transaction: its outbox row (with the
    /// record's whole new state) and its audit entry (`action`, `detail`: no personal data).
    pub fn record<T: Serialize>(
        &self,
        entity: &'static str,
        entity_id: Uuid,
        op: Op,
        record: &T,
        action: &str,
        detail: &str,
    ) -> Result<Change> {
        let user_id = self.user_id.ok_or(Error::Malformed("a record change needs the person making it".into()))?;
        let link = audit::append(&self.tx, self.now, self.user_id, action, Some(entity), Some(entity_id), detail)?;
        let change =
            outbox::append(&self.tx, entity, entity_id, op, serde_json::to_value(record)?, user_id, self.now, &link)?;
        self.changes.set(self.changes.get() + 1);
        Ok(change)
    }

    /// Writes an audit entry that changes no record (a sign-in, a refused attempt, a check).
    pub fn audit(&self, action: &str, entity: Option<&str>, entity_id: Option<Uuid>, detail: &str) -> Result<()> {
        audit::append(&self.tx, self.now, self.user_id, action, entity, entity_id, detail).map(drop)
    }

    /// An audit entry at another time and by another person (for entries held while the database was closed).
    pub fn audit_as(&self, at: DateTime<Utc>, user_id: Option<Uuid>, action: &str, detail: &str) -> Result<()> {
        audit::append(&self.tx, at, user_id, action, None, None, detail).map(drop)
    }
}

/// Runs one statement through the connection's prepared-statement cache (parsing SQL costs more
/// than the write itself on the check-in path).
pub(crate) fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// Reads one row through the prepared-statement cache.
pub(crate) fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}
