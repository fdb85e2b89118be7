//! Enquiries, feedback and events in the database. Each keeps its whole record as JSON in `doc`,
//! beside the columns the lists sort and filter on.

use crate::db::{exec, row};
use crate::{Error, Result, Writer};
use pops_domain::change::{Op, entity};
use pops_domain::desk::{CentreEvent, Enquiry, Feedback, FeedbackStatus};
use rusqlite::{Connection, OptionalExtension, params};
use serde::de::DeserializeOwned;
use uuid::Uuid;

fn docs<T: DeserializeOwned>(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| r.get::<_, String>(0))?;
    rows.map(|d| Ok(serde_json::from_str(&d?)?)).collect()
}

/// Adds an enquiry received on `date` (Europe/London).
pub fn log_enquiry(w: &Writer<'_>, date: &str, e: &Enquiry) -> Result<()> {
    exec(
        w.tx(),
        "INSERT INTO enquiry (id, received_at, date, doc) VALUES (?1, ?2, ?3, ?4)",
        params![e.id.to_string(), e.received_at, date, serde_json::to_string(e)?],
    )?;
    let detail = format!("topic={} resolution={}", e.topic.as_str(), e.resolution.as_str());
    w.record(entity::ENQUIRY, e.id, Op::Upsert, e, "enquiry_logged", &detail)?;
    Ok(())
}

/// Enquiries received on `date`, newest first.
pub fn enquiries_on(conn: &Connection, date: &str) -> Result<Vec<Enquiry>> {
    docs(conn, "SELECT doc FROM enquiry WHERE date = ?1 ORDER BY received_at DESC", [date])
}

/// Every enquiry, newest first (for export).
pub fn all_enquiries(conn: &Connection) -> Result<Vec<Enquiry>> {
    docs(conn, "SELECT doc FROM enquiry ORDER BY received_at DESC", [])
}

fn put_feedback(w: &Writer<'_>, date: Option<&str>, f: &Feedback, action: &str) -> Result<()> {
    let doc = serde_json::to_string(f)?;
    match date {
        Some(date) => exec(
            w.tx(),
            "INSERT INTO feedback (id, received_at, date, kind, status, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![f.id.to_string(), f.received_at, date, f.kind.as_str(), f.status.as_str(), doc],
        )?,
        None => exec(
            w.tx(),
            "UPDATE feedback SET status = ?1, doc = ?2 WHERE id = ?3",
            params![f.status.as_str(), doc, f.id.to_string()],
        )?,
    };
    let detail = format!("kind={} status={}", f.kind.as_str(), f.status.as_str());
    w.record(entity::FEEDBACK, f.id, Op::Upsert, f, action, &detail)?;
    Ok(())
}

/// Adds feedback received on `date` (Europe/London).
pub fn log_feedback(w: &Writer<'_>, date: &str, f: &Feedback) -> Result<()> {
    put_feedback(w, Some(date), f, "feedback_logged")
}

pub fn get_feedback(conn: &Connection, id: Uuid) -> Result<Option<Feedback>> {
    row(conn, "SELECT doc FROM feedback WHERE id = ?1", [id.to_string()], |r| r.get::<_, String>(0))
        .optional()?
        .map(|d| Ok(serde_json::from_str(&d)?))
        .transpose()
}

/// Records the response given. Feedback that is closed cannot be answered again.
pub fn respond_to_feedback(w: &Writer<'_>, id: Uuid, response: &str) -> Result<Feedback> {
    let mut f = get_feedback(w.tx(), id)?.ok_or(Error::NotFound("feedback"))?;
    if f.status == FeedbackStatus::Closed {
        return Err(Error::Conflict("This feedback is closed: it cannot be answered again".into()));
    }
    f.response = Some(response.into());
    f.responded_by = w.user_id();
    f.responded_at = Some(crate::visits::rfc3339(w.now()));
    f.status = FeedbackStatus::Responded;
    put_feedback(w, None, &f, "feedback_responded")?;
    Ok(f)
}

/// Closes feedback. A complaint must have had a response first.
pub fn close_feedback(w: &Writer<'_>, id: Uuid) -> Result<Feedback> {
    let mut f = get_feedback(w.tx(), id)?.ok_or(Error::NotFound("feedback"))?;
    match f.status {
        FeedbackStatus::Closed => return Err(Error::Conflict("This feedback is already closed".into())),
        FeedbackStatus::Open if f.kind == pops_domain::desk::FeedbackKind::Complaint => {
            return Err(Error::Conflict("Record the response to this complaint before closing it".into()));
        }
        _ => {}
    }
    f.status = FeedbackStatus::Closed;
    f.closed_by = w.user_id();
    f.closed_at = Some(crate::visits::rfc3339(w.now()));
    put_feedback(w, None, &f, "feedback_closed")?;
    Ok(f)
}

/// Feedback not yet closed (oldest first), then the 100 most recently received closed ones.
pub fn feedback_list(conn: &Connection) -> Result<Vec<Feedback>> {
    let mut out: Vec<Feedback> =
        docs(conn, "SELECT doc FROM feedback WHERE status != 'closed' ORDER BY received_at", [])?;
    out.extend(docs::<Feedback>(
        conn,
        "SELECT doc FROM feedback WHERE status = 'closed' ORDER BY received_at DESC LIMIT 100",
        [],
    )?);
    Ok(out)
}

pub fn all_feedback(conn: &Connection) -> Result<Vec<Feedback>> {
    docs(conn, "SELECT doc FROM feedback ORDER BY received_at DESC", [])
}

pub fn feedback_on(conn: &Connection, date: &str) -> Result<i64> {
    Ok(row(conn, "SELECT count(*) FROM feedback WHERE date = ?1", [date], |r| r.get(0))?)
}

pub fn record_event(w: &Writer<'_>, e: &CentreEvent) -> Result<()> {
    exec(
        w.tx(),
        "INSERT INTO centre_event (id, date, kind, doc) VALUES (?1, ?2, ?3, ?4)",
        params![e.id.to_string(), e.date, e.kind.as_str(), serde_json::to_string(e)?],
    )?;
    let detail = format!("kind={} adults={} children={}", e.kind.as_str(), e.adults, e.children.total());
    w.record(entity::CENTRE_EVENT, e.id, Op::Upsert, e, "event_recorded", &detail)?;
    Ok(())
}

/// Events, newest date first.
pub fn events(conn: &Connection) -> Result<Vec<CentreEvent>> {
    docs(conn, "SELECT doc FROM centre_event ORDER BY date DESC, id DESC", [])
}
