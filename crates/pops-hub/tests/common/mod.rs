//! The harness for the hub's tests: a fresh database per test (a SQLite file in a temporary
//! folder, or a PostgreSQL database of its own), a real hub on 127.0.0.1 port 0, an HTTP client
//! whose every response is checked against `docs/openapi/sync.yaml`, and builders for changes and
//! batches.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod contract;

use pops_domain::change::{Change, Op, entity};
use pops_domain::sync::{Batch, BatchReply, Enrolment, ProblemDoc};
use pops_hub::Storage;
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Databases

/// A database for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    dir: Option<tempfile::TempDir>,
    /// `(admin URL, database name)` of a PostgreSQL database this test made.
    pg: Option<(String, String)>,
}

/// Runs `f` on a plain thread: the synchronous PostgreSQL client must not run inside async tasks.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// `admin` with its database name replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let host = rest.split('/').next().unwrap();
    format!("{scheme}://{host}/{name}{query}")
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        TestDb { url, dir: Some(dir), pg: None }
    }

    /// A fresh PostgreSQL database on `POPS_TEST_POSTGRES_URL`; `None` (the test is skipped) when
    /// that is not set, unless `POPS_REQUIRE_POSTGRES=1`.
    pub fn postgres(test: &str) -> Option<TestDb> {
        let Ok(admin) = std::env::var("POPS_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("POPS_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "POPS_REQUIRE_POSTGRES=1 but POPS_TEST_POSTGRES_URL is not set"
            );
            eprintln!("{test}: skipped on PostgreSQL: POPS_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("hub_{}", Uuid::now_v7().simple());
        let admin2 = admin.clone();
        let name2 = name.clone();
        off_runtime(move || {
            let mut client = postgres::Client::connect(&admin2, postgres::NoTls).expect("POPS_TEST_POSTGRES_URL");
            client.batch_execute(&format!("CREATE DATABASE {name2}")).unwrap();
        });
        Some(TestDb { url: with_database(&admin, &name), dir: None, pg: Some((admin, name)) })
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// The SQLite file (and its write-ahead log) as bytes.
    pub fn sqlite_bytes(&self) -> Vec<u8> {
        let dir = self.dir.as_ref().expect("a SQLite database");
        let mut bytes = std::fs::read(dir.path().join("hub.db")).unwrap();
        if let Ok(wal) = std::fs::read(dir.path().join("hub.db-wal")) {
            bytes.extend(wal);
        }
        bytes
    }

    /// Runs SQL on the test's PostgreSQL database.
    pub fn pg_query(&self, sql: &str) -> Vec<postgres::Row> {
        let url = self.url.clone();
        let sql = sql.to_string();
        off_runtime(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client.query(sql.as_str(), &[]).unwrap()
        })
    }

    /// Drops the PostgreSQL database now, connections and all (to make the storage unreachable).
    pub fn pg_drop(&self) {
        if let Some((admin, name)) = self.pg.clone() {
            off_runtime(move || {
                let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
                client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
            });
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.pg_drop();
    }
}

/// Declares each scenario `async fn name(db: &TestDb)` as two tests, `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! on_both_storages {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::common::TestDb::postgres(stringify!($name)) {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------------------------
// The hub and its client

/// A hub serving on 127.0.0.1, port 0.
pub struct Hub {
    pub api: Api,
    pub storage: Arc<dyn Storage>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<pops_hub::Result<()>>>,
}

impl Hub {
    pub async fn start(db: &TestDb) -> Hub {
        let storage = pops_hub::open(&db.url).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(pops_hub::serve(listener, storage.clone(), async move {
            let _ = stopped.await;
        }));
        Hub { api: Api::new(&base), storage, stop: Some(stop), task: Some(task) }
    }

    /// Tells the server to shut down gracefully, without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn stop(mut self) {
        self.signal_stop();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    /// The address it listens on, `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.api.base.trim_start_matches("http://").to_string()
    }

    /// A new centre with one enrolled device.
    pub async fn device(&self) -> Device {
        let centre = self.storage.add_centre("Test Centre").unwrap();
        self.device_in(centre).await
    }

    /// A device enrolled into `centre`.
    pub async fn device_in(&self, centre: Uuid) -> Device {
        let code = self.storage.new_enrolment_code(centre).unwrap();
        let r = self.api.post("/v1/enrol", None, &json!({ "enrolment_code": code })).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let e: Enrolment = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(e.centre_id, centre);
        Device { id: e.device_id, centre, token: e.device_token }
    }
}

#[derive(Debug, Clone)]
pub struct Device {
    pub id: Uuid,
    pub centre: Uuid,
    pub token: String,
}

impl Device {
    pub fn path(&self, what: &str) -> String {
        format!("/v1/devices/{}/{what}", self.id)
    }
}

/// A request body.
pub enum Body {
    None,
    Json(Value),
    /// Bytes sent as `application/json`, as they are.
    Raw(Vec<u8>),
    /// Bytes sent as `application/json` with `Content-Encoding: gzip` (already compressed).
    Gzip(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn problem(&self) -> ProblemDoc {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not a problem ({e}): {}", self.text()))
    }
    pub fn detail(&self) -> String {
        self.problem().detail.unwrap_or_default()
    }
    pub fn reply(&self) -> BatchReply {
        assert_eq!(self.status, 200, "{}", self.text());
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }
}

/// An HTTP client for one hub; every response is checked against sync.yaml.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api { base: base.to_string(), client: reqwest::Client::new() }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Body) -> Reply {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.header("content-type", "application/json").body(serde_json::to_vec(&v).unwrap()),
            Body::Raw(b) => req.header("content-type", "application/json").body(b),
            Body::Gzip(b) => req.header("content-type", "application/json").header("content-encoding", "gzip").body(b),
        };
        let response = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap().to_vec();
        let bare = path.split('?').next().unwrap();
        contract::contract().check(method.as_str(), bare, status, &headers, &body);
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(reqwest::Method::GET, path, token, Body::None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, path, token, Body::Json(body.clone())).await
    }

    /// Sends `batch` for `device` with its own token.
    pub async fn push(&self, device: &Device, batch: &Batch) -> Reply {
        self.post(&device.path("batches"), Some(&device.token), &serde_json::to_value(batch).unwrap()).await
    }
}

/// Reads a raw HTTP/1.1 response (one with a Content-Length, as the hub sends) and checks it
/// against sync.yaml like any other.
pub fn raw_reply(method: &str, path: &str, raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole response");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        let (k, v) = line.split_once(':').unwrap();
        headers
            .append(reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(), v.trim().parse().unwrap());
    }
    contract::contract().check(method, path, status, &headers, &body);
    Reply { status, headers, body }
}

// ---------------------------------------------------------------------------------------------
// Changes

pub const NOW: &str = "2026-11-25T10:00:00.000Z";

/// A check-in record's JSON with `lead_name`.
pub fn check_in_payload(id: Uuid, lead_name: &str, adults: i32) -> Value {
    serde_json::to_value(pops_domain::visits::CheckIn {
        id,
        session_id: Uuid::now_v7(),
        adults,
        children: Default::default(),
        first_time: false,
        lead_name: Some(lead_name.into()),
        arrived_at: NOW.into(),
        left_at: None,
        checked_in_by: Uuid::now_v7(),
        checked_out_by: None,
        needs: Default::default(),
        help: Default::default(),
        outcome: None,
        welfare_offered: None,
        walkthrough: vec![],
        family_id: None,
    })
    .unwrap()
}

/// A family record's JSON whose lead member is `name`.
pub fn family_payload(id: Uuid, name: &str) -> Value {
    json!({
        "id": id,
        "members": [{"id": Uuid::now_v7(), "name": name, "relationship": "partner", "date_of_birth": "1990-04-01", "age_band": null}],
        "consent": {"given_by": name, "method": "verbal", "given_on": "2026-11-01", "expires_on": "2027-11-01",
                    "recorded_by": Uuid::now_v7(), "recorded_at": NOW},
        "contact": {"phone": "07700 900123", "email": null, "address": null},
        "prisoner": null,
        "created_at": NOW, "created_by": Uuid::now_v7(), "updated_at": NOW, "updated_by": Uuid::now_v7()
    })
}

/// A change of `entity` at `seq`.
pub fn change(seq: i64, entity_name: &str, entity_id: Uuid, op: Op, payload: Value) -> Change {
    Change {
        change_id: Uuid::now_v7(),
        seq,
        entity: entity_name.into(),
        entity_id,
        op,
        occurred_at: NOW.into(),
        user_id: Uuid::now_v7(),
        schema_version: pops_domain::sync::MAX_SCHEMA_VERSION,
        payload,
    }
}

/// A valid check-in upsert at `seq` for a new record.
pub fn check_in(seq: i64) -> Change {
    let id = Uuid::now_v7();
    change(seq, entity::CHECK_IN, id, Op::Upsert, check_in_payload(id, "Test Visitor", 1))
}

/// A batch of `changes` (numbered already) with a new batch id.
pub fn batch(changes: Vec<Change>) -> Batch {
    let first_seq = changes.first().map_or(1, |c| c.seq);
    let last_seq = changes.last().map_or(0, |c| c.seq);
    Batch { batch_id: Uuid::now_v7(), first_seq, last_seq, changes }
}

/// Check-ins numbered `from..=to`.
pub fn check_ins(from: i64, to: i64) -> Vec<Change> {
    (from..=to).map(check_in).collect()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
