//! Where the hub keeps everything: one [`Storage`] trait with a SQLite and a PostgreSQL
//! implementation, chosen by the database URL. The rules (what a batch does, what an import
//! appends) live once, in [`logic`], written against small per-transaction traits that each backend
//! implements with its own SQL, so the two cannot drift apart.

mod logic;
mod postgres;
mod sqlite;

pub use self::postgres::PgStorage;
pub use self::sqlite::SqliteStorage;

use crate::error::{Error, Result};
pub use crate::report::ReportRecord;
use chrono::{DateTime, SecondsFormat, Utc};
use pops_domain::change::Change;
use pops_domain::sync::{Batch, ChangesPage, Enrolment, RawBatch, ReferencePage};
use std::sync::Arc;
use uuid::Uuid;

/// An enrolment code works for this long after it is made.
pub const CODE_LIFETIME_HOURS: i64 = 24;

/// What a bearer token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// A live device's token.
    Device { device_id: Uuid, centre_id: Uuid },
    /// The token of a device head office has revoked.
    Revoked { device_id: Uuid },
    /// No device has this token.
    Unknown,
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The reply to send, exactly as stored with the batch (`BatchReply` as JSON).
    Reply(String),
    /// `first_seq` is beyond the high-water mark + 1: nothing was stored.
    Gap { expected_seq: i64 },
    /// The device sent this `batch_id` before with different changes: nothing was stored.
    BatchIdReused,
}

/// One centre, for `pops-hub centre list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreSummary {
    pub id: Uuid,
    pub name: String,
    /// Devices enrolled and not revoked.
    pub devices: i64,
    /// RFC 3339: the last time any of its devices called the hub.
    pub last_seen_at: Option<String>,
}

/// One quarantined change, for head office: ids and the reason only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub change_id: Uuid,
    pub device_id: Uuid,
    pub centre_id: Uuid,
    pub entity: String,
    pub seq: i64,
    pub reason: String,
    /// RFC 3339.
    pub at: String,
}

/// One centre as head office's page shows it: its laptops and how its changes stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentreState {
    pub id: Uuid,
    pub name: String,
    /// Every device ever enrolled, live ones first, newest first.
    pub devices: Vec<DeviceState>,
    /// Changes the hub holds from the centre.
    pub changes: i64,
    /// RFC 3339: when the newest of them arrived.
    pub last_change_at: Option<String>,
    pub quarantined: i64,
    /// Complaints whose latest state is not closed, and when the oldest of them was received.
    pub open_complaints: i64,
    pub oldest_open_complaint: Option<String>,
}

/// One enrolled device of a centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    pub id: Uuid,
    /// RFC 3339.
    pub enrolled_at: String,
    pub last_seen_at: Option<String>,
    pub acked_through_seq: i64,
    pub revoked_at: Option<String>,
}

/// A head-office access key's holder (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeKey {
    pub id: Uuid,
    pub name: String,
}

/// A head-office access key, for `pops-hub office-key list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeKeySummary {
    pub id: Uuid,
    pub name: String,
    /// RFC 3339.
    pub made_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Everything the hub stores. Synchronous: the HTTP handlers call it through
/// `tokio::task::spawn_blocking`, and both implementations may be called from any thread,
/// including from inside an async task (a PostgreSQL call then runs on a thread of its own).
pub trait Storage: Send + Sync {
    /// `"sqlite"` or `"postgresql"`.
    fn kind(&self) -> &'static str;

    /// Adds a centre; answers its new id.
    fn add_centre(&self, name: &str) -> Result<Uuid>;
    /// Every centre, by name.
    fn centres(&self) -> Result<Vec<CentreSummary>>;

    /// A new one-time enrolment code for `centre_id`, valid for [`CODE_LIFETIME_HOURS`] after
    /// `now`. Only its hash is stored.
    fn new_enrolment_code_at(&self, centre_id: Uuid, now: DateTime<Utc>) -> Result<String>;
    /// [`Storage::new_enrolment_code_at`] now.
    fn new_enrolment_code(&self, centre_id: Uuid) -> Result<String> {
        self.new_enrolment_code_at(centre_id, Utc::now())
    }
    /// Uses up `code` and enrols a new device with a new token. `None` when the code is unknown,
    /// used already, or expired.
    fn enrol(&self, code: &str, now: DateTime<Utc>) -> Result<Option<Enrolment>>;
    /// Which device `token` belongs to; a live device's `last_seen_at` becomes `now` when it is
    /// more than [`LAST_SEEN_RESOLUTION_SECS`] old (a write of its own on every request cost each
    /// batch a commit).
    fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<TokenCheck>;
    /// Revokes a device: its token stops working at once. `NotFound` for an unknown device.
    fn revoke_device(&self, device_id: Uuid) -> Result<()>;

    /// Stores a batch (already checked with `Batch::check`) in one transaction, serialised per
    /// device. `hash` is [`crate::secret::batch_hash`] of it.
    fn push_batch(&self, device_id: Uuid, batch: &Batch, hash: &str, now: DateTime<Utc>) -> Result<PushOutcome> {
        let hash = BatchHash::ready(hash.to_string());
        let batch = RawBatch::from_batch(batch)?;
        self.push_received(device_id, &Received { batch: &batch, hash: &hash }, now)
    }
    /// [`Storage::push_batch`] for a batch as the API received it (see [`Received`]).
    fn push_received(&self, device_id: Uuid, received: &Received<'_>, now: DateTime<Utc>) -> Result<PushOutcome>;
    /// The device's high-water mark: every `seq` up to it is acknowledged. `NotFound` for an
    /// unknown device.
    fn acked_through(&self, device_id: Uuid) -> Result<i64>;
    /// The centre's stored changes with a position after `after`, at most `limit`, in order.
    fn centre_changes(&self, centre_id: Uuid, after: i64, limit: i64) -> Result<ChangesPage>;

    /// Imports a new version of a reference dataset (each item checked with
    /// `check_reference_item`; any bad item refuses the whole import). Answers the version.
    fn import_reference(&self, dataset: &str, items: Vec<serde_json::Value>) -> Result<i64>;
    /// The dataset's log entries after position `since`, at most `limit`.
    fn reference_page(&self, dataset: &str, since: i64, limit: i64) -> Result<ReferencePage>;

    /// Every quarantined change, oldest first.
    fn quarantine(&self) -> Result<Vec<QuarantineEntry>>;

    /// Every centre with its devices and the state of its changes, by name.
    fn centre_states(&self) -> Result<Vec<CentreState>>;
    /// The live records of the [`crate::report::REPORT_ENTITIES`] whose report day is from
    /// `first_day` to `last_day` (`YYYY-MM-DD`, both included).
    fn report_records(&self, first_day: &str, last_day: &str) -> Result<Vec<ReportRecord>>;

    /// Makes a head-office access key for `name` (a person or a team): answers its id and the key,
    /// of which only the hash is stored.
    fn add_office_key(&self, name: &str, now: DateTime<Utc>) -> Result<(Uuid, String)>;
    /// The live key `key` is, if any; its `last_used_at` becomes `now`.
    fn office_key(&self, key: &str, now: DateTime<Utc>) -> Result<Option<OfficeKey>>;
    /// Whether the key with this id is still live (not revoked).
    fn office_key_live(&self, id: Uuid) -> Result<bool>;
    /// Revokes a key: every page signed in with it is refused from then on. `NotFound` for an
    /// unknown id.
    fn revoke_office_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<()>;
    /// Every key ever made, oldest first.
    fn office_keys(&self) -> Result<Vec<OfficeKeySummary>>;

    /// The device's stored changes, by `seq` (for tests and reports).
    fn device_changes(&self, device_id: Uuid) -> Result<Vec<Change>>;
    /// The device's quarantined changes: `(change_id, reason)`, oldest first.
    fn quarantined(&self, device_id: Uuid) -> Result<Vec<(Uuid, String)>>;
    /// The latest state the hub holds of one record of a centre (for an erased record, its tombstone).
    fn centre_record(&self, centre_id: Uuid, entity: &str, entity_id: Uuid) -> Result<Option<serde_json::Value>>;
    /// Inserts `changes` for the device as plain multi-row inserts, and their records with one
    /// statement per chunk: the same rows a batch leaves, with no checks, no report day and no
    /// high-water mark. The baseline a benchmark compares a batch against.
    fn bulk_insert_changes(&self, device_id: Uuid, changes: &[Change]) -> Result<()>;
}

/// Opens (creating or upgrading the schema) the storage at `url`: `postgres://…` or
/// `postgresql://…` is PostgreSQL; anything else is a SQLite file, as `sqlite://path` or a bare path.
pub fn open(url: &str) -> Result<Arc<dyn Storage>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStorage::open(url)?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.is_empty() {
            return Err(Error::Invalid("the database URL names no file".into()));
        }
        Ok(Arc::new(SqliteStorage::open(std::path::Path::new(path))?))
    }
}

/// Runs `f` with `storage` on a blocking thread, as every request handler does (the storage is
/// synchronous). A task that could not finish is a database error in the hub's words.
pub(crate) async fn on_blocking_thread<T: Send + 'static>(
    storage: &Arc<dyn Storage>,
    f: impl FnOnce(&dyn Storage) -> Result<T> + Send + 'static,
) -> Result<T> {
    let storage = storage.clone();
    tokio::task::spawn_blocking(move || f(&*storage))
        .await
        .unwrap_or_else(|e| Err(Error::Database(format!("a request's blocking task failed: {e}"))))
}

/// A batch as the API received it, for its transaction.
pub struct Received<'a> {
    /// Read with each payload kept as its text, which is what is stored.
    pub batch: &'a RawBatch,
    /// May still be being worked out on another thread: the transaction waits for it only where
    /// it needs it (a batch id seen before, and storing the batch at the end), so hashing a batch
    /// and storing it overlap.
    pub hash: &'a BatchHash,
}

/// A batch's hash ([`crate::secret::batch_hash`]), ready or on its way from another thread.
pub struct BatchHash {
    value: std::sync::OnceLock<std::result::Result<String, String>>,
    coming: std::sync::Mutex<Option<std::sync::mpsc::Receiver<Result<String>>>>,
}

impl BatchHash {
    pub fn ready(hash: String) -> BatchHash {
        BatchHash { value: std::sync::OnceLock::from(Ok(hash)), coming: std::sync::Mutex::new(None) }
    }

    /// The hash another thread sends on `coming`.
    pub fn coming(coming: std::sync::mpsc::Receiver<Result<String>>) -> BatchHash {
        BatchHash { value: std::sync::OnceLock::new(), coming: std::sync::Mutex::new(Some(coming)) }
    }

    /// The hash, waiting for it the first time if it is still on its way.
    pub fn get(&self) -> Result<&str> {
        let value = self.value.get_or_init(|| {
            let coming = self.coming.lock().unwrap_or_else(|p| p.into_inner()).take();
            match coming.map(|rx| rx.recv()) {
                Some(Ok(Ok(hash))) => Ok(hash),
                Some(Ok(Err(e))) => Err(e.to_string()),
                Some(Err(_)) | None => Err("the batch's hash was never worked out".into()),
            }
        });
        value.as_deref().map_err(|e| Error::Database(e.clone()))
    }
}

/// How stale a device's `last_seen_at` may get before a request moves it: head office reads it in
/// hours ("quiet" after 26), so a minute is plenty.
pub const LAST_SEEN_RESOLUTION_SECS: i64 = 60;

/// Times as the hub writes them: RFC 3339 UTC with milliseconds, fixed width, so text order is
/// time order.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A name for an office key as typed: trimmed, 1 to 100 characters.
pub(crate) fn check_key_name(name: &str) -> Result<&str> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(Error::Invalid("give the key a name: the person or team it is for".into())),
        n if n > 100 => Err(Error::Invalid("the key's name must be at most 100 characters".into())),
        _ => Ok(name),
    }
}

pub(crate) fn bad_uuid(what: &str) -> Error {
    Error::Database(format!("a stored {what} is not a UUID"))
}
