//! [`Storage`] on PostgreSQL, through the synchronous `postgres` client and an r2d2 pool.
//!
//! The synchronous client runs a small tokio runtime of its own inside each connection, which
//! panics if it is driven — or dropped — on a thread that is running async tasks. So every call
//! here runs on a short-lived thread of its own (`std::thread::scope`), and dropping the storage
//! drops the pool on a plain thread too. Callers may therefore use this from anywhere: a blocking
//! task, a plain thread, or straight from an async test.

use super::logic::{BatchTx, ImportTx, run_batch, run_import};
use super::sqlite::check_centre_name;
use super::{
    CODE_LIFETIME_HOURS, CentreState, CentreSummary, DeviceState, LAST_SEEN_RESOLUTION_SECS, OfficeKey,
    OfficeKeySummary, PushOutcome, QuarantineEntry, Received, ReportRecord, Storage, TokenCheck, check_key_name,
    rfc3339,
};
use crate::error::{Error, Result};
use crate::secret;
use chrono::{DateTime, Duration, Utc};
use pops_domain::change::{Change, Op};
use pops_domain::sync::{ChangesPage, Enrolment, RawChange, ReferenceEntry, ReferencePage};
use postgres::types::ToSql;
use postgres::{NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// `STEPS[i]` takes the database from schema version `i` to `i + 1` (kept in `hub_schema`).
const STEPS: &[&str] = &[
    // 0 → 1
    "CREATE TABLE centres (
        id UUID PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY,
        centre_id UUID NOT NULL REFERENCES centres (id),
        made_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        used_at TIMESTAMPTZ,
        device_id UUID
    );
    CREATE TABLE devices (
        id UUID PRIMARY KEY,
        centre_id UUID NOT NULL REFERENCES centres (id),
        token_hash TEXT NOT NULL UNIQUE,
        enrolled_at TIMESTAMPTZ NOT NULL,
        last_seen_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ,
        acked_through_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE changes (
        pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        change_id UUID NOT NULL UNIQUE,
        device_id UUID NOT NULL REFERENCES devices (id),
        centre_id UUID NOT NULL REFERENCES centres (id),
        seq BIGINT NOT NULL,
        entity TEXT NOT NULL,
        entity_id UUID NOT NULL,
        op TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        user_id UUID NOT NULL,
        schema_version BIGINT NOT NULL,
        payload JSONB NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        UNIQUE (device_id, seq)
    );
    CREATE INDEX changes_by_centre ON changes (centre_id, pos);
    CREATE INDEX changes_by_record ON changes (centre_id, entity, entity_id);
    CREATE TABLE quarantine (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        change_id UUID NOT NULL,
        device_id UUID NOT NULL REFERENCES devices (id),
        centre_id UUID NOT NULL REFERENCES centres (id),
        seq BIGINT NOT NULL,
        entity TEXT NOT NULL,
        entity_id UUID NOT NULL,
        reason TEXT NOT NULL,
        change JSONB NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        UNIQUE (device_id, change_id)
    );
    CREATE INDEX quarantine_by_record ON quarantine (centre_id, entity, entity_id);
    CREATE TABLE batches (
        device_id UUID NOT NULL REFERENCES devices (id),
        batch_id UUID NOT NULL,
        hash TEXT NOT NULL,
        reply TEXT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (device_id, batch_id)
    );
    CREATE TABLE records (
        centre_id UUID NOT NULL REFERENCES centres (id),
        entity TEXT NOT NULL,
        entity_id UUID NOT NULL,
        device_id UUID NOT NULL REFERENCES devices (id),
        seq BIGINT NOT NULL,
        op TEXT NOT NULL,
        payload JSONB NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (centre_id, entity, entity_id)
    );
    CREATE TABLE reference_log (
        pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dataset TEXT NOT NULL,
        version BIGINT NOT NULL,
        key TEXT NOT NULL,
        item JSONB
    );
    CREATE INDEX reference_log_by_dataset ON reference_log (dataset, pos);
    CREATE TABLE reference_versions (
        dataset TEXT NOT NULL,
        version BIGINT NOT NULL,
        imported_at TIMESTAMPTZ NOT NULL,
        items BIGINT NOT NULL,
        PRIMARY KEY (dataset, version)
    );",
    // 1 → 2: head office's page. A record points at its latest change (`pos`) instead of holding
    // a second copy of the payload, and keeps its report day (filled in for the records already
    // held by `backfill_report_days`); the access keys of the people who read the page.
    "ALTER TABLE records ADD COLUMN pos BIGINT REFERENCES changes (pos);
    UPDATE records r SET pos = c.pos FROM changes c WHERE c.device_id = r.device_id AND c.seq = r.seq;
    ALTER TABLE records ALTER COLUMN pos SET NOT NULL;
    ALTER TABLE records DROP COLUMN payload;
    ALTER TABLE records ADD COLUMN day DATE;
    CREATE INDEX records_by_day ON records (day) WHERE day IS NOT NULL;
    CREATE TABLE office_keys (
        id UUID PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        made_at TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    );",
];

/// The schema version this code writes.
pub const PG_VERSION: i64 = STEPS.len() as i64;

pub struct PgStorage {
    pool: Option<Pool>,
}

impl Drop for PgStorage {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            // Each connection owns a runtime that must not be dropped inside an async task.
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

/// Runs `f` on a thread of its own (see the module's doc).
fn on_own_thread<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(f).join().unwrap_or_else(|_| Err(Error::Database("a database thread panicked".into())))
    })
}

const CHANGE_COLUMNS: &str =
    "pos, change_id, seq, entity, entity_id, op, occurred_at, user_id, schema_version, payload";

fn change_from(r: &postgres::Row) -> Result<(i64, Change)> {
    let op: String = r.try_get(5)?;
    Ok((
        r.try_get(0)?,
        Change {
            change_id: r.try_get(1)?,
            seq: r.try_get(2)?,
            entity: r.try_get(3)?,
            entity_id: r.try_get(4)?,
            op: Op::parse(&op).ok_or_else(|| Error::Database("a stored op is unknown".into()))?,
            occurred_at: r.try_get(6)?,
            user_id: r.try_get(7)?,
            schema_version: r.try_get(8)?,
            payload: r.try_get(9)?,
        },
    ))
}

fn migrate(client: &mut postgres::Client) -> Result<()> {
    let mut tx = client.transaction()?;
    // Two hubs starting at once must not both run a step.
    tx.execute("SELECT pg_advisory_xact_lock(7026482001)", &[])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS hub_schema (version BIGINT NOT NULL)")?;
    let mut version: i64 = match tx.query_opt("SELECT version FROM hub_schema", &[])? {
        Some(row) => row.try_get(0)?,
        None => {
            tx.execute("INSERT INTO hub_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if version > PG_VERSION {
        return Err(Error::Invalid(format!(
            "the database is at schema version {version}, newer than this pops-hub knows ({PG_VERSION}); use a newer pops-hub"
        )));
    }
    while version < PG_VERSION {
        let step = STEPS.get(version as usize).ok_or_else(|| Error::Database("no schema step".into()))?;
        tx.batch_execute(step)?;
        version += 1;
        if version == 2 {
            backfill_report_days(&mut tx)?;
        }
        tx.execute("UPDATE hub_schema SET version = $1", &[&version])?;
    }
    tx.commit()?;
    Ok(())
}

/// Gives every record already held its report day (schema step 2).
fn backfill_report_days(tx: &mut Transaction<'_>) -> Result<()> {
    let rows = tx.query(
        "SELECT r.centre_id, r.entity, r.entity_id, c.payload FROM records r JOIN changes c ON c.pos = r.pos
         WHERE r.op = 'upsert'",
        &[],
    )?;
    for r in rows {
        let (centre, entity, id, payload): (Uuid, String, Uuid, serde_json::Value) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        if let Some(day) = crate::report::report_day(&entity, &payload) {
            tx.execute(
                "UPDATE records SET day = $4::text::date WHERE centre_id = $1 AND entity = $2 AND entity_id = $3",
                &[&centre, &entity, &id, &day],
            )?;
        }
    }
    Ok(())
}

impl PgStorage {
    /// Connects (failing at once if the server cannot be reached) and brings the schema up to date.
    pub fn open(url: &str) -> Result<PgStorage> {
        let config: postgres::Config =
            url.parse().map_err(|e| Error::Invalid(format!("the PostgreSQL URL cannot be read: {e}")))?;
        on_own_thread(move || {
            let manager = PostgresConnectionManager::new(config, NoTls);
            let pool = r2d2::Pool::builder()
                .max_size(12)
                .min_idle(Some(1))
                .connection_timeout(std::time::Duration::from_secs(5))
                .build(manager)?;
            let storage = PgStorage { pool: Some(pool) };
            migrate(&mut *storage.pool()?.get()?)?;
            Ok(storage)
        })
    }

    fn pool(&self) -> Result<&Pool> {
        self.pool.as_ref().ok_or_else(|| Error::Unavailable("the storage is closed".into()))
    }

    /// Runs `f` with a pooled connection, on a thread of its own.
    fn with<T: Send>(&self, f: impl FnOnce(&mut postgres::Client) -> Result<T> + Send) -> Result<T> {
        let pool = self.pool()?;
        on_own_thread(|| f(&mut *pool.get()?))
    }

    /// Runs `f` in one transaction that commits on `Ok`.
    fn write<T: Send>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T> + Send) -> Result<T> {
        self.with(|client| {
            let mut tx = client.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

struct PgTx<'a, 'c>(&'a mut Transaction<'c>);

impl BatchTx for PgTx<'_, '_> {
    fn lock_device(&mut self, device_id: Uuid) -> Result<Option<(Uuid, i64)>> {
        let Some(row) = self
            .0
            .query_opt("SELECT centre_id, acked_through_seq FROM devices WHERE id = $1 FOR UPDATE", &[&device_id])?
        else {
            return Ok(None);
        };
        let centre: Uuid = row.try_get(0)?;
        // One batch at a time per centre: change positions (from a sequence) are then handed out
        // in commit order, so a reader paging by position never skips a change committed late.
        // NO KEY UPDATE leaves inserts that refer to the centre free.
        self.0.execute("SELECT 1 FROM centres WHERE id = $1 FOR NO KEY UPDATE", &[&centre])?;
        Ok(Some((centre, row.try_get(1)?)))
    }

    fn stored_batch(&mut self, device_id: Uuid, batch_id: Uuid) -> Result<Option<(String, String)>> {
        let row = self.0.query_opt(
            "SELECT hash, reply FROM batches WHERE device_id = $1 AND batch_id = $2",
            &[&device_id, &batch_id],
        )?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    fn stored_change(&mut self, change_id: Uuid) -> Result<Option<(Uuid, i64)>> {
        let row = self.0.query_opt("SELECT device_id, seq FROM changes WHERE change_id = $1", &[&change_id])?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    fn quarantined_change(&mut self, device_id: Uuid, change_id: Uuid) -> Result<Option<(i64, String)>> {
        let row = self.0.query_opt(
            "SELECT seq, reason FROM quarantine WHERE device_id = $1 AND change_id = $2",
            &[&device_id, &change_id],
        )?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    fn existing_changes(&mut self, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        let rows = self.0.query("SELECT change_id FROM changes WHERE change_id = ANY($1)", &[&ids])?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    fn insert_changes(
        &mut self,
        device_id: Uuid,
        centre_id: Uuid,
        rows: &[&RawChange],
        now: &str,
    ) -> Result<HashMap<Uuid, i64>> {
        // One statement for the whole run: the rows go as arrays, one per column, and are stored in
        // their order (so their positions follow their seqs).
        let ids: Vec<Uuid> = rows.iter().map(|c| c.change_id).collect();
        let seqs: Vec<i64> = rows.iter().map(|c| c.seq).collect();
        let entities: Vec<&str> = rows.iter().map(|c| c.entity.as_str()).collect();
        let entity_ids: Vec<Uuid> = rows.iter().map(|c| c.entity_id).collect();
        let ops: Vec<&str> = rows.iter().map(|c| c.op.as_str()).collect();
        let occurred: Vec<&str> = rows.iter().map(|c| c.occurred_at.as_str()).collect();
        let users: Vec<Uuid> = rows.iter().map(|c| c.user_id).collect();
        let versions: Vec<i64> = rows.iter().map(|c| c.schema_version).collect();
        let payloads: Vec<&str> = rows.iter().map(|c| c.payload.get()).collect();
        let stored = self.0.query(
            "INSERT INTO changes (change_id, device_id, centre_id, seq, entity, entity_id, op, occurred_at,
                 user_id, schema_version, payload, received_at)
             SELECT u.change_id, $1, $2, u.seq, u.entity, u.entity_id, u.op, u.occurred_at, u.user_id,
                 u.schema_version, u.payload::jsonb, $3::text::timestamptz
             FROM UNNEST($4::uuid[], $5::bigint[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::uuid[],
                         $11::bigint[], $12::text[])
                 WITH ORDINALITY AS u(change_id, seq, entity, entity_id, op, occurred_at, user_id, schema_version,
                                      payload, n)
             ORDER BY u.n
             ON CONFLICT (change_id) DO NOTHING RETURNING change_id, pos",
            &[
                &device_id,
                &centre_id,
                &now,
                &ids,
                &seqs,
                &entities,
                &entity_ids,
                &ops,
                &occurred,
                &users,
                &versions,
                &payloads,
            ],
        )?;
        stored.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    fn quarantine(&mut self, device_id: Uuid, centre_id: Uuid, c: &RawChange, reason: &str, now: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO quarantine (change_id, device_id, centre_id, seq, entity, entity_id, reason, change, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::timestamptz) ON CONFLICT (device_id, change_id) DO NOTHING",
            &[
                &c.change_id,
                &device_id,
                &centre_id,
                &c.seq,
                &c.entity,
                &c.entity_id,
                &reason,
                &serde_json::to_value(c)?,
                &now,
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
        let entities: Vec<&str> = rows.iter().map(|(c, _, _)| c.entity.as_str()).collect();
        let entity_ids: Vec<Uuid> = rows.iter().map(|(c, _, _)| c.entity_id).collect();
        let seqs: Vec<i64> = rows.iter().map(|(c, _, _)| c.seq).collect();
        let positions: Vec<i64> = rows.iter().map(|(_, pos, _)| *pos).collect();
        let days: Vec<Option<&str>> = rows.iter().map(|(_, _, day)| day.as_deref()).collect();
        self.0.execute(
            "INSERT INTO records (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at, day)
             SELECT $1, u.entity, u.entity_id, $2, u.seq, 'upsert', u.pos, $3::text::timestamptz, u.day::date
             FROM UNNEST($4::text[], $5::uuid[], $6::bigint[], $7::bigint[], $8::text[])
                 AS u(entity, entity_id, seq, pos, day)
             ON CONFLICT (centre_id, entity, entity_id) DO UPDATE SET device_id = excluded.device_id,
                 seq = excluded.seq, op = excluded.op, pos = excluded.pos,
                 updated_at = excluded.updated_at, day = excluded.day
             WHERE records.device_id <> excluded.device_id OR records.seq < excluded.seq",
            &[&centre_id, &device_id, &now, &entities, &entity_ids, &seqs, &positions, &days],
        )?;
        Ok(())
    }

    fn erase_record(&mut self, device_id: Uuid, centre_id: Uuid, c: &RawChange, pos: i64, now: &str) -> Result<()> {
        let payload = c.payload_value()?;
        self.0.execute(
            "INSERT INTO records (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'erase', $6, $7::text::timestamptz)
             ON CONFLICT (centre_id, entity, entity_id) DO UPDATE SET device_id = excluded.device_id,
                 seq = excluded.seq, op = excluded.op, pos = excluded.pos, updated_at = excluded.updated_at,
                 day = NULL",
            &[&centre_id, &c.entity, &c.entity_id, &device_id, &c.seq, &pos, &now],
        )?;
        self.0.execute(
            "UPDATE changes SET payload = $4 WHERE centre_id = $1 AND entity = $2 AND entity_id = $3",
            &[&centre_id, &c.entity, &c.entity_id, &payload],
        )?;
        self.0.execute(
            "UPDATE quarantine SET change = jsonb_set(change, '{payload}', $4)
             WHERE centre_id = $1 AND entity = $2 AND entity_id = $3",
            &[&centre_id, &c.entity, &c.entity_id, &payload],
        )?;
        Ok(())
    }

    fn set_high_water(&mut self, device_id: Uuid, seq: i64) -> Result<()> {
        self.0.execute("UPDATE devices SET acked_through_seq = $2 WHERE id = $1", &[&device_id, &seq])?;
        Ok(())
    }

    fn store_batch(&mut self, device_id: Uuid, batch_id: Uuid, hash: &str, reply: &str, now: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO batches (device_id, batch_id, hash, reply, received_at) VALUES ($1, $2, $3, $4, $5::text::timestamptz)",
            &[&device_id, &batch_id, &hash, &reply, &now],
        )?;
        Ok(())
    }
}

impl ImportTx for PgTx<'_, '_> {
    fn lock_log(&mut self) -> Result<()> {
        // Blocks other imports (and only them: readers take ACCESS SHARE).
        self.0.batch_execute("LOCK TABLE reference_log IN SHARE ROW EXCLUSIVE MODE")?;
        Ok(())
    }

    fn log(&mut self, dataset: &str) -> Result<Vec<(String, Option<serde_json::Value>)>> {
        let rows = self.0.query("SELECT key, item FROM reference_log WHERE dataset = $1 ORDER BY pos", &[&dataset])?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    fn last_version(&mut self, dataset: &str) -> Result<i64> {
        let row = self
            .0
            .query_one("SELECT COALESCE(MAX(version), 0) FROM reference_versions WHERE dataset = $1", &[&dataset])?;
        Ok(row.try_get(0)?)
    }

    fn append(&mut self, dataset: &str, version: i64, key: &str, item: Option<&serde_json::Value>) -> Result<()> {
        self.0.execute(
            "INSERT INTO reference_log (dataset, version, key, item) VALUES ($1, $2, $3, $4)",
            &[&dataset, &version, &key, &item],
        )?;
        Ok(())
    }

    fn add_version(&mut self, dataset: &str, version: i64, items: i64, now: &str) -> Result<()> {
        self.0.execute(
            "INSERT INTO reference_versions (dataset, version, imported_at, items) VALUES ($1, $2, $3::text::timestamptz, $4)",
            &[&dataset, &version, &now, &items],
        )?;
        Ok(())
    }
}

impl Storage for PgStorage {
    fn kind(&self) -> &'static str {
        "postgresql"
    }

    fn add_centre(&self, name: &str) -> Result<Uuid> {
        let name = check_centre_name(name)?;
        let id = Uuid::now_v7();
        self.write(|tx| {
            tx.execute("INSERT INTO centres (id, name, created_at) VALUES ($1, $2, now())", &[&id, &name])?;
            Ok(id)
        })
    }

    fn centres(&self) -> Result<Vec<CentreSummary>> {
        self.with(|client| {
            let rows = client.query(
                "SELECT c.id, c.name,
                     (SELECT count(*) FROM devices d WHERE d.centre_id = c.id AND d.revoked_at IS NULL),
                     (SELECT max(last_seen_at) FROM devices d WHERE d.centre_id = c.id)
                 FROM centres c ORDER BY c.name, c.id",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let last: Option<DateTime<Utc>> = r.try_get(3)?;
                    Ok(CentreSummary {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        devices: r.try_get(2)?,
                        last_seen_at: last.map(rfc3339),
                    })
                })
                .collect()
        })
    }

    fn new_enrolment_code_at(&self, centre_id: Uuid, now: DateTime<Utc>) -> Result<String> {
        let code = secret::new_code()?;
        let hash = secret::code_hash(&code).ok_or_else(|| Error::Database("a new code did not read back".into()))?;
        let expires = now + Duration::hours(CODE_LIFETIME_HOURS);
        self.write(|tx| {
            if tx.query_opt("SELECT 1 FROM centres WHERE id = $1", &[&centre_id])?.is_none() {
                return Err(Error::NotFound(format!("no centre {centre_id}")));
            }
            tx.execute(
                "INSERT INTO enrolment_codes (code_hash, centre_id, made_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[&hash, &centre_id, &now, &expires],
            )?;
            Ok(())
        })?;
        Ok(code)
    }

    fn enrol(&self, code: &str, now: DateTime<Utc>) -> Result<Option<Enrolment>> {
        let Some(hash) = secret::code_hash(code) else { return Ok(None) };
        let token = secret::new_token()?;
        let token_hash = secret::sha256_hex(token.as_bytes());
        self.write(|tx| {
            let Some(row) = tx.query_opt(
                "UPDATE enrolment_codes SET used_at = $2
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING centre_id",
                &[&hash, &now],
            )?
            else {
                return Ok(None);
            };
            let centre_id: Uuid = row.try_get(0)?;
            let device_id = Uuid::now_v7();
            tx.execute(
                "INSERT INTO devices (id, centre_id, token_hash, enrolled_at) VALUES ($1, $2, $3, $4)",
                &[&device_id, &centre_id, &token_hash, &now],
            )?;
            tx.execute("UPDATE enrolment_codes SET device_id = $2 WHERE code_hash = $1", &[&hash, &device_id])?;
            Ok(Some(Enrolment { device_id, centre_id, device_token: token.clone() }))
        })
    }

    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<TokenCheck> {
        let Some(hash) = secret::token_hash(token) else { return Ok(TokenCheck::Unknown) };
        self.with(|client| {
            let Some(row) = client.query_opt(
                "SELECT id, centre_id, revoked_at, last_seen_at FROM devices WHERE token_hash = $1",
                &[&hash],
            )?
            else {
                return Ok(TokenCheck::Unknown);
            };
            let device_id: Uuid = row.try_get(0)?;
            if row.try_get::<_, Option<DateTime<Utc>>>(2)?.is_some() {
                return Ok(TokenCheck::Revoked { device_id });
            }
            let seen: Option<DateTime<Utc>> = row.try_get(3)?;
            if seen.is_none_or(|seen| seen < now - Duration::seconds(LAST_SEEN_RESOLUTION_SECS)) {
                client.execute("UPDATE devices SET last_seen_at = $2 WHERE id = $1", &[&device_id, &now])?;
            }
            Ok(TokenCheck::Device { device_id, centre_id: row.try_get(1)? })
        })
    }

    fn revoke_device(&self, device_id: Uuid) -> Result<()> {
        self.write(|tx| {
            let n =
                tx.execute("UPDATE devices SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1", &[&device_id])?;
            if n == 0 { Err(Error::NotFound(format!("no device {device_id}"))) } else { Ok(()) }
        })
    }

    fn push_received(&self, device_id: Uuid, received: &Received<'_>, now: DateTime<Utc>) -> Result<PushOutcome> {
        self.write(|tx| Ok(run_batch(&mut PgTx(tx), device_id, received, now)?.0))
    }

    fn acked_through(&self, device_id: Uuid) -> Result<i64> {
        self.with(|client| {
            let row = client.query_opt("SELECT acked_through_seq FROM devices WHERE id = $1", &[&device_id])?;
            match row {
                Some(r) => Ok(r.try_get(0)?),
                None => Err(Error::NotFound(format!("no device {device_id}"))),
            }
        })
    }

    fn centre_changes(&self, centre_id: Uuid, after: i64, limit: i64) -> Result<ChangesPage> {
        self.with(|client| {
            let rows = client.query(
                &format!(
                    "SELECT {CHANGE_COLUMNS} FROM changes WHERE centre_id = $1 AND pos > $2 ORDER BY pos LIMIT $3"
                ),
                &[&centre_id, &after, &(limit.max(0).saturating_add(1))],
            )?;
            let mut changes = rows.iter().map(change_from).collect::<Result<Vec<_>>>()?;
            let has_more = changes.len() as i64 > limit;
            changes.truncate(limit.max(0) as usize);
            let next_after = changes.last().map_or(after, |(pos, _)| *pos);
            // Counted after the page is read: a later snapshot holds everything the page's did, so
            // `total` never counts fewer changes than the pages so far have held.
            let total: i64 =
                client.query_one("SELECT count(*) FROM changes WHERE centre_id = $1", &[&centre_id])?.try_get(0)?;
            Ok(ChangesPage { changes: changes.into_iter().map(|(_, c)| c).collect(), next_after, has_more, total })
        })
    }

    fn import_reference(&self, dataset: &str, items: Vec<serde_json::Value>) -> Result<i64> {
        self.write(|tx| run_import(&mut PgTx(tx), dataset, &items, Utc::now()))
    }

    fn reference_page(&self, dataset: &str, since: i64, limit: i64) -> Result<ReferencePage> {
        self.with(|client| {
            let rows = client.query(
                "SELECT pos, key, version, item FROM reference_log WHERE dataset = $1 AND pos > $2 ORDER BY pos LIMIT $3",
                &[&dataset, &since, &(limit.max(0).saturating_add(1))],
            )?;
            let mut items = rows
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get::<_, i64>(0)?,
                        ReferenceEntry { key: r.try_get(1)?, version: r.try_get(2)?, item: r.try_get(3)? },
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let has_more = items.len() as i64 > limit;
            items.truncate(limit.max(0) as usize);
            let next_since = items.last().map_or(since, |(pos, _)| *pos);
            Ok(ReferencePage { items: items.into_iter().map(|(_, e)| e).collect(), next_since, has_more })
        })
    }

    fn quarantine(&self) -> Result<Vec<QuarantineEntry>> {
        self.with(|client| {
            let rows = client.query(
                "SELECT change_id, device_id, centre_id, entity, seq, reason, at FROM quarantine ORDER BY id",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(QuarantineEntry {
                        change_id: r.try_get(0)?,
                        device_id: r.try_get(1)?,
                        centre_id: r.try_get(2)?,
                        entity: r.try_get(3)?,
                        seq: r.try_get(4)?,
                        reason: r.try_get(5)?,
                        at: rfc3339(r.try_get(6)?),
                    })
                })
                .collect()
        })
    }

    fn centre_states(&self) -> Result<Vec<CentreState>> {
        self.with(|client| {
            let centres = client.query(
                "SELECT c.id, c.name,
                     (SELECT count(*) FROM changes x WHERE x.centre_id = c.id),
                     (SELECT received_at FROM changes x WHERE x.centre_id = c.id ORDER BY pos DESC LIMIT 1),
                     (SELECT count(*) FROM quarantine q WHERE q.centre_id = c.id),
                     o.n, o.oldest
                 FROM centres c
                 CROSS JOIN LATERAL (
                     SELECT count(*) AS n, min(x.payload->>'received_at') AS oldest
                     FROM records r JOIN changes x ON x.pos = r.pos
                     WHERE r.centre_id = c.id AND r.entity = 'feedback' AND r.op = 'upsert'
                         AND x.payload->>'kind' = 'complaint' AND x.payload->>'status' <> 'closed'
                 ) o
                 ORDER BY c.name, c.id",
                &[],
            )?;
            let devices = client.prepare(
                "SELECT id, enrolled_at, last_seen_at, acked_through_seq, revoked_at FROM devices
                 WHERE centre_id = $1 ORDER BY revoked_at IS NOT NULL, enrolled_at DESC, id",
            )?;
            let mut out = Vec::new();
            for c in centres {
                let id: Uuid = c.try_get(0)?;
                let devices = client
                    .query(&devices, &[&id])?
                    .iter()
                    .map(|d| {
                        let last_seen: Option<DateTime<Utc>> = d.try_get(2)?;
                        let revoked: Option<DateTime<Utc>> = d.try_get(4)?;
                        Ok(DeviceState {
                            id: d.try_get(0)?,
                            enrolled_at: rfc3339(d.try_get(1)?),
                            last_seen_at: last_seen.map(rfc3339),
                            acked_through_seq: d.try_get(3)?,
                            revoked_at: revoked.map(rfc3339),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let last_change: Option<DateTime<Utc>> = c.try_get(3)?;
                out.push(CentreState {
                    id,
                    name: c.try_get(1)?,
                    devices,
                    changes: c.try_get(2)?,
                    last_change_at: last_change.map(rfc3339),
                    quarantined: c.try_get(4)?,
                    open_complaints: c.try_get(5)?,
                    oldest_open_complaint: c.try_get(6)?,
                });
            }
            Ok(out)
        })
    }

    fn report_records(&self, first_day: &str, last_day: &str) -> Result<Vec<ReportRecord>> {
        self.with(|client| {
            let rows = client.query(
                "SELECT r.centre_id, r.entity, c.payload FROM records r JOIN changes c ON c.pos = r.pos
                 WHERE r.day >= $1::text::date AND r.day <= $2::text::date AND r.op = 'upsert'",
                &[&first_day, &last_day],
            )?;
            rows.iter()
                .map(|r| Ok(ReportRecord { centre_id: r.try_get(0)?, entity: r.try_get(1)?, payload: r.try_get(2)? }))
                .collect()
        })
    }

    fn add_office_key(&self, name: &str, now: DateTime<Utc>) -> Result<(Uuid, String)> {
        let name = check_key_name(name)?;
        let key = secret::new_token()?;
        let hash = secret::sha256_hex(key.as_bytes());
        let id = Uuid::now_v7();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO office_keys (id, name, key_hash, made_at) VALUES ($1, $2, $3, $4)",
                &[&id, &name, &hash, &now],
            )?;
            Ok(())
        })?;
        Ok((id, key))
    }

    fn office_key(&self, key: &str, now: DateTime<Utc>) -> Result<Option<OfficeKey>> {
        let Some(hash) = secret::token_hash(key) else { return Ok(None) };
        self.with(|client| {
            let row = client.query_opt(
                "UPDATE office_keys SET last_used_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL
                 RETURNING id, name",
                &[&hash, &now],
            )?;
            row.map(|r| Ok(OfficeKey { id: r.try_get(0)?, name: r.try_get(1)? })).transpose()
        })
    }

    fn office_key_live(&self, id: Uuid) -> Result<bool> {
        self.with(|client| {
            Ok(client
                .query_one("SELECT EXISTS (SELECT 1 FROM office_keys WHERE id = $1 AND revoked_at IS NULL)", &[&id])?
                .try_get(0)?)
        })
    }

    fn revoke_office_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        self.with(|client| {
            let n = client
                .execute("UPDATE office_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1", &[&id, &now])?;
            if n == 0 { Err(Error::NotFound(format!("no office key {id}"))) } else { Ok(()) }
        })
    }

    fn office_keys(&self) -> Result<Vec<OfficeKeySummary>> {
        self.with(|client| {
            let rows = client.query(
                "SELECT id, name, made_at, last_used_at, revoked_at FROM office_keys ORDER BY made_at, id",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let used: Option<DateTime<Utc>> = r.try_get(3)?;
                    let revoked: Option<DateTime<Utc>> = r.try_get(4)?;
                    Ok(OfficeKeySummary {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        made_at: rfc3339(r.try_get(2)?),
                        last_used_at: used.map(rfc3339),
                        revoked_at: revoked.map(rfc3339),
                    })
                })
                .collect()
        })
    }

    fn device_changes(&self, device_id: Uuid) -> Result<Vec<Change>> {
        self.with(|client| {
            let rows = client.query(
                &format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE device_id = $1 ORDER BY seq"),
                &[&device_id],
            )?;
            rows.iter().map(|r| Ok(change_from(r)?.1)).collect()
        })
    }

    fn quarantined(&self, device_id: Uuid) -> Result<Vec<(Uuid, String)>> {
        self.with(|client| {
            let rows = client
                .query("SELECT change_id, reason FROM quarantine WHERE device_id = $1 ORDER BY id", &[&device_id])?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
        })
    }

    fn centre_record(&self, centre_id: Uuid, entity: &str, entity_id: Uuid) -> Result<Option<serde_json::Value>> {
        self.with(|client| {
            let row = client.query_opt(
                "SELECT c.payload FROM records r JOIN changes c ON c.pos = r.pos
                 WHERE r.centre_id = $1 AND r.entity = $2 AND r.entity_id = $3",
                &[&centre_id, &entity, &entity_id],
            )?;
            row.map(|r| Ok(r.try_get(0)?)).transpose()
        })
    }

    fn bulk_insert_changes(&self, device_id: Uuid, changes: &[Change]) -> Result<()> {
        const ROWS: usize = 1000;
        self.write(|tx| {
            let centre: Uuid = tx
                .query_opt("SELECT centre_id FROM devices WHERE id = $1", &[&device_id])?
                .ok_or_else(|| Error::NotFound(format!("no device {device_id}")))?
                .try_get(0)?;
            let ops: Vec<&str> = changes.iter().map(|c| c.op.as_str()).collect();
            for (chunk, ops) in changes.chunks(ROWS).zip(ops.chunks(ROWS)) {
                let mut sql = String::from(
                    "INSERT INTO changes (change_id, device_id, centre_id, seq, entity, entity_id, op, occurred_at,
                         user_id, schema_version, payload, received_at) VALUES ",
                );
                let mut values: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 11);
                for (i, (c, op)) in chunk.iter().zip(ops).enumerate() {
                    if i > 0 {
                        sql.push(',');
                    }
                    let b = i * 9;
                    sql.push_str(&format!(
                        "(${},$1,$2,${},${},${},${},${},${},${},${},now())",
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8,
                        b + 9,
                        b + 10,
                        b + 11
                    ));
                    values.extend_from_slice(&[
                        &c.change_id,
                        &c.seq,
                        &c.entity,
                        &c.entity_id,
                        op,
                        &c.occurred_at,
                        &c.user_id,
                        &c.schema_version,
                        &c.payload,
                    ]);
                }
                let mut all: Vec<&(dyn ToSql + Sync)> = vec![&device_id, &centre];
                all.extend(values);
                tx.execute(sql.as_str(), &all)?;
                if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
                    // The same rows a batch leaves beside its changes (the report day aside).
                    tx.execute(
                        "INSERT INTO records (centre_id, entity, entity_id, device_id, seq, op, pos, updated_at)
                         SELECT DISTINCT ON (entity, entity_id) centre_id, entity, entity_id, device_id, seq, op, pos,
                             received_at
                         FROM changes WHERE device_id = $1 AND seq BETWEEN $2 AND $3
                         ORDER BY entity, entity_id, seq DESC
                         ON CONFLICT (centre_id, entity, entity_id) DO UPDATE SET device_id = excluded.device_id,
                             seq = excluded.seq, op = excluded.op, pos = excluded.pos, updated_at = excluded.updated_at",
                        &[&device_id, &first.seq, &last.seq],
                    )?;
                }
            }
            Ok(())
        })
    }
}
