//! What sync logs carries seqs, counts and statuses, never a token, an enrolment code or anything
//! from a change's payload: every log line of a whole run (enrolment, batches, a restore onto a
//! second laptop, a failure, a refusal) is kept and scanned for them. Its own test binary, as it installs the global logger.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "../../pops-store/tests/common/day.rs"]
mod day;

use common::{Hub, Laptop, drained, wait_for};
use pops_store::{DbKey, Store, sync};
use pops_sync::{SyncConfig, Syncer};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn sync_logs_hold_no_token_no_code_and_no_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new(dir.path());
    let port = hub.port;
    let mut laptop = Laptop::new(dir.path());
    laptop.check_ins(30);
    let code = hub.code();
    let syncer = Syncer::start(SyncConfig::default());
    syncer.attach(laptop.opener());
    syncer.enrol(&hub.url(), &code).unwrap();
    drained(&laptop);
    assert!(syncer.enrol(&hub.url(), &code).is_err(), "a used code is refused");
    let token = laptop.store.read(sync::hub).unwrap().unwrap().token.expose().to_string();
    let device = laptop.device_id();

    // A second laptop of the centre restores it: the pages hold the first laptop's records.
    let centre = laptop.store.read(sync::hub).unwrap().unwrap().centre_id;
    let second = tempfile::tempdir().unwrap();
    let key = DbKey::generate();
    let path = second.path().join("centre.db");
    let mut replacement = Store::open(&path, &key).unwrap();
    let setup = day::set_up(&mut replacement, &key, "Bea Manager");
    let restorer = Syncer::start(SyncConfig { restore_page: 7, ..SyncConfig::default() });
    restorer.attach(Box::new(move || Store::open(&path, &key)));
    restorer.enrol(&hub.url(), &hub.storage.new_enrolment_code(centre).unwrap()).unwrap();
    restorer.restore(setup.manager).unwrap();
    wait_for("the restore", Duration::from_secs(60), || restorer.status().restore.filter(|p| p.finished()));
    drop(restorer);

    // A failure and a refusal are logged too.
    let storage = hub.stop();
    laptop.check_ins(3);
    syncer.send_now();
    wait_for("the failure", Duration::from_secs(60), || laptop.status().last_error.map(drop));
    let hub = Hub::serve(storage, port);
    hub.storage.revoke_device(device).unwrap();
    syncer.send_now();
    wait_for("the refusal", Duration::from_secs(60), || laptop.status().blocked.then_some(()));
    drop(syncer);
    drop(hub);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("sending batch") && logs.contains("first_seq="), "the run was logged:\n{logs}");
    assert!(logs.contains("status=401"), "the refusal was logged");
    assert!(logs.contains("restore page applied") && logs.contains("restore from head office finished"));
    for secret in [token.as_str(), &token[..12], code.as_str(), "Zebedee", "Quartermaine"] {
        assert!(!logs.contains(secret), "the logs hold {secret:?}");
    }
    // Nor the payload's fields.
    for field in ["lead_name", "\"adults\"", "age_0_1"] {
        assert!(!logs.contains(field), "the logs hold {field:?}");
    }
}
