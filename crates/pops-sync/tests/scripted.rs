//! The worker against a scripted hub on 127.0.0.1 that answers what the real one rarely does on
//! demand: 503 with `Retry-After`, 413, and a request that never gets its answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{Laptop, drained, wait_for};
use pops_domain::sync::{Batch, BatchReply, DeviceStatus, Enrolment, MAX_BATCH_CHANGES, MAX_BATCH_JSON_BYTES};
use pops_store::sync::RecordState;
use pops_sync::{SyncConfig, SyncError, Syncer};
use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What the scripted hub does with the next batch.
#[derive(Clone, Copy)]
enum Plan {
    /// Answers this status, with `Retry-After` seconds when given.
    Status(u16, Option<u64>),
    /// Never answers in time.
    Hang,
}

/// One batch as the hub received it.
struct Seen {
    at: Instant,
    gzip: bool,
    json: Vec<u8>,
    batch: Batch,
}

#[derive(Default)]
struct Script {
    plans: VecDeque<Plan>,
    /// More changes than this in one batch: 413.
    max_changes: usize,
    acked: i64,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<Script>>;

const DEVICE: Uuid = Uuid::from_u128(0x0190_b3a0_0000_7000_8000_0000_0000_0001);

async fn batches(State(script): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let gzip = headers.get(header::CONTENT_ENCODING).is_some_and(|v| v == "gzip");
    let mut json = Vec::new();
    if gzip {
        flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut json).unwrap();
    } else {
        json = body.to_vec();
    }
    let batch: Batch = serde_json::from_slice(&json).unwrap();
    let (plan, answer) = {
        let mut s = script.lock().unwrap();
        let plan = s.plans.pop_front();
        let count = batch.changes.len();
        let (last, first) = (batch.last_seq, batch.first_seq);
        s.seen.push(Seen { at: Instant::now(), gzip, json, batch });
        let answer = match plan {
            Some(_) => None,
            None if count > s.max_changes => Some((StatusCode::PAYLOAD_TOO_LARGE, String::new())),
            None if first > s.acked + 1 => Some((StatusCode::CONFLICT, String::new())),
            None => {
                s.acked = s.acked.max(last);
                let reply = BatchReply {
                    acked_through_seq: s.acked,
                    rejected: vec![],
                    server_time: "2026-11-25T10:00:00Z".into(),
                };
                Some((StatusCode::OK, serde_json::to_string(&reply).unwrap()))
            }
        };
        (plan, answer)
    };
    match (plan, answer) {
        (Some(Plan::Hang), _) => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        (Some(Plan::Status(code, retry_after)), _) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), r#"{"type":"about:blank","title":"Busy","status":503}"#)
                .into_response();
            if let Some(secs) = retry_after {
                r.headers_mut().insert(header::RETRY_AFTER, secs.into());
            }
            r
        }
        (None, Some((status, body))) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        (None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves the script on 127.0.0.1 from a runtime of its own; dropping the runtime stops it.
fn serve(script: Shared) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v1/health", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route(
            "/v1/enrol",
            post(|| async {
                axum::Json(Enrolment { device_id: DEVICE, centre_id: Uuid::now_v7(), device_token: "x".repeat(43) })
            }),
        )
        .route(
            "/v1/devices/{id}/status",
            get(|State(s): State<Shared>| async move {
                axum::Json(DeviceStatus { acked_through_seq: s.lock().unwrap().acked })
            }),
        )
        .route("/v1/devices/{id}/batches", post(batches))
        .route(
            "/v1/reference/{dataset}",
            get(|| async { axum::Json(serde_json::json!({"items": [], "next_since": 0, "has_more": false})) }),
        )
        .with_state(script);
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, url)
}

fn script(plans: &[Plan], max_changes: usize) -> Shared {
    Arc::new(Mutex::new(Script { plans: plans.iter().copied().collect(), max_changes, ..Default::default() }))
}

#[test]
fn a_busy_hub_is_given_the_time_it_asks_for_and_a_batch_too_large_is_halved() {
    let dir = tempfile::tempdir().unwrap();
    let mut laptop = Laptop::new(dir.path());
    laptop.check_ins(300);
    let total = laptop.outbox().len();
    let script = script(&[Plan::Status(503, Some(2))], 100);
    let (_hub, url) = serve(script.clone());
    common::logs();
    let syncer = Syncer::start(SyncConfig::default());
    syncer.attach(laptop.opener());
    syncer.enrol(&url, "ABCD-EFGH-JKLM").unwrap();
    drained(&laptop);

    let s = script.lock().unwrap();
    let sizes: Vec<usize> = s.seen.iter().map(|b| b.batch.changes.len()).collect();
    // 303 refused as busy, the same again after the wait and refused as too large, then halved
    // until the hub takes it, and the rest in batches of that size.
    assert_eq!(&sizes[..4], [total, total, total / 2, total / 4], "{sizes:?}");
    assert!(sizes[3..].iter().all(|n| *n <= 100), "{sizes:?}");
    assert_eq!(s.seen[0].batch.batch_id, s.seen[1].batch.batch_id, "a retry sends the same batch");
    assert_eq!(s.seen[0].json, s.seen[1].json, "with the same body");
    assert_ne!(s.seen[1].batch.batch_id, s.seen[2].batch.batch_id, "a smaller batch is a new batch");
    let waited = s.seen[1].at - s.seen[0].at;
    assert!(waited >= Duration::from_secs(2), "Retry-After: 2 was honoured ({waited:?})");
    assert!(s.seen.iter().all(|b| b.gzip && b.batch.check().is_ok()));
    assert!(s.seen.iter().all(|b| b.batch.changes.len() <= MAX_BATCH_CHANGES && b.json.len() <= MAX_BATCH_JSON_BYTES));
    // In order, without gaps, each seq once among the batches the hub took.
    let mut next = 1;
    for b in s.seen.iter().filter(|b| b.batch.changes.len() <= 100) {
        assert_eq!(b.batch.first_seq, next);
        next = b.batch.last_seq + 1;
    }
    assert_eq!(next - 1, total as i64);
}

#[test]
fn a_batch_without_an_answer_is_sent_again_as_it_was_and_shows_as_sent_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let mut laptop = Laptop::new(dir.path());
    let ids = laptop.check_ins(5);
    let script = script(&[Plan::Hang, Plan::Status(503, Some(2))], 500);
    let (_hub, url) = serve(script.clone());
    let config = SyncConfig { request_timeout: Duration::from_secs(3), ..SyncConfig::default() };
    let syncer = Syncer::start(config);
    syncer.attach(laptop.opener());
    syncer.enrol(&url, "ABCD-EFGH-JKLM").unwrap();

    // Gone out, no answer yet: the records show as sent, and the error says why in plain words.
    // (The rows are marked sent as the request fails, and the error is kept a moment later.)
    let (states, words) = wait_for("the records to show as sent, with the error", Duration::from_secs(30), || {
        let states = laptop.states(&ids);
        let words = laptop.status().last_error?;
        ids.iter().all(|id| states[id] == RecordState::Sent).then_some((states, words))
    });
    assert_eq!(states.len(), 5);
    assert!(words == SyncError::TimedOut.to_string() || words == SyncError::Busy.to_string(), "{words}");
    assert!(!laptop.status().safe_to_shut);
    drained(&laptop);
    let states = laptop.states(&ids);
    assert!(ids.iter().all(|id| states[id] == RecordState::Confirmed));

    let s = script.lock().unwrap();
    assert_eq!(s.seen.len(), 3, "timed out, busy, taken");
    assert!(s.seen.windows(2).all(|w| w[0].batch.batch_id == w[1].batch.batch_id && w[0].json == w[1].json));
    assert!(s.seen[2].at - s.seen[1].at >= Duration::from_secs(2));
}

#[test]
fn a_batch_refused_as_malformed_is_tried_again_later_as_a_new_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut laptop = Laptop::new(dir.path());
    laptop.check_ins(4);
    let script = script(&[Plan::Status(400, None), Plan::Status(422, None)], 500);
    let (_hub, url) = serve(script.clone());
    let syncer = Syncer::start(SyncConfig::default());
    syncer.attach(laptop.opener());
    syncer.enrol(&url, "ABCD-EFGH-JKLM").unwrap();
    drained(&laptop);
    let s = script.lock().unwrap();
    assert_eq!(s.seen.len(), 3, "400, 422, taken");
    assert_ne!(s.seen[0].batch.batch_id, s.seen[1].batch.batch_id, "nothing was stored: a new batch");
    assert_eq!(s.seen[1].batch.batch_id, s.seen[2].batch.batch_id, "another refusal keeps the batch");
    assert!(SyncError::Refused { status: 422 }.to_string().contains("error 422"));
    assert_eq!(syncer.status().hub_reachable, Some(true));
}
