//! The whole visits day in the store: sessions from templates, cancelling, outcomes, the walkthrough,
//! enquiries, feedback and events. Every write leaves one outbox change and one audit entry.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use pops_domain::desk::{
    CentreEvent, Enquiry, EnquiryResolution, EnquiryTopic, EventKind, Feedback, FeedbackChannel, FeedbackKind,
    FeedbackStatus,
};
use pops_domain::visits::{AgeBands, SessionTemplate, VisitKind, VisitOutcome};
use pops_store::{Error, desk, visits};
use uuid::Uuid;

fn template(weekday: u8, name: &str, starts: &str) -> SessionTemplate {
    SessionTemplate {
        id: Uuid::now_v7(),
        weekday,
        name: name.into(),
        starts_at: starts.into(),
        ends_at: "16:00".into(),
        kind: VisitKind::Closed,
        retired_at: None,
    }
}

fn changes(fx: &common::Fixture) -> (i64, i64) {
    (common::count(&fx.store, "SELECT count(*) FROM outbox"), common::count(&fx.store, "SELECT count(*) FROM audit"))
}

#[test]
fn a_day_gets_its_sessions_from_the_templates_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let wed = template(3, "Afternoon visits", "14:00");
    let retired = SessionTemplate { retired_at: Some(Utc::now().to_rfc3339()), ..template(3, "Old", "10:00") };
    let thu = template(4, "Thursday visits", "14:00");
    fx.store
        .write(Some(fx.user), Utc::now(), |w| {
            for t in [&wed, &retired, &thu] {
                visits::save_template(w, t)?;
            }
            Ok(())
        })
        .unwrap();
    let before = changes(&fx);
    // 2026-11-25 is a Wednesday.
    let made =
        fx.store.write(Some(fx.user), Utc::now(), |w| visits::sessions_from_templates(w, "2026-11-25", 3)).unwrap();
    assert_eq!(made, 1);
    assert_eq!(changes(&fx), (before.0 + 1, before.1 + 1));
    let again =
        fx.store.write(Some(fx.user), Utc::now(), |w| visits::sessions_from_templates(w, "2026-11-25", 3)).unwrap();
    assert_eq!(again, 0);
    let day = fx.store.read(|c| visits::day(c, "2026-11-25")).unwrap();
    let names: Vec<&str> = day.sessions.iter().map(|s| s.session.name.as_str()).collect();
    assert_eq!(names, ["Morning visits", "Afternoon visits"]);
    assert_eq!(day.sessions[1].session.kind, VisitKind::Closed);
    assert_eq!(day.sessions[1].session.template_id, Some(wed.id));
    let all = fx.store.read(visits::templates).unwrap();
    assert_eq!(all.last().unwrap().name, "Old", "retired templates are listed last");
}

#[test]
fn a_cancelled_session_takes_no_check_ins_and_cannot_be_cancelled_with_people_on_site() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let party = fx
        .store
        .write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None)))
        .unwrap();
    let refused = fx.store.write(Some(fx.user), Utc::now(), |w| visits::cancel_session(w, fx.session.id, "Lockdown"));
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m.contains("1 party of this session is still on site")),
        "{refused:?}"
    );
    fx.store
        .write(Some(fx.user), Utc::now(), |w| {
            visits::record_outcome(w, party.id, VisitOutcome::CancelledByPrison, None)?;
            visits::check_out(w, party.id)
        })
        .unwrap();
    let cancelled =
        fx.store.write(Some(fx.user), Utc::now(), |w| visits::cancel_session(w, fx.session.id, "Lockdown")).unwrap();
    assert_eq!(cancelled.cancel_reason.as_deref(), Some("Lockdown"));
    let before = changes(&fx);
    let late = fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &common::party(fx.session.id, None)));
    assert!(matches!(&late, Err(Error::Conflict(m)) if m.contains("cancelled")), "{late:?}");
    assert_eq!(changes(&fx), before, "nothing is written by a refused check-in");
}

#[test]
fn outcome_and_walkthrough_are_kept_on_the_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let mut p = common::party(fx.session.id, Some("Ayşe 🌸"));
    p.needs.interpreter_language = "Turkish".into();
    p.needs.distress = true;
    p.help.locker = true;
    let c = fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &p)).unwrap();
    let items = vec![Uuid::now_v7(), Uuid::now_v7()];
    fx.store
        .write(Some(fx.user), Utc::now(), |w| {
            visits::set_walkthrough(w, c.id, items.clone())?;
            visits::record_outcome(w, c.id, VisitOutcome::FailedSecurity, Some(true))
        })
        .unwrap();
    let stored = fx.store.read(|conn| visits::get_check_in(conn, c.id)).unwrap().unwrap();
    assert_eq!(stored.walkthrough, items);
    assert_eq!(stored.outcome, Some(VisitOutcome::FailedSecurity));
    assert_eq!(stored.welfare_offered, Some(true));
    assert_eq!(stored.needs.interpreter_language, "Turkish");
    assert!(stored.needs.distress && stored.help.locker);
    assert_eq!(stored.lead_name.as_deref(), Some("Ayşe 🌸"));

    let mut returning = common::party(fx.session.id, None);
    returning.first_time = false;
    let r = fx.store.write(Some(fx.user), Utc::now(), |w| visits::check_in(w, &returning)).unwrap();
    let refused = fx.store.write(Some(fx.user), Utc::now(), |w| visits::set_walkthrough(w, r.id, items.clone()));
    assert!(matches!(refused, Err(Error::Conflict(_))));
}

fn feedback(kind: FeedbackKind, summary: &str) -> Feedback {
    Feedback {
        id: Uuid::now_v7(),
        received_at: Utc::now().to_rfc3339(),
        kind,
        channel: FeedbackChannel::CommentCard,
        summary: summary.into(),
        status: FeedbackStatus::Open,
        recorded_by: Uuid::nil(),
        response: None,
        responded_by: None,
        responded_at: None,
        closed_by: None,
        closed_at: None,
    }
}

#[test]
fn a_complaint_is_answered_before_it_is_closed_and_closed_stays_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let text = "الانتظار كان طويلا 😞 — queue too long";
    let f = feedback(FeedbackKind::Complaint, text);
    fx.store.write(Some(fx.user), Utc::now(), |w| desk::log_feedback(w, "2026-11-25", &f)).unwrap();
    let early = fx.store.write(Some(fx.user), Utc::now(), |w| desk::close_feedback(w, f.id));
    assert!(matches!(&early, Err(Error::Conflict(m)) if m.contains("response")), "{early:?}");
    let answered = fx
        .store
        .write(Some(fx.user), Utc::now(), |w| desk::respond_to_feedback(w, f.id, "Extra volunteer on Saturdays"))
        .unwrap();
    assert_eq!(answered.status, FeedbackStatus::Responded);
    assert_eq!(answered.responded_by, Some(fx.user));
    let closed = fx.store.write(Some(fx.user), Utc::now(), |w| desk::close_feedback(w, f.id)).unwrap();
    assert_eq!(closed.status, FeedbackStatus::Closed);
    assert!(fx.store.write(Some(fx.user), Utc::now(), |w| desk::respond_to_feedback(w, f.id, "again")).is_err());
    let listed = fx.store.read(desk::feedback_list).unwrap();
    assert_eq!(listed[0].summary, text, "stored exactly as typed");
    assert_eq!(fx.store.read(|c| desk::feedback_on(c, "2026-11-25")).unwrap(), 1);
}

#[test]
fn enquiries_and_events_are_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    for topic in [EnquiryTopic::Transport, EnquiryTopic::Property] {
        let e = Enquiry {
            id: Uuid::now_v7(),
            received_at: Utc::now().to_rfc3339(),
            topic,
            resolution: EnquiryResolution::Answered,
            signposted_to: None,
            note: None,
            recorded_by: fx.user,
        };
        fx.store.write(Some(fx.user), Utc::now(), |w| desk::log_enquiry(w, "2026-11-25", &e)).unwrap();
    }
    let list = fx.store.read(|c| desk::enquiries_on(c, "2026-11-25")).unwrap();
    assert_eq!(list.iter().map(|e| e.topic).collect::<Vec<_>>(), [EnquiryTopic::Property, EnquiryTopic::Transport]);
    for date in ["2026-08-01", "2026-12-19"] {
        let e = CentreEvent {
            id: Uuid::now_v7(),
            date: date.into(),
            kind: EventKind::FamilyDay,
            title: "Family day".into(),
            adults: 20,
            children: AgeBands { age_3_4: 4, ..Default::default() },
            notes: None,
            recorded_by: fx.user,
            recorded_at: Utc::now().to_rfc3339(),
        };
        fx.store.write(Some(fx.user), Utc::now(), |w| desk::record_event(w, &e)).unwrap();
    }
    let events = fx.store.read(desk::events).unwrap();
    assert_eq!(events[0].date, "2026-12-19");
}
