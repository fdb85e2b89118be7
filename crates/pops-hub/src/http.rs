//! The HTTP API of `shared/brief/sync.md` (`docs/openapi/sync.yaml`): routes, bearer tokens, body
//! limits and gzip, and every error as an RFC 9457 problem. Handlers are thin: read and check the
//! request, call the [`Storage`] on a blocking thread, answer.

use crate::error::Error;
use crate::limit::EnrolLimiter;
use crate::secret;
use crate::storage::{BatchHash, PushOutcome, Received, Storage, TokenCheck};
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use http_body_util::BodyExt;
use pops_domain::sync::{
    Batch, BatchReply, DEFAULT_CHANGES_PAGE, DeviceStatus, EnrolRequest, Health, MAX_BODY_BYTES, MAX_CHANGES_PAGE,
    ProblemDoc, REFERENCE_PAGE, RawBatch, dataset, decode,
};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// An enrolment request is a code in a small JSON object.
const MAX_ENROL_BODY_BYTES: usize = 4 * 1024;
/// Seconds a client waits before trying again when the database is out of reach.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

#[derive(Clone)]
struct AppState {
    storage: Arc<dyn Storage>,
    limiter: Arc<EnrolLimiter>,
}

/// The hub's routes over `storage`, served as plain HTTP. Serve it with connect info
/// (`SocketAddr`) so the enrolment brake can tell clients apart; without it all clients share one
/// brake.
pub fn router(storage: Arc<dyn Storage>) -> Router {
    router_for(storage, false)
}

/// [`router`], saying whether the hub serves it over HTTPS itself (head office's session cookie is
/// then `Secure`).
pub fn router_for(storage: Arc<dyn Storage>, tls: bool) -> Router {
    let state = AppState { storage: storage.clone(), limiter: Arc::new(EnrolLimiter::default()) };
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/enrol", post(enrol))
        .route("/v1/devices/{device_id}/batches", post(push_batch))
        .route("/v1/devices/{device_id}/status", get(status))
        .route("/v1/devices/{device_id}/changes", get(changes))
        .route("/v1/reference/{dataset}", get(reference))
        .with_state(state)
        .merge(crate::office::routes(storage, tls))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Bodies are read by `read_body`, with the hub's own cap and a 413 problem.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(log_request))
}

/// An RFC 9457 problem on its way out.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    expected_seq: Option<i64>,
    retry_after: Option<u64>,
}

impl Problem {
    fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem { status, kind: "about:blank", detail: detail.into(), expected_seq: None, retry_after: None }
    }
    fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }
    fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
    }
    fn too_large() -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than {MAX_BODY_BYTES} bytes (before or after gzip); send fewer changes at once"
            ),
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let doc = ProblemDoc {
            kind: self.kind.into(),
            title: self.status.canonical_reason().unwrap_or("Error").into(),
            status: self.status.as_u16(),
            detail: Some(self.detail),
            instance: None,
            expected_seq: self.expected_seq,
        };
        let body = serde_json::to_vec(&doc).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn storage_problem(e: Error) -> Problem {
    match e {
        Error::Unavailable(why) => {
            tracing::warn!(error = %why, "database unavailable");
            Problem {
                retry_after: Some(UNAVAILABLE_RETRY_SECS),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the hub's database cannot be reached just now; try again shortly",
                )
            }
        }
        Error::NotFound(what) => Problem::new(StatusCode::NOT_FOUND, what),
        Error::Invalid(why) => Problem::bad_request(why),
        other => {
            tracing::error!(error = %other, "request failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the hub could not do this; its log says why, without any of your data",
            )
        }
    }
}

/// Runs `f` with the storage on a blocking thread.
async fn blocking<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce(&dyn Storage) -> crate::Result<T> + Send + 'static,
) -> Result<T, Problem> {
    crate::storage::on_blocking_thread(&st.storage, f).await.map_err(storage_problem)
}

/// The device a bearer token belongs to: `(device_id, centre_id)`.
async fn authenticate(st: &AppState, headers: &HeaderMap) -> Result<(Uuid, Uuid), Problem> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
        .ok_or_else(|| Problem::unauthorized("send the device's token as \"Authorization: Bearer <token>\""))?;
    match blocking(st, move |s| s.authenticate(&token, Utc::now())).await? {
        TokenCheck::Device { device_id, centre_id } => Ok((device_id, centre_id)),
        TokenCheck::Revoked { device_id } => {
            tracing::info!(%device_id, "revoked device refused");
            Err(Problem::unauthorized(
                "this device was revoked by head office, so the hub no longer accepts its token; \
                 ask head office for a new enrolment code",
            ))
        }
        TokenCheck::Unknown => Err(Problem::unauthorized("the hub does not know this device token")),
    }
}

/// Refuses a token used on another device's path.
fn own_path(token_device: Uuid, path: Result<Path<String>, PathRejection>) -> Result<(), Problem> {
    let forbidden = || Problem::new(StatusCode::FORBIDDEN, "this device token belongs to another device");
    let Path(id) = path.map_err(|_| forbidden())?;
    match Uuid::parse_str(&id) {
        Ok(id) if id == token_device => Ok(()),
        _ => Err(forbidden()),
    }
}

/// The body, at most `cap` bytes (a 413 problem beyond).
async fn read_body(headers: &HeaderMap, body: Body, cap: usize) -> Result<Vec<u8>, Problem> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        drain(body, cap).await;
        return Err(Problem::too_large());
    }
    if let Some(kind) = headers.get(CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default();
        let essence = kind.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(Problem::bad_request("the body must be JSON (Content-Type: application/json)"));
        }
    }
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Problem::bad_request("the body could not be read"))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > cap {
                drain(body, cap).await;
                return Err(Problem::too_large());
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// Reads and drops what is left of a body refused as too large, up to four times `cap` and for at
/// most five seconds, so that a client still sending hears the 413 instead of a reset connection.
/// A body larger still is cut off: the connection closes with the reply.
async fn drain(mut body: Body, cap: usize) {
    let budget = cap.saturating_mul(4);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut read = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, |d| d.len());
            if read > budget {
                break;
            }
        }
    })
    .await;
}

/// Whether the body is gzip (`Content-Encoding`), or a 400 for an encoding the hub does not take.
fn gzipped(headers: &HeaderMap) -> Result<bool, Problem> {
    match headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or_default().trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v.is_empty() || v == "identity" => Ok(false),
        Some(v) if v == "gzip" || v == "x-gzip" => Ok(true),
        Some(_) => Err(Problem::bad_request("the hub takes bodies plain or with Content-Encoding: gzip")),
    }
}

/// Unzips `bytes`, refusing (413) as soon as the output passes `cap`: a small "gzip bomb" costs
/// the hub no more than `cap` bytes of memory.
fn gunzip(bytes: &[u8], cap: usize) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| Problem::bad_request("the body is not valid gzip"))?;
    if out.len() > cap {
        return Err(Problem::too_large());
    }
    Ok(out)
}

/// Reads a JSON body as `T`; the 400 names the field and what was expected, never a value. A body
/// that reads at once is read in one pass; only one that does not is read again, as a value, for
/// the words of the problem.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if let Ok(parsed) = serde_json::from_slice::<T>(bytes) {
        return Ok(parsed);
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        Problem::bad_request(format!("the body is not valid JSON (line {}, column {})", e.line(), e.column()))
    })?;
    decode(&value).map_err(|e| Problem::bad_request(format!("the body is not as expected: {e}")))
}

/// A batch's body read, each payload kept as its text (for its row, and checked from it): no
/// payload is built as a value here. Only a body that does not read is read again, as [`Batch`],
/// for the words of the problem.
fn read_batch(json: &[u8]) -> Result<RawBatch, Problem> {
    if let Ok(batch) = serde_json::from_slice::<RawBatch>(json) {
        return Ok(batch);
    }
    let batch: Batch = parse_json(json)?;
    RawBatch::from_batch(&batch).map_err(|_| Problem::bad_request("a payload could not be read"))
}

async fn health() -> Response {
    axum::Json(Health { status: "ok".into() }).into_response()
}

async fn enrol(State(st): State<AppState>, request: Request) -> Result<Response, Problem> {
    let from = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
    if let Err(wait) = st.limiter.check(from, Instant::now()) {
        tracing::warn!(retry_after = wait, "enrolment refused: too many wrong codes");
        return Err(Problem {
            retry_after: Some(wait),
            ..Problem::new(StatusCode::TOO_MANY_REQUESTS, "too many wrong enrolment codes; wait and try again")
        });
    }
    let (parts, body) = request.into_parts();
    let bytes = read_body(&parts.headers, body, MAX_ENROL_BODY_BYTES).await?;
    let req: EnrolRequest = parse_json(&bytes)?;
    let n = req.enrolment_code.chars().count();
    if n == 0 || n > 64 {
        return Err(Problem::bad_request("enrolment_code must be 1 to 64 characters"));
    }
    match blocking(&st, move |s| s.enrol(&req.enrolment_code, Utc::now())).await? {
        Some(enrolment) => {
            tracing::info!(device_id = %enrolment.device_id, centre_id = %enrolment.centre_id, "device enrolled");
            Ok(axum::Json(enrolment).into_response())
        }
        None => {
            st.limiter.failed(from, Instant::now());
            tracing::warn!("enrolment refused: unknown, used or expired code");
            Err(Problem::unauthorized(
                "this enrolment code is unknown, used already, or more than 24 hours old; ask head office for a new one",
            ))
        }
    }
}

async fn push_batch(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let (device_id, _) = authenticate(&st, &headers).await?;
    own_path(device_id, path)?;
    let zipped = gzipped(&headers)?;
    let bytes = read_body(&headers, body, MAX_BODY_BYTES).await?;
    // Reading, checking and storing the batch run on one blocking thread, one after the other,
    // so no hand-over between threads sits between the read and the transaction.
    let storage = st.storage.clone();
    let done = tokio::task::spawn_blocking(move || {
        let json = if zipped { gunzip(&bytes, MAX_BODY_BYTES)? } else { bytes };
        let batch = read_batch(&json)?;
        drop(json);
        batch.check().map_err(|e| Problem::bad_request(format!("the batch does not add up: {e}")))?;
        let batch = Arc::new(batch);
        // The batch is hashed on a thread of its own while its transaction runs, which waits for
        // the hash only where it needs it (see `Received::hash`).
        let (send, coming) = std::sync::mpsc::sync_channel(1);
        let hashed = batch.clone();
        tokio::task::spawn_blocking(move || send.send(secret::raw_batch_hash(&hashed)));
        let hash = BatchHash::coming(coming);
        let received = Received { batch: &batch, hash: &hash };
        let outcome = storage.push_received(device_id, &received, Utc::now()).map_err(storage_problem)?;
        let about = (batch.batch_id, batch.first_seq, batch.last_seq, batch.changes.len());
        // Freeing 500 parsed changes takes a while: another thread does it while the reply goes back.
        tokio::task::spawn_blocking(move || drop(batch));
        Ok::<_, Problem>((outcome, about))
    })
    .await
    .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not take the batch in"))?;
    let (outcome, (batch_id, first_seq, last_seq, count)) = done?;
    match outcome {
        PushOutcome::Reply(reply) => {
            if let Ok(r) = serde_json::from_str::<BatchReply>(&reply) {
                tracing::info!(%device_id, %batch_id, first_seq, last_seq, changes = count,
                    acked_through_seq = r.acked_through_seq, rejected = r.rejected.len(), "batch acknowledged");
            }
            Ok(([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], reply).into_response())
        }
        PushOutcome::Gap { expected_seq } => {
            tracing::info!(%device_id, %batch_id, first_seq, expected_seq, "batch refused: gap");
            Err(Problem {
                kind: "urn:pops:sync:seq-gap",
                expected_seq: Some(expected_seq),
                ..Problem::new(
                    StatusCode::CONFLICT,
                    format!(
                        "the hub has this device's changes up to seq {}; send from seq {expected_seq}",
                        expected_seq - 1
                    ),
                )
            })
        }
        PushOutcome::BatchIdReused => {
            tracing::warn!(%device_id, %batch_id, "batch refused: batch_id reused");
            Err(Problem::bad_request("batch_id reused for different changes"))
        }
    }
}

async fn status(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (device_id, _) = authenticate(&st, &headers).await?;
    own_path(device_id, path)?;
    let acked_through_seq = blocking(&st, move |s| s.acked_through(device_id)).await?;
    Ok(axum::Json(DeviceStatus { acked_through_seq }).into_response())
}

/// A whole number from the query, in `range`, or `default` when absent.
fn query_number(
    query: &[(String, String)],
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
    words: &str,
) -> Result<i64, Problem> {
    match query.iter().rev().find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) => match v.trim().parse::<i64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(Problem::bad_request(format!("{name} must be {words}"))),
        },
    }
}

type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

fn query_pairs(query: QueryPairs) -> Result<Vec<(String, String)>, Problem> {
    query.map(|Query(q)| q).map_err(|_| Problem::bad_request("the query string cannot be read"))
}

async fn changes(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (device_id, centre_id) = authenticate(&st, &headers).await?;
    own_path(device_id, path)?;
    let query = query_pairs(query)?;
    let after = query_number(&query, "after", 0, 0..=i64::MAX, "a whole number, 0 or more")?;
    let limit = query_number(
        &query,
        "limit",
        DEFAULT_CHANGES_PAGE,
        1..=MAX_CHANGES_PAGE,
        &format!("a whole number from 1 to {MAX_CHANGES_PAGE}"),
    )?;
    let page = blocking(&st, move |s| s.centre_changes(centre_id, after, limit)).await?;
    tracing::info!(%device_id, %centre_id, after, changes = page.changes.len(), next_after = page.next_after, "changes page");
    Ok(axum::Json(page).into_response())
}

async fn reference(
    State(st): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: QueryPairs,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (device_id, _) = authenticate(&st, &headers).await?;
    let name = path.map(|Path(p)| p).unwrap_or_default();
    let Some(name) = dataset::ALL.iter().find(|d| **d == name).copied() else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("there is no such reference dataset; the datasets are {}", dataset::ALL.join(", ")),
        ));
    };
    let since = query_number(&query_pairs(query)?, "since", 0, 0..=i64::MAX, "a whole number, 0 or more")?;
    let page = blocking(&st, move |s| s.reference_page(name, since, REFERENCE_PAGE)).await?;
    tracing::info!(%device_id, dataset = name, since, items = page.items.len(), "reference page");
    Ok(axum::Json(page).into_response())
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "the hub has nothing at this address")
}

async fn method_not_allowed() -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "this address does not take this method")
}

/// One log line per request: method, path (ids only, never a query or a body), status, time.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pops_domain::change::{Change, Op};

    fn change(seq: i64, payload: serde_json::Value) -> Change {
        Change {
            change_id: uuid::Uuid::now_v7(),
            seq,
            entity: "check_in".into(),
            entity_id: uuid::Uuid::now_v7(),
            op: Op::Upsert,
            occurred_at: "2026-11-25T10:00:00.000Z".into(),
            user_id: uuid::Uuid::now_v7(),
            schema_version: 9,
            payload,
        }
    }

    #[test]
    fn a_batch_read_is_the_batch_and_its_payloads_as_text() {
        let payloads = [
            serde_json::json!({"z": 1, "a": {"nested": [1, 2, "three"]}, "name": "Zoë 🌸 \"quoted\"\n"}),
            serde_json::json!({}),
            serde_json::json!({"id": "x", "b": null, "n": -1.5e3}),
        ];
        for n in [1usize, 2, 3, 7] {
            let changes: Vec<Change> = (0..n).map(|i| change(i as i64 + 1, payloads[i % 3].clone())).collect();
            let batch = Batch { batch_id: uuid::Uuid::now_v7(), first_seq: 1, last_seq: n as i64, changes };
            let want: Vec<String> = batch.changes.iter().map(|c| serde_json::to_string(&c.payload).unwrap()).collect();
            // As a device sends it, each payload's text is what the hub used to write from the value.
            let read = read_batch(&serde_json::to_vec(&batch).unwrap()).unwrap();
            let texts: Vec<&str> = read.changes.iter().map(|c| c.payload.get()).collect();
            assert_eq!(texts, want);
            // Spaced as another writer might send it: the same batch.
            let read = read_batch(&serde_json::to_vec_pretty(&batch).unwrap()).unwrap();
            let values: Vec<serde_json::Value> = read.changes.iter().map(|c| c.payload_value().unwrap()).collect();
            assert_eq!(values, batch.changes.iter().map(|c| c.payload.clone()).collect::<Vec<_>>());
            assert_eq!(serde_json::to_value(&read).unwrap(), serde_json::to_value(&batch).unwrap());
        }
    }

    #[test]
    fn a_body_that_is_not_a_batch_gets_the_plain_readings_error() {
        let not_json = read_batch(b"{\"batch_id\": nope").unwrap_err();
        assert!(not_json.detail.contains("not valid JSON"), "{}", not_json.detail);
        let batch = Batch {
            batch_id: uuid::Uuid::now_v7(),
            first_seq: 1,
            last_seq: 1,
            changes: vec![change(1, serde_json::json!({}))],
        };
        let mut value = serde_json::to_value(&batch).unwrap();
        value["changes"][0]["seq"] = serde_json::json!("one");
        let wrong = read_batch(&serde_json::to_vec(&value).unwrap()).unwrap_err();
        assert!(wrong.detail.contains("not as expected"), "{}", wrong.detail);
    }
}
