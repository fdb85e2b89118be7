//! The outbox: every change of every record, numbered 1, 2, 3 … with no gaps, in the format of
//! `shared/brief/sync.md`, waiting for head office.

use crate::audit::Link;
use crate::db::{exec, row};
use crate::schema::VERSION;
use crate::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use pops_domain::change::{Change, Op};
use rusqlite::{Connection, params};
use uuid::Uuid;

#[allow(clippy::too_many_arguments)]
pub(crate) fn append(
    conn: &Connection,
    entity: &str,
    entity_id: Uuid,
    op: Op,
    payload: serde_json::Value,
    user_id: Uuid,
    now: DateTime<Utc>,
    audit: &Link,
) -> Result<Change> {
    if !payload.is_object() {
        return Err(Error::Malformed("a change's payload must be a JSON object".into()));
    }
    let seq: i64 = row(conn, "SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox", [], |r| r.get(0))?;
    let change = Change {
        change_id: Uuid::now_v7(),
        seq,
        entity: entity.into(),
        entity_id,
        op,
        occurred_at: now.to_rfc3339_opts(SecondsFormat::Millis, true),
        user_id,
        schema_version: VERSION,
        payload,
    };
    exec(
        conn,
        "INSERT INTO outbox (seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload, audit_id, audit_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            change.seq,
            change.change_id.to_string(),
            change.entity,
            change.entity_id.to_string(),
            change.op.as_str(),
            change.occurred_at,
            change.user_id.to_string(),
            change.schema_version,
            change.payload.to_string(),
            audit.id,
            audit.hash,
        ],
    )?;
    Ok(change)
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Malformed("an outbox id is not a UUID".into()))
}

/// SQLite's `data_version` for this connection: it changes when another connection commits, so a
/// reader can tell whether what it read earlier may have changed since.
pub fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

/// Changes after `after_seq`, oldest first, at most `limit`.
pub fn changes_after(conn: &Connection, after_seq: i64, limit: i64) -> Result<Vec<Change>> {
    let mut stmt = conn.prepare(
        "SELECT seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload
         FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after_seq, limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload) = row?;
        out.push(Change {
            change_id: parse_uuid(&change_id)?,
            seq,
            entity,
            entity_id: parse_uuid(&entity_id)?,
            op: Op::parse(&op).ok_or_else(|| Error::Malformed("unknown outbox op".into()))?,
            occurred_at,
            user_id: parse_uuid(&user_id)?,
            schema_version,
            payload: serde_json::from_str(&payload)?,
        });
    }
    Ok(out)
}

/// Changes after `after_seq` as they go to head office, oldest first, at most `limit`: each one's
/// seq and its JSON, a [`Change`] field for field, written from the stored text without parsing
/// it (the payload is kept as the JSON serde wrote; the rest are ids, numbers and words, written as
/// JSON strings). [`changes_after`] reads the same rows as values.
pub fn changes_json_after(conn: &Connection, after_seq: i64, limit: i64) -> Result<Vec<(i64, Vec<u8>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload
         FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after_seq, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let text = |i: usize| r.get_ref(i).and_then(|v| v.as_str().map_err(Into::into));
        let payload = text(8)?;
        let mut json = Vec::with_capacity(payload.len() + 256);
        let string = |json: &mut Vec<u8>, key: &str, i: usize| -> Result<()> {
            json.extend_from_slice(key.as_bytes());
            serde_json::to_writer(&mut *json, text(i)?)?;
            Ok(())
        };
        string(&mut json, "{\"change_id\":", 1)?;
        json.extend_from_slice(format!(",\"seq\":{seq}").as_bytes());
        string(&mut json, ",\"entity\":", 2)?;
        string(&mut json, ",\"entity_id\":", 3)?;
        string(&mut json, ",\"op\":", 4)?;
        string(&mut json, ",\"occurred_at\":", 5)?;
        string(&mut json, ",\"user_id\":", 6)?;
        json.extend_from_slice(format!(",\"schema_version\":{},\"payload\":", r.get::<_, i64>(7)?).as_bytes());
        json.extend_from_slice(payload.as_bytes());
        json.push(b'}');
        out.push((seq, json));
    }
    Ok(out)
}

/// Makes every earlier change of one record a copy of its latest change (the same op and payload;
/// ids, seqs, times and audit links stay): after a family's removal its earlier changes are all its
/// tombstone, and a check-in whose lead name was cleared keeps no change that holds the name. Head
/// office, applying the changes in order, ends at the same record; the hub's dedup (by id and seq)
/// and the audit chain are untouched. Rows in the batch out for acknowledgement go out again exactly
/// as they went, so they are left, and the record is listed in `outbox_scrub` until that batch's
/// reply is committed ([`scrub_waiting`]).
pub(crate) fn scrub_history(conn: &Connection, entity: &str, entity_id: Uuid) -> Result<usize> {
    let id = entity_id.to_string();
    let rewritten = exec(
        conn,
        "UPDATE outbox SET op = latest.op, payload = latest.payload
         FROM (SELECT seq, op, payload FROM outbox WHERE entity = ?1 AND entity_id = ?2 ORDER BY seq DESC LIMIT 1)
             AS latest
         WHERE outbox.entity = ?1 AND outbox.entity_id = ?2 AND outbox.seq < latest.seq
             AND (outbox.op <> latest.op OR outbox.payload <> latest.payload)
             AND NOT EXISTS (SELECT 1 FROM sync_state s
                             WHERE outbox.seq BETWEEN s.pending_first_seq AND s.pending_last_seq)",
        params![entity, id],
    )?;
    let left: bool = row(
        conn,
        "SELECT EXISTS (
             SELECT 1 FROM outbox o,
                 (SELECT seq, op, payload FROM outbox WHERE entity = ?1 AND entity_id = ?2 ORDER BY seq DESC LIMIT 1)
                     AS latest
             WHERE o.entity = ?1 AND o.entity_id = ?2 AND o.seq < latest.seq
                 AND (o.op <> latest.op OR o.payload <> latest.payload))",
        params![entity, id],
        |r| r.get(0),
    )?;
    if left {
        exec(
            conn,
            "INSERT INTO outbox_scrub (entity, entity_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![entity, id],
        )?;
    } else {
        exec(conn, "DELETE FROM outbox_scrub WHERE entity = ?1 AND entity_id = ?2", params![entity, id])?;
    }
    Ok(rewritten)
}

/// Scrubs the records [`scrub_history`] had to leave because their changes were in the batch out
/// for acknowledgement; called whenever that batch is cleared. Answers how many rows it rewrote.
pub(crate) fn scrub_waiting(conn: &Connection) -> Result<usize> {
    let waiting: Vec<(String, String)> = {
        let mut stmt = conn.prepare_cached("SELECT entity, entity_id FROM outbox_scrub")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut rewritten = 0;
    for (entity, id) in waiting {
        rewritten += scrub_history(conn, &entity, parse_uuid(&id)?)?;
    }
    Ok(rewritten)
}
