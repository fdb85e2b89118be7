//! What the sync tests share: a centre's real SQLCipher store in a temporary folder (made as
//! pops-store's tests make theirs: a key, `Store::open`, a centre, a manager and a session, every
//! record written through the store's own write functions), and the real hub served in-process on
//! 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use chrono::Utc;
use pops_domain::Role;
use pops_domain::account::Account;
use pops_domain::visits::{AgeBands, HelpGiven, PartyArrival, SessionTimes, SupportNeeds, VisitKind};
use pops_hub::Storage;
use pops_store::centre::CentreRecord;
use pops_store::keyslots::{KdfParams, WrappedKey};
use pops_store::sync::{self, RecordState, SyncState};
use pops_store::{DbKey, Store, accounts, centre, outbox, visits};
use pops_sync::{Opener, SyncConfig, Syncer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const FAST: KdfParams = KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 };

/// One centre's laptop: its database file and key, and the app's own connection.
pub struct Laptop {
    pub path: PathBuf,
    pub key: DbKey,
    pub store: Store,
    pub user: Uuid,
    pub session: Uuid,
}

impl Laptop {
    pub fn new(dir: &Path) -> Laptop {
        let key = DbKey::generate();
        let path = dir.join("centre.db");
        let mut store = Store::open(&path, &key).expect("open");
        let user = Uuid::now_v7();
        let session = store
            .write(Some(user), Utc::now(), |w| {
                centre::create(
                    w,
                    &CentreRecord {
                        id: Uuid::now_v7(),
                        name: "Test Visitor Centre".into(),
                        prison: "liverpool".into(),
                        device_id: Uuid::now_v7(),
                        created_at: Utc::now().to_rfc3339(),
                    },
                )?;
                let account = Account {
                    id: user,
                    username: "manager".into(),
                    display_name: "Test Manager".into(),
                    role: Role::Manager,
                    active: true,
                    created_at: Utc::now().to_rfc3339(),
                };
                accounts::insert(w, &account, &WrappedKey::seal(&key, b"402917", b"ctx", FAST)?)?;
                visits::add_session(
                    w,
                    "2026-11-25",
                    &SessionTimes {
                        name: "Morning visits".into(),
                        starts_at: "09:30".into(),
                        ends_at: "11:30".into(),
                        kind: VisitKind::Open,
                    },
                )
            })
            .expect("set up")
            .id;
        Laptop { path, key, store, user, session }
    }

    /// How the worker opens its own connection.
    pub fn opener(&self) -> Opener {
        let (path, key) = (self.path.clone(), self.key.clone());
        Box::new(move || Store::open(&path, &key))
    }

    /// `n` check-ins, written 100 to a transaction; answers their ids.
    pub fn check_ins(&mut self, n: usize) -> Vec<Uuid> {
        let mut ids = Vec::with_capacity(n);
        let session = self.session;
        while ids.len() < n {
            let chunk = (n - ids.len()).min(100);
            let written = self
                .store
                .write(Some(self.user), Utc::now(), |w| {
                    (0..chunk)
                        .map(|_| visits::check_in(w, &party(session)).map(|c| c.id))
                        .collect::<Result<Vec<_>, _>>()
                })
                .expect("check in");
            ids.extend(written);
        }
        ids
    }

    pub fn status(&self) -> SyncState {
        self.store.read(sync::status).expect("status")
    }

    pub fn states(&self, ids: &[Uuid]) -> std::collections::HashMap<Uuid, RecordState> {
        self.store.read(|c| sync::record_states(c, "check_in", ids)).expect("states")
    }

    /// Every change in the outbox, as `(seq, change_id)`.
    pub fn outbox(&self) -> Vec<(i64, Uuid)> {
        let all = self.store.read(|c| outbox::changes_after(c, 0, i64::MAX)).expect("outbox");
        all.into_iter().map(|c| (c.seq, c.change_id)).collect()
    }

    pub fn device_id(&self) -> Uuid {
        self.store.read(sync::hub).expect("hub").expect("enrolled").device_id
    }
}

pub fn party(session: Uuid) -> PartyArrival {
    PartyArrival {
        session_id: session,
        adults: 2,
        children: AgeBands { age_0_1: 1, age_5_11: 1, ..Default::default() },
        first_time: true,
        lead_name: Some("Zebedee Quartermaine".into()),
        needs: SupportNeeds::default(),
        help: HelpGiven::default(),
        family_id: None,
    }
}

/// The real hub, served on 127.0.0.1 from its own thread and runtime.
pub struct Hub {
    pub storage: Arc<dyn Storage>,
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Hub {
    /// A hub on a SQLite file in `dir`, on a free port.
    pub fn new(dir: &Path) -> Hub {
        Hub::serve(open_hub(dir), 0)
    }

    /// Serves `storage` on `port` (0: any free port).
    pub fn serve(storage: Arc<dyn Storage>, port: u16) -> Hub {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let served = storage.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
                ready_tx.send(listener.local_addr().unwrap().port()).unwrap();
                pops_hub::serve(listener, served, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        let port = ready_rx.recv_timeout(Duration::from_secs(20)).expect("the hub started");
        Hub { storage, port, stop: Some(stop_tx), thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A centre and a one-time enrolment code for it.
    pub fn code(&self) -> String {
        let centre = self.storage.add_centre("HMP Liverpool Visitor Centre").unwrap();
        self.storage.new_enrolment_code(centre).unwrap()
    }

    /// Stops serving (the storage stays open); answers it.
    pub fn stop(mut self) -> Arc<dyn Storage> {
        self.halt();
        self.storage.clone()
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.halt();
    }
}

pub fn open_hub(dir: &Path) -> Arc<dyn Storage> {
    pops_hub::open(dir.join("hub.db").to_str().unwrap()).unwrap()
}

/// Logs to the test's output when `POPS_TEST_LOG` is set (e.g. `POPS_TEST_LOG=info`).
pub fn logs() {
    if std::env::var_os("POPS_TEST_LOG").is_some() {
        let filter = tracing_subscriber::EnvFilter::from_env("POPS_TEST_LOG");
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}

/// A worker with the brief's settings, attached to `laptop`.
pub fn attached(laptop: &Laptop) -> Syncer {
    logs();
    let syncer = Syncer::start(SyncConfig::default());
    syncer.attach(laptop.opener());
    syncer
}

/// Waits until `f` answers `Some`, or fails the test after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until nothing is waiting and the last error is gone.
pub fn drained(laptop: &Laptop) -> SyncState {
    wait_for("the outbox to drain", Duration::from_secs(120), || {
        let s = laptop.status();
        (s.enrolled && s.waiting == 0 && s.last_error.is_none()).then_some(s)
    })
}

/// The hub's copy of the device's changes, as `(seq, change_id)`.
pub fn hub_changes(hub: &dyn Storage, device: Uuid) -> Vec<(i64, Uuid)> {
    hub.device_changes(device).unwrap().into_iter().map(|c| (c.seq, c.change_id)).collect()
}
