//! Visits sessions and check-ins in the database.

use crate::db::{exec, row};
use crate::{Error, Result, Writer};
use chrono::{DateTime, SecondsFormat, Utc};
use pops_domain::change::{Op, entity};
use pops_domain::visits::{
    AgeBands, CheckIn, PartyArrival, SessionSummary, Slot, TodayView, VisitCounts, VisitsSession,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Malformed("a visits id is not a UUID".into()))
}

type SessionRow = (String, String, String, String, String);

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn session_decode((id, date, slot, opened_at, opened_by): SessionRow) -> Result<VisitsSession> {
    Ok(VisitsSession {
        id: uuid(&id)?,
        date,
        slot: Slot::parse(&slot).ok_or_else(|| Error::Malformed("session slot".into()))?,
        opened_at,
        opened_by: uuid(&opened_by)?,
    })
}

/// Opens the `slot` session of `date` (a Europe/London day, `YYYY-MM-DD`).
pub fn open_session(w: &Writer<'_>, date: &str, slot: Slot) -> Result<VisitsSession> {
    let exists: bool = row(
        w.tx(),
        "SELECT EXISTS (SELECT 1 FROM visits_session WHERE date = ?1 AND slot = ?2)",
        params![date, slot.as_str()],
        |r| r.get(0),
    )?;
    if exists {
        return Err(Error::Conflict(format!("Today's {} session is already open", slot.as_str())));
    }
    let session = VisitsSession {
        id: Uuid::now_v7(),
        date: date.into(),
        slot,
        opened_at: rfc3339(w.now()),
        opened_by: w.user_id().ok_or(Error::Malformed("opening a session needs a person".into()))?,
    };
    exec(
        w.tx(),
        "INSERT INTO visits_session (id, date, slot, opened_at, opened_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![session.id.to_string(), session.date, slot.as_str(), session.opened_at, session.opened_by.to_string()],
    )?;
    w.record(
        entity::VISITS_SESSION,
        session.id,
        Op::Upsert,
        &session,
        "visits_session_opened",
        &format!("slot={}", slot.as_str()),
    )?;
    Ok(session)
}

pub fn session(conn: &Connection, id: Uuid) -> Result<Option<VisitsSession>> {
    row(
        conn,
        "SELECT id, date, slot, opened_at, opened_by FROM visits_session WHERE id = ?1",
        [id.to_string()],
        session_row,
    )
    .optional()?
    .map(session_decode)
    .transpose()
}

const CHECK_IN_COLUMNS: &str = "id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time, lead_name, arrived_at, left_at, checked_in_by, checked_out_by";

fn check_in_from_row(r: &Row<'_>) -> rusqlite::Result<(CheckInIds, CheckInRest)> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(12)?, r.get(13)?),
        (
            r.get(2)?,
            AgeBands {
                age_0_1: r.get(3)?,
                age_2: r.get(4)?,
                age_3_4: r.get(5)?,
                age_5_11: r.get(6)?,
                age_12_17: r.get(7)?,
            },
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
        ),
    ))
}

type CheckInIds = (String, String, String, Option<String>);
type CheckInRest = (i32, AgeBands, bool, Option<String>, String, Option<String>);

fn check_in_decode(
    ((id, session_id, by, out_by), (adults, children, first_time, lead_name, arrived_at, left_at)): (
        CheckInIds,
        CheckInRest,
    ),
) -> Result<CheckIn> {
    Ok(CheckIn {
        id: uuid(&id)?,
        session_id: uuid(&session_id)?,
        adults,
        children,
        first_time,
        lead_name,
        arrived_at,
        left_at,
        checked_in_by: uuid(&by)?,
        checked_out_by: out_by.as_deref().map(uuid).transpose()?,
    })
}

pub fn check_in(w: &Writer<'_>, party: &PartyArrival) -> Result<CheckIn> {
    if session(w.tx(), party.session_id)?.is_none() {
        return Err(Error::NotFound("visits session"));
    }
    let record = CheckIn {
        id: Uuid::now_v7(),
        session_id: party.session_id,
        adults: party.adults,
        children: party.children,
        first_time: party.first_time,
        lead_name: party.lead_name.clone(),
        arrived_at: rfc3339(w.now()),
        left_at: None,
        checked_in_by: w.user_id().ok_or(Error::Malformed("a check-in needs a person".into()))?,
        checked_out_by: None,
    };
    let c = &record.children;
    exec(
        w.tx(),
        &format!(
            "INSERT INTO check_in ({CHECK_IN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, NULL)"
        ),
        params![
            record.id.to_string(),
            record.session_id.to_string(),
            record.adults,
            c.age_0_1,
            c.age_2,
            c.age_3_4,
            c.age_5_11,
            c.age_12_17,
            record.first_time,
            record.lead_name,
            record.arrived_at,
            record.checked_in_by.to_string(),
        ],
    )?;
    let detail = format!("adults={} children={} first_time={}", record.adults, c.total(), record.first_time);
    w.record(entity::CHECK_IN, record.id, Op::Upsert, &record, "party_checked_in", &detail)?;
    Ok(record)
}

pub fn get_check_in(conn: &Connection, id: Uuid) -> Result<Option<CheckIn>> {
    row(conn, &format!("SELECT {CHECK_IN_COLUMNS} FROM check_in WHERE id = ?1"), [id.to_string()], check_in_from_row)
        .optional()?
        .map(check_in_decode)
        .transpose()
}

pub fn check_out(w: &Writer<'_>, id: Uuid) -> Result<CheckIn> {
    let mut record = get_check_in(w.tx(), id)?.ok_or(Error::NotFound("check-in"))?;
    if record.left_at.is_some() {
        return Err(Error::Conflict("This party has already been checked out".into()));
    }
    let now = rfc3339(w.now());
    let by = w.user_id().ok_or(Error::Malformed("a check-out needs a person".into()))?;
    exec(
        w.tx(),
        "UPDATE check_in SET left_at = ?1, checked_out_by = ?2 WHERE id = ?3",
        params![now, by.to_string(), id.to_string()],
    )?;
    record.left_at = Some(now);
    record.checked_out_by = Some(by);
    w.record(entity::CHECK_IN, id, Op::Upsert, &record, "party_checked_out", "")?;
    Ok(record)
}

/// Everything the Today screen shows for the Europe/London day `date`.
pub fn day(conn: &Connection, date: &str) -> Result<TodayView> {
    let mut stmt = conn.prepare(
        "SELECT id, date, slot, opened_at, opened_by FROM visits_session WHERE date = ?1 ORDER BY opened_at DESC",
    )?;
    let sessions = stmt
        .query_map([date], session_row)?
        .map(|r| r.map_err(Error::from).and_then(session_decode))
        .collect::<Result<Vec<_>>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM check_in c JOIN visits_session s ON s.id = c.session_id WHERE s.date = ?1 ORDER BY c.arrived_at DESC",
        CHECK_IN_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
    ))?;
    let check_ins = stmt
        .query_map([date], check_in_from_row)?
        .map(|r| r.map_err(Error::from).and_then(check_in_decode))
        .collect::<Result<Vec<_>>>()?;
    let mut counts = VisitCounts::default();
    let mut summaries: Vec<SessionSummary> =
        sessions.into_iter().map(|session| SessionSummary { session, counts: VisitCounts::default() }).collect();
    for c in &check_ins {
        counts.add(c);
        if let Some(s) = summaries.iter_mut().find(|s| s.session.id == c.session_id) {
            s.counts.add(c);
        }
    }
    let (on_site, mut left): (Vec<CheckIn>, Vec<CheckIn>) = check_ins.into_iter().partition(|c| c.left_at.is_none());
    left.sort_by(|a, b| b.left_at.cmp(&a.left_at));
    Ok(TodayView { date: date.into(), sessions: summaries, on_site, left, counts })
}
