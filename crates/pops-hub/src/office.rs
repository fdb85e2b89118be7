//! Head office's pages, served by the hub under `/office`: every centre's state (its laptops, when
//! each was last heard from, the changes held, quarantined changes, open complaints), the monthly
//! report across centres (on screen and as CSV), and the quarantine. Counts, ids and reasons only:
//! no page carries a name, a note or a payload.
//!
//! Access is by an *office key* that `pops-hub office-key add` makes (only its hash is stored).
//! Signing in swaps the key for a session cookie (`HttpOnly`, `SameSite=Strict`; over HTTPS also
//! `__Host-` and `Secure`) that lasts 30 minutes from the last page and 12 hours at most; sessions live
//! in the hub's memory, and a revoked key ends its sessions at the next page. Wrong keys meet the
//! same brake as wrong enrolment codes. Every page is sent with a strict Content-Security-Policy,
//! `no-store`, and a referrer only to the hub itself.

use crate::error::Error;
use crate::limit::EnrolLimiter;
use crate::report::{Month, MonthReport};
use crate::storage::{CentreState, QuarantineEntry, Storage};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN,
    REFERRER_POLICY, RETRY_AFTER, SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use chrono_tz::Europe::London;
use maud::{DOCTYPE, Markup, html};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The session cookie's name when the hub serves HTTPS. `__Host-` makes browsers insist on
/// `Secure`, `Path=/` and no `Domain`, so no other site or subdomain can plant or read it.
pub const COOKIE_NAME: &str = "__Host-pops-office";
/// The session cookie's name when the hub serves plain HTTP, which it does only on loopback: a
/// `Secure` cookie there is dropped by WebKit browsers (Safari and GNOME Web), so that cookie
/// goes without `Secure` and so without the prefix that demands it.
pub const LOOPBACK_COOKIE_NAME: &str = "pops-office";
/// A session ends this long after its last page.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after signing in, however busy.
pub const LONGEST: Duration = Duration::from_secs(12 * 60 * 60);
/// A laptop syncs at least nightly: one not heard from for longer than this is shown as a worry.
const QUIET_HOURS: i64 = 26;
/// At most this many quarantined changes are listed (the newest).
const QUARANTINE_SHOWN: usize = 500;
/// A sign-in form is a key in a small form.
const MAX_FORM_BYTES: usize = 4 * 1024;

const STYLESHEET: &str = include_str!("office.css");

/// Who is signed in to one session.
#[derive(Debug, Clone)]
struct Session {
    key_id: Uuid,
    name: String,
    started: Instant,
    last: Instant,
}

/// The signed-in sessions, by the SHA-256 of their cookie.
#[derive(Default)]
pub struct OfficeSessions {
    sessions: Mutex<HashMap<String, Session>>,
}

impl OfficeSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self, key_id: Uuid, name: String, now: Instant) -> crate::Result<String> {
        let cookie = crate::secret::new_token()?;
        let mut sessions = self.lock();
        sessions.retain(|_, s| live(s, now));
        sessions
            .insert(crate::secret::sha256_hex(cookie.as_bytes()), Session { key_id, name, started: now, last: now });
        Ok(cookie)
    }

    /// The session this cookie belongs to, if it is still live; its idle clock starts again.
    fn touch(&self, cookie: &str, now: Instant) -> Option<Session> {
        let hash = crate::secret::token_hash(cookie)?;
        let mut sessions = self.lock();
        let session = sessions.get_mut(&hash)?;
        if !live(session, now) {
            sessions.remove(&hash);
            return None;
        }
        session.last = now;
        Some(session.clone())
    }

    fn end(&self, cookie: &str) {
        if let Some(hash) = crate::secret::token_hash(cookie) {
            self.lock().remove(&hash);
        }
    }

    fn end_key(&self, key_id: Uuid) {
        self.lock().retain(|_, s| s.key_id != key_id);
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last) < IDLE && now.duration_since(s.started) < LONGEST
}

#[derive(Clone)]
pub(crate) struct OfficeState {
    storage: Arc<dyn Storage>,
    sessions: Arc<OfficeSessions>,
    limiter: Arc<EnrolLimiter>,
    /// The hub serves HTTPS itself: the cookie is `__Host-` and `Secure`.
    tls: bool,
}

impl OfficeState {
    fn cookie_name(&self) -> &'static str {
        if self.tls { COOKIE_NAME } else { LOOPBACK_COOKIE_NAME }
    }

    fn cookie_header(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.tls { " Secure;" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/;{secure} HttpOnly; SameSite=Strict; Max-Age={max_age}",
            self.cookie_name()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("pops-office=; Path=/; HttpOnly; Max-Age=0"))
    }

    fn session_cookie(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie_name())
            .map(|(_, value)| value.trim().to_string())
    }
}

/// The routes under `/office`; `tls` when the hub itself serves HTTPS.
pub(crate) fn routes(storage: Arc<dyn Storage>, tls: bool) -> Router {
    let state = OfficeState {
        storage,
        sessions: Arc::new(OfficeSessions::default()),
        limiter: Arc::new(EnrolLimiter::default()),
        tls,
    };
    Router::new()
        .route("/office", get(centres_page))
        .route("/office/", get(centres_page))
        .route("/office/report", get(report_page))
        .route("/office/report.csv", get(report_csv))
        .route("/office/quarantine", get(quarantine_page))
        .route("/office/sign-in", post(sign_in))
        .route("/office/sign-out", post(sign_out))
        .route("/office/office.css", get(stylesheet))
        .route("/office/{*rest}", get(not_found))
        .layer(middleware::from_fn(page_headers))
        .with_state(state)
}

/// Headers on every page: nothing but this hub's own stylesheet may load, no frames, no caching,
/// no referrer to other sites.
async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // No address of these pages leaves for another site; this hub's own forms carry their origin.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// A page's answer: HTML with a status.
fn page(status: StatusCode, markup: Markup) -> Response {
    (status, [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], markup.into_string())
        .into_response()
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// The frame of every page.
fn layout(title: &str, who: Option<&str>, current: &str, body: Markup) -> Markup {
    let nav = [("/office", "Centres"), ("/office/report", "Monthly report"), ("/office/quarantine", "Quarantine")];
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – POPS head office" }
                link rel="stylesheet" href="/office/office.css";
            }
            body {
                a.skip href="#main" { "Skip to the main content" }
                header.masthead {
                    div.wrap {
                        span.service { "POPS head office" }
                        @if let Some(who) = who {
                            nav aria-label="Head office pages" {
                                ul {
                                    @for (href, label) in nav {
                                        li {
                                            @if href == current {
                                                a href=(href) aria-current="page" { (label) }
                                            } @else {
                                                a href=(href) { (label) }
                                            }
                                        }
                                    }
                                }
                            }
                            form.signout method="post" action="/office/sign-out" {
                                span { "Signed in as " (who) }
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main .wrap { (body) }
            }
        }
    }
}

/// An error page for a storage failure, in words for head office (the log has the detail).
fn storage_page(e: Error) -> Response {
    let (status, words) = match &e {
        Error::Unavailable(_) => {
            tracing::warn!(error = %e, "office page: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "The hub's database cannot be reached just now. Try again in a minute.")
        }
        _ => {
            tracing::error!(error = %e, "office page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "The hub could not show this page. Its log says why.")
        }
    };
    let mut r =
        page(status, layout("Something went wrong", None, "", html! { h1 { "Something went wrong" } p { (words) } }));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("5"));
    }
    r
}

async fn blocking<T: Send + 'static>(
    st: &OfficeState,
    f: impl FnOnce(&dyn Storage) -> crate::Result<T> + Send + 'static,
) -> Result<T, Response> {
    crate::storage::on_blocking_thread(&st.storage, f).await.map_err(storage_page)
}

/// The signed-in person, or the sign-in page to answer with instead.
async fn signed_in(st: &OfficeState, headers: &HeaderMap, next: &str) -> Result<Session, Response> {
    let session = st.session_cookie(headers).and_then(|c| st.sessions.touch(&c, Instant::now()));
    let Some(session) = session else {
        return Err(sign_in_page(StatusCode::UNAUTHORIZED, None, next));
    };
    let key_id = session.key_id;
    if !blocking(st, move |s| s.office_key_live(key_id)).await? {
        st.sessions.end_key(key_id);
        tracing::info!(%key_id, "office session refused: key revoked");
        return Err(sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("Your access key has been withdrawn. Ask for a new one."),
            next,
        ));
    }
    Ok(session)
}

/// Only this hub's own pages are places to go after signing in.
fn safe_next(next: &str) -> &str {
    let ok = next.starts_with("/office")
        && !next.contains("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic());
    if ok { next } else { "/office" }
}

/// The GOV.UK error summary at the top of a page: the problem, linked to its field.
fn error_summary(field: &str, words: &str) -> Markup {
    html! {
        div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
            h2 #error-summary-title { "There is a problem" }
            ul { li { a href=(field) { (words) } } }
        }
    }
}

fn sign_in_page(status: StatusCode, error: Option<&str>, next: &str) -> Response {
    let body = html! {
        @if let Some(error) = error { (error_summary("#key", error)) }
        h1 { "Sign in to head office" }
        p { "Every centre's laptops, their changes and the monthly report. Use the access key head office's administrator gave you." }
        form method="post" action="/office/sign-in" novalidate {
            input type="hidden" name="next" value=(safe_next(next));
            div class={ "form-group" @if error.is_some() { " form-group-error" } } {
                label for="key" { "Access key" }
                p.hint #key-hint { "43 letters, numbers, dashes and underscores, made with " code { "pops-hub office-key add" } "." }
                @if let Some(error) = error {
                    p.error-message #key-error { span.visually-hidden { "Error: " } (error) }
                }
                input #key name="key" type="password" autocomplete="current-password" spellcheck="false"
                    aria-describedby={ "key-hint" @if error.is_some() { " key-error" } };
            }
            button type="submit" { "Sign in" }
        }
    };
    page(status, layout("Sign in", None, "", body))
}

/// Reads an `application/x-www-form-urlencoded` body.
fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A form posted from another site is refused. A browser says where a request comes from in
/// `Sec-Fetch-Site` (which pages cannot set) and in `Origin`; whichever it sends must say this hub.
/// (The pages' referrer policy is `same-origin`, under which a browser sends the true origin on
/// this hub's own forms; under `no-referrer` it would send `Origin: null`.)
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !site.eq_ignore_ascii_case("same-origin")
    {
        return false;
    }
    let Some(origin) = text(ORIGIN.as_str()) else { return true };
    let host = text(HOST.as_str()).unwrap_or_default();
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

async fn sign_in(State(st): State<OfficeState>, request: Request) -> Response {
    let from = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
    let headers = request.headers().clone();
    if !same_origin(&headers) {
        return sign_in_page(StatusCode::FORBIDDEN, Some("Sign in from this hub's own page."), "/office");
    }
    let bytes = match axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return sign_in_page(StatusCode::PAYLOAD_TOO_LARGE, Some("That is far too long to be a key."), "/office");
        }
    };
    let fields = form_fields(&bytes);
    let next = safe_next(fields.get("next").map_or("/office", String::as_str)).to_string();
    if let Err(wait) = st.limiter.check(from, Instant::now()) {
        tracing::warn!(retry_after = wait, "office sign-in refused: too many wrong keys");
        let mut r = sign_in_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!("Too many wrong keys. Wait {wait} seconds, then try again.")),
            &next,
        );
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait));
        return r;
    }
    let key = fields.get("key").map(|k| k.trim().to_string()).unwrap_or_default();
    if key.is_empty() {
        return sign_in_page(StatusCode::BAD_REQUEST, Some("Enter your access key"), &next);
    }
    let found = match blocking(&st, move |s| s.office_key(&key, Utc::now())).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(office_key) = found else {
        st.limiter.failed(from, Instant::now());
        tracing::warn!("office sign-in refused: unknown or withdrawn key");
        return sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("This access key is not one head office has made, or it has been withdrawn"),
            &next,
        );
    };
    let cookie = match st.sessions.start(office_key.id, office_key.name, Instant::now()) {
        Ok(c) => c,
        Err(e) => return storage_page(e),
    };
    tracing::info!(key_id = %office_key.id, "office sign-in");
    let mut r = see_other(&next);
    r.headers_mut().insert(SET_COOKIE, st.cookie_header(&cookie, LONGEST.as_secs()));
    r
}

async fn sign_out(State(st): State<OfficeState>, headers: HeaderMap, _body: Bytes) -> Response {
    if !same_origin(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            layout(
                "Not signed out",
                None,
                "",
                html! { h1 { "Not signed out" } p { "Sign out from this hub's own page." } },
            ),
        );
    }
    if let Some(cookie) = st.session_cookie(&headers) {
        st.sessions.end(&cookie);
    }
    let mut r = see_other("/office");
    r.headers_mut().insert(SET_COOKIE, st.cookie_header("", 0));
    r
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        STYLESHEET,
    )
        .into_response()
}

async fn not_found() -> Response {
    page(
        StatusCode::NOT_FOUND,
        layout(
            "Page not found",
            None,
            "",
            html! { h1 { "Page not found" } p { a href="/office" { "Go to the list of centres" } } },
        ),
    )
}

/// "7 Dec 2026, 14:02" in London, from an RFC 3339 time.
fn london(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&London).format("%-d %b %Y, %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// "3 hours ago", "2 days ago".
fn ago(rfc3339: &str, now: DateTime<Utc>) -> Option<(String, ChronoDuration)> {
    let t = DateTime::parse_from_rfc3339(rfc3339).ok()?.with_timezone(&Utc);
    let d = now.signed_duration_since(t);
    let words = if d < ChronoDuration::minutes(1) {
        "just now".to_string()
    } else if d < ChronoDuration::hours(1) {
        plural(d.num_minutes(), "minute")
    } else if d < ChronoDuration::hours(48) {
        plural(d.num_hours(), "hour")
    } else {
        plural(d.num_days(), "day")
    };
    Some((words, d))
}

fn plural(n: i64, word: &str) -> String {
    if n == 1 { format!("1 {word} ago") } else { format!("{n} {word}s ago") }
}

fn short(id: Uuid) -> String {
    id.simple().to_string()[24..].to_string()
}

/// Whether a laptop last heard from `since` ago has gone quiet: it should call at least nightly.
fn quiet(since: ChronoDuration) -> bool {
    since > ChronoDuration::hours(QUIET_HOURS)
}

/// When a centre was last heard from: the latest of its live laptops.
fn last_contact(c: &CentreState) -> Option<&str> {
    c.devices.iter().filter(|d| d.revoked_at.is_none()).filter_map(|d| d.last_seen_at.as_deref()).max()
}

fn contact_cell(seen: Option<&str>, now: DateTime<Utc>) -> Markup {
    match seen.and_then(|s| ago(s, now).map(|a| (s, a))) {
        None => html! { span.tag.tag-grey { "Never" } },
        Some((at, (words, d))) if quiet(d) => html! {
            span.tag.tag-red { "Quiet" } " " time datetime=(at) title=(london(at)) { (words) }
        },
        Some((at, (words, _))) => html! { time datetime=(at) title=(london(at)) { (words) } },
    }
}

async fn centres_page(State(st): State<OfficeState>, headers: HeaderMap) -> Response {
    let who = match signed_in(&st, &headers, "/office").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let centres = match blocking(&st, |s| s.centre_states()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = Utc::now();
    let quiet = centres
        .iter()
        .filter(|c| match last_contact(c).and_then(|s| ago(s, now)) {
            Some((_, d)) => quiet(d),
            None => c.devices.iter().any(|d| d.revoked_at.is_none()),
        })
        .count();
    let body = html! {
        h1 { "Centres" }
        p.lede {
            (centres.len()) @if centres.len() == 1 { " centre" } @else { " centres" } ". "
            "Every laptop sends its changes within seconds when it can, and at least nightly. "
            "A laptop not heard from for over " (QUIET_HOURS) " hours is marked " strong { "Quiet" } "."
        }
        @if quiet > 0 {
            div.notice role="status" {
                strong { (quiet) @if quiet == 1 { " centre has" } @else { " centres have" } " not been heard from for over " (QUIET_HOURS) " hours." }
                @if quiet == 1 {
                    " Its changes are safe on the laptop; ring the centre to check the laptop is switched on and connected."
                } @else {
                    " Their changes are safe on the laptops; ring the centres to check the laptops are switched on and connected."
                }
            }
        }
        @if centres.is_empty() {
            p { "No centres yet. Add one with " code { "pops-hub centre add --name NAME" } "." }
        } @else {
            table {
                caption.visually-hidden { "Each centre's laptops and changes" }
                thead {
                    tr {
                        th scope="col" { "Centre" }
                        th scope="col" { "Last heard from" }
                        th scope="col" .num { "Laptops" }
                        th scope="col" .num { "Changes held" }
                        th scope="col" { "Newest change" }
                        th scope="col" .num { "Quarantined" }
                        th scope="col" .num { "Open complaints" }
                    }
                }
                tbody {
                    @for c in &centres {
                        tr {
                            th scope="row" { (c.name) }
                            td { (contact_cell(last_contact(c), now)) }
                            td.num { (c.devices.iter().filter(|d| d.revoked_at.is_none()).count()) }
                            td.num { (c.changes) }
                            td {
                                @if let Some(at) = &c.last_change_at { (london(at)) } @else { "None yet" }
                            }
                            td.num {
                                @if c.quarantined > 0 { a href="/office/quarantine" { (c.quarantined) } } @else { "0" }
                            }
                            td.num {
                                (c.open_complaints)
                                @if let Some(oldest) = &c.oldest_open_complaint {
                                    @if let Some((words, _)) = ago(oldest, now) { br; span.small { "oldest " (words) } }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Laptops" }
            p { "To stop a lost or stolen laptop sending, revoke it: " code { "pops-hub device revoke --device ID" } "." }
            @for c in &centres {
                @if !c.devices.is_empty() {
                    table.devices {
                        caption { (c.name) }
                        thead {
                            tr {
                                th scope="col" { "Laptop" }
                                th scope="col" { "Connected" }
                                th scope="col" { "Last heard from" }
                                th scope="col" .num { "Changes confirmed" }
                                th scope="col" { "State" }
                            }
                        }
                        tbody {
                            @for d in &c.devices {
                                tr {
                                    th scope="row" { code title=(d.id) { "…" (short(d.id)) } }
                                    td { (london(&d.enrolled_at)) }
                                    td { (contact_cell(d.last_seen_at.as_deref(), now)) }
                                    td.num { (d.acked_through_seq) }
                                    td {
                                        @if let Some(at) = &d.revoked_at {
                                            span.tag.tag-grey { "Revoked" } " " (london(at))
                                        } @else {
                                            span.tag.tag-green { "Live" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, layout("Centres", Some(&who.name), "/office", body))
}

type QueryPairs = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

/// The month asked for (this month in London when none is), or the words for the field.
fn asked_month(query: &QueryPairs) -> (String, Result<Month, String>) {
    let typed =
        query.as_ref().ok().and_then(|Query(q)| q.iter().rev().find(|(k, _)| k == "month")).map(|(_, v)| v.clone());
    match typed {
        None => {
            let m = Month::of(Utc::now());
            (m.to_string(), Ok(m))
        }
        Some(t) => {
            let parsed = Month::parse(&t).map_err(|e| e.to_string());
            (t, parsed)
        }
    }
}

async fn month_report(st: &OfficeState, month: Month) -> Result<MonthReport, Response> {
    let (first, last) = (month.first_day().to_string(), month.last_day().to_string());
    blocking(st, move |s| {
        let centres: Vec<(Uuid, String)> = s.centres()?.into_iter().map(|c| (c.id, c.name)).collect();
        let records = s.report_records(&first, &last)?;
        Ok(MonthReport::build(month, &centres, &records))
    })
    .await
}

fn month_form(typed: &str, error: Option<&str>) -> Markup {
    html! {
        form.month method="get" action="/office/report" novalidate {
            div class={ "form-group" @if error.is_some() { " form-group-error" } } {
                label for="month" { "Month" }
                p.hint #month-hint { "For example 2026-11" }
                @if let Some(error) = error {
                    p.error-message #month-error { span.visually-hidden { "Error: " } (error) }
                }
                input #month name="month" type="text" inputmode="numeric" value=(typed) size="8"
                    aria-describedby={ "month-hint" @if error.is_some() { " month-error" } };
                " "
                button type="submit" { "Show" }
            }
        }
    }
}

/// The report page with the problem with the month typed, at its field and summed up at the top.
fn month_refused(who: &Session, typed: &str, words: &str) -> Response {
    let body = html! {
        (error_summary("#month", words))
        h1 { "Monthly report" }
        (month_form(typed, Some(words)))
    };
    page(StatusCode::BAD_REQUEST, layout("Monthly report", Some(&who.name), "/office/report", body))
}

/// Who asks, for which month, and that month's report; or the page to answer instead (sign in,
/// the month typed wrong, the database out of reach).
async fn asked_report(
    st: &OfficeState,
    headers: &HeaderMap,
    query: &QueryPairs,
) -> Result<(Session, Month, MonthReport), Response> {
    let (typed, month) = asked_month(query);
    let who = signed_in(st, headers, "/office/report").await?;
    let month = month.map_err(|words| month_refused(&who, &typed, &words))?;
    let report = month_report(st, month).await?;
    Ok((who, month, report))
}

async fn report_page(State(st): State<OfficeState>, headers: HeaderMap, query: QueryPairs) -> Response {
    let (who, month, report) = match asked_report(&st, &headers, &query).await {
        Ok(asked) => asked,
        Err(r) => return r,
    };
    let figures: Vec<[(&str, i64); 25]> = report.centres.iter().map(|(_, _, t)| t.figures()).collect();
    let body = html! {
        h1 { "Monthly report: " (month.title()) }
        p.lede { "What every centre recorded in the month, counted from the latest state of each record head office holds. Counts only: no names." }
        div.report-tools {
            (month_form(&month.to_string(), None))
            p.month-links {
                a href={ "/office/report?month=" (month.previous()) } { "← " (month.previous().title()) }
                " · "
                a href={ "/office/report?month=" (month.next()) } { (month.next().title()) " →" }
                " · "
                a href={ "/office/report.csv?month=" (month) } download { "Download as CSV" }
            }
        }
        @if report.centres.is_empty() {
            p { "No centres yet." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Monthly figures by centre" {
                table.report {
                    caption.visually-hidden { "Figures for " (month.title()) ", by centre" }
                    thead {
                        tr {
                            th scope="col" { "Figure" }
                            @for (_, name, _) in &report.centres { th scope="col" .num { (name) } }
                            th scope="col" .num { "All centres" }
                        }
                    }
                    tbody {
                        @for (i, (label, total)) in report.total.figures().iter().enumerate() {
                            tr {
                                th scope="row" { (label) }
                                @for f in &figures { td.num { (f[i].1) } }
                                td.num.total { (total) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, layout("Monthly report", Some(&who.name), "/office/report", body))
}

async fn report_csv(State(st): State<OfficeState>, headers: HeaderMap, query: QueryPairs) -> Response {
    let (who, month, report) = match asked_report(&st, &headers, &query).await {
        Ok(asked) => asked,
        Err(r) => return r,
    };
    let bytes = match report.to_csv() {
        Ok(b) => b,
        Err(e) => return storage_page(e),
    };
    tracing::info!(key_id = %who.key_id, %month, "office report exported");
    let disposition = format!("attachment; filename=\"pops-report-{month}.csv\"");
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn quarantine_page(State(st): State<OfficeState>, headers: HeaderMap) -> Response {
    let who = match signed_in(&st, &headers, "/office/quarantine").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let found = blocking(&st, |s| {
        let names: HashMap<Uuid, String> = s.centres()?.into_iter().map(|c| (c.id, c.name)).collect();
        Ok((names, s.quarantine()?))
    })
    .await;
    let (names, mut entries): (HashMap<Uuid, String>, Vec<QuarantineEntry>) = match found {
        Ok(f) => f,
        Err(r) => return r,
    };
    let all = entries.len();
    entries.reverse();
    entries.truncate(QUARANTINE_SHOWN);
    let body = html! {
        h1 { "Quarantine" }
        p.lede {
            "Changes a laptop sent that the hub acknowledged but could not apply, with the reason. "
            "They never hold up the changes after them. The whole change is kept in the hub's database for investigation; "
            "this page shows ids and reasons only."
        }
        @if entries.is_empty() {
            p { strong { "Nothing in quarantine." } }
        } @else {
            p {
                (all) @if all == 1 { " change" } @else { " changes" } " in quarantine"
                @if all > QUARANTINE_SHOWN { "; the newest " (QUARANTINE_SHOWN) " are shown" } "."
            }
            table {
                caption.visually-hidden { "Quarantined changes, newest first" }
                thead {
                    tr {
                        th scope="col" { "When" }
                        th scope="col" { "Centre" }
                        th scope="col" { "Laptop" }
                        th scope="col" .num { "Seq" }
                        th scope="col" { "Record" }
                        th scope="col" { "Reason" }
                    }
                }
                tbody {
                    @for q in &entries {
                        tr {
                            td { (london(&q.at)) }
                            th scope="row" { (names.get(&q.centre_id).map_or("Unknown centre", String::as_str)) }
                            td { code title=(q.device_id) { "…" (short(q.device_id)) } }
                            td.num { (q.seq) }
                            td { (q.entity.replace('_', " ")) }
                            td { (q.reason) br; code.small title="change id" { (q.change_id) } }
                        }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, layout("Quarantine", Some(&who.name), "/office/quarantine", body))
}
