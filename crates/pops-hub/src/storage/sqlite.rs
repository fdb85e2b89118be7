//! [`Storage`] on one SQLite file (unencrypted: the hub runs on head office's server, not on a
//! laptop that can be carried off). One connection behind a mutex is the one writer; every write is
//! a `BEGIN IMMEDIATE` transaction, so a CLI command run beside the server waits its turn.

use super::logic::{BatchTx, ImportTx, run_batch, run_import};
use super::{
    CODE_LIFETIME_HOURS, CentreState, CentreSummary, DeviceState, LAST_SEEN_RESOLUTION_SECS, OfficeKey,
    OfficeKeySummary, PushOutcome, QuarantineEntry, Received, ReportRecord, Storage, TokenCheck, bad_uuid,
    check_key_name, rfc3339,
};
use crate::error::{Error, Result};
use crate::secret;
use chrono::{DateTime, Duration, Utc};
use pops_domain::change::{Change, Op};
use pops_domain::sync::{ChangesPage, Enrolment, RawChange, ReferenceEntry, ReferencePage};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// The schema: `STEPS[i]` takes a file from version `i` to `i + 1` (`PRAGMA user_version`). A new
/// file runs every step.
const STEPS: &[&str] = &[
    // 0 → 1
    "CREATE TABLE centres (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY,
        centre_id TEXT NOT NULL REFERENCES centres (id),
        made_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        device_id TEXT
    );
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        centre_id TEXT NOT NULL REFERENCES centres (id),
        token_hash TEXT NOT NULL UNIQUE,
        enrolled_at TEXT NOT NULL,
        last_seen_at TEXT,
        revoked_at TEXT,
        acked_through_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE changes (
        pos INTEGER PRIMARY KEY AUTOINCREMENT,
        change_id TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL REFERENCES devices (id),
        centre_id TEXT NOT NULL REFERENCES centres (id),
        seq INTEGER NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        op TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        user_id TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (device_id, seq)
    );
    CREATE INDEX changes_by_centre ON changes (centre_id, pos);
    CREATE INDEX changes_by_record ON changes (centre_id, entity, entity_id);
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        change_id TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices (id),
        centre_id TEXT NOT NULL REFERENCES centres (id),
        seq INTEGER NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        change TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (device_id, change_id)
    );
    CREATE INDEX quarantine_by_record ON quarantine (centre_id, entity, entity_id);
    CREATE TABLE batches (
        device_id TEXT NOT NULL REFERENCES devices (id),
        batch_id TEXT NOT NULL,
        hash TEXT NOT NULL,
        reply TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (device_id, batch_id)
    );
    CREATE TABLE records (
        centre_id TEXT NOT NULL REFERENCES centres (id),
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices (id),
        seq INTEGER NOT NULL,
        op TEXT NOT NULL,
        payload TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (centre_id, entity, entity_id)
    );
    CREATE TABLE reference_log (
        pos INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset TEXT NOT NULL,
        version INTEGER NOT NULL,
        key TEXT NOT NULL,
        item TEXT
    );
    CREATE INDEX reference_log_by_dataset ON reference_log (dataset, pos);
    CREATE TABLE reference_versions (
        dataset TEXT NOT NULL,
        version INTEGER NOT NULL,
        imported_at TEXT NOT NULL,
        items INTEGER NOT NULL,
        PRIMARY KEY (dataset, version)
    );",
    // 1 → 2: head office's page. A record points at its latest change (`pos`) instead of holding
    // a second copy of the payload, and keeps its report day (filled in for the records already
    // held by `backfill_report_days`); the access keys of the people who read the page.
    "CREATE TABLE records_new (
        centre_id TEXT NOT NULL REFERENCES centres (id),
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        device_id TEXT NOT NULL REFERENCES devices (id),
        seq INTEGER NOT NULL,
        op TEXT NOT NULL,
        pos INTEGER NOT NULL REFERENCES changes (pos),
        updated_at TEXT NOT NULL,
        day TEXT,
        PRIMARY KEY (centre_id, entity, entity_id)
    ) WITHOUT ROWID;
    INSERT INTO records_new (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at)
        SELECT r.centre_id, r.entity, r.entity_id, r.device_id, r.seq, r.op, c.pos, r.updated_at
        FROM records r JOIN changes c ON c.device_id = r.device_id AND c.seq = r.seq;
    DROP TABLE records;
    ALTER TABLE records_new RENAME TO records;
    CREATE INDEX records_by_day ON records (day) WHERE day IS NOT NULL;
    CREATE TABLE office_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        made_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );",
];

/// Rows written (or looked up) by one statement of a batch: a few statements for 500 changes, well
/// within SQLite's limit on bound values.
const ROWS_PER_STATEMENT: usize = 100;

/// The schema version this code writes.
pub const SQLITE_VERSION: i64 = STEPS.len() as i64;

pub struct SqliteStorage {
    conn: Mutex<Connection>,
    checkpoints: Checkpointer,
}

/// Copies the write-ahead log into the database on a thread and connection of its own, soon after
/// each commit, so that a batch's transaction does not stop to do it (SQLite's own checkpoint runs
/// inside the commit that crosses 1,000 pages: one batch in four or five paid for all of them).
/// The writer keeps SQLite's checkpoint too, at ten times the size, in case this one falls behind.
struct Checkpointer {
    signal: Arc<(Mutex<CheckpointState>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct CheckpointState {
    commits: bool,
    stop: bool,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let signal: Arc<(Mutex<CheckpointState>, std::sync::Condvar)> = Arc::default();
        let theirs = signal.clone();
        let thread = std::thread::Builder::new()
            .name("pops-hub-checkpoint".into())
            .spawn(move || {
                let (state, wake) = &*theirs;
                loop {
                    {
                        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
                        while !s.commits && !s.stop {
                            s = wake.wait(s).unwrap_or_else(|p| p.into_inner());
                        }
                        if s.stop {
                            return;
                        }
                        s.commits = false;
                    }
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(error = %e, "background checkpoint failed; the next commit tries again");
                    }
                }
            })
            .map_err(|e| Error::Database(format!("the checkpoint thread could not start: {e}")))?;
        Ok(Checkpointer { signal, thread: Some(thread) })
    }

    /// A commit happened: the log has frames to copy.
    fn nudge(&self) {
        let (state, wake) = &*self.signal;
        state.lock().unwrap_or_else(|p| p.into_inner()).commits = true;
        wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (state, wake) = &*self.signal;
        state.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn uuid(s: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| bad_uuid(what))
}

fn json(s: &str) -> Result<serde_json::Value> {
    Ok(serde_json::from_str(s)?)
}

const CHANGE_COLUMNS: &str = "change_id, seq, entity, entity_id, op, occurred_at, user_id, schema_version, payload";

type ChangeRow = (i64, String, i64, String, String, String, String, String, i64, String);

fn change_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChangeRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn change_from(row: ChangeRow) -> Result<(i64, Change)> {
    let (pos, change_id, seq, entity, entity_id, op, occurred_at, user_id, schema_version, payload) = row;
    Ok((
        pos,
        Change {
            change_id: uuid(&change_id, "change_id")?,
            seq,
            entity,
            entity_id: uuid(&entity_id, "entity_id")?,
            op: Op::parse(&op).ok_or_else(|| Error::Database("a stored op is unknown".into()))?,
            occurred_at,
            user_id: uuid(&user_id, "user_id")?,
            schema_version,
            payload: json(&payload)?,
        },
    ))
}

/// Gives every record already held its report day (schema step 2).
fn backfill_report_days(tx: &Transaction<'_>) -> Result<()> {
    let mut stmt = tx.prepare(
        "SELECT r.centre_id, r.entity, r.entity_id, c.payload FROM records r JOIN changes c ON c.pos = r.pos
         WHERE r.op = 'upsert'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
    })?;
    let mut days = Vec::new();
    for row in rows {
        let (centre, entity, id, payload) = row?;
        if let Some(day) = crate::report::report_day(&entity, &json(&payload)?) {
            days.push((centre, entity, id, day));
        }
    }
    let mut update =
        tx.prepare("UPDATE records SET day = ?4 WHERE centre_id = ?1 AND entity = ?2 AND entity_id = ?3")?;
    for (centre, entity, id, day) in days {
        update.execute(params![centre, entity, id, day])?;
    }
    Ok(())
}

impl SqliteStorage {
    /// Opens or creates the file and brings its schema up to date, one step at a time.
    pub fn open(path: &Path) -> Result<SqliteStorage> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // Freed bytes are zeroed, so an erased payload does not linger in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SQLITE_VERSION {
            return Err(Error::Invalid(format!(
                "the database is at schema version {version}, newer than this pops-hub knows ({SQLITE_VERSION}); use a newer pops-hub"
            )));
        }
        while version < SQLITE_VERSION {
            let step = STEPS.get(version as usize).ok_or_else(|| Error::Database("no schema step".into()))?;
            tx.execute_batch(step)?;
            version += 1;
            if version == 2 {
                backfill_report_days(&tx)?;
            }
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
        conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
        Ok(SqliteStorage { conn: Mutex::new(conn), checkpoints: Checkpointer::start(path)? })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-done (rusqlite rolls back
        // on drop), so the connection is still good.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        self.checkpoints.nudge();
        Ok(out)
    }

    fn device_centre(conn: &Connection, device_id: Uuid) -> Result<Uuid> {
        let centre: Option<String> = conn
            .query_row("SELECT centre_id FROM devices WHERE id = ?1", [device_id.to_string()], |r| r.get(0))
            .optional()?;
        uuid(&centre.ok_or_else(|| Error::NotFound(format!("no device {device_id}")))?, "centre_id")
    }
}

struct SqliteTx<'a, 'c>(&'a Transaction<'c>);

impl BatchTx for SqliteTx<'_, '_> {
    fn lock_device(&mut self, device_id: Uuid) -> Result<Option<(Uuid, i64)>> {
        // BEGIN IMMEDIATE already holds the file's write lock.
        let row: Option<(String, i64)> = self
            .0
            .query_row("SELECT centre_id, acked_through_seq FROM devices WHERE id = ?1", [device_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(c, hw)| Ok((uuid(&c, "centre_id")?, hw))).transpose()
    }

    fn stored_batch(&mut self, device_id: Uuid, batch_id: Uuid) -> Result<Option<(String, String)>> {
        Ok(self
            .0
            .query_row(
                "SELECT hash, reply FROM batches WHERE device_id = ?1 AND batch_id = ?2",
                [device_id.to_string(), batch_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn stored_change(&mut self, change_id: Uuid) -> Result<Option<(Uuid, i64)>> {
        let row: Option<(String, i64)> = self
            .0
            .prepare_cached("SELECT device_id, seq FROM changes WHERE change_id = ?1")?
            .query_row([change_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(d, s)| Ok((uuid(&d, "device_id")?, s))).transpose()
    }

    fn quarantined_change(&mut self, device_id: Uuid, change_id: Uuid) -> Result<Option<(i64, String)>> {
        Ok(self
            .0
            .query_row(
                "SELECT seq, reason FROM quarantine WHERE device_id = ?1 AND change_id = ?2",
                [device_id.to_string(), change_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn existing_changes(&mut self, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut stmt =
                self.0.prepare_cached(&format!("SELECT change_id FROM changes WHERE change_id IN ({marks})"))?;
            let ids: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
            let rows = stmt.query_map(rusqlite::params_from_iter(ids.iter()), |r| r.get::<_, String>(0))?;
            for id in rows {
                found.insert(uuid(&id?, "change_id")?);
            }
        }
        Ok(found)
    }

    fn insert_changes(
        &mut self,
        device_id: Uuid,
        centre_id: Uuid,
        rows: &[&RawChange],
        now: &str,
    ) -> Result<HashMap<Uuid, i64>> {
        let (device, centre) = (device_id.to_string(), centre_id.to_string());
        let mut stored = HashMap::with_capacity(rows.len());
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let values = vec!["(?,?,?,?,?,?,?,?,?,?,?,?)"; chunk.len()].join(",");
            let mut stmt = self.0.prepare_cached(&format!(
                "INSERT INTO changes (change_id, device_id, centre_id, seq, entity, entity_id, op, occurred_at,
                     user_id, schema_version, payload, received_at)
                 VALUES {values} ON CONFLICT (change_id) DO NOTHING RETURNING change_id, pos"
            ))?;
            let mut params: Vec<Box<dyn rusqlite::ToSql + '_>> = Vec::with_capacity(chunk.len() * 12);
            for c in chunk {
                params.push(Box::new(c.change_id.to_string()));
                params.push(Box::new(device.as_str()));
                params.push(Box::new(centre.as_str()));
                params.push(Box::new(c.seq));
                params.push(Box::new(c.entity.as_str()));
                params.push(Box::new(c.entity_id.to_string()));
                params.push(Box::new(c.op.as_str()));
                params.push(Box::new(c.occurred_at.as_str()));
                params.push(Box::new(c.user_id.to_string()));
                params.push(Box::new(c.schema_version));
                params.push(Box::new(c.payload.get()));
                params.push(Box::new(now));
            }
            let returned = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in returned {
                let (id, pos) = row?;
                stored.insert(uuid(&id, "change_id")?, pos);
            }
        }
        Ok(stored)
    }

    fn quarantine(&mut self, device_id: Uuid, centre_id: Uuid, c: &RawChange, reason: &str, now: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO quarantine (change_id, device_id, centre_id, seq, entity, entity_id, reason, change, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (device_id, change_id) DO NOTHING",
            params![
                c.change_id.to_string(),
                device_id.to_string(),
                centre_id.to_string(),
                c.seq,
                c.entity,
                c.entity_id.to_string(),
                reason,
                serde_json::to_string(c)?,
                now,
            ],
        )?;
        Ok(())
    }

    fn upsert_records(
        &mut self,
        device_id: Uuid,
        centre_id: Uuid,
        rows: &[(&RawChange, i64, Option<String>)],
        now: &str,
    ) -> Result<()> {
        let (device, centre) = (device_id.to_string(), centre_id.to_string());
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let values = vec!["(?,?,?,?,?,'upsert',?,?,?)"; chunk.len()].join(",");
            let mut stmt = self.0.prepare_cached(&format!(
                "INSERT INTO records (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at, day)
                 VALUES {values}
                 ON CONFLICT (centre_id, entity, entity_id) DO UPDATE SET device_id = excluded.device_id,
                     seq = excluded.seq, op = excluded.op, pos = excluded.pos,
                     updated_at = excluded.updated_at, day = excluded.day
                 WHERE records.device_id <> excluded.device_id OR records.seq < excluded.seq"
            ))?;
            let mut params: Vec<Box<dyn rusqlite::ToSql + '_>> = Vec::with_capacity(chunk.len() * 8);
            for (c, pos, day) in chunk {
                params.push(Box::new(centre.as_str()));
                params.push(Box::new(c.entity.as_str()));
                params.push(Box::new(c.entity_id.to_string()));
                params.push(Box::new(device.as_str()));
                params.push(Box::new(c.seq));
                params.push(Box::new(*pos));
                params.push(Box::new(now));
                params.push(Box::new(day.as_deref()));
            }
            stmt.execute(rusqlite::params_from_iter(params.iter()))?;
        }
        Ok(())
    }

    fn erase_record(&mut self, device_id: Uuid, centre_id: Uuid, c: &RawChange, pos: i64, now: &str) -> Result<()> {
        let payload = c.payload.get();
        let (centre, entity_id) = (centre_id.to_string(), c.entity_id.to_string());
        self.0.execute(
            "INSERT INTO records (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'erase', ?6, ?7)
             ON CONFLICT (centre_id, entity, entity_id) DO UPDATE SET device_id = excluded.device_id,
                 seq = excluded.seq, op = excluded.op, pos = excluded.pos, updated_at = excluded.updated_at,
                 day = NULL",
            params![centre, c.entity, entity_id, device_id.to_string(), c.seq, pos, now],
        )?;
        self.0.execute(
            "UPDATE changes SET payload = ?4 WHERE centre_id = ?1 AND entity = ?2 AND entity_id = ?3",
            params![centre, c.entity, entity_id, payload],
        )?;
        self.0.execute(
            "UPDATE quarantine SET change = json_set(change, '$.payload', json(?4))
             WHERE centre_id = ?1 AND entity = ?2 AND entity_id = ?3",
            params![centre, c.entity, entity_id, payload],
        )?;
        Ok(())
    }

    fn set_high_water(&mut self, device_id: Uuid, seq: i64) -> Result<()> {
        self.0
            .execute("UPDATE devices SET acked_through_seq = ?2 WHERE id = ?1", params![device_id.to_string(), seq])?;
        Ok(())
    }

    fn store_batch(&mut self, device_id: Uuid, batch_id: Uuid, hash: &str, reply: &str, now: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO batches (device_id, batch_id, hash, reply, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![device_id.to_string(), batch_id.to_string(), hash, reply, now],
        )?;
        Ok(())
    }
}

impl ImportTx for SqliteTx<'_, '_> {
    fn lock_log(&mut self) -> Result<()> {
        // BEGIN IMMEDIATE already holds the file's write lock.
        Ok(())
    }

    fn log(&mut self, dataset: &str) -> Result<Vec<(String, Option<serde_json::Value>)>> {
        let mut stmt = self.0.prepare("SELECT key, item FROM reference_log WHERE dataset = ?1 ORDER BY pos")?;
        let rows = stmt.query_map([dataset], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?;
        rows.map(|row| {
            let (key, item) = row?;
            Ok((key, item.as_deref().map(json).transpose()?))
        })
        .collect()
    }

    fn last_version(&mut self, dataset: &str) -> Result<i64> {
        Ok(self.0.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM reference_versions WHERE dataset = ?1",
            [dataset],
            |r| r.get(0),
        )?)
    }

    fn append(&mut self, dataset: &str, version: i64, key: &str, item: Option<&serde_json::Value>) -> Result<()> {
        let item = item.map(serde_json::to_string).transpose()?;
        self.0.execute(
            "INSERT INTO reference_log (dataset, version, key, item) VALUES (?1, ?2, ?3, ?4)",
            params![dataset, version, key, item],
        )?;
        Ok(())
    }

    fn add_version(&mut self, dataset: &str, version: i64, items: i64, now: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO reference_versions (dataset, version, imported_at, items) VALUES (?1, ?2, ?3, ?4)",
            params![dataset, version, now, items],
        )?;
        Ok(())
    }
}

impl Storage for SqliteStorage {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn add_centre(&self, name: &str) -> Result<Uuid> {
        let name = check_centre_name(name)?;
        let id = Uuid::now_v7();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO centres (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id.to_string(), name, rfc3339(Utc::now())],
            )?;
            Ok(id)
        })
    }

    fn centres(&self) -> Result<Vec<CentreSummary>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT c.id, c.name,
                 (SELECT count(*) FROM devices d WHERE d.centre_id = c.id AND d.revoked_at IS NULL),
                 (SELECT max(last_seen_at) FROM devices d WHERE d.centre_id = c.id)
             FROM centres c ORDER BY c.name, c.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, Option<String>>(3)?))
        })?;
        rows.map(|row| {
            let (id, name, devices, last_seen_at) = row?;
            Ok(CentreSummary { id: uuid(&id, "centre id")?, name, devices, last_seen_at })
        })
        .collect()
    }

    fn new_enrolment_code_at(&self, centre_id: Uuid, now: DateTime<Utc>) -> Result<String> {
        let code = secret::new_code()?;
        let hash = secret::code_hash(&code).ok_or_else(|| Error::Database("a new code did not read back".into()))?;
        self.write(|tx| {
            let known: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM centres WHERE id = ?1)", [centre_id.to_string()], |r| {
                    r.get(0)
                })?;
            if !known {
                return Err(Error::NotFound(format!("no centre {centre_id}")));
            }
            tx.execute(
                "INSERT INTO enrolment_codes (code_hash, centre_id, made_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![hash, centre_id.to_string(), rfc3339(now), rfc3339(now + Duration::hours(CODE_LIFETIME_HOURS))],
            )?;
            Ok(())
        })?;
        Ok(code)
    }

    fn enrol(&self, code: &str, now: DateTime<Utc>) -> Result<Option<Enrolment>> {
        let Some(hash) = secret::code_hash(code) else { return Ok(None) };
        let token = secret::new_token()?;
        let token_hash = secret::sha256_hex(token.as_bytes());
        let at = rfc3339(now);
        self.write(|tx| {
            let centre: Option<String> = tx
                .query_row(
                    "UPDATE enrolment_codes SET used_at = ?2
                     WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2 RETURNING centre_id",
                    params![hash, at],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(centre) = centre else { return Ok(None) };
            let device_id = Uuid::now_v7();
            tx.execute(
                "INSERT INTO devices (id, centre_id, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4)",
                params![device_id.to_string(), centre, token_hash, at],
            )?;
            tx.execute(
                "UPDATE enrolment_codes SET device_id = ?2 WHERE code_hash = ?1",
                params![hash, device_id.to_string()],
            )?;
            Ok(Some(Enrolment { device_id, centre_id: uuid(&centre, "centre_id")?, device_token: token.clone() }))
        })
    }

    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<TokenCheck> {
        let Some(hash) = secret::token_hash(token) else { return Ok(TokenCheck::Unknown) };
        let conn = self.conn();
        type Row = (String, String, Option<String>, Option<String>);
        let row: Option<Row> = conn
            .prepare_cached("SELECT id, centre_id, revoked_at, last_seen_at FROM devices WHERE token_hash = ?1")?
            .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((id, centre, revoked, seen)) = row else { return Ok(TokenCheck::Unknown) };
        let device_id = uuid(&id, "device id")?;
        if revoked.is_some() {
            return Ok(TokenCheck::Revoked { device_id });
        }
        let stale = rfc3339(now - Duration::seconds(LAST_SEEN_RESOLUTION_SECS));
        if seen.is_none_or(|seen| seen < stale) {
            conn.execute("UPDATE devices SET last_seen_at = ?2 WHERE id = ?1", params![id, rfc3339(now)])?;
        }
        Ok(TokenCheck::Device { device_id, centre_id: uuid(&centre, "centre_id")? })
    }

    fn revoke_device(&self, device_id: Uuid) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![device_id.to_string(), rfc3339(Utc::now())],
            )?;
            if n == 0 { Err(Error::NotFound(format!("no device {device_id}"))) } else { Ok(()) }
        })
    }

    fn push_received(&self, device_id: Uuid, received: &Received<'_>, now: DateTime<Utc>) -> Result<PushOutcome> {
        let (outcome, effect) = self.write(|tx| run_batch(&mut SqliteTx(tx), device_id, received, now))?;
        if effect.erased {
            // The pages written before the erase still sit in the write-ahead log until a
            // checkpoint copies the new ones over them: do it now, and empty the log.
            let conn = self.conn();
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "checkpoint after an erase failed; it runs again at the next one");
            }
        }
        Ok(outcome)
    }

    fn acked_through(&self, device_id: Uuid) -> Result<i64> {
        self.conn()
            .query_row("SELECT acked_through_seq FROM devices WHERE id = ?1", [device_id.to_string()], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("no device {device_id}")))
    }

    fn centre_changes(&self, centre_id: Uuid, after: i64, limit: i64) -> Result<ChangesPage> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT pos, {CHANGE_COLUMNS} FROM changes WHERE centre_id = ?1 AND pos > ?2 ORDER BY pos LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![centre_id.to_string(), after, limit.max(0).saturating_add(1)], change_row)?;
        let mut changes = rows.map(|r| change_from(r?)).collect::<Result<Vec<_>>>()?;
        let has_more = changes.len() as i64 > limit;
        changes.truncate(limit.max(0) as usize);
        let next_after = changes.last().map_or(after, |(pos, _)| *pos);
        // Counted after the page is read: a later snapshot holds everything the page's did, so
        // `total` never counts fewer changes than the pages so far have held.
        let total: i64 = conn
            .prepare_cached("SELECT count(*) FROM changes WHERE centre_id = ?1")?
            .query_row([centre_id.to_string()], |r| r.get(0))?;
        Ok(ChangesPage { changes: changes.into_iter().map(|(_, c)| c).collect(), next_after, has_more, total })
    }

    fn import_reference(&self, dataset: &str, items: Vec<serde_json::Value>) -> Result<i64> {
        self.write(|tx| run_import(&mut SqliteTx(tx), dataset, &items, Utc::now()))
    }

    fn reference_page(&self, dataset: &str, since: i64, limit: i64) -> Result<ReferencePage> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT pos, key, version, item FROM reference_log WHERE dataset = ?1 AND pos > ?2 ORDER BY pos LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![dataset, since, limit.max(0).saturating_add(1)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, Option<String>>(3)?))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (pos, key, version, item) = row?;
            items.push((pos, ReferenceEntry { key, version, item: item.as_deref().map(json).transpose()? }));
        }
        let has_more = items.len() as i64 > limit;
        items.truncate(limit.max(0) as usize);
        let next_since = items.last().map_or(since, |(pos, _)| *pos);
        Ok(ReferencePage { items: items.into_iter().map(|(_, e)| e).collect(), next_since, has_more })
    }

    fn quarantine(&self) -> Result<Vec<QuarantineEntry>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT change_id, device_id, centre_id, entity, seq, reason, at FROM quarantine ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        rows.map(|row| {
            let (change_id, device_id, centre_id, entity, seq, reason, at) = row?;
            Ok(QuarantineEntry {
                change_id: uuid(&change_id, "change_id")?,
                device_id: uuid(&device_id, "device_id")?,
                centre_id: uuid(&centre_id, "centre_id")?,
                entity,
                seq,
                reason,
                at,
            })
        })
        .collect()
    }

    fn centre_states(&self) -> Result<Vec<CentreState>> {
        let conn = self.conn();
        let mut centres = conn.prepare(
            "SELECT c.id, c.name,
                 (SELECT count(*) FROM changes x WHERE x.centre_id = c.id),
                 (SELECT received_at FROM changes x WHERE x.centre_id = c.id ORDER BY pos DESC LIMIT 1),
                 (SELECT count(*) FROM quarantine q WHERE q.centre_id = c.id),
                 (SELECT count(*) FROM records r JOIN changes x ON x.pos = r.pos
                      WHERE r.centre_id = c.id AND r.entity = 'feedback' AND r.op = 'upsert'
                      AND json_extract(x.payload, '$.kind') = 'complaint'
                      AND json_extract(x.payload, '$.status') <> 'closed'),
                 (SELECT min(json_extract(x.payload, '$.received_at')) FROM records r JOIN changes x ON x.pos = r.pos
                      WHERE r.centre_id = c.id AND r.entity = 'feedback' AND r.op = 'upsert'
                      AND json_extract(x.payload, '$.kind') = 'complaint'
                      AND json_extract(x.payload, '$.status') <> 'closed')
             FROM centres c ORDER BY c.name, c.id",
        )?;
        let rows = centres.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut devices = conn.prepare(
            "SELECT id, enrolled_at, last_seen_at, acked_through_seq, revoked_at FROM devices
             WHERE centre_id = ?1 ORDER BY revoked_at IS NOT NULL, enrolled_at DESC, id",
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, changes, last_change_at, quarantined, open_complaints, oldest_open_complaint) = row?;
            let list = devices.query_map([&id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?;
            let devices = list
                .map(|d| {
                    let (id, enrolled_at, last_seen_at, acked_through_seq, revoked_at) = d?;
                    Ok(DeviceState {
                        id: uuid(&id, "device id")?,
                        enrolled_at,
                        last_seen_at,
                        acked_through_seq,
                        revoked_at,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(CentreState {
                id: uuid(&id, "centre id")?,
                name,
                devices,
                changes,
                last_change_at,
                quarantined,
                open_complaints,
                oldest_open_complaint,
            });
        }
        Ok(out)
    }

    fn report_records(&self, first_day: &str, last_day: &str) -> Result<Vec<ReportRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT r.centre_id, r.entity, c.payload FROM records r JOIN changes c ON c.pos = r.pos
             WHERE r.day >= ?1 AND r.day <= ?2 AND r.op = 'upsert'",
        )?;
        let rows = stmt.query_map([first_day, last_day], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        rows.map(|row| {
            let (centre, entity, payload) = row?;
            Ok(ReportRecord { centre_id: uuid(&centre, "centre id")?, entity, payload: json(&payload)? })
        })
        .collect()
    }

    fn add_office_key(&self, name: &str, now: DateTime<Utc>) -> Result<(Uuid, String)> {
        let name = check_key_name(name)?;
        let key = secret::new_token()?;
        let id = Uuid::now_v7();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO office_keys (id, name, key_hash, made_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), name, secret::sha256_hex(key.as_bytes()), rfc3339(now)],
            )?;
            Ok(())
        })?;
        Ok((id, key))
    }

    fn office_key(&self, key: &str, now: DateTime<Utc>) -> Result<Option<OfficeKey>> {
        let Some(hash) = secret::token_hash(key) else { return Ok(None) };
        let row: Option<(String, String)> = self.write(|tx| {
            Ok(tx
                .query_row(
                    "UPDATE office_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL
                     RETURNING id, name",
                    params![hash, rfc3339(now)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })?;
        row.map(|(id, name)| Ok(OfficeKey { id: uuid(&id, "office key id")?, name })).transpose()
    }

    fn office_key_live(&self, id: Uuid) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM office_keys WHERE id = ?1 AND revoked_at IS NULL)",
            [id.to_string()],
            |r| r.get(0),
        )?)
    }

    fn revoke_office_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE office_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![id.to_string(), rfc3339(now)],
            )?;
            if n == 0 { Err(Error::NotFound(format!("no office key {id}"))) } else { Ok(()) }
        })
    }

    fn office_keys(&self) -> Result<Vec<OfficeKeySummary>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, made_at, last_used_at, revoked_at FROM office_keys ORDER BY made_at, id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (id, name, made_at, last_used_at, revoked_at) = row?;
            Ok(OfficeKeySummary { id: uuid(&id, "office key id")?, name, made_at, last_used_at, revoked_at })
        })
        .collect()
    }

    fn device_changes(&self, device_id: Uuid) -> Result<Vec<Change>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare(&format!("SELECT pos, {CHANGE_COLUMNS} FROM changes WHERE device_id = ?1 ORDER BY seq"))?;
        let rows = stmt.query_map([device_id.to_string()], change_row)?;
        rows.map(|r| Ok(change_from(r?)?.1)).collect()
    }

    fn quarantined(&self, device_id: Uuid) -> Result<Vec<(Uuid, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT change_id, reason FROM quarantine WHERE device_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([device_id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (id, reason) = row?;
            Ok((uuid(&id, "change_id")?, reason))
        })
        .collect()
    }

    fn centre_record(&self, centre_id: Uuid, entity: &str, entity_id: Uuid) -> Result<Option<serde_json::Value>> {
        let payload: Option<String> = self
            .conn()
            .query_row(
                "SELECT c.payload FROM records r JOIN changes c ON c.pos = r.pos
                 WHERE r.centre_id = ?1 AND r.entity = ?2 AND r.entity_id = ?3",
                params![centre_id.to_string(), entity, entity_id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        payload.as_deref().map(json).transpose()
    }

    fn bulk_insert_changes(&self, device_id: Uuid, changes: &[Change]) -> Result<()> {
        const ROWS: usize = 500;
        let now = rfc3339(Utc::now());
        self.write(|tx| {
            let centre = Self::device_centre(tx, device_id)?.to_string();
            let device = device_id.to_string();
            for chunk in changes.chunks(ROWS) {
                let mut sql = String::from(
                    "INSERT INTO changes (change_id, device_id, centre_id, seq, entity, entity_id, op, occurred_at,
                         user_id, schema_version, payload, received_at) VALUES ",
                );
                let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::with_capacity(chunk.len() * 12);
                for (i, c) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(',');
                    }
                    let b = i * 12;
                    sql.push_str(&format!(
                        "(?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{},?{})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9,
                        b + 10,
                        b + 11,
                        b + 12
                    ));
                    values.push(Box::new(c.change_id.to_string()));
                    values.push(Box::new(device.clone()));
                    values.push(Box::new(centre.clone()));
                    values.push(Box::new(c.seq));
                    values.push(Box::new(c.entity.clone()));
                    values.push(Box::new(c.entity_id.to_string()));
                    values.push(Box::new(c.op.as_str()));
                    values.push(Box::new(c.occurred_at.clone()));
                    values.push(Box::new(c.user_id.to_string()));
                    values.push(Box::new(c.schema_version));
                    values.push(Box::new(serde_json::to_string(&c.payload)?));
                    values.push(Box::new(now.clone()));
                }
                tx.execute(&sql, rusqlite::params_from_iter(values.iter()))?;
                if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
                    tx.execute(BULK_RECORDS, params![device, first.seq, last.seq])?;
                }
            }
            Ok(())
        })
    }
}

/// The records of the changes a bulk insert just stored, in one statement: the same rows a batch
/// leaves beside its changes (the report day aside).
const BULK_RECORDS: &str = "INSERT INTO records (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at)
     SELECT centre_id, entity, entity_id, device_id, seq, op, pos, received_at FROM changes
     WHERE device_id = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq
     ON CONFLICT (centre_id, entity, entity_id) DO UPDATE SET device_id = excluded.device_id, seq = excluded.seq,
         op = excluded.op, pos = excluded.pos, updated_at = excluded.updated_at";

/// A centre's name: 1 to 200 characters after trimming.
pub(crate) fn check_centre_name(name: &str) -> Result<&str> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(Error::Invalid("the centre needs a name".into())),
        n if n > 200 => Err(Error::Invalid("a centre's name is at most 200 characters".into())),
        _ => Ok(name),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// With SQLite's own checkpoint set ten times higher, only the checkpoint thread copies the
    /// log into the database file: its growing shows the thread at work.
    #[test]
    fn the_log_is_copied_into_the_database_on_a_thread_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.db");
        let storage = SqliteStorage::open(&path).unwrap();
        let centre = storage.add_centre("HMP Test").unwrap();
        let code = storage.new_enrolment_code(centre).unwrap();
        let device = storage.enrol(&code, Utc::now()).unwrap().unwrap().device_id;
        // Wait out the checkpoint of the set-up's commits, then measure the file.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let before = std::fs::metadata(&path).unwrap().len();
        let changes: Vec<Change> = (1..=500)
            .map(|seq| Change {
                change_id: Uuid::now_v7(),
                seq,
                entity: "check_in".into(),
                entity_id: Uuid::now_v7(),
                op: Op::Upsert,
                occurred_at: "2026-11-25T10:00:00.000Z".into(),
                user_id: Uuid::now_v7(),
                schema_version: 9,
                payload: serde_json::json!({"note": "x".repeat(1000)}),
            })
            .collect();
        storage.bulk_insert_changes(device, &changes).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let now = std::fs::metadata(&path).unwrap().len();
            if now > before + 500 * 1000 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the database file stayed at {now} bytes (from {before})");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        drop(storage); // and the thread stops with it
    }
}
