//! The device's side of sync with head office, as stored (schema 6; `shared/brief/sync.md`): the
//! enrolment and its token, how far the hub has acknowledged the outbox, the batch out for
//! acknowledgement, the changes the hub quarantined, and the reference data pulled from the hub.
//!
//! Everything the worker (`pops-sync`) learns from the hub is written here in one transaction per
//! reply: an outbox row counts as acknowledged only once the reply that says so is committed.
//! The device token lives only inside the encrypted database; it is never in a log, an error or an
//! audit entry.

use crate::db::{exec, row};
use crate::{Error, Result, Writer};
use chrono::{DateTime, SecondsFormat, Utc};
use pops_domain::sync::{BatchReply, Enrolment, ReferencePage, check_reference_item, dataset};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The device's bearer token for the hub. Wiped from memory when dropped; never printed.
#[derive(Clone)]
pub struct DeviceToken(Zeroizing<String>);

impl DeviceToken {
    pub fn new(token: String) -> Self {
        DeviceToken(Zeroizing::new(token))
    }

    /// The token itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(…)")
    }
}

/// A batch that has been (or is about to be) sent and whose reply is not yet committed. A retry
/// sends the same id with the same changes, so the hub answers it as the same batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingBatch {
    pub batch_id: Uuid,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// What the worker needs to talk to the hub: present once the device is enrolled.
#[derive(Debug, Clone)]
pub struct Hub {
    pub url: String,
    pub device_id: Uuid,
    pub centre_id: Uuid,
    pub token: DeviceToken,
    /// Head office has refused this device's token: nothing is tried until it is enrolled again.
    pub blocked: bool,
    /// Every outbox row up to here is acknowledged by the hub; the next batch starts after it.
    pub acked_through_seq: i64,
    pub pending: Option<PendingBatch>,
    /// When reference data was last pulled in full.
    pub last_reference_at: Option<DateTime<Utc>>,
}

/// Sync as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub enrolled: bool,
    /// The hub's address (no credentials: addresses with them are refused at enrolment).
    pub hub_url: Option<String>,
    /// The device's id at the hub.
    pub device_id: Option<Uuid>,
    pub centre_id: Option<Uuid>,
    pub enrolled_at: Option<String>,
    /// Outbox changes head office has not acknowledged yet.
    pub waiting: i64,
    /// Changes head office acknowledged but would not apply (see [`quarantined`]).
    pub quarantined: i64,
    pub acked_through_seq: i64,
    pub last_ack_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The last problem, in plain words for a volunteer; cleared by the next success.
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Head office has withdrawn this device's permission to send; a new enrolment code is needed.
    pub blocked: bool,
    /// Enrolled and nothing waiting: shutting the laptop loses nothing head office does not have.
    pub safe_to_shut: bool,
}

/// Where one record's latest change has got to (the type the lists carry to the window).
pub use pops_domain::sync::RecordState;

/// A change head office acknowledged but would not apply. No payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedChange {
    pub seq: i64,
    pub change_id: Uuid,
    pub entity: String,
    pub entity_id: Uuid,
    /// Head office's reason.
    pub reason: String,
    /// When the reply came.
    pub at: String,
}

/// What one batch reply did here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyRecorded {
    /// Outbox rows newly marked acknowledged.
    pub acked: usize,
    /// Rejected changes newly quarantined.
    pub quarantined: usize,
    /// Rejected change ids the hub named that this laptop does not have (logged, not kept).
    pub unknown_rejections: usize,
    /// Outbox rows rewritten by the removals that waited for this reply (`outbox::scrub_waiting`):
    /// a batch read before the reply may no longer match the outbox.
    pub scrubbed: usize,
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn uuid(s: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Malformed(format!("{what} is not a UUID")))
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// The enrolment, when there is one.
pub fn hub(conn: &Connection) -> Result<Option<Hub>> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        i64,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let r: Row = row(
        conn,
        "SELECT hub_url, device_id, centre_id, device_token, blocked, acked_through_seq,
                pending_batch_id, pending_first_seq, pending_last_seq, last_reference_at
         FROM sync_state WHERE id = 1",
        [],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        },
    )?;
    let (url, device, centre, token, blocked, acked_through_seq, batch, first, last, reference) = r;
    let (Some(url), Some(device), Some(centre), Some(token)) = (url, device, centre, token) else {
        return Ok(None);
    };
    let pending = match (batch, first, last) {
        (Some(b), Some(first_seq), Some(last_seq)) => {
            Some(PendingBatch { batch_id: uuid(&b, "the pending batch id")?, first_seq, last_seq })
        }
        _ => None,
    };
    Ok(Some(Hub {
        url,
        device_id: uuid(&device, "the hub device id")?,
        centre_id: uuid(&centre, "the hub centre id")?,
        token: DeviceToken::new(token),
        blocked,
        acked_through_seq,
        pending,
        last_reference_at: reference.as_deref().and_then(parse_time),
    }))
}

/// Saves an enrolment made with `hub_url` (already checked by the worker), replacing any earlier
/// one: the new token, not blocked, no error, no batch pending. A new device id at the hub starts
/// from nothing acknowledged. Audited as `device_enrolled` with the hub's device id only.
pub fn save_enrolment(w: &Writer<'_>, hub_url: &str, enrolment: &Enrolment) -> Result<()> {
    let previous: Option<String> = row(w.tx(), "SELECT device_id FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    let same_device = previous.as_deref() == Some(enrolment.device_id.to_string().as_str());
    exec(
        w.tx(),
        "UPDATE sync_state SET hub_url = ?1, device_id = ?2, centre_id = ?3, device_token = ?4, enrolled_at = ?5,
                blocked = 0, last_error = NULL, last_error_at = NULL,
                pending_batch_id = NULL, pending_first_seq = NULL, pending_last_seq = NULL,
                acked_through_seq = CASE WHEN ?6 THEN acked_through_seq ELSE 0 END
         WHERE id = 1",
        params![
            hub_url,
            enrolment.device_id.to_string(),
            enrolment.centre_id.to_string(),
            enrolment.device_token.as_str(),
            stamp(w.now()),
            same_device,
        ],
    )?;
    crate::outbox::scrub_waiting(w.tx())?;
    w.audit("device_enrolled", None, None, &format!("hub_device_id={}", enrolment.device_id))
}

/// The newest outbox seq (0 when the outbox is empty).
pub fn last_seq(conn: &Connection) -> Result<i64> {
    Ok(row(conn, "SELECT COALESCE(MAX(seq), 0) FROM outbox", [], |r| r.get(0))?)
}

/// Keeps `batch` as the batch out for acknowledgement, before it is sent: after a crash the same
/// batch (same id, same changes) is sent again.
pub fn begin_batch(w: &Writer<'_>, batch: &PendingBatch) -> Result<()> {
    if batch.first_seq < 1 || batch.last_seq < batch.first_seq {
        return Err(Error::Malformed(format!("batch {}..{} is not a range of seqs", batch.first_seq, batch.last_seq)));
    }
    exec(
        w.tx(),
        "UPDATE sync_state SET pending_batch_id = ?1, pending_first_seq = ?2, pending_last_seq = ?3 WHERE id = 1",
        params![batch.batch_id.to_string(), batch.first_seq, batch.last_seq],
    )?;
    Ok(())
}

/// Forgets the batch out for acknowledgement (the hub refused it as a whole: it will be built again).
pub fn drop_batch(w: &Writer<'_>) -> Result<()> {
    exec(
        w.tx(),
        "UPDATE sync_state SET pending_batch_id = NULL, pending_first_seq = NULL, pending_last_seq = NULL WHERE id = 1",
        [],
    )?;
    crate::outbox::scrub_waiting(w.tx()).map(drop)
}

/// Moves the sent mark to cover a batch that went out, up to its `last_seq` (never beyond the
/// newest row, never back). Batches go out in seq order from the first unacknowledged row, so the
/// rows sent are always those up to the mark.
pub fn mark_sent(w: &Writer<'_>, batch_last_seq: i64) -> Result<()> {
    exec(
        w.tx(),
        "UPDATE sync_state SET sent_through_seq = MAX(sent_through_seq, MIN(?1, (SELECT COALESCE(MAX(seq), 0) FROM outbox)))
         WHERE id = 1",
        [batch_last_seq],
    )?;
    Ok(())
}

/// Every row up to `through` (never beyond the newest row) is acknowledged: the next batch starts
/// after it, and the confirmed and sent marks move up to it if they are below (they never move
/// back). Answers how many rows are newly acknowledged.
fn ack_through(w: &Writer<'_>, through: i64) -> Result<usize> {
    let through = through.min(last_seq(w.tx())?).max(0);
    let confirmed: i64 = row(w.tx(), "SELECT confirmed_through_seq FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    exec(
        w.tx(),
        "UPDATE sync_state SET acked_through_seq = ?1, confirmed_through_seq = MAX(confirmed_through_seq, ?1),
                sent_through_seq = MAX(sent_through_seq, ?1)
         WHERE id = 1",
        [through],
    )?;
    Ok(usize::try_from(through - confirmed).unwrap_or(0))
}

/// Commits the hub's reply to `batch`, all in the caller's one transaction: the batch's rows are
/// sent, every row up to the hub's `acked_through_seq` is acknowledged, rejected changes are
/// quarantined (and so never hold back the ones after them), the pending batch is cleared,
/// `last_ack_at` is now and the last error is gone.
pub fn record_reply(w: &Writer<'_>, batch: &PendingBatch, reply: &BatchReply) -> Result<ReplyRecorded> {
    if reply.acked_through_seq < 0 {
        return Err(Error::Malformed("the hub answered a negative acked_through_seq".into()));
    }
    let now = stamp(w.now());
    // Which rows the rejections are about, looked up before this reply acknowledges anything: a
    // change acknowledged before has had its answer (stored, or quarantined then), so the hub
    // refusing it again as a duplicate (a re-sent batch, or a device enrolled anew re-sending
    // from seq 1) is no news for the manager.
    let mut recorded = ReplyRecorded { acked: 0, quarantined: 0, unknown_rejections: 0, scrubbed: 0 };
    let mut quarantine = Vec::new();
    for rejected in &reply.rejected {
        let id = rejected.change_id.to_string();
        // `change_id` has no index (each write stays small): look in the batch first, then everywhere.
        type Found = (i64, String, String, bool);
        let find = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Option<Found>> {
            Ok(row(w.tx(), sql, p, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).optional()?)
        };
        let found = match find(
            "SELECT seq, entity, entity_id, seq <= (SELECT confirmed_through_seq FROM sync_state WHERE id = 1)
             FROM outbox WHERE seq BETWEEN ?2 AND ?3 AND change_id = ?1",
            &[&id, &batch.first_seq, &batch.last_seq],
        )? {
            Some(f) => Some(f),
            None => find(
                "SELECT seq, entity, entity_id, seq <= (SELECT confirmed_through_seq FROM sync_state WHERE id = 1)
                     FROM outbox WHERE change_id = ?1",
                &[&id],
            )?,
        };
        match found {
            None => recorded.unknown_rejections += 1,
            Some((_, _, _, true)) => {}
            Some((seq, entity, entity_id, false)) => quarantine.push((seq, id, entity, entity_id, &rejected.reason)),
        }
    }
    recorded.acked = ack_through(w, reply.acked_through_seq)?;
    // The batch went out: its rows beyond what the hub acknowledged are sent too.
    if reply.acked_through_seq < batch.last_seq {
        mark_sent(w, batch.last_seq)?;
    }
    for (seq, id, entity, entity_id, reason) in quarantine {
        recorded.quarantined += exec(
            w.tx(),
            "INSERT INTO sync_quarantine (seq, change_id, entity, entity_id, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (change_id) DO NOTHING",
            params![seq, id, entity, entity_id, reason, now],
        )?;
    }
    exec(
        w.tx(),
        "UPDATE sync_state SET last_ack_at = ?1, last_error = NULL, last_error_at = NULL,
                pending_batch_id = NULL, pending_first_seq = NULL, pending_last_seq = NULL
         WHERE id = 1",
        [&now],
    )?;
    recorded.scrubbed = crate::outbox::scrub_waiting(w.tx())?;
    Ok(recorded)
}

/// Takes the hub's word (`GET /status`) for how far it has the outbox: rows up to there are
/// acknowledged (the reply to the last batch may have been lost in a crash). Never moves the mark
/// back. A pending batch the hub already holds in full is cleared. Answers rows newly marked.
pub fn catch_up(w: &Writer<'_>, hub_acked_through: i64) -> Result<usize> {
    let mine: i64 = row(w.tx(), "SELECT acked_through_seq FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    if hub_acked_through <= mine {
        return Ok(0);
    }
    let acked = ack_through(w, hub_acked_through)?;
    exec(
        w.tx(),
        "UPDATE sync_state SET last_ack_at = ?1,
                pending_batch_id = CASE WHEN pending_last_seq <= acked_through_seq THEN NULL ELSE pending_batch_id END,
                pending_first_seq = CASE WHEN pending_last_seq <= acked_through_seq THEN NULL ELSE pending_first_seq END,
                pending_last_seq = CASE WHEN pending_last_seq <= acked_through_seq THEN NULL ELSE pending_last_seq END
         WHERE id = 1",
        [stamp(w.now())],
    )?;
    crate::outbox::scrub_waiting(w.tx())?;
    Ok(acked)
}

/// The hub expects `expected_seq` next (a 409): the next batch starts there. Moving back (the hub
/// lost changes it had acknowledged) re-sends them; acknowledgements already recorded stay.
/// Moving forward acknowledges what the hub says it holds.
pub fn rewind(w: &Writer<'_>, expected_seq: i64) -> Result<()> {
    if expected_seq < 1 {
        return Err(Error::Malformed("the hub expects a seq below 1".into()));
    }
    let through = (expected_seq - 1).min(last_seq(w.tx())?);
    let mine: i64 = row(w.tx(), "SELECT acked_through_seq FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    if through > mine {
        ack_through(w, through)?;
    } else {
        exec(w.tx(), "UPDATE sync_state SET acked_through_seq = ?1 WHERE id = 1", [through])?;
    }
    drop_batch(w)
}

/// Stamps the start of an attempt to reach the hub.
pub fn record_attempt(w: &Writer<'_>) -> Result<()> {
    exec(w.tx(), "UPDATE sync_state SET last_attempt_at = ?1 WHERE id = 1", [stamp(w.now())])?;
    Ok(())
}

/// Keeps `message` (plain words, no token, no payload) as the last error.
pub fn record_error(w: &Writer<'_>, message: &str) -> Result<()> {
    exec(
        w.tx(),
        "UPDATE sync_state SET last_error = ?1, last_error_at = ?2 WHERE id = 1",
        params![message, stamp(w.now())],
    )?;
    Ok(())
}

/// Clears the last error (the hub answered again).
pub fn clear_error(w: &Writer<'_>) -> Result<()> {
    exec(w.tx(), "UPDATE sync_state SET last_error = NULL, last_error_at = NULL WHERE id = 1", [])?;
    Ok(())
}

/// Head office refused the token: stop trying until the device is enrolled again.
pub fn block(w: &Writer<'_>, message: &str) -> Result<()> {
    exec(
        w.tx(),
        "UPDATE sync_state SET blocked = 1, last_error = ?1, last_error_at = ?2 WHERE id = 1",
        params![message, stamp(w.now())],
    )?;
    Ok(())
}

fn known_dataset(name: &str) -> Result<()> {
    if dataset::ALL.contains(&name) {
        Ok(())
    } else {
        Err(Error::Conflict(format!("There is no reference list called \"{name}\".")))
    }
}

/// How far `dataset` has been pulled (the `since` of the next page).
pub fn reference_cursor(conn: &Connection, name: &str) -> Result<i64> {
    known_dataset(name)?;
    Ok(row(conn, "SELECT since FROM reference_cursor WHERE dataset = ?1", [name], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Applies one page of `dataset`'s log, asked for with `since`, and moves the cursor to the page's
/// `next_since`, in the caller's one transaction. Every entry is checked first (the key is the
/// item's `id`, the item passes [`check_reference_item`]); one bad entry refuses the whole page
/// with `Error::Conflict` and nothing is applied. Answers how many entries were applied.
pub fn apply_reference_page(w: &Writer<'_>, name: &str, since: i64, page: &ReferencePage) -> Result<usize> {
    known_dataset(name)?;
    let cursor = reference_cursor(w.tx(), name)?;
    if since != cursor {
        return Err(Error::Conflict(format!(
            "The {name} page was asked for from {since}, but this laptop has the list up to {cursor}."
        )));
    }
    if page.next_since < cursor {
        return Err(Error::Conflict(format!(
            "Head office sent the {name} list from an earlier point ({}) than this laptop has ({cursor}); \
             nothing from that page was used.",
            page.next_since
        )));
    }
    let refuse = |why: String| {
        Error::Conflict(format!(
            "Head office sent a {name} entry this app cannot use: {why}. Nothing from that page was used."
        ))
    };
    let mut rows = Vec::with_capacity(page.items.len());
    for (i, entry) in page.items.iter().enumerate() {
        if entry.version < 1 {
            return Err(refuse(format!("entry {} has version {}", i + 1, entry.version)));
        }
        match &entry.item {
            Some(item) => {
                let key = check_reference_item(name, item).map_err(|e| refuse(format!("entry {}: {e}", i + 1)))?;
                if key != entry.key {
                    return Err(refuse(format!("entry {} is filed under a different id from its own", i + 1)));
                }
                rows.push((entry.key.as_str(), entry.version, Some(item.to_string())));
            }
            None => rows.push((entry.key.as_str(), entry.version, None)),
        }
    }
    for (key, version, item) in &rows {
        match item {
            Some(item) => exec(
                w.tx(),
                "INSERT INTO reference_item (dataset, key, version, item) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (dataset, key) DO UPDATE SET version = excluded.version, item = excluded.item",
                params![name, key, version, item],
            )?,
            None => exec(w.tx(), "DELETE FROM reference_item WHERE dataset = ?1 AND key = ?2", params![name, key])?,
        };
    }
    exec(
        w.tx(),
        "INSERT INTO reference_cursor (dataset, since, pulled_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (dataset) DO UPDATE SET since = excluded.since, pulled_at = excluded.pulled_at",
        params![name, page.next_since, stamp(w.now())],
    )?;
    Ok(rows.len())
}

/// Stamps a complete pull of every reference dataset.
pub fn record_reference_pull(w: &Writer<'_>) -> Result<()> {
    exec(w.tx(), "UPDATE sync_state SET last_reference_at = ?1 WHERE id = 1", [stamp(w.now())])?;
    Ok(())
}

/// The items of `dataset` as head office published them, in key order.
pub fn reference_items(conn: &Connection, name: &str) -> Result<Vec<serde_json::Value>> {
    known_dataset(name)?;
    let mut stmt = conn.prepare_cached("SELECT item FROM reference_item WHERE dataset = ?1 ORDER BY key")?;
    let rows = stmt.query_map([name], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for item in rows {
        out.push(serde_json::from_str(&item?)?);
    }
    Ok(out)
}

/// Sync as the app shows it. Cheap: one row, the newest seq and a count of the quarantine.
pub fn status(conn: &Connection) -> Result<SyncState> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        Option<String>,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        i64,
        i64,
    );
    // One statement, so one snapshot: read one by one, a reply committed in between could show
    // nothing waiting beside the mark from before it.
    let r: Row = row(
        conn,
        "SELECT hub_url, device_id, centre_id, device_token IS NOT NULL, enrolled_at, acked_through_seq,
                last_ack_at, last_attempt_at, last_error, last_error_at, blocked,
                MAX(COALESCE((SELECT MAX(seq) FROM outbox), 0) - confirmed_through_seq, 0),
                (SELECT count(*) FROM sync_quarantine)
         FROM sync_state WHERE id = 1",
        [],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
            ))
        },
    )?;
    let (
        hub_url,
        device,
        centre,
        enrolled,
        enrolled_at,
        acked_through_seq,
        last_ack_at,
        last_attempt_at,
        last_error,
        last_error_at,
        blocked,
        // Seqs have no gaps, so the rows not yet acknowledged are those above the confirmed mark
        // (which is above `acked_through_seq` while a 409 has the device re-sending what the hub had).
        waiting,
        quarantined,
    ) = r;
    Ok(SyncState {
        enrolled,
        hub_url,
        device_id: device.as_deref().map(|d| uuid(d, "the hub device id")).transpose()?,
        centre_id: centre.as_deref().map(|c| uuid(c, "the hub centre id")).transpose()?,
        enrolled_at,
        waiting,
        quarantined,
        acked_through_seq,
        last_ack_at,
        last_attempt_at,
        last_error,
        last_error_at,
        blocked,
        safe_to_shut: enrolled && waiting == 0,
    })
}

/// The changes head office would not apply, newest first, for the manager. No payloads.
pub fn quarantined(conn: &Connection) -> Result<Vec<QuarantinedChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, change_id, entity, entity_id, reason, at FROM sync_quarantine ORDER BY seq DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (seq, change_id, entity, entity_id, reason, at) = r?;
        out.push(QuarantinedChange {
            seq,
            change_id: uuid(&change_id, "a quarantined change id")?,
            entity,
            entity_id: uuid(&entity_id, "a quarantined record id")?,
            reason,
            at,
        });
    }
    Ok(out)
}

/// Where each record's latest change (of `entity`) has got to. Records with no change here are
/// left out, except on a laptop that has restored its centre from head office (`restore.rs`): a
/// record with no change here came from head office, so it is `Confirmed`.
pub fn record_states(conn: &Connection, entity: &str, ids: &[Uuid]) -> Result<HashMap<Uuid, RecordState>> {
    let enrolled: bool = row(conn, "SELECT device_token IS NOT NULL FROM sync_state WHERE id = 1", [], |r| r.get(0))?;
    let restored: bool = row(conn, "SELECT EXISTS (SELECT 1 FROM restore_state)", [], |r| r.get(0))?;
    let (confirmed, sent): (i64, i64) =
        row(conn, "SELECT confirmed_through_seq, sent_through_seq FROM sync_state WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let mut stmt =
        conn.prepare_cached("SELECT seq FROM outbox WHERE entity_id = ?1 AND entity = ?2 ORDER BY seq DESC LIMIT 1")?;
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        let found: Option<(bool, bool)> = stmt
            .query_row(params![id.to_string(), entity], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|seq| (seq <= sent, seq <= confirmed));
        let state = match found {
            None if restored => RecordState::Confirmed,
            None => continue,
            Some((_, true)) => RecordState::Confirmed,
            Some((true, false)) => RecordState::Sent,
            Some((false, false)) if enrolled => RecordState::Queued,
            Some((false, false)) => RecordState::Saved,
        };
        out.insert(*id, state);
    }
    Ok(out)
}
