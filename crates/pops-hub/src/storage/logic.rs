//! The hub's rules, once for both databases: what a batch does to a device's changes, records and
//! high-water mark, and what a reference import appends to a dataset's log. Each backend gives the
//! primitive reads and writes of one open transaction ([`BatchTx`], [`ImportTx`]); the caller
//! commits when these functions answer `Ok`.

use super::{PushOutcome, Received, rfc3339};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use pops_domain::change::Op;
use pops_domain::sync::{BatchReply, RawChange, Rejected, check_raw_change, check_reference_item};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// The reads and writes a batch needs, inside one transaction.
pub(crate) trait BatchTx {
    /// Locks the device for the rest of the transaction (and, on PostgreSQL, its centre, so the
    /// centre's change positions are handed out in commit order). Answers its centre and
    /// high-water mark, or `None` for an unknown device.
    fn lock_device(&mut self, device_id: Uuid) -> Result<Option<(Uuid, i64)>>;
    /// The hash and stored reply of a batch the device sent before.
    fn stored_batch(&mut self, device_id: Uuid, batch_id: Uuid) -> Result<Option<(String, String)>>;
    /// The device and `seq` a `change_id` was stored under.
    fn stored_change(&mut self, change_id: Uuid) -> Result<Option<(Uuid, i64)>>;
    /// The `seq` and reason of the device's quarantined change with this `change_id`.
    fn quarantined_change(&mut self, device_id: Uuid, change_id: Uuid) -> Result<Option<(i64, String)>>;
    /// Which of `ids` are stored already (under any device).
    fn existing_changes(&mut self, ids: &[Uuid]) -> Result<HashSet<Uuid>>;
    /// Stores changes not seen before, each with its payload's text as it came, in as few
    /// statements as the database takes; answers each stored change's position by its `change_id`
    /// (a change whose id turned out to be stored already is left out).
    fn insert_changes(
        &mut self,
        device_id: Uuid,
        centre_id: Uuid,
        rows: &[&RawChange],
        now: &str,
    ) -> Result<HashMap<Uuid, i64>>;
    /// Keeps a refused change for head office (once per device and `change_id`).
    fn quarantine(
        &mut self,
        device_id: Uuid,
        centre_id: Uuid,
        change: &RawChange,
        reason: &str,
        now: &str,
    ) -> Result<()>;
    /// Each record becomes its change stored at `pos`, with `day` (its report day,
    /// [`crate::report::report_day`]), unless the record already holds a newer change of the same
    /// device. `rows` are in seq order and name each record at most once.
    fn upsert_records(
        &mut self,
        device_id: Uuid,
        centre_id: Uuid,
        rows: &[(&RawChange, i64, Option<String>)],
        now: &str,
    ) -> Result<()>;
    /// The record becomes the erase stored at `pos` (its payload is the tombstone), and the
    /// payload of every stored and quarantined change of that record at the centre becomes the
    /// tombstone too.
    fn erase_record(&mut self, device_id: Uuid, centre_id: Uuid, change: &RawChange, pos: i64, now: &str)
    -> Result<()>;
    fn set_high_water(&mut self, device_id: Uuid, seq: i64) -> Result<()>;
    fn store_batch(&mut self, device_id: Uuid, batch_id: Uuid, hash: &str, reply: &str, now: &str) -> Result<()>;
}

/// What [`run_batch`] did, beyond its answer.
#[derive(Debug, Default)]
pub(crate) struct BatchEffect {
    /// Changes stored for the first time.
    pub stored: usize,
    /// An erase was applied: the caller may want to push scrubbed pages out of any journal.
    pub erased: bool,
}

/// One batch, in the caller's transaction. See `shared/brief/sync.md` and ARCHITECTURE.md.
pub(crate) fn run_batch(
    tx: &mut dyn BatchTx,
    device_id: Uuid,
    received: &Received<'_>,
    now: DateTime<Utc>,
) -> Result<(PushOutcome, BatchEffect)> {
    let (batch, hash) = (received.batch, received.hash);
    let mut effect = BatchEffect::default();
    let (centre_id, high_water) =
        tx.lock_device(device_id)?.ok_or_else(|| Error::NotFound(format!("no device {device_id}")))?;
    if let Some((stored_hash, reply)) = tx.stored_batch(device_id, batch.batch_id)? {
        let outcome = if stored_hash == hash.get()? { PushOutcome::Reply(reply) } else { PushOutcome::BatchIdReused };
        return Ok((outcome, effect));
    }
    let next = high_water.saturating_add(1);
    if batch.first_seq > next {
        return Ok((PushOutcome::Gap { expected_seq: next }, effect));
    }
    let at = rfc3339(now);
    let mut rejected = Vec::new();
    let mut seen_in_batch = HashSet::new();
    // The new changes' ids stored already, found in one look-up for the whole batch.
    let new_ids: Vec<Uuid> = batch.changes.iter().filter(|c| c.seq > high_water).map(|c| c.change_id).collect();
    let stored_before = if new_ids.is_empty() { HashSet::new() } else { tx.existing_changes(&new_ids)? };
    // New upserts wait here and are written together: their changes, then their records. An
    // erase writes them first, so that it scrubs every earlier change of its record.
    let mut waiting: Vec<Cow<'_, RawChange>> = Vec::new();
    for change in &batch.changes {
        let again_in_batch = !seen_in_batch.insert(change.change_id);
        if change.seq <= high_water {
            match tx.stored_change(change.change_id)? {
                Some((d, s)) if d == device_id && s == change.seq => continue,
                Some(_) => {
                    let reason = "this change_id was stored before for a different change";
                    tx.quarantine(device_id, centre_id, change, reason, &at)?;
                    rejected.push(Rejected { change_id: change.change_id, reason: reason.into() });
                    continue;
                }
                None => {}
            }
            let reason = match tx.quarantined_change(device_id, change.change_id)? {
                // Sent again after it was refused: refused again, for the same reason.
                Some((s, reason)) if s == change.seq => reason,
                _ => {
                    let reason = format!("seq {} was acknowledged before for a different change", change.seq);
                    tx.quarantine(device_id, centre_id, change, &reason, &at)?;
                    reason
                }
            };
            rejected.push(Rejected { change_id: change.change_id, reason });
            continue;
        }
        const STORED_BEFORE: &str = "this change_id was stored before for a different change";
        let judged = match check_raw_change(change) {
            Ok(_) if again_in_batch || stored_before.contains(&change.change_id) => Err(STORED_BEFORE.to_string()),
            judged => judged,
        };
        let change = match judged {
            Err(reason) => {
                tx.quarantine(device_id, centre_id, change, &reason, &at)?;
                rejected.push(Rejected { change_id: change.change_id, reason });
                continue;
            }
            Ok(None) => Cow::Borrowed(change),
            // Stored as judged (see `check_raw_change`).
            Ok(Some(payload)) => Cow::Owned(RawChange { payload, ..change.clone() }),
        };
        match change.op {
            Op::Upsert => waiting.push(change),
            Op::Erase => {
                effect.stored += write_upserts(tx, device_id, centre_id, &mut waiting, &at)?;
                let change = change.as_ref();
                let stored = tx.insert_changes(device_id, centre_id, &[change], &at)?;
                let pos =
                    *stored.get(&change.change_id).ok_or_else(|| Error::Database("an erase was not stored".into()))?;
                tx.erase_record(device_id, centre_id, change, pos, &at)?;
                effect.erased = true;
                effect.stored += 1;
            }
        }
    }
    effect.stored += write_upserts(tx, device_id, centre_id, &mut waiting, &at)?;
    let acked = high_water.max(batch.last_seq);
    if acked != high_water {
        tx.set_high_water(device_id, acked)?;
    }
    let reply = serde_json::to_string(&BatchReply { acked_through_seq: acked, rejected, server_time: at.clone() })?;
    tx.store_batch(device_id, batch.batch_id, hash.get()?, &reply, &at)?;
    Ok((PushOutcome::Reply(reply), effect))
}

/// Writes the upserts waiting (new, checked, in seq order): their changes, then each record at the
/// latest of its changes. Answers how many were stored, and leaves `waiting` empty.
fn write_upserts(
    tx: &mut dyn BatchTx,
    device_id: Uuid,
    centre_id: Uuid,
    waiting: &mut Vec<Cow<'_, RawChange>>,
    at: &str,
) -> Result<usize> {
    if waiting.is_empty() {
        return Ok(0);
    }
    let rows: Vec<&RawChange> = waiting.iter().map(|c| c.as_ref()).collect();
    let stored = tx.insert_changes(device_id, centre_id, &rows, at)?;
    if stored.len() != waiting.len() {
        // Each id was looked up first and the batch holds it once, in one transaction.
        return Err(Error::Database(format!("{} of {} new changes were stored", stored.len(), waiting.len())));
    }
    // The latest change of each record, in seq order.
    let mut latest: HashMap<(&str, Uuid), usize> = HashMap::new();
    for (i, c) in rows.iter().enumerate() {
        latest.insert((c.entity.as_str(), c.entity_id), i);
    }
    let mut records: Vec<(&RawChange, i64, Option<String>)> = Vec::with_capacity(latest.len());
    for (i, c) in rows.iter().enumerate() {
        if latest.get(&(c.entity.as_str(), c.entity_id)) == Some(&i) {
            let pos = stored[&c.change_id];
            records.push((c, pos, crate::report::report_day_of_text(&c.entity, c.payload.get())));
        }
    }
    tx.upsert_records(device_id, centre_id, &records, at)?;
    let n = rows.len();
    drop((latest, records, rows));
    waiting.clear();
    Ok(n)
}

/// The reads and writes an import needs, inside one transaction.
pub(crate) trait ImportTx {
    /// Keeps other imports out until this transaction ends, so log positions are handed out in
    /// commit order.
    fn lock_log(&mut self) -> Result<()>;
    /// The dataset's log, in order: `(key, item)`.
    fn log(&mut self, dataset: &str) -> Result<Vec<(String, Option<serde_json::Value>)>>;
    fn last_version(&mut self, dataset: &str) -> Result<i64>;
    fn append(&mut self, dataset: &str, version: i64, key: &str, item: Option<&serde_json::Value>) -> Result<()>;
    fn add_version(&mut self, dataset: &str, version: i64, items: i64, now: &str) -> Result<()>;
}

/// Checks every item (any bad one refuses the import, naming it by its place, 1-based) and that no
/// two share an `id`. Answers each item's key.
pub fn check_items(dataset: &str, items: &[serde_json::Value]) -> Result<Vec<String>> {
    if !pops_domain::sync::dataset::ALL.contains(&dataset) {
        return Err(Error::NotFound(format!(
            "there is no reference dataset called \"{dataset}\"; the datasets are {}",
            pops_domain::sync::dataset::ALL.join(", ")
        )));
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut first_at = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let key = check_reference_item(dataset, item).map_err(|e| Error::Invalid(format!("item {}: {e}", i + 1)))?;
        if let Some(first) = first_at.insert(key.clone(), i + 1) {
            return Err(Error::Invalid(format!("item {}: the id \"{key}\" is used by item {first} too", i + 1)));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// One import in the caller's transaction: a new version whose log entries are the items new or
/// changed since the current state, then `item: null` for each item gone.
pub(crate) fn run_import(
    tx: &mut dyn ImportTx,
    dataset: &str,
    items: &[serde_json::Value],
    now: DateTime<Utc>,
) -> Result<i64> {
    let keys = check_items(dataset, items)?;
    tx.lock_log()?;
    let mut current: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for (key, item) in tx.log(dataset)? {
        match item {
            Some(item) => current.insert(key, item),
            None => current.remove(&key),
        };
    }
    let version = tx.last_version(dataset)? + 1;
    for (key, item) in keys.iter().zip(items) {
        if current.remove(key).as_ref() != Some(item) {
            tx.append(dataset, version, key, Some(item))?;
        }
    }
    // What is left in `current` is gone from the new version.
    for key in current.keys() {
        tx.append(dataset, version, key, None)?;
    }
    tx.add_version(dataset, version, items.len() as i64, &rfc3339(now))?;
    Ok(version)
}
