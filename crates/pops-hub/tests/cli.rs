//! The `pops-hub` binary: head office's commands and `serve` (plain, refused, TLS, SIGTERM), on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Hub, TestDb, batch, check_ins};
use pops_domain::sync::ReferencePage;
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use uuid::Uuid;

on_both_storages!(
    centres_codes_devices_and_the_quarantine_from_the_command_line,
    reference_data_is_imported_from_csv_and_json_files,
    serve_prints_where_it_listens_logs_no_secrets_and_stops_on_sigterm,
    serve_refuses_a_public_address_without_tls,
    serve_answers_over_tls_with_a_certificate_and_key,
    office_keys_are_made_listed_and_revoked_from_the_command_line,
);

const BIN: &str = env!("CARGO_BIN_EXE_pops-hub");

/// Runs `pops-hub ARGS --database URL` (the flag is added after the subcommand's words).
fn run(db: &TestDb, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).arg("--database").arg(&db.url).env_remove("POPS_HUB_DATABASE");
    common::off_runtime(move || cmd.output().unwrap())
}

fn last_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "pops-hub failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_string()
}

async fn centres_codes_devices_and_the_quarantine_from_the_command_line(db: &TestDb) {
    let centre: Uuid = last_line(&run(db, &["centre", "add", "--name", "HMP Example"])).parse().expect("a UUID");
    let code = last_line(&run(db, &["enrolment-code", "--centre", &centre.to_string()]));
    assert_eq!(code.len(), 19, "{code}");

    let hub = Hub::start(db).await;
    let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": code })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let e: pops_domain::sync::Enrolment = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(e.centre_id, centre);
    let dev = common::Device { id: e.device_id, centre, token: e.device_token };

    let mut changes = check_ins(1, 2);
    changes[1].entity = "tuck_shop".into();
    changes[1].payload = json!({"note": "Ottoline Brackenbury"});
    hub.api.push(&dev, &batch(changes.clone())).await.reply();
    let list = run(db, &["centre", "list"]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains(&centre.to_string()) && list.contains("HMP Example") && list.contains("devices: 1"),
        "{list}"
    );
    assert!(!list.contains("never"), "the device's last call is recorded: {list}");
    let q = run(db, &["quarantine", "list"]);
    let q = String::from_utf8_lossy(&q.stdout);
    assert!(q.contains(&changes[1].change_id.to_string()) && q.contains("entity"), "{q}");
    assert!(!q.contains("Ottoline"), "the list shows ids and reasons only: {q}");

    let out = run(db, &["device", "revoke", "--device", &dev.id.to_string()]);
    assert!(out.status.success());
    let r = hub.api.get(&dev.path("status"), Some(&dev.token)).await;
    assert_eq!(r.status, 401);
    assert!(r.detail().contains("revoked by head office"));

    // Mistakes get a plain answer and a failing exit status.
    let out = run(db, &["enrolment-code", "--centre", &Uuid::now_v7().to_string()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no centre"));
    let out = run(db, &["device", "revoke", "--device", &Uuid::now_v7().to_string()]);
    assert!(!out.status.success());
    let out = run(db, &["centre", "add", "--name", "  "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a name"));
    hub.stop().await;
}

async fn reference_data_is_imported_from_csv_and_json_files(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let csv = write(
        "prices.csv",
        "id,name,category,price_pence\ntea,Tea,Drinks,120\ncoffee,\"Coffee, white\",Drinks,150\ncake,Cake,,250\n",
    );
    let out = run(db, &["reference", "import", "--dataset", "price_list", &csv]);
    assert_eq!(last_line(&out), "version 1");

    // A bad row refuses the whole file, naming the row.
    let bad = write("bad.csv", "id,name,price_pence\ntea,Tea,130\nbun,Bun,a lot\n");
    let out = run(db, &["reference", "import", "--dataset", "price_list", &bad]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 3") && err.contains("price_pence"), "{err}");

    let json_file = write(
        "prices.json",
        r#"[{"id":"tea","name":"Tea","category":"Drinks","price_pence":130},{"id":"cake","name":"Cake","price_pence":250}]"#,
    );
    let out = run(db, &["reference", "import", "--dataset", "price_list", &json_file]);
    assert_eq!(last_line(&out), "version 2");

    let slots = write("slots.csv", "id,name,weekday,starts_at,ends_at,kind\nmon-am,Morning,1,09:30,11:00,open\n");
    assert_eq!(last_line(&run(db, &["reference", "import", "--dataset", "session_slots", &slots])), "version 1");
    let out = run(db, &["reference", "import", "--dataset", "menu", &slots]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no reference dataset"));

    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let r = hub.api.get("/v1/reference/price_list", Some(&dev.token)).await;
    let page: ReferencePage = serde_json::from_slice(&r.body).unwrap();
    let log: Vec<(String, i64, Option<i64>)> = page
        .items
        .iter()
        .map(|e| (e.key.clone(), e.version, e.item.as_ref().map(|i| i["price_pence"].as_i64().unwrap())))
        .collect();
    assert_eq!(
        log,
        vec![
            ("tea".into(), 1, Some(120)),
            ("coffee".into(), 1, Some(150)),
            ("cake".into(), 1, Some(250)),
            ("tea".into(), 2, Some(130)),
            ("coffee".into(), 2, None),
        ],
        "the refused file left no trace; version 2 changed tea and removed coffee"
    );
    assert_eq!(page.items[1].item.as_ref().unwrap()["name"], json!("Coffee, white"));
    hub.stop().await;
}

/// A running `pops-hub serve` with the address it printed.
struct Served {
    child: Child,
    addr: String,
}

fn serve(db: &TestDb, extra: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url])
        .args(extra)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("serve printed nothing");
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("printed {line:?}")).to_string();
    assert!(addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"), "{addr}");
    Served { child, addr }
}

impl Served {
    /// SIGTERM, then the exit status and everything logged.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let mut stderr = self.child.stderr.take().unwrap();
        common::off_runtime(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            let status = loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    break status;
                }
                assert!(std::time::Instant::now() < deadline, "serve did not stop on SIGTERM");
                std::thread::sleep(Duration::from_millis(50));
            };
            let mut log = String::new();
            stderr.read_to_string(&mut log).unwrap();
            (status, log)
        })
    }
}

async fn serve_prints_where_it_listens_logs_no_secrets_and_stops_on_sigterm(db: &TestDb) {
    let centre: Uuid = last_line(&run(db, &["centre", "add", "--name", "HMP Secretive"])).parse().unwrap();
    let code = last_line(&run(db, &["enrolment-code", "--centre", &centre.to_string()]));
    let served = serve(db, &[]);
    let api = Api::new(&format!("http://{}", served.addr));
    assert_eq!(api.get("/v1/health", None).await.status, 200);
    let r = api.post("/v1/enrol", None, &json!({ "enrolment_code": code })).await;
    let e: pops_domain::sync::Enrolment = serde_json::from_slice(&r.body).unwrap();
    let dev = common::Device { id: e.device_id, centre, token: e.device_token.clone() };
    let name = "Percival Thistlewood";
    let mut changes = check_ins(1, 2);
    changes[0].payload["lead_name"] = json!(name);
    changes[1].entity = "tuck_shop".into();
    changes[1].payload = json!({"note": name});
    assert_eq!(api.push(&dev, &batch(changes)).await.reply().acked_through_seq, 2);
    let (status, log) = served.terminate();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("batch acknowledged") && log.contains(&dev.id.to_string()), "{log}");
    for secret in [name, "HMP Secretive", code.as_str(), &code.replace('-', ""), e.device_token.as_str()] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
}

async fn serve_refuses_a_public_address_without_tls(db: &TestDb) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "0.0.0.0:0", "--database", &db.url]);
    let out = common::off_runtime(move || cmd.output().unwrap());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without TLS") && err.contains("--tls-cert"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

async fn serve_answers_over_tls_with_a_certificate_and_key(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let served = serve(db, &["--tls-cert", &path(&cert), "--tls-key", &path(&key)]);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(made.cert.der().clone()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&served.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("a TLS handshake with the hub's certificate");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    tls.read_to_end(&mut raw).await.unwrap();
    let r = common::raw_reply("GET", "/v1/health", &raw);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));

    // Over HTTPS, head office's session cookie is `__Host-` and `Secure`.
    let (_, office_key) = pops_hub::open(&db.url).unwrap().add_office_key("Reports team", chrono::Utc::now()).unwrap();
    let tcp = tokio::net::TcpStream::connect(&served.addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let form = format!("key={office_key}");
    let request = format!(
        "POST /office/sign-in HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tls.read_to_end(&mut raw).await.unwrap();
    let r = common::raw_reply("POST", "/office/sign-in", &raw);
    assert_eq!(r.status, 303, "{}", r.text());
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.starts_with("__Host-pops-office=") && cookie.contains("; Secure;"), "{cookie}");

    // Plain HTTP to the TLS port gets nowhere.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let plain = reqwest::Client::new().get(format!("http://{}/v1/health", served.addr)).send().await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    let (status, log) = served.terminate();
    assert!(status.success(), "{log}");
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

async fn office_keys_are_made_listed_and_revoked_from_the_command_line(db: &TestDb) {
    let made = run(db, &["office-key", "add", "--name", "Reports team"]);
    let key = last_line(&made);
    assert!(pops_hub::secret::token_hash(&key).is_some(), "the key is the last line: {key}");
    let stdout = String::from_utf8_lossy(&made.stdout).to_string();
    let id: Uuid = stdout.split_whitespace().nth(3).unwrap().trim_end_matches('.').parse().expect("the key's id");

    let storage = pops_hub::open(&db.url).unwrap();
    let found = storage.office_key(&key, chrono::Utc::now()).unwrap().expect("the key works");
    assert_eq!((found.id, found.name.as_str()), (id, "Reports team"));

    let list = String::from_utf8_lossy(&run(db, &["office-key", "list"]).stdout).to_string();
    assert!(list.contains(&id.to_string()) && list.contains("Reports team"), "{list}");
    assert!(!list.contains(&key), "the list never shows a key: {list}");
    assert!(!list.contains("revoked"), "{list}");

    assert!(run(db, &["office-key", "revoke", "--id", &id.to_string()]).status.success());
    assert!(storage.office_key(&key, chrono::Utc::now()).unwrap().is_none(), "a revoked key opens nothing");
    let list = String::from_utf8_lossy(&run(db, &["office-key", "list"]).stdout).to_string();
    assert!(list.contains("revoked"), "{list}");

    // Mistakes: no name, and an unknown key to revoke.
    let out = run(db, &["office-key", "add", "--name", "  "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("give the key a name"));
    let out = run(db, &["office-key", "revoke", "--id", &Uuid::now_v7().to_string()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no office key"));
}
