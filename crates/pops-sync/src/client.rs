//! The hub's HTTP API as the device calls it (`docs/openapi/sync.yaml`): one method per call, each
//! answering the wire type or a [`Failure`] that says what went wrong in plain words, whether the
//! request may have reached the hub, and how long the hub asked the device to wait.

use crate::address::HubAddress;
use crate::schedule;
use crate::{SyncConfig, SyncError};
use chrono::Utc;
use pops_domain::sync::{
    BatchReply, ChangesPage, DeviceStatus, EnrolRequest, Enrolment, Health, ProblemDoc, ReferencePage,
};
use pops_store::sync::DeviceToken;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Certificate, Client, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;
use uuid::Uuid;

/// The largest reply body read (a reference page or a page of the centre's changes).
const MAX_REPLY_BYTES: usize = 8 * 1024 * 1024;

/// A call that did not succeed.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: SyncError,
    /// The hub's `Retry-After`: the next try is never sooner.
    pub retry_after: Option<Duration>,
    /// The request may have reached the hub (anything but a failure to connect).
    pub went_out: bool,
}

impl From<SyncError> for Failure {
    fn from(error: SyncError) -> Self {
        Failure { error, retry_after: None, went_out: false }
    }
}

impl From<pops_store::Error> for Failure {
    fn from(e: pops_store::Error) -> Self {
        SyncError::from(e).into()
    }
}

/// What the hub said to a batch.
#[derive(Debug)]
pub(crate) enum Pushed {
    Acked(BatchReply),
    /// 409: send from this seq.
    Rewind {
        expected_seq: i64,
    },
    /// 413: the batch is too large.
    TooLarge,
}

#[derive(Clone)]
pub(crate) struct HubClient {
    http: Client,
}

fn network(e: &reqwest::Error) -> Failure {
    let error = if e.is_timeout() { SyncError::TimedOut } else { SyncError::Unreachable };
    // The error's own text names the address; the log keeps only what kind it was.
    tracing::debug!(connect = e.is_connect(), timeout = e.is_timeout(), "request to the hub failed");
    Failure { error, retry_after: None, went_out: !e.is_connect() }
}

fn bad_reply() -> Failure {
    Failure { error: SyncError::BadReply, retry_after: None, went_out: true }
}

/// What a refusal means for calls made with the device token.
fn refusal(status: StatusCode, headers: &HeaderMap) -> Failure {
    let retry_after =
        headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| schedule::retry_after(v, Utc::now()));
    let code = status.as_u16();
    let error = match code {
        401 | 403 => SyncError::Revoked,
        429 | 503 => SyncError::Busy,
        400..=499 => SyncError::Refused { status: code },
        _ => SyncError::HubProblem { status: code },
    };
    Failure { error, retry_after, went_out: true }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|_| bad_reply())
}

impl HubClient {
    pub fn new(config: &SyncConfig) -> Result<HubClient, SyncError> {
        // rustls with the ring provider, as the hub uses; reqwest takes the process default. An
        // error means a provider is installed already, which reqwest then uses.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = Client::builder()
            .tls_backend_rustls()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect could carry the token somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pops-centre/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &config.extra_root_pem {
            let cert = Certificate::from_pem(pem)
                .map_err(|_| SyncError::Setup("the extra root certificate is not a PEM certificate".into()))?;
            builder = builder.tls_certs_merge([cert]);
        }
        let http = builder.build().map_err(|_| SyncError::Setup("the HTTPS client could not be built".into()))?;
        Ok(HubClient { http })
    }

    /// Sends `request` and reads the reply (up to [`MAX_REPLY_BYTES`]).
    async fn call(&self, request: RequestBuilder) -> Result<(StatusCode, HeaderMap, Vec<u8>), Failure> {
        let mut response = request.send().await.map_err(|e| network(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| network(&e))? {
            if body.len() + chunk.len() > MAX_REPLY_BYTES {
                return Err(bad_reply());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }

    fn authorised(request: RequestBuilder, token: &DeviceToken) -> RequestBuilder {
        request.header(AUTHORIZATION, format!("Bearer {}", token.expose()))
    }

    /// `GET /v1/health`.
    pub async fn health(&self, hub: &HubAddress) -> Result<(), Failure> {
        let (status, headers, body) = self.call(self.http.get(hub.join("/v1/health"))).await?;
        if !status.is_success() {
            return Err(refusal(status, &headers));
        }
        let health: Health = decode(&body)?;
        if health.status == "ok" { Ok(()) } else { Err(SyncError::Busy.into()) }
    }

    /// `POST /v1/enrol`.
    pub async fn enrol(&self, hub: &HubAddress, code: &str) -> Result<Enrolment, Failure> {
        let body = EnrolRequest { enrolment_code: code.to_string() };
        let (status, headers, body) = self.call(self.http.post(hub.join("/v1/enrol")).json(&body)).await?;
        match status.as_u16() {
            200 | 201 => {
                let e: Enrolment = decode(&body)?;
                if e.device_token.trim().is_empty() { Err(bad_reply()) } else { Ok(e) }
            }
            400 | 401 | 403 | 404 | 409 | 410 => {
                Err(Failure { error: SyncError::CodeRefused, ..refusal(status, &headers) })
            }
            _ => Err(refusal(status, &headers)),
        }
    }

    /// `GET /v1/devices/{id}/status`.
    pub async fn status(&self, hub: &HubAddress, device: Uuid, token: &DeviceToken) -> Result<DeviceStatus, Failure> {
        let url = hub.join(&format!("/v1/devices/{device}/status"));
        let (status, headers, body) = self.call(Self::authorised(self.http.get(url), token)).await?;
        if !status.is_success() {
            return Err(refusal(status, &headers));
        }
        let s: DeviceStatus = decode(&body)?;
        if s.acked_through_seq < 0 { Err(bad_reply()) } else { Ok(s) }
    }

    /// `POST /v1/devices/{id}/batches` with a gzipped batch.
    pub async fn push(
        &self,
        hub: &HubAddress,
        device: Uuid,
        token: &DeviceToken,
        gzipped: Vec<u8>,
    ) -> Result<Pushed, Failure> {
        let url = hub.join(&format!("/v1/devices/{device}/batches"));
        let request = Self::authorised(self.http.post(url), token)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(gzipped);
        let (status, headers, body) = self.call(request).await?;
        match status.as_u16() {
            200 => {
                let reply: BatchReply = decode(&body)?;
                if reply.acked_through_seq < 0 { Err(bad_reply()) } else { Ok(Pushed::Acked(reply)) }
            }
            409 => match decode::<ProblemDoc>(&body)?.expected_seq {
                Some(expected_seq) if expected_seq >= 1 => Ok(Pushed::Rewind { expected_seq }),
                _ => Err(bad_reply()),
            },
            413 => Ok(Pushed::TooLarge),
            _ => Err(refusal(status, &headers)),
        }
    }

    /// `GET /v1/devices/{id}/changes?after=N&limit=M`: a page of the centre's acknowledged changes.
    pub async fn changes(
        &self,
        hub: &HubAddress,
        device: Uuid,
        token: &DeviceToken,
        after: i64,
        limit: i64,
    ) -> Result<ChangesPage, Failure> {
        let url = hub.join(&format!("/v1/devices/{device}/changes?after={after}&limit={limit}"));
        let (status, headers, body) = self.call(Self::authorised(self.http.get(url), token)).await?;
        if !status.is_success() {
            return Err(refusal(status, &headers));
        }
        let page: ChangesPage = decode(&body)?;
        let runs_on = page.next_after >= after && (page.changes.is_empty() || page.next_after > after);
        if page.total < 0 || !runs_on || (page.has_more && page.changes.is_empty()) {
            return Err(bad_reply());
        }
        Ok(page)
    }

    /// `GET /v1/reference/{dataset}?since=N`; `None` when the hub does not offer the dataset (404).
    pub async fn reference(
        &self,
        hub: &HubAddress,
        token: &DeviceToken,
        dataset: &str,
        since: i64,
    ) -> Result<Option<ReferencePage>, Failure> {
        let url = hub.join(&format!("/v1/reference/{dataset}?since={since}"));
        let (status, headers, body) = self.call(Self::authorised(self.http.get(url), token)).await?;
        match status.as_u16() {
            200 => decode(&body).map(Some),
            404 => Ok(None),
            _ => Err(refusal(status, &headers)),
        }
    }
}
