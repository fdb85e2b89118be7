//! The device side of sync with head office (`shared/brief/sync.md`): a background worker, on a
//! thread and a tokio runtime of its own, that sends the outbox to the hub in gzipped batches,
//! takes the hub's acknowledgements into the store, and pulls the reference data head office keeps.
//!
//! The app starts one [`Syncer`] at launch, [`Syncer::attach`]es it after sign-in (it opens its
//! own store connection), tells it about each change with [`Syncer::changed`], and detaches it at
//! sign-out. What the worker knows lives in the store (`pops_store::sync`), so the app reads the
//! sync status from its own connection; [`Syncer::status`] adds what only the worker knows.
//!
//! A replacement laptop restores its centre's records from head office with [`Syncer::restore`]:
//! the worker pages through the centre's changes at the hub and applies each page in one local
//! transaction (`pops_store::restore`), alongside sending this laptop's own outbox as usual. The
//! app shows how far it has got from `pops_store::restore::progress` or [`LiveStatus::restore`].
//!
//! No Tauri: every path is tested as plain Rust against the real hub.

mod address;
mod client;
mod error;
pub mod schedule;
mod worker;

pub use address::HubAddress;
pub use error::{REVOKED, RestoreError, SyncError, UNREACHABLE};

use chrono::{DateTime, NaiveTime, Utc};
use pops_store::restore::RestoreProgress;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use uuid::Uuid;
use worker::{Command, Worker};

/// How the worker opens its own connection to the centre database (the app knows the path and key).
pub type Opener = Box<dyn Fn() -> pops_store::Result<pops_store::Store> + Send>;

/// The worker's settings. `Default` is what the brief asks for.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Time to open a connection to the hub: 10 s.
    pub connect_timeout: Duration,
    /// Time for a whole request: 60 s.
    pub request_timeout: Duration,
    /// Backoff base: 2 s.
    pub backoff_base: Duration,
    /// Backoff cap by day (07:00–20:00 Europe/London): 5 min.
    pub day_cap: Duration,
    /// Backoff cap by night (20:00–07:00): 15 min.
    pub night_cap: Duration,
    /// The nightly run, London time: 02:00. The centre's own setting (`pops_store::centre::nightly_at`),
    /// read at every cycle, comes first; this is the time used when there is none.
    pub nightly_at: NaiveTime,
    /// Reference data is pulled again when the last pull is this old: 1 h.
    pub reference_every: Duration,
    /// A change is sent this long after it is written, once for a burst of changes: 2 s.
    pub change_debounce: Duration,
    /// An extra root certificate (PEM) to trust besides the system's, for a test hub.
    pub extra_root_pem: Option<Vec<u8>>,
    /// Changes asked for per page when restoring the centre: 500 (at most 1,000).
    pub restore_page: i64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            backoff_base: Duration::from_secs(2),
            day_cap: Duration::from_secs(5 * 60),
            night_cap: Duration::from_secs(15 * 60),
            nightly_at: NaiveTime::from_hms_opt(2, 0, 0).unwrap_or(NaiveTime::MIN),
            reference_every: Duration::from_secs(3600),
            change_debounce: Duration::from_secs(2),
            extra_root_pem: None,
            restore_page: pops_domain::sync::DEFAULT_CHANGES_PAGE,
        }
    }
}

impl SyncConfig {
    /// Sets the nightly run from the centre's "HH:MM" setting; a value that is not a time keeps 02:00.
    pub fn with_nightly_at(mut self, clock: &str) -> Self {
        if let Some(t) = schedule::parse_clock(clock) {
            self.nightly_at = t;
        }
        self
    }
}

/// What only the worker knows, read without any IO. The rest (waiting, last error, safe to shut)
/// is in the store: `pops_store::sync::status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveStatus {
    /// The worker has a store connection (someone is signed in).
    pub attached: bool,
    /// A cycle (status, batches, reference pull) is running now.
    pub sending: bool,
    /// Whether the hub answered at the last try; `None` before any.
    pub hub_reachable: Option<bool>,
    /// When the worker will next try, if it has anything to try.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Failed cycles in a row.
    pub failures: u32,
    /// Cycles run since start.
    pub attempts: u64,
    /// A problem outside the store's sync state (the store could not be opened), plain words.
    pub problem: Option<String>,
    /// Pages of a restore from head office are being fetched and applied now.
    pub restoring: bool,
    /// How far the restore has got, as of the last page applied (`None`: none started). The same
    /// as `pops_store::restore::progress` then.
    pub restore: Option<RestoreProgress>,
}

/// The handle the app keeps. Dropping it stops the worker.
pub struct Syncer {
    tx: UnboundedSender<Command>,
    live: Arc<Mutex<LiveStatus>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer").field("live", &self.status()).finish()
    }
}

impl Syncer {
    /// Starts the worker on its own thread with its own tokio runtime. It does nothing until
    /// attached to a store.
    pub fn start(config: SyncConfig) -> Syncer {
        let (tx, rx) = unbounded_channel();
        let live = Arc::new(Mutex::new(LiveStatus::default()));
        let worker_live = live.clone();
        let spawned = std::thread::Builder::new().name("pops-sync".into()).spawn(move || {
            // One worker thread besides this one: a batch's request runs there while this thread
            // puts the next batch together (`Worker::send_all`).
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "sync could not start its runtime");
                    worker_live.lock().unwrap_or_else(|p| p.into_inner()).problem =
                        Some(SyncError::Stopped.to_string());
                    return;
                }
            };
            runtime.block_on(Worker::new(config, worker_live).run(rx));
        });
        let thread = match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::error!(error = %e, "sync could not start its thread");
                live.lock().unwrap_or_else(|p| p.into_inner()).problem = Some(SyncError::Stopped.to_string());
                None
            }
        };
        Syncer { tx, live, thread: Mutex::new(thread) }
    }

    fn send(&self, cmd: Command) {
        if self.tx.send(cmd).is_err() {
            tracing::warn!("the sync worker has stopped");
        }
    }

    /// Gives the worker a way to open its own store connection (after sign-in). It asks the hub how
    /// far it got, then sends whatever is waiting.
    pub fn attach(&self, opener: Opener) {
        self.send(Command::Attach(opener));
    }

    /// Closes the worker's store connection (sign-out, quit). A request in flight is abandoned.
    pub fn detach(&self) {
        self.send(Command::Detach);
    }

    /// Tries at once (still never sooner than the hub's `Retry-After`), reference data included.
    pub fn send_now(&self) {
        self.send(Command::SendNow);
    }

    /// A change was just written: it is sent soon (about 2 s, once for a burst of changes).
    pub fn changed(&self) {
        self.send(Command::Changed);
    }

    /// What only the worker knows, without any IO.
    pub fn status(&self) -> LiveStatus {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Enrols this device with the hub at `hub_url` using head office's one-time `code`, and saves
    /// the enrolment through the worker's store. Blocks until done (call it off the UI thread). The
    /// address is checked before any request: `https://`, or `http://` only to this computer.
    pub fn enrol(&self, hub_url: &str, code: &str) -> Result<(), SyncError> {
        self.enrol_by(hub_url, code, None)
    }

    /// [`Syncer::enrol`] on behalf of the signed-in person `by`, whose id the audit entry
    /// `device_enrolled` carries (with the hub's device id; never the code or the token).
    pub fn enrol_by(&self, hub_url: &str, code: &str, by: Option<uuid::Uuid>) -> Result<(), SyncError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.tx
            .send(Command::Enrol { hub_url: hub_url.to_string(), code: code.to_string(), by, reply })
            .map_err(|_| SyncError::Stopped)?;
        answer.recv().unwrap_or(Err(SyncError::Stopped))
    }

    /// Starts restoring the centre's records from head office onto this laptop (a replacement
    /// laptop, set up and enrolled to the same centre with a new code), or carries on with the one
    /// under way. `started_by` is the signed-in manager: the restore's audit entries and the
    /// changes it makes to this laptop's own set-up records are theirs. Answers once the restore is
    /// recorded as started (a quick local write, no network); the pages then come in the
    /// background, through the worker's cycles, with the usual backoff after a failure, and from
    /// the stored cursor after a restart. Refused, with the reason in plain words
    /// ([`RestoreError::Refused`]), when the laptop is not enrolled, is blocked, has restored
    /// already, or holds records of its own beyond set-up. Progress: [`LiveStatus::restore`] or
    /// `pops_store::restore::progress`.
    pub fn restore(&self, started_by: Uuid) -> Result<RestoreProgress, RestoreError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.tx.send(Command::Restore { started_by, reply }).map_err(|_| SyncError::Stopped)?;
        answer.recv().unwrap_or(Err(RestoreError::Sync(SyncError::Stopped)))
    }

    /// Stops the worker and waits for its thread. Safe to call more than once.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!("the sync worker panicked");
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
