//! The audit log: who did what, when, to which record. Rows cannot be updated or deleted (triggers
//! refuse), and each row carries the hash of the one before it, so `verify` finds any row that was
//! edited, removed or inserted behind the app's back, including rows cut from the end.

use crate::db::{exec, row};
use crate::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[allow(clippy::too_many_arguments)]
fn entry_hash(
    prev: &str,
    id: i64,
    at: &str,
    user_id: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [prev, &id.to_string(), at, user_id, action, entity, entity_id, detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

pub(crate) fn append(
    conn: &Connection,
    at: DateTime<Utc>,
    user_id: Option<Uuid>,
    action: &str,
    entity: Option<&str>,
    entity_id: Option<Uuid>,
    detail: &str,
) -> Result<Link> {
    let head: Option<(i64, String)> =
        row(conn, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
    let (prev_id, prev_hash) = head.unwrap_or((0, GENESIS.to_string()));
    let id = prev_id + 1;
    let at = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let user = user_id.map(|u| u.to_string());
    let entity_id = entity_id.map(|u| u.to_string());
    let hash = entry_hash(
        &prev_hash,
        id,
        &at,
        user.as_deref().unwrap_or(""),
        action,
        entity.unwrap_or(""),
        entity_id.as_deref().unwrap_or(""),
        detail,
    );
    exec(
        conn,
        "INSERT INTO audit (id, at, user_id, action, entity, entity_id, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![id, at, user, action, entity, entity_id, detail, prev_hash, hash],
    )?;
    Ok(Link { id, hash })
}

/// Where an entry sits in the chain: its id and its hash. Each outbox change keeps the link of the
/// audit entry written with it, which anchors the chain's end outside the audit table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub id: i64,
    pub hash: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: i64,
    /// `None` when the chain is whole; otherwise where it breaks, in plain words.
    pub problem: Option<String>,
}

/// Walks the whole chain and checks every link, then checks that the entry anchored by the newest
/// outbox change is still there, unchanged: entries cut from the end of the log are found that way.
/// (Audit-only entries written after the newest change, such as sign-ins, are anchored only once
/// the next change is written; head office holds the outbox too, so the anchor also lives off the
/// laptop.)
pub fn verify(conn: &Connection) -> Result<Verification> {
    let mut stmt = conn.prepare(
        "SELECT id, at, COALESCE(user_id, ''), action, COALESCE(entity, ''), COALESCE(entity_id, ''), detail, prev_hash, hash
         FROM audit ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_id = 1i64;
    let mut prev = GENESIS.to_string();
    let mut entries = 0i64;
    let anchor: Option<(i64, String)> =
        row(conn, "SELECT audit_id, audit_hash FROM outbox ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let mut anchored_hash = None;
    let broken = |entries, problem: String| Ok(Verification { entries, problem: Some(problem) });
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let fields: [String; 8] =
            [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?];
        let [at, user, action, entity, entity_id, detail, prev_hash, hash] = fields;
        entries += 1;
        if id != expected_id {
            return broken(entries, format!("entry {expected_id} is missing"));
        }
        if prev_hash != prev {
            return broken(entries, format!("entry {id} does not follow the entry before it"));
        }
        if entry_hash(&prev, id, &at, &user, &action, &entity, &entity_id, &detail) != hash {
            return broken(entries, format!("entry {id} has been changed"));
        }
        if anchor.as_ref().is_some_and(|(anchor_id, _)| *anchor_id == id) {
            anchored_hash = Some(hash.clone());
        }
        prev = hash;
        expected_id += 1;
    }
    if let Some((anchor_id, hash)) = anchor {
        match anchored_hash {
            None => return broken(entries, format!("entries after {entries} have been removed")),
            Some(found) if found != hash => return broken(entries, format!("entry {anchor_id} has been changed")),
            Some(_) => {}
        }
    }
    Ok(Verification { entries, problem: None })
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub user_id: Option<String>,
    pub action: String,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub detail: String,
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: i64) -> Result<Vec<Entry>> {
    let mut stmt =
        conn.prepare("SELECT id, at, user_id, action, entity, entity_id, detail FROM audit ORDER BY id DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Entry {
            id: r.get(0)?,
            at: r.get(1)?,
            user_id: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            entity_id: r.get(5)?,
            detail: r.get(6)?,
        })
    })?;
    rows.collect::<std::result::Result<Vec<_>, _>>().map_err(Error::from)
}
