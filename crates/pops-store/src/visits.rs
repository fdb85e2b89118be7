//! Visits sessions and check-ins in the database.

use crate::db::{exec, row};
use crate::{Error, Result, Writer};
use chrono::{DateTime, SecondsFormat, Utc};
use pops_domain::change::{Op, entity};
use pops_domain::desk::EnquiryRow;
use pops_domain::visits::CheckInRow as ListedCheckIn;
use pops_domain::visits::{
    AgeBands, CheckIn, PartyArrival, RollCall, SessionSummary, SessionTemplate, SessionTimes, TodayView, VisitCounts,
    VisitKind, VisitOutcome, VisitsSession,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Malformed("a visits id is not a UUID".into()))
}

const SESSION_COLUMNS: &str = "id, date, name, starts_at, ends_at, kind, template_id, opened_at, opened_by, cancelled_at, cancelled_by, cancel_reason";

type SessionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn session_row(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

fn session_decode(
    (
        id,
        date,
        name,
        starts_at,
        ends_at,
        kind,
        template_id,
        opened_at,
        opened_by,
        cancelled_at,
        cancelled_by,
        cancel_reason,
    ): SessionRow,
) -> Result<VisitsSession> {
    Ok(VisitsSession {
        id: uuid(&id)?,
        date,
        name,
        starts_at,
        ends_at,
        kind: VisitKind::parse(&kind).ok_or_else(|| Error::Malformed("session kind".into()))?,
        template_id: template_id.as_deref().map(uuid).transpose()?,
        opened_at,
        opened_by: uuid(&opened_by)?,
        cancelled_at,
        cancelled_by: cancelled_by.as_deref().map(uuid).transpose()?,
        cancel_reason,
    })
}

fn insert_session(w: &Writer<'_>, session: &VisitsSession) -> Result<()> {
    exec(
        w.tx(),
        &format!(
            "INSERT INTO visits_session ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL)"
        ),
        params![
            session.id.to_string(),
            session.date,
            session.name,
            session.starts_at,
            session.ends_at,
            session.kind.as_str(),
            session.template_id.map(|t| t.to_string()),
            session.opened_at,
            session.opened_by.to_string(),
        ],
    )?;
    w.record(
        entity::VISITS_SESSION,
        session.id,
        Op::Upsert,
        session,
        "visits_session_opened",
        &format!("template={}", session.template_id.is_some()),
    )?;
    Ok(())
}

fn new_session(w: &Writer<'_>, date: &str, times: &SessionTimes, template_id: Option<Uuid>) -> Result<VisitsSession> {
    Ok(VisitsSession {
        id: Uuid::now_v7(),
        date: date.into(),
        name: times.name.clone(),
        starts_at: times.starts_at.clone(),
        ends_at: times.ends_at.clone(),
        kind: times.kind,
        template_id,
        opened_at: rfc3339(w.now()),
        opened_by: w.user_id().ok_or(Error::Malformed("a session needs the person opening it".into()))?,
        cancelled_at: None,
        cancelled_by: None,
        cancel_reason: None,
    })
}

/// Adds a session to `date` (a Europe/London day, `YYYY-MM-DD`) by hand.
pub fn add_session(w: &Writer<'_>, date: &str, times: &SessionTimes) -> Result<VisitsSession> {
    let clash: bool = row(
        w.tx(),
        "SELECT EXISTS (SELECT 1 FROM visits_session
                        WHERE date = ?1 AND starts_at = ?2 AND name = ?3 AND cancelled_at IS NULL)",
        params![date, times.starts_at, times.name],
        |r| r.get(0),
    )?;
    if clash {
        return Err(Error::Conflict(format!("There is already a {} session at {} today", times.name, times.starts_at)));
    }
    let session = new_session(w, date, times, None)?;
    insert_session(w, &session)?;
    Ok(session)
}

/// Creates the sessions of `date` from the templates of its weekday that have none yet that day.
/// Answers how many it created (0 when the day already has them all).
pub fn sessions_from_templates(w: &Writer<'_>, date: &str, weekday: u8) -> Result<usize> {
    let missing = missing_template_sessions(w.tx(), date, weekday)?;
    for t in &missing {
        let times = SessionTimes {
            name: t.name.clone(),
            starts_at: t.starts_at.clone(),
            ends_at: t.ends_at.clone(),
            kind: t.kind,
        };
        let session = new_session(w, date, &times, Some(t.id))?;
        insert_session(w, &session)?;
    }
    Ok(missing.len())
}

/// The live templates of `weekday` that have no session on `date` yet. While a restore from head
/// office is under way (`restore.rs`), only this laptop's own templates count: the restored ones
/// take over when it finishes, so a day never gets a session from a restored template here and then
/// the same one again from head office.
pub fn missing_template_sessions(conn: &Connection, date: &str, weekday: u8) -> Result<Vec<SessionTemplate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.doc FROM session_template t
         WHERE t.weekday = ?1 AND t.retired_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM visits_session s WHERE s.date = ?2 AND s.template_id = t.id)
           AND (NOT EXISTS (SELECT 1 FROM restore_state WHERE finished_at IS NULL)
                OR EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = t.id AND o.entity = 'session_template'))
         ORDER BY t.starts_at",
    )?;
    let docs = stmt.query_map(params![weekday, date], |r| r.get::<_, String>(0))?;
    docs.map(|d| Ok(serde_json::from_str(&d?)?)).collect()
}

pub fn cancel_session(w: &Writer<'_>, id: Uuid, reason: &str) -> Result<VisitsSession> {
    let mut session = session(w.tx(), id)?.ok_or(Error::NotFound("visits session"))?;
    if session.cancelled_at.is_some() {
        return Err(Error::Conflict("This session has already been cancelled".into()));
    }
    let on_site: i64 = row(
        w.tx(),
        "SELECT count(*) FROM check_in WHERE session_id = ?1 AND left_at IS NULL",
        [id.to_string()],
        |r| r.get(0),
    )?;
    if on_site > 0 {
        return Err(Error::Conflict(format!(
            "{on_site} {} of this session {} still on site: check {} out first, with the outcome Cancelled by the prison",
            if on_site == 1 { "party" } else { "parties" },
            if on_site == 1 { "is" } else { "are" },
            if on_site == 1 { "it" } else { "them" },
        )));
    }
    let by = w.user_id().ok_or(Error::Malformed("cancelling needs a person".into()))?;
    session.cancelled_at = Some(rfc3339(w.now()));
    session.cancelled_by = Some(by);
    session.cancel_reason = Some(reason.into());
    exec(
        w.tx(),
        "UPDATE visits_session SET cancelled_at = ?1, cancelled_by = ?2, cancel_reason = ?3 WHERE id = ?4",
        params![session.cancelled_at, by.to_string(), reason, id.to_string()],
    )?;
    w.record(entity::VISITS_SESSION, id, Op::Upsert, &session, "visits_session_cancelled", "")?;
    Ok(session)
}

pub fn session(conn: &Connection, id: Uuid) -> Result<Option<VisitsSession>> {
    row(conn, &format!("SELECT {SESSION_COLUMNS} FROM visits_session WHERE id = ?1"), [id.to_string()], session_row)
        .optional()?
        .map(session_decode)
        .transpose()
}

/// Every template, live ones first, by weekday and start.
pub fn templates(conn: &Connection) -> Result<Vec<SessionTemplate>> {
    let mut stmt =
        conn.prepare("SELECT doc FROM session_template ORDER BY retired_at IS NOT NULL, weekday, starts_at")?;
    let docs = stmt.query_map([], |r| r.get::<_, String>(0))?;
    docs.map(|d| Ok(serde_json::from_str(&d?)?)).collect()
}

pub fn template(conn: &Connection, id: Uuid) -> Result<Option<SessionTemplate>> {
    row(conn, "SELECT doc FROM session_template WHERE id = ?1", [id.to_string()], |r| r.get::<_, String>(0))
        .optional()?
        .map(|d| Ok(serde_json::from_str(&d)?))
        .transpose()
}

/// Adds or replaces a template (the whole record).
pub fn save_template(w: &Writer<'_>, t: &SessionTemplate) -> Result<()> {
    exec(
        w.tx(),
        "INSERT INTO session_template (id, weekday, starts_at, retired_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET weekday = excluded.weekday, starts_at = excluded.starts_at,
             retired_at = excluded.retired_at, doc = excluded.doc",
        params![t.id.to_string(), t.weekday, t.starts_at, t.retired_at, serde_json::to_string(t)?],
    )?;
    let action = if t.retired_at.is_some() { "session_template_retired" } else { "session_template_saved" };
    w.record(entity::SESSION_TEMPLATE, t.id, Op::Upsert, t, action, &format!("weekday={}", t.weekday))?;
    Ok(())
}

const CHECK_IN_COLUMNS: &str = "id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time, lead_name, arrived_at, left_at, checked_in_by, checked_out_by, needs, help, outcome, welfare_offered, walkthrough, family_id";

/// A check-in row as read, before its ids and JSON columns are parsed.
struct CheckInRow {
    id: String,
    session_id: String,
    adults: i32,
    children: AgeBands,
    first_time: bool,
    lead_name: Option<String>,
    arrived_at: String,
    left_at: Option<String>,
    checked_in_by: String,
    checked_out_by: Option<String>,
    needs: String,
    help: String,
    outcome: Option<String>,
    welfare_offered: Option<bool>,
    walkthrough: String,
    family_id: Option<String>,
}

fn check_in_from_row(r: &Row<'_>) -> rusqlite::Result<CheckInRow> {
    check_in_from_row_at(r, 0)
}

/// Reads the check-in columns starting at column `at`.
fn check_in_from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<CheckInRow> {
    Ok(CheckInRow {
        id: r.get(at)?,
        session_id: r.get(at + 1)?,
        adults: r.get(at + 2)?,
        children: AgeBands {
            age_0_1: r.get(at + 3)?,
            age_2: r.get(at + 4)?,
            age_3_4: r.get(at + 5)?,
            age_5_11: r.get(at + 6)?,
            age_12_17: r.get(at + 7)?,
        },
        first_time: r.get(at + 8)?,
        lead_name: r.get(at + 9)?,
        arrived_at: r.get(at + 10)?,
        left_at: r.get(at + 11)?,
        checked_in_by: r.get(at + 12)?,
        checked_out_by: r.get(at + 13)?,
        needs: r.get(at + 14)?,
        help: r.get(at + 15)?,
        outcome: r.get(at + 16)?,
        welfare_offered: r.get(at + 17)?,
        walkthrough: r.get(at + 18)?,
        family_id: r.get(at + 19)?,
    })
}

fn check_in_decode(r: CheckInRow) -> Result<CheckIn> {
    Ok(CheckIn {
        id: uuid(&r.id)?,
        session_id: uuid(&r.session_id)?,
        adults: r.adults,
        children: r.children,
        first_time: r.first_time,
        lead_name: r.lead_name,
        arrived_at: r.arrived_at,
        left_at: r.left_at,
        checked_in_by: uuid(&r.checked_in_by)?,
        checked_out_by: r.checked_out_by.as_deref().map(uuid).transpose()?,
        needs: serde_json::from_str(&r.needs)?,
        help: serde_json::from_str(&r.help)?,
        outcome: r
            .outcome
            .map(|o| VisitOutcome::parse(&o).ok_or_else(|| Error::Malformed("visit outcome".into())))
            .transpose()?,
        welfare_offered: r.welfare_offered,
        walkthrough: serde_json::from_str(&r.walkthrough)?,
        family_id: r.family_id.as_deref().map(uuid).transpose()?,
    })
}

pub fn check_in(w: &Writer<'_>, party: &PartyArrival) -> Result<CheckIn> {
    let Some(session) = session(w.tx(), party.session_id)? else {
        return Err(Error::NotFound("visits session"));
    };
    if session.cancelled_at.is_some() {
        return Err(Error::Conflict(format!(
            "The {} session has been cancelled: choose another session",
            session.name
        )));
    }
    if let Some(family_id) = party.family_id {
        family_is_live(w.tx(), family_id)?;
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
        needs: party.needs.clone(),
        help: party.help.clone(),
        outcome: None,
        welfare_offered: None,
        walkthrough: Vec::new(),
        family_id: party.family_id,
    };
    let c = &record.children;
    exec(
        w.tx(),
        &format!(
            "INSERT INTO check_in ({CHECK_IN_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, NULL, ?13, ?14, NULL, NULL, '[]', ?15)"
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
            serde_json::to_string(&record.needs)?,
            serde_json::to_string(&record.help)?,
            record.family_id.map(|f| f.to_string()),
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

/// Writes the parts of a check-in that change after arrival, and records the change.
fn update_check_in(w: &Writer<'_>, record: &CheckIn, action: &str, detail: &str) -> Result<()> {
    exec(
        w.tx(),
        "UPDATE check_in SET left_at = ?1, checked_out_by = ?2, outcome = ?3, welfare_offered = ?4, walkthrough = ?5
         WHERE id = ?6",
        params![
            record.left_at,
            record.checked_out_by.map(|u| u.to_string()),
            record.outcome.map(|o| o.as_str()),
            record.welfare_offered,
            serde_json::to_string(&record.walkthrough)?,
            record.id.to_string(),
        ],
    )?;
    w.record(entity::CHECK_IN, record.id, Op::Upsert, record, action, detail)?;
    Ok(())
}

pub fn check_out(w: &Writer<'_>, id: Uuid) -> Result<CheckIn> {
    let mut record = get_check_in(w.tx(), id)?.ok_or(Error::NotFound("check-in"))?;
    if record.left_at.is_some() {
        return Err(Error::Conflict("This party has already been checked out".into()));
    }
    record.left_at = Some(rfc3339(w.now()));
    record.checked_out_by = Some(w.user_id().ok_or(Error::Malformed("a check-out needs a person".into()))?);
    update_check_in(w, &record, "party_checked_out", "")?;
    Ok(record)
}

/// Records how the party's visit ended (and, after a refusal, whether welfare support was offered).
pub fn record_outcome(
    w: &Writer<'_>,
    id: Uuid,
    outcome: VisitOutcome,
    welfare_offered: Option<bool>,
) -> Result<CheckIn> {
    let mut record = get_check_in(w.tx(), id)?.ok_or(Error::NotFound("check-in"))?;
    record.outcome = Some(outcome);
    record.welfare_offered = welfare_offered;
    let detail = format!(
        "outcome={} welfare_offered={}",
        outcome.as_str(),
        welfare_offered.map_or("-", |w| if w { "yes" } else { "no" })
    );
    update_check_in(w, &record, "visit_outcome_recorded", &detail)?;
    Ok(record)
}

/// Replaces the walkthrough ticks of a first-time party.
pub fn set_walkthrough(w: &Writer<'_>, id: Uuid, ticked: Vec<Uuid>) -> Result<CheckIn> {
    let mut record = get_check_in(w.tx(), id)?.ok_or(Error::NotFound("check-in"))?;
    if !record.first_time {
        return Err(Error::Conflict("The walkthrough is for first-time visitors: this party has been before".into()));
    }
    record.walkthrough = ticked;
    let detail = format!("ticked={}", record.walkthrough.len());
    update_check_in(w, &record, "walkthrough_ticked", &detail)?;
    Ok(record)
}

/// `Ok` when the family is on record and not removed.
fn family_is_live(conn: &Connection, family_id: Uuid) -> Result<()> {
    let live: Option<bool> =
        row(conn, "SELECT removed_at IS NULL FROM family WHERE id = ?1", [family_id.to_string()], |r| r.get(0))
            .optional()?;
    match live {
        None => Err(Error::NotFound("family")),
        Some(false) => Err(Error::Conflict("This family's record has been removed: it cannot be linked".into())),
        Some(true) => Ok(()),
    }
}

/// Links a check-in to the family on record that the party is (or unlinks it, with `None`): the
/// family's visit history counts it from then on (the triggers of schema 5 keep the family's card
/// in step). A removed family cannot be linked.
pub fn link_family(w: &Writer<'_>, check_in_id: Uuid, family_id: Option<Uuid>) -> Result<CheckIn> {
    let mut record = get_check_in(w.tx(), check_in_id)?.ok_or(Error::NotFound("check-in"))?;
    if let Some(family_id) = family_id {
        family_is_live(w.tx(), family_id)?;
    }
    record.family_id = family_id;
    exec(
        w.tx(),
        "UPDATE check_in SET family_id = ?1 WHERE id = ?2",
        params![family_id.map(|f| f.to_string()), check_in_id.to_string()],
    )?;
    let detail = if family_id.is_some() { "linked" } else { "unlinked" };
    w.record(entity::CHECK_IN, record.id, Op::Upsert, &record, "check_in_family_linked", detail)?;
    Ok(record)
}

/// Everything the Today screen shows for the Europe/London day `date`.
pub fn day(conn: &Connection, date: &str) -> Result<TodayView> {
    let mut stmt = conn
        .prepare(&format!("SELECT {SESSION_COLUMNS} FROM visits_session WHERE date = ?1 ORDER BY starts_at, name"))?;
    let sessions = stmt
        .query_map([date], session_row)?
        .map(|r| r.map_err(Error::from).and_then(session_decode))
        .collect::<Result<Vec<_>>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM check_in c JOIN visits_session s ON s.id = c.session_id WHERE s.date = ?1 ORDER BY c.arrived_at DESC, c.id DESC",
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
    // Where each record has got to on its way to head office: one look-up per list.
    let ids: Vec<Uuid> = check_ins.iter().map(|c| c.id).collect();
    let states = crate::sync::record_states(conn, entity::CHECK_IN, &ids)?;
    let row = |record: CheckIn| ListedCheckIn { sync_state: states.get(&record.id).copied(), record };
    let (on_site, mut left): (Vec<ListedCheckIn>, Vec<ListedCheckIn>) =
        check_ins.into_iter().map(row).partition(|c| c.record.left_at.is_none());
    left.sort_by(|a, b| b.record.left_at.cmp(&a.record.left_at));
    let enquiries = crate::desk::enquiries_on(conn, date)?;
    let ids: Vec<Uuid> = enquiries.iter().map(|e| e.id).collect();
    let states = crate::sync::record_states(conn, entity::ENQUIRY, &ids)?;
    let enquiries = enquiries
        .into_iter()
        .map(|record| EnquiryRow { sync_state: states.get(&record.id).copied(), record })
        .collect();
    Ok(TodayView {
        date: date.into(),
        sessions: summaries,
        on_site,
        left,
        counts,
        enquiries,
        feedback_received: i32::try_from(crate::desk::feedback_on(conn, date)?).unwrap_or(i32::MAX),
        walkthrough: crate::centre::settings(conn)?.walkthrough,
        roll_call: active_roll_call(conn)?,
    })
}

fn put_roll_call(w: &Writer<'_>, r: &RollCall, insert: bool, action: &str) -> Result<()> {
    let doc = serde_json::to_string(r)?;
    if insert {
        exec(
            w.tx(),
            "INSERT INTO roll_call (id, started_at, doc) VALUES (?1, ?2, ?3)",
            params![r.id.to_string(), r.started_at, doc],
        )?;
    } else {
        exec(w.tx(), "UPDATE roll_call SET doc = ?1 WHERE id = ?2", params![doc, r.id.to_string()])?;
    }
    let detail = format!("parties={} accounted={}", r.parties.len(), r.accounted.len());
    w.record(entity::ROLL_CALL, r.id, Op::Upsert, r, action, &detail)?;
    Ok(())
}

/// The roll-call not yet finished, if there is one.
pub fn active_roll_call(conn: &Connection) -> Result<Option<RollCall>> {
    let mut stmt = conn.prepare_cached("SELECT doc FROM roll_call ORDER BY started_at DESC LIMIT 5")?;
    let docs = stmt.query_map([], |r| r.get::<_, String>(0))?;
    for d in docs {
        let r: RollCall = serde_json::from_str(&d?)?;
        if r.finished_at.is_none() {
            return Ok(Some(r));
        }
    }
    Ok(None)
}

pub fn get_roll_call(conn: &Connection, id: Uuid) -> Result<Option<RollCall>> {
    row(conn, "SELECT doc FROM roll_call WHERE id = ?1", [id.to_string()], |r| r.get::<_, String>(0))
        .optional()?
        .map(|d| Ok(serde_json::from_str(&d)?))
        .transpose()
}

/// Starts a roll-call of the parties on site on `date` (or answers the one already running).
pub fn start_roll_call(w: &Writer<'_>, date: &str) -> Result<RollCall> {
    if let Some(r) = active_roll_call(w.tx())? {
        return Ok(r);
    }
    let mut stmt = w.tx().prepare_cached(
        "SELECT c.id FROM check_in c JOIN visits_session s ON s.id = c.session_id
         WHERE s.date = ?1 AND c.left_at IS NULL ORDER BY c.arrived_at",
    )?;
    let ids = stmt.query_map([date], |r| r.get::<_, String>(0))?;
    let parties = ids.map(|i| uuid(&i?)).collect::<Result<Vec<_>>>()?;
    let r = RollCall {
        id: Uuid::now_v7(),
        started_at: rfc3339(w.now()),
        started_by: w.user_id().ok_or(Error::Malformed("a roll-call needs a person".into()))?,
        finished_at: None,
        parties,
        accounted: Vec::new(),
    };
    put_roll_call(w, &r, true, "roll_call_started")?;
    Ok(r)
}

/// Ticks a party as accounted for (or takes the tick back).
pub fn mark_roll_call(w: &Writer<'_>, id: Uuid, check_in_id: Uuid, accounted: bool) -> Result<RollCall> {
    let mut r = get_roll_call(w.tx(), id)?.ok_or(Error::NotFound("roll-call"))?;
    if r.finished_at.is_some() {
        return Err(Error::Conflict("This roll-call has finished: start a new one".into()));
    }
    if !r.parties.contains(&check_in_id) {
        return Err(Error::NotFound("party in this roll-call"));
    }
    r.accounted.retain(|p| *p != check_in_id);
    if accounted {
        r.accounted.push(check_in_id);
    }
    put_roll_call(w, &r, false, "roll_call_marked")?;
    Ok(r)
}

pub fn finish_roll_call(w: &Writer<'_>, id: Uuid) -> Result<RollCall> {
    let mut r = get_roll_call(w.tx(), id)?.ok_or(Error::NotFound("roll-call"))?;
    if r.finished_at.is_some() {
        return Err(Error::Conflict("This roll-call has already finished".into()));
    }
    r.finished_at = Some(rfc3339(w.now()));
    put_roll_call(w, &r, false, "roll_call_finished")?;
    Ok(r)
}

/// Every check-in with its session's date and name, newest first (for export).
pub fn all_check_ins(conn: &Connection) -> Result<Vec<(String, String, CheckIn)>> {
    let cols = CHECK_IN_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT s.date, s.name, {cols} FROM check_in c JOIN visits_session s ON s.id = c.session_id
         ORDER BY c.arrived_at DESC"
    ))?;
    let rows = stmt.query_map([], |r| {
        let date: String = r.get(0)?;
        let name: String = r.get(1)?;
        Ok((date, name, check_in_from_row_at(r, 2)?))
    })?;
    rows.map(|r| {
        let (d, n, c) = r?;
        Ok((d, n, check_in_decode(c)?))
    })
    .collect()
}
