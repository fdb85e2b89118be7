//! Head office's pages over real HTTP, on SQLite and on PostgreSQL: signing in with an office key,
//! the session cookie and its ends, the centres' state, the monthly report on screen and as CSV
//! (exact counts from changes pushed through the sync API), the quarantine, and that no page
//! carries a name. Every response is checked against `docs/openapi/sync.yaml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::{Hub, Reply, TestDb, batch, change};
use pops_domain::change::{Op, entity};
use pops_domain::desk::{
    CentreEvent, Enquiry, EnquiryResolution, EnquiryTopic, EventKind, Feedback, FeedbackChannel, FeedbackKind,
    FeedbackStatus,
};
use pops_domain::visits::{AgeBands, CheckIn, SupportNeeds, VisitKind, VisitOutcome, VisitsSession};
use serde_json::Value;
use uuid::Uuid;

on_both_storages!(
    pages_need_a_key_and_a_live_session,
    a_key_from_another_site_or_a_flood_of_wrong_keys_is_refused,
    the_monthly_report_counts_each_centres_records_exactly,
    the_centres_page_shows_laptops_and_centres_gone_quiet,
    a_laptops_last_call_is_kept_to_the_minute,
    the_quarantine_page_shows_reasons_and_ids_only,
    an_upgraded_hub_gives_the_records_it_holds_their_report_day,
);

/// A browser of head office's pages: keeps the session cookie, follows no redirect, and checks
/// every response against sync.yaml.
struct Office {
    base: String,
    client: reqwest::Client,
    cookie: Option<String>,
}

impl Office {
    fn new(hub: &Hub) -> Office {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Office { base: hub.api.base.clone(), client, cookie: None }
    }

    async fn send(&self, req: reqwest::RequestBuilder, method: &str, path: &str) -> Reply {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", format!("{}={c}", pops_hub::office::LOOPBACK_COOKIE_NAME)),
            None => req,
        };
        let response = req.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap().to_vec();
        common::contract::contract().check(method, path.split('?').next().unwrap(), status, &headers, &body);
        Reply { status, headers, body }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(format!("{}{path}", self.base)), "GET", path).await
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        self.send(req, "POST", path).await
    }

    /// Signs in with `key`; answers the reply and keeps the cookie it set.
    async fn sign_in(&mut self, key: &str) -> Reply {
        let origin = self.base.clone();
        let r = self.post_form("/office/sign-in", &[("key", key), ("next", "/office/report")], Some(&origin)).await;
        if r.status == 303 {
            let set = r.header("set-cookie").expect("a cookie");
            let value = set.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
            self.cookie = Some(value);
        }
        r
    }
}

async fn key_for(hub: &Hub, name: &str) -> (Uuid, String) {
    let storage = hub.storage.clone();
    let name = name.to_string();
    common::off_runtime(move || storage.add_office_key(&name, Utc::now()).unwrap())
}

fn assert_page_headers(r: &Reply) {
    let csp = r.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
}

async fn pages_need_a_key_and_a_live_session(db: &TestDb) {
    let hub = Hub::start(db).await;
    hub.storage.add_centre("HMP Liverpool").unwrap();
    let (key_id, key) = key_for(&hub, "Reports team").await;
    let mut office = Office::new(&hub);

    // Not signed in: every page is the sign-in page, with 401.
    for path in ["/office", "/office/report", "/office/report.csv?month=2026-11", "/office/quarantine"] {
        let r = office.get(path).await;
        assert_eq!(r.status, 401, "{path}");
        assert!(r.text().contains("Sign in to head office"), "{path}");
        assert!(!r.text().contains("HMP Liverpool"), "{path}: a centre's name before signing in");
        assert_page_headers(&r);
    }
    let css = office.get("/office/office.css").await;
    assert_eq!((css.status, css.header("content-type").as_deref()), (200, Some("text/css; charset=utf-8")));
    let missing = office.get("/office/nothing-here").await;
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("Page not found"));

    // An empty key, and a wrong one, are refused at the field.
    let r = office.sign_in("").await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Enter your access key") && r.text().contains("There is a problem"));
    let r = office.sign_in(&pops_hub::secret::new_token().unwrap()).await;
    assert_eq!(r.status, 401);
    assert!(r.text().contains("not one head office has made"), "{}", r.text());
    assert!(office.cookie.is_none());

    // The right key: a session cookie a browser keeps to this hub only, and back to the page asked for.
    let r = office.sign_in(&format!("  {key}\n")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location").as_deref(), Some("/office/report"));
    let set = r.header("set-cookie").unwrap();
    // (Served as plain HTTP, which the hub does only on loopback, the cookie is not `Secure`: WebKit
    // browsers would drop it. Over HTTPS it is `__Host-` and `Secure`: the TLS test in cli.rs.)
    for part in ["pops-office=", "Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    assert!(!set.contains("Secure") && !set.contains("__Host-"), "{set}");
    let page = office.get("/office").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("HMP Liverpool") && page.text().contains("Signed in as Reports team"));
    assert_page_headers(&page);
    let listed = {
        let storage = hub.storage.clone();
        common::off_runtime(move || storage.office_keys().unwrap())
    };
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "signing in is recorded on the key");

    // A cookie that is not one the hub made is no session.
    let mut stranger = Office::new(&hub);
    stranger.cookie = Some(pops_hub::secret::new_token().unwrap());
    assert_eq!(stranger.get("/office").await.status, 401);

    // Signing out ends the session: the same cookie no longer opens a page.
    let origin = office.base.clone();
    let out = office.post_form("/office/sign-out", &[], Some(&origin)).await;
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(office.get("/office").await.status, 401);

    // A revoked key ends the sessions it opened at the next page.
    office.sign_in(&key).await;
    assert_eq!(office.get("/office").await.status, 200);
    {
        let storage = hub.storage.clone();
        common::off_runtime(move || storage.revoke_office_key(key_id, Utc::now()).unwrap());
    }
    let r = office.get("/office").await;
    assert_eq!(r.status, 401);
    assert!(r.text().contains("withdrawn"), "{}", r.text());
    let r = office.sign_in(&key).await;
    assert_eq!(r.status, 401, "a revoked key signs in no more");
    hub.stop().await;
}

async fn a_key_from_another_site_or_a_flood_of_wrong_keys_is_refused(db: &TestDb) {
    let hub = Hub::start(db).await;
    let (_, key) = key_for(&hub, "Reports team").await;
    let office = Office::new(&hub);
    // A form on another site posting to the hub: refused, and no cookie set.
    let r = office.post_form("/office/sign-in", &[("key", &key)], Some("https://evil.example")).await;
    assert_eq!(r.status, 403);
    assert!(r.header("set-cookie").is_none());
    // A browser's word that the form is on another site is believed too, whatever the origin says.
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs([("key", key.as_str())]).finish();
    let req = office
        .client
        .post(format!("{}/office/sign-in", office.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(body);
    let r = office.send(req, "POST", "/office/sign-in").await;
    assert_eq!(r.status, 403);
    assert!(r.header("set-cookie").is_none());
    // Ten wrong keys from one address, then even the right one waits.
    let wrong = pops_hub::secret::new_token().unwrap();
    for _ in 0..10 {
        assert_eq!(office.post_form("/office/sign-in", &[("key", &wrong)], None).await.status, 401);
    }
    let r = office.post_form("/office/sign-in", &[("key", &key)], None).await;
    assert_eq!(r.status, 429);
    assert!(r.text().contains("Too many wrong keys"));
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    hub.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Records, as a laptop sends them

fn session(date: &str, cancelled: bool) -> VisitsSession {
    VisitsSession {
        id: Uuid::now_v7(),
        date: date.into(),
        name: "Afternoon visits".into(),
        starts_at: "14:00".into(),
        ends_at: "16:00".into(),
        kind: VisitKind::Open,
        template_id: None,
        opened_at: format!("{date}T09:00:00Z"),
        opened_by: Uuid::now_v7(),
        cancelled_at: cancelled.then(|| format!("{date}T10:00:00Z")),
        cancelled_by: cancelled.then(Uuid::now_v7),
        cancel_reason: cancelled.then(|| "Prison lockdown".into()),
    }
}

fn party(session: &VisitsSession, arrived_at: &str, adults: i32, children: AgeBands, first_time: bool) -> CheckIn {
    CheckIn {
        id: Uuid::now_v7(),
        session_id: session.id,
        adults,
        children,
        first_time,
        lead_name: Some("Zebedee Quartermaine".into()),
        arrived_at: arrived_at.into(),
        left_at: None,
        checked_in_by: Uuid::now_v7(),
        checked_out_by: None,
        needs: SupportNeeds::default(),
        help: Default::default(),
        outcome: None,
        welfare_offered: None,
        walkthrough: vec![],
        family_id: None,
    }
}

fn feedback(kind: FeedbackKind, received_at: &str, status: FeedbackStatus) -> Feedback {
    Feedback {
        id: Uuid::now_v7(),
        received_at: received_at.into(),
        kind,
        channel: FeedbackChannel::InPerson,
        summary: "Zebedee Quartermaine said the queue was long".into(),
        status,
        recorded_by: Uuid::now_v7(),
        response: None,
        responded_by: None,
        responded_at: None,
        closed_by: None,
        closed_at: None,
    }
}

/// Upserts of `records` (entity, payload) as one batch from `seq` on.
fn upserts(seq: i64, records: Vec<(&str, Value)>) -> pops_domain::sync::Batch {
    batch(
        records
            .into_iter()
            .enumerate()
            .map(|(i, (e, payload))| {
                let id = Uuid::parse_str(payload["id"].as_str().unwrap()).unwrap();
                change(seq + i as i64, e, id, Op::Upsert, payload)
            })
            .collect(),
    )
}

fn json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap()
}

async fn the_monthly_report_counts_each_centres_records_exactly(db: &TestDb) {
    let hub = Hub::start(db).await;
    let liverpool = hub.storage.add_centre("HMP Liverpool").unwrap();
    let risley = hub.storage.add_centre("HMP Risley").unwrap();
    let a = hub.device_in(liverpool).await;
    let b = hub.device_in(risley).await;

    // Liverpool in November: two sessions held, one cancelled; three parties, one of which
    // arrives at 00:30 London time on 1 December (so counts in December) and one that is later
    // checked out (its second change must not count it twice).
    let s1 = session("2026-11-10", false);
    let s2 = session("2026-11-24", false);
    let s3 = session("2026-11-17", true);
    let p1 = party(&s1, "2026-11-10T14:05:00Z", 2, AgeBands { age_0_1: 1, age_5_11: 2, ..Default::default() }, true);
    let mut p2 = party(&s2, "2026-11-24T13:50:00Z", 1, AgeBands { age_12_17: 1, ..Default::default() }, false);
    p2.needs.interpreter_language = "Polish".into();
    p2.outcome = Some(VisitOutcome::DeclinedEntry);
    p2.welfare_offered = Some(true);
    let late = party(&s2, "2026-12-01T00:30:00Z", 1, AgeBands::default(), false);
    let enquiry = Enquiry {
        id: Uuid::now_v7(),
        received_at: "2026-11-10T13:00:00Z".into(),
        topic: EnquiryTopic::Transport,
        resolution: EnquiryResolution::Signposted,
        signposted_to: Some("Bus company".into()),
        note: Some("Zebedee Quartermaine asked about buses".into()),
        recorded_by: Uuid::now_v7(),
    };
    let complaint = feedback(FeedbackKind::Complaint, "2026-11-12T10:00:00Z", FeedbackStatus::Open);
    let compliment = feedback(FeedbackKind::Compliment, "2026-11-13T10:00:00Z", FeedbackStatus::Closed);
    let family_day = CentreEvent {
        id: Uuid::now_v7(),
        date: "2026-11-28".into(),
        kind: EventKind::FamilyDay,
        title: "Winter family day".into(),
        adults: 12,
        children: AgeBands { age_3_4: 5, age_5_11: 9, ..Default::default() },
        notes: None,
        recorded_by: Uuid::now_v7(),
        recorded_at: "2026-11-28T17:00:00Z".into(),
    };
    let first = upserts(
        1,
        vec![
            (entity::VISITS_SESSION, json(&s1)),
            (entity::VISITS_SESSION, json(&s2)),
            (entity::VISITS_SESSION, json(&s3)),
            (entity::CHECK_IN, json(&p1)),
            (entity::CHECK_IN, json(&p2)),
            (entity::CHECK_IN, json(&late)),
            (entity::ENQUIRY, json(&enquiry)),
            (entity::FEEDBACK, json(&complaint)),
            (entity::FEEDBACK, json(&compliment)),
            (entity::CENTRE_EVENT, json(&family_day)),
        ],
    );
    assert_eq!(hub.api.push(&a, &first).await.reply().acked_through_seq, 10);
    let mut p1_out = p1.clone();
    p1_out.left_at = Some("2026-11-10T16:00:00Z".into());
    p1_out.outcome = Some(VisitOutcome::Visited);
    assert_eq!(
        hub.api.push(&a, &upserts(11, vec![(entity::CHECK_IN, json(&p1_out))])).await.reply().acked_through_seq,
        11
    );

    // Risley: one session, one party in November; one in October.
    let r1 = session("2026-11-05", false);
    let rp = party(&r1, "2026-11-05T09:40:00Z", 3, AgeBands { age_2: 1, age_3_4: 1, ..Default::default() }, true);
    let old = party(&r1, "2026-10-31T12:00:00Z", 1, AgeBands::default(), false);
    let risley_batch = upserts(
        1,
        vec![(entity::VISITS_SESSION, json(&r1)), (entity::CHECK_IN, json(&rp)), (entity::CHECK_IN, json(&old))],
    );
    assert_eq!(hub.api.push(&b, &risley_batch).await.reply().acked_through_seq, 3);

    let (_, key) = key_for(&hub, "Reports team").await;
    let mut office = Office::new(&hub);
    assert_eq!(office.sign_in(&key).await.status, 303);

    // The CSV: a row per figure, a column per centre (by name), then all centres.
    let csv = office.get("/office/report.csv?month=2026-11").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("content-disposition").as_deref(), Some("attachment; filename=\"pops-report-2026-11.csv\""));
    let text = csv.text();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rows.headers().unwrap().iter().collect::<Vec<_>>(),
        ["November 2026 (2026-11)", "HMP Liverpool", "HMP Risley", "All centres"]
    );
    let figures: std::collections::HashMap<String, (i64, i64, i64)> = rows
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), (r[1].parse().unwrap(), r[2].parse().unwrap(), r[3].parse().unwrap()))
        })
        .collect();
    let expect = [
        ("Visits sessions held", (2, 1, 3)),
        ("Visits sessions cancelled", (1, 0, 1)),
        ("Parties checked in", (2, 1, 3)),
        ("First-visit parties", (1, 1, 2)),
        ("Adults", (3, 3, 6)),
        ("Children", (4, 2, 6)),
        ("Visitors", (7, 5, 12)),
        ("Children under 2", (1, 0, 1)),
        ("Children aged 2", (0, 1, 1)),
        ("Children aged 3 to 4", (0, 1, 1)),
        ("Children aged 5 to 11", (2, 0, 2)),
        ("Children aged 12 to 17", (1, 0, 1)),
        ("Parties with support needs", (1, 0, 1)),
        ("Parties declined entry or failing security", (1, 0, 1)),
        ("Welfare support offered", (1, 0, 1)),
        ("Enquiries", (1, 0, 1)),
        ("Enquiries signposted", (1, 0, 1)),
        ("Compliments", (1, 0, 1)),
        ("Complaints", (1, 0, 1)),
        ("Suggestions", (0, 0, 0)),
        ("Family days", (1, 0, 1)),
        ("Family forums", (0, 0, 0)),
        ("Event attendance: adults", (12, 0, 12)),
        ("Event attendance: children", (14, 0, 14)),
        ("Event attendance", (26, 0, 26)),
    ];
    assert_eq!(figures.len(), expect.len());
    for (label, want) in expect {
        assert_eq!(figures[label], want, "{label}");
    }

    // December holds the party that arrived after midnight in London; October Risley's old one.
    let dec = office.get("/office/report.csv?month=2026-12").await.text();
    assert!(dec.contains("\nParties checked in,1,0,1\n"), "{dec}");
    let oct = office.get("/office/report.csv?month=2026-10").await.text();
    assert!(oct.contains("\nParties checked in,0,1,1\n"), "{oct}");

    // On screen: the same figures, with links to the months either side.
    let page = office.get("/office/report?month=2026-11").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Monthly report: November 2026"));
    assert!(html.contains("month=2026-10") && html.contains("month=2026-12"));
    assert!(html.contains("<th scope=\"row\">Visitors</th><td class=\"num\">7</td><td class=\"num\">5</td><td class=\"num total\">12</td>"), "{html}");

    // A month typed wrong: the problem at the field, nothing else.
    let bad = office.get("/office/report?month=Nov").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("Enter the month as a year and month, for example 2026-11"));
    assert!(bad.text().contains("href=\"#month\""));
    assert_eq!(office.get("/office/report.csv?month=2026-13").await.status, 400);

    // The centres page: open complaints and changes held.
    let centres = office.get("/office").await.text();
    assert!(centres.contains("HMP Liverpool") && centres.contains("HMP Risley"));

    // No page and no report carries a name, a note or a summary.
    for body in [&text, &html, &centres, &dec, &oct] {
        assert!(!body.contains("Zebedee") && !body.contains("Quartermaine"), "a name on a page");
        assert!(!body.contains("Bus company") && !body.contains("queue was long"), "free text on a page");
    }
    hub.stop().await;
}

async fn the_centres_page_shows_laptops_and_centres_gone_quiet(db: &TestDb) {
    let hub = Hub::start(db).await;
    let busy = hub.storage.add_centre("HMP Wymott").unwrap();
    let quiet = hub.storage.add_centre("HMP Garth").unwrap();
    hub.storage.add_centre("HMP Kirkham").unwrap();
    let a = hub.device_in(busy).await;
    let q = hub.device_in(quiet).await;
    let lost = hub.device_in(quiet).await;
    // Wymott's laptop sends now; Garth's last called 30 hours ago; its other laptop was revoked.
    hub.api.push(&a, &batch(common::check_ins(1, 4))).await.reply();
    let complaint = feedback(FeedbackKind::Complaint, "2026-11-12T10:00:00Z", FeedbackStatus::Responded);
    hub.api.push(&a, &upserts(5, vec![(entity::FEEDBACK, json(&complaint))])).await.reply();
    {
        let storage = hub.storage.clone();
        let (token, lost_id) = (q.token.clone(), lost.id);
        common::off_runtime(move || {
            storage.authenticate(&token, Utc::now() - Duration::hours(30)).unwrap();
            storage.revoke_device(lost_id).unwrap();
        });
    }
    let (_, key) = key_for(&hub, "Reports team").await;
    let mut office = Office::new(&hub);
    office.sign_in(&key).await;
    let html = office.get("/office").await.text();
    let row = |name: &str| {
        let start = html.find(&format!("<th scope=\"row\">{name}</th>")).unwrap_or_else(|| panic!("{name}: {html}"));
        html[start..start + html[start..].find("</tr>").unwrap()].to_string()
    };
    let wymott = row("HMP Wymott");
    assert!(wymott.contains("just now") || wymott.contains("minute"), "{wymott}");
    assert!(wymott.contains("<td class=\"num\">5</td>"), "5 changes held: {wymott}");
    assert!(wymott.contains("<td class=\"num\">1<br>"), "1 open complaint: {wymott}");
    let garth = row("HMP Garth");
    assert!(garth.contains("Quiet") && garth.contains("30 hours ago"), "{garth}");
    assert!(garth.contains("<td class=\"num\">1</td>"), "one live laptop: {garth}");
    assert!(row("HMP Kirkham").contains("Never"));
    assert!(html.contains("1 centre has not been heard from"), "{html}");
    assert!(html.contains("Revoked"), "the revoked laptop is listed as revoked");
    hub.stop().await;
}

/// Each request's token check moves the device's `last_seen_at` only when it is more than a minute
/// old: a write (and a commit) per request would cost every batch one.
async fn a_laptops_last_call_is_kept_to_the_minute(db: &TestDb) {
    let hub = Hub::start(db).await;
    let centre = hub.storage.add_centre("HMP Haverigg").unwrap();
    let d = hub.device_in(centre).await;
    let storage = hub.storage.clone();
    let token = d.token.clone();
    let seen = common::off_runtime(move || {
        let seen = |at: chrono::DateTime<Utc>| {
            storage.authenticate(&token, at).unwrap();
            let centres = storage.centre_states().unwrap();
            let c = centres.iter().find(|c| c.id == centre).unwrap();
            c.devices[0].last_seen_at.clone().unwrap()
        };
        let t0 = Utc::now() - Duration::hours(2);
        [seen(t0), seen(t0 + Duration::seconds(30)), seen(t0 + Duration::seconds(90))]
    });
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    assert_eq!(seen[0], seen[1], "30 seconds later: not written again");
    assert_eq!((t(&seen[2]) - t(&seen[0])).num_seconds(), 90, "90 seconds later: moved");
    hub.stop().await;
}

async fn the_quarantine_page_shows_reasons_and_ids_only(db: &TestDb) {
    let hub = Hub::start(db).await;
    let centre = hub.storage.add_centre("HMP Kennet").unwrap();
    let d = hub.device_in(centre).await;
    let id = Uuid::now_v7();
    let bad = change(
        2,
        entity::CHECK_IN,
        id,
        Op::Upsert,
        serde_json::json!({"id": id, "adults": "Zebedee Quartermaine", "lead_name": "Zebedee Quartermaine"}),
    );
    let r = hub.api.push(&d, &batch(vec![common::check_in(1), bad.clone(), common::check_in(3)])).await.reply();
    assert_eq!(r.rejected.len(), 1);
    let (_, key) = key_for(&hub, "Reports team").await;
    let mut office = Office::new(&hub);
    office.sign_in(&key).await;
    let html = office.get("/office/quarantine").await.text();
    assert!(html.contains("1 change in quarantine"), "{html}");
    assert!(html.contains("HMP Kennet") && html.contains(&bad.change_id.to_string()));
    assert!(html.contains(&r.rejected[0].reason), "the reason: {html}");
    assert!(!html.contains("Zebedee"), "no payload on the page");
    let centres = office.get("/office").await.text();
    assert!(centres.contains("<a href=\"/office/quarantine\">1</a>"), "{centres}");
    hub.stop().await;
}

async fn an_upgraded_hub_gives_the_records_it_holds_their_report_day(db: &TestDb) {
    let hub = Hub::start(db).await;
    let centre = hub.storage.add_centre("HMP Buckley Hall").unwrap();
    let d = hub.device_in(centre).await;
    let s = session("2026-11-03", false);
    let p = party(&s, "2026-11-03T14:00:00Z", 2, AgeBands::default(), true);
    hub.api.push(&d, &upserts(1, vec![(entity::VISITS_SESSION, json(&s)), (entity::CHECK_IN, json(&p))])).await.reply();
    hub.stop().await;
    // Take the database back to schema 1, as a hub from before the office pages left it.
    // (Schema 1 kept a copy of the payload in each record and had no report day or office keys.)
    if db.is_postgres() {
        db.pg_query("DROP TABLE office_keys");
        db.pg_query("ALTER TABLE records ADD COLUMN payload JSONB");
        db.pg_query("UPDATE records r SET payload = c.payload FROM changes c WHERE c.pos = r.pos");
        db.pg_query("ALTER TABLE records ALTER COLUMN payload SET NOT NULL");
        db.pg_query("ALTER TABLE records DROP COLUMN pos");
        db.pg_query("ALTER TABLE records DROP COLUMN day");
        db.pg_query("UPDATE hub_schema SET version = 1");
    } else {
        let conn = rusqlite::Connection::open(db.url.trim_start_matches("sqlite://")).unwrap();
        conn.execute_batch(
            "DROP TABLE office_keys;
             CREATE TABLE records_v1 (
                 centre_id TEXT NOT NULL REFERENCES centres (id), entity TEXT NOT NULL, entity_id TEXT NOT NULL,
                 device_id TEXT NOT NULL REFERENCES devices (id), seq INTEGER NOT NULL, op TEXT NOT NULL,
                 payload TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (centre_id, entity, entity_id));
             INSERT INTO records_v1 SELECT r.centre_id, r.entity, r.entity_id, r.device_id, r.seq, r.op, c.payload,
                 r.updated_at FROM records r JOIN changes c ON c.pos = r.pos;
             DROP TABLE records;
             ALTER TABLE records_v1 RENAME TO records;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let storage = pops_hub::open(&db.url).unwrap();
    let records = storage.report_records("2026-11-01", "2026-11-30").unwrap();
    let mut entities: Vec<&str> = records.iter().map(|r| r.entity.as_str()).collect();
    entities.sort();
    assert_eq!(entities, [entity::CHECK_IN, entity::VISITS_SESSION]);
    assert!(storage.report_records("2026-12-01", "2026-12-31").unwrap().is_empty());
    assert!(storage.office_keys().unwrap().is_empty(), "the keys table is there");
    let record = storage.centre_record(centre, entity::CHECK_IN, p.id).unwrap().expect("the record is kept");
    assert_eq!(record, json(&p), "the record points at its latest change");
}
