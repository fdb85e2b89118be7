//! Restoring a centre from head office onto a replacement laptop (schema 7).
//!
//! A new laptop, set up and enrolled to the same centre with a new code, rebuilds the centre's
//! records from the hub's `GET /v1/devices/{id}/changes`: the centre's acknowledged changes, in the
//! order the hub stored them, page by page. The worker (`pops-sync`) fetches the pages; this module
//! applies each page and moves the cursor in the caller's one transaction ([`apply_page`]), so a
//! restore cut off part-way carries on from the last page committed. Afterwards the laptop carries
//! on as a new device: its own outbox is sent as usual.
//!
//! **Restored changes never enter the outbox**: head office has them already. They are written to
//! the ordinary tables (and the family cards and search indexes, exactly as a normal write keeps
//! them) with no outbox row and no audit entry of their own; the restore writes one audit entry when
//! it starts and one when it finishes, with counts only.
//!
//! Each change's payload is the record's whole new state, so applying the changes in the hub's order
//! leaves the latest state of each record, and applying one again changes nothing: every write is
//! an upsert by the record's id.
//!
//! What each kind of change does here:
//! - `visits_session`, `check_in`, `session_template`, `enquiry`, `feedback`, `centre_event`,
//!   `roll_call`, `settings`: the record (or the settings' values) as the payload says. An enquiry's
//!   and feedback's desk day is the Europe/London day of `received_at`, as the app writes it.
//! - `family` upsert: the record with its card and search entries. Head office overwrites every
//!   change of an erased family with the tombstone, so an upsert may carry a tombstone: it is then
//!   applied as the erase. A family already removed here stays removed (an erase is final).
//! - `family` erase: the tombstone in place of the record (the row is made if need be, since
//!   check-ins refer to it), no card or search entries, and no lead name on its linked check-ins. A
//!   check-in linked to a removed family is restored without its lead name whatever its change says.
//! - `centre`: skipped. This laptop's set-up made its own centre row.
//! - `account`: skipped as an account. The old laptop's accounts have no key slot here, so nobody
//!   could sign in with them. Restored records still name who did what (`opened_by`,
//!   `checked_in_by`, `responded_by` …), so each person is kept as a *former account*: a disabled
//!   row (username `former-<id>`, which no typed username can be, and a PIN-sealed key of random
//!   bytes that no PIN opens) with the display name and role from the change. A record naming an
//!   account head office never sent gets a former account called "Former account".
//! - This laptop's own changes (back from the hub, recognised by `change_id`): skipped.
//! - Anything else (an entity or op this version does not know, a payload that does not read as its
//!   record, a record that does not fit here, such as a check-in whose session head office never
//!   had): skipped and counted, with its ids for the log, so the restore never stops on it. A
//!   reference to a family or template head office never had is dropped rather than the record.
//!
//! A restore starts only on a laptop that is enrolled and holds nothing of its own beyond set-up
//! (its centre, accounts, session templates and settings, and the empty sessions Today made from
//! those templates). When it finishes, if head office sent the centre's templates, this laptop's
//! set-up templates are retired and their empty sessions cancelled — ordinary changes of this
//! laptop's own records, sent to head office like any other — so no day gets its sessions twice.

use crate::centre::{Settings, write_settings};
use crate::db::{exec, row};
use crate::key::fill_random;
use crate::keyslots::{DEFAULT_KDF, WrappedKey};
use crate::visits::rfc3339;
use crate::{Error, Result, Writer, families, sync, visits};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::DateTime;
use chrono_tz::Europe::London;
use pops_domain::account::Account;
use pops_domain::change::{Change, Op, entity};
use pops_domain::desk::{CentreEvent, Enquiry, Feedback};
use pops_domain::families::{Family, FamilyTombstone};
use pops_domain::sync::ChangesPage;
use pops_domain::visits::{CheckIn, RollCall, SessionTemplate, VisitsSession};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The reason given when this laptop's empty set-up sessions make way for the restored centre's.
pub const SETUP_SESSION_REPLACED: &str = "Replaced by the centre's sessions restored from head office";

/// The display name of a former account that head office never sent.
pub const FORMER_ACCOUNT: &str = "Former account";

/// How far a restore has got, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreProgress {
    /// RFC 3339 UTC.
    pub started_at: String,
    /// The account that started it (a manager of this laptop).
    pub started_by: Uuid,
    /// The cursor into the centre's changes at the hub: every change up to here is applied.
    pub after: i64,
    /// How many changes the centre had at the hub at the last page (0 before the first page).
    pub total: i64,
    /// Changes applied to this laptop's records.
    pub applied: i64,
    /// Changes skipped (see the module comment: centre and account changes, this laptop's own
    /// changes, and changes that cannot be used here).
    pub skipped: i64,
    /// Pages applied.
    pub pages: i64,
    /// RFC 3339 UTC, once every change head office had is applied.
    pub finished_at: Option<String>,
    /// 0 to 100, for a progress bar: 100 only once finished.
    pub percent: u8,
}

impl RestoreProgress {
    pub fn finished(&self) -> bool {
        self.finished_at.is_some()
    }

    /// Changes dealt with so far, applied or skipped.
    pub fn done(&self) -> i64 {
        self.applied + self.skipped
    }

    /// 0.0 to 1.0, for a progress bar: 1.0 only once finished.
    pub fn fraction(&self) -> f64 {
        if self.finished() {
            1.0
        } else if self.total <= 0 {
            0.0
        } else {
            (self.done() as f64 / self.total as f64).clamp(0.0, 0.99)
        }
    }
}

fn percent(done: i64, total: i64, finished: bool) -> u8 {
    if finished {
        100
    } else if total <= 0 {
        0
    } else {
        u8::try_from((done.max(0).saturating_mul(100) / total).clamp(0, 99)).unwrap_or(99)
    }
}

/// Why a change was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// One of this laptop's own changes, back from head office.
    Own,
    /// The old laptop's centre row: this laptop's set-up made its own.
    Centre,
    /// An account of the old laptop: it has no key slot here (kept as a former account).
    Account,
    /// An entity or op this version does not know.
    Unknown,
    /// The payload does not read as the record it says it is.
    Unreadable,
    /// The record does not fit the records here (it refers to one head office never had).
    Conflict,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::Own => "own",
            Skip::Centre => "centre",
            Skip::Account => "account",
            Skip::Unknown => "unknown",
            Skip::Unreadable => "unreadable",
            Skip::Conflict => "conflict",
        }
    }

    /// Whether the skip is expected (not worth a line in the log).
    pub fn expected(self) -> bool {
        matches!(self, Skip::Own | Skip::Centre | Skip::Account)
    }
}

/// What one restored change did here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Skipped(Skip),
}

/// A change skipped for a reason worth logging: ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedChange {
    pub change_id: Uuid,
    pub entity_id: Uuid,
    pub reason: Skip,
}

/// What one page did here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageApplied {
    pub applied: usize,
    pub skipped: usize,
    /// The skipped changes other than the expected ones (own, centre, account).
    pub problems: Vec<SkippedChange>,
    /// This page was the last: the restore has finished.
    pub finished: bool,
    pub progress: RestoreProgress,
}

const NOT_ENROLLED: &str = "Enrol this laptop with head office first: the centre's records are restored from there.";
const BLOCKED: &str = "Head office has withdrawn this laptop's permission to send, so it cannot restore the centre \
                       either. Ask head office for a new enrolment code.";
const ALREADY: &str = "This laptop has already restored the centre's records from head office.";

/// How far the restore has got; `None` when none has started.
pub fn progress(conn: &Connection) -> Result<Option<RestoreProgress>> {
    type Row = (String, String, i64, i64, i64, i64, i64, Option<String>);
    let r: Option<Row> = row(
        conn,
        "SELECT started_at, started_by, after, total, applied, skipped, pages, finished_at
         FROM restore_state WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
    )
    .optional()?;
    r.map(|(started_at, started_by, after, total, applied, skipped, pages, finished_at)| {
        let started_by =
            Uuid::parse_str(&started_by).map_err(|_| Error::Malformed("the restore's starter is not a UUID".into()))?;
        let percent = percent(applied + skipped, total, finished_at.is_some());
        Ok(RestoreProgress { started_at, started_by, after, total, applied, skipped, pages, finished_at, percent })
    })
    .transpose()
}

/// Whether a restore is under way (started and not finished).
pub fn restoring(conn: &Connection) -> Result<bool> {
    Ok(row(conn, "SELECT EXISTS (SELECT 1 FROM restore_state WHERE finished_at IS NULL)", [], |r| r.get(0))?)
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Why this laptop's own records stop a restore, in plain words; `None` when it holds nothing
/// beyond set-up.
fn own_records(conn: &Connection) -> Result<Option<String>> {
    let counts: [i64; 7] = row(
        conn,
        "SELECT (SELECT count(*) FROM check_in), (SELECT count(*) FROM family), (SELECT count(*) FROM enquiry),
                (SELECT count(*) FROM feedback), (SELECT count(*) FROM centre_event), (SELECT count(*) FROM roll_call),
                (SELECT count(*) FROM visits_session WHERE template_id IS NULL OR cancelled_at IS NOT NULL)",
        [],
        |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?]),
    )?;
    let [check_ins, families, enquiries, feedback, events, roll_calls, sessions] = counts;
    let mut held = Vec::new();
    let mut add = |n: i64, one: &str, many: &str| {
        if n > 0 {
            held.push(plural(n, one, many));
        }
    };
    add(check_ins, "check-in", "check-ins");
    add(families, "family", "families");
    add(enquiries, "enquiry", "enquiries");
    add(feedback, "piece of feedback", "pieces of feedback");
    add(events, "event", "events");
    add(roll_calls, "roll-call", "roll-calls");
    add(sessions, "session added or cancelled by hand", "sessions added or cancelled by hand");
    if held.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "This laptop already holds records of its own ({}). The centre's records can be restored only onto a \
         laptop that has just been set up and not yet used at the desk, so that the two are never mixed. Restore \
         onto a newly set-up laptop, or carry on with this one as it is.",
        held.join(", ")
    )))
}

/// `Ok` when a restore may start (or carry on) here: enrolled, not blocked, not restored already,
/// and nothing of its own beyond set-up. Otherwise `Error::Conflict` with the reason in plain words.
pub fn check_can_start(conn: &Connection) -> Result<()> {
    if let Some(p) = progress(conn)? {
        return if p.finished() { Err(Error::Conflict(ALREADY.into())) } else { Ok(()) };
    }
    match sync::hub(conn)? {
        None => return Err(Error::Conflict(NOT_ENROLLED.into())),
        Some(hub) if hub.blocked => return Err(Error::Conflict(BLOCKED.into())),
        Some(_) => {}
    }
    match own_records(conn)? {
        Some(words) => Err(Error::Conflict(words)),
        None => Ok(()),
    }
}

/// Starts a restore (`w`'s person is who started it), or answers the one under way. Refused with
/// plain words as [`check_can_start`] says. Audited as `restore_started`.
pub fn begin(w: &Writer<'_>) -> Result<RestoreProgress> {
    check_can_start(w.tx())?;
    if let Some(p) = progress(w.tx())? {
        return Ok(p);
    }
    let by = w.user_id().ok_or(Error::Malformed("starting a restore needs the person doing it".into()))?;
    exec(
        w.tx(),
        "INSERT INTO restore_state (id, started_at, started_by) VALUES (1, ?1, ?2)",
        params![rfc3339(w.now()), by.to_string()],
    )?;
    w.audit("restore_started", None, None, "after=0")?;
    progress(w.tx())?.ok_or(Error::NotFound("restore"))
}

/// Applies one page of the centre's changes, asked for with `after`, and moves the cursor to the
/// page's `next_after`, in the caller's one transaction. The last page (`has_more` false) finishes
/// the restore (see the module comment) and is audited as `restore_finished` with its counts.
pub fn apply_page(w: &Writer<'_>, after: i64, page: &ChangesPage) -> Result<PageApplied> {
    let state = progress(w.tx())?.ok_or_else(|| Error::Conflict("No restore has been started.".into()))?;
    if state.finished() {
        return Err(Error::Conflict(ALREADY.into()));
    }
    if after != state.after {
        return Err(Error::Conflict(format!(
            "The page of the centre's changes was asked for from {after}, but this laptop has them up to {}.",
            state.after
        )));
    }
    if page.next_after < after || page.total < 0 {
        return Err(Error::Conflict(
            "Head office sent the centre's changes from an earlier point than this laptop has; nothing from that \
             page was used."
                .into(),
        ));
    }
    let mut applied = 0;
    let mut skipped = 0;
    let mut problems = Vec::new();
    for change in &page.changes {
        match apply_change(w, change)? {
            Outcome::Applied => applied += 1,
            Outcome::Skipped(reason) => {
                skipped += 1;
                if !reason.expected() {
                    problems.push(SkippedChange { change_id: change.change_id, entity_id: change.entity_id, reason });
                }
            }
        }
    }
    exec(
        w.tx(),
        "UPDATE restore_state SET after = ?1, total = ?2, applied = applied + ?3, skipped = skipped + ?4,
                pages = pages + 1
         WHERE id = 1",
        params![page.next_after, page.total, applied as i64, skipped as i64],
    )?;
    let finished = !page.has_more;
    if finished {
        finish(w)?;
    }
    let progress = progress(w.tx())?.ok_or(Error::NotFound("restore"))?;
    Ok(PageApplied { applied, skipped, problems, finished, progress })
}

/// The last page is in: this laptop's set-up templates and their empty sessions make way for the
/// centre's (when head office sent any templates), and the restore is marked finished.
fn finish(w: &Writer<'_>) -> Result<()> {
    let conn = w.tx();
    let restored_templates: i64 = row(
        conn,
        "SELECT count(*) FROM session_template t
         WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = t.id AND o.entity = 'session_template')",
        [],
        |r| r.get(0),
    )?;
    let (mut retired, mut cancelled) = (0usize, 0usize);
    if restored_templates > 0 {
        let own_sessions: Vec<Uuid> = {
            let mut stmt = conn.prepare(
                "SELECT s.id FROM visits_session s JOIN session_template t ON t.id = s.template_id
                 WHERE s.cancelled_at IS NULL
                   AND EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = t.id AND o.entity = 'session_template')
                   AND EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = s.id AND o.entity = 'visits_session')
                   AND NOT EXISTS (SELECT 1 FROM check_in c WHERE c.session_id = s.id)
                 ORDER BY s.date, s.starts_at",
            )?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
            ids.map(|i| uuid(&i?)).collect::<Result<_>>()?
        };
        for id in own_sessions {
            visits::cancel_session(w, id, SETUP_SESSION_REPLACED)?;
            cancelled += 1;
        }
        let own_templates: Vec<SessionTemplate> = {
            let mut stmt = conn.prepare(
                "SELECT t.doc FROM session_template t
                 WHERE t.retired_at IS NULL
                   AND EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = t.id AND o.entity = 'session_template')
                 ORDER BY t.weekday, t.starts_at",
            )?;
            let docs = stmt.query_map([], |r| r.get::<_, String>(0))?;
            docs.map(|d| Ok(serde_json::from_str(&d?)?)).collect::<Result<_>>()?
        };
        for mut template in own_templates {
            template.retired_at = Some(rfc3339(w.now()));
            visits::save_template(w, &template)?;
            retired += 1;
        }
    }
    exec(conn, "UPDATE restore_state SET finished_at = ?1 WHERE id = 1", [rfc3339(w.now())])?;
    let p = progress(conn)?.ok_or(Error::NotFound("restore"))?;
    w.audit(
        "restore_finished",
        None,
        None,
        &format!(
            "applied={} skipped={} total={} pages={} setup_templates_retired={retired} setup_sessions_cancelled={cancelled}",
            p.applied, p.skipped, p.total, p.pages
        ),
    )
}

/// Copies the write-ahead log into the database and empties it (`PRAGMA wal_checkpoint(TRUNCATE)`),
/// so that page images written before a restore's later changes (a lead name, say, cleared by a
/// family's erase further on) do not linger in the log. Freed bytes in the database itself are
/// zeroed as they are freed (`secure_delete`). Answers whether the log could be emptied (another
/// connection reading at that moment keeps it; the next checkpoint then does it).
pub fn checkpoint(conn: &Connection) -> Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Malformed("a restored id is not a UUID".into()))
}

fn is_constraint(e: &Error) -> bool {
    matches!(e, Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Applies one change restored from head office (another laptop's, of this centre) to the records
/// here, with no outbox row and no audit entry; see the module comment for what each kind does.
/// Applying the same change again changes nothing. A change that does not fit the records here is
/// skipped (everything it wrote is taken back), never an error; errors are the database's own.
pub fn apply_change(w: &Writer<'_>, change: &Change) -> Result<Outcome> {
    let conn = w.tx();
    let own: bool = row(
        conn,
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE entity_id = ?1 AND change_id = ?2)",
        params![change.entity_id.to_string(), change.change_id.to_string()],
        |r| r.get(0),
    )?;
    if own {
        return Ok(Outcome::Skipped(Skip::Own));
    }
    conn.execute_batch("SAVEPOINT restore_change")?;
    match apply(conn, &rfc3339(w.now()), change) {
        Ok(outcome) => {
            conn.execute_batch("RELEASE restore_change")?;
            Ok(outcome)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO restore_change; RELEASE restore_change")?;
            if is_constraint(&e) { Ok(Outcome::Skipped(Skip::Conflict)) } else { Err(e) }
        }
    }
}

/// The payload as a `T`, when it reads as one.
fn decode<T: DeserializeOwned>(change: &Change) -> Option<T> {
    serde_json::from_value(change.payload.clone()).ok()
}

/// `decode`, for records that carry their id: it must be the change's.
macro_rules! record {
    ($change:expr, $t:ty) => {
        match decode::<$t>($change) {
            Some(r) if r.id == $change.entity_id => r,
            _ => return Ok(Outcome::Skipped(Skip::Unreadable)),
        }
    };
}

fn apply(conn: &Connection, now: &str, c: &Change) -> Result<Outcome> {
    match (c.entity.as_str(), c.op) {
        (entity::CENTRE, _) => return Ok(Outcome::Skipped(Skip::Centre)),
        (entity::ACCOUNT, Op::Upsert) => {
            if let Some(account) = decode::<Account>(c).filter(|a| a.id == c.entity_id) {
                keep_former_account(conn, &account, now)?;
            }
            return Ok(Outcome::Skipped(Skip::Account));
        }
        (entity::ACCOUNT, Op::Erase) => return Ok(Outcome::Skipped(Skip::Account)),
        (entity::FAMILY, Op::Erase) => erase_family(conn, c)?,
        (_, Op::Erase) => return Ok(Outcome::Skipped(Skip::Unknown)),
        (entity::SETTINGS, Op::Upsert) => match decode::<Settings>(c) {
            Some(s) => write_settings(conn, &s)?,
            None => return Ok(Outcome::Skipped(Skip::Unreadable)),
        },
        (entity::SESSION_TEMPLATE, Op::Upsert) => put_template(conn, &record!(c, SessionTemplate))?,
        (entity::VISITS_SESSION, Op::Upsert) => put_session(conn, now, &record!(c, VisitsSession))?,
        (entity::CHECK_IN, Op::Upsert) => put_check_in(conn, now, &record!(c, CheckIn))?,
        (entity::ENQUIRY, Op::Upsert) => {
            let e = record!(c, Enquiry);
            let Some(date) = london_date(&e.received_at) else { return Ok(Outcome::Skipped(Skip::Unreadable)) };
            exec(
                conn,
                "INSERT INTO enquiry (id, received_at, date, doc) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET received_at = excluded.received_at, date = excluded.date,
                     doc = excluded.doc",
                params![e.id.to_string(), e.received_at, date, serde_json::to_string(&e)?],
            )?;
        }
        (entity::FEEDBACK, Op::Upsert) => {
            let f = record!(c, Feedback);
            let Some(date) = london_date(&f.received_at) else { return Ok(Outcome::Skipped(Skip::Unreadable)) };
            exec(
                conn,
                "INSERT INTO feedback (id, received_at, date, kind, status, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET received_at = excluded.received_at, date = excluded.date,
                     kind = excluded.kind, status = excluded.status, doc = excluded.doc",
                params![
                    f.id.to_string(),
                    f.received_at,
                    date,
                    f.kind.as_str(),
                    f.status.as_str(),
                    serde_json::to_string(&f)?
                ],
            )?;
        }
        (entity::CENTRE_EVENT, Op::Upsert) => {
            let e = record!(c, CentreEvent);
            exec(
                conn,
                "INSERT INTO centre_event (id, date, kind, doc) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET date = excluded.date, kind = excluded.kind, doc = excluded.doc",
                params![e.id.to_string(), e.date, e.kind.as_str(), serde_json::to_string(&e)?],
            )?;
        }
        (entity::ROLL_CALL, Op::Upsert) => {
            let r = record!(c, RollCall);
            exec(
                conn,
                "INSERT INTO roll_call (id, started_at, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, doc = excluded.doc",
                params![r.id.to_string(), r.started_at, serde_json::to_string(&r)?],
            )?;
        }
        (entity::FAMILY, Op::Upsert) => match (decode::<Family>(c), decode::<FamilyTombstone>(c)) {
            (Some(f), _) if f.id == c.entity_id => {
                families::restore_family(conn, &f)?;
            }
            // Head office overwrote it with the tombstone of a later erase.
            (_, Some(t)) if t.id == c.entity_id => erase_family(conn, c)?,
            _ => return Ok(Outcome::Skipped(Skip::Unreadable)),
        },
        _ => return Ok(Outcome::Skipped(Skip::Unknown)),
    }
    Ok(Outcome::Applied)
}

/// The Europe/London day of an RFC 3339 time, `YYYY-MM-DD`.
fn london_date(t: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&London).format("%Y-%m-%d").to_string())
}

/// The username of a former account: longer than any username the app lets anyone type, so it is
/// never taken by a real account and never typed at sign-in.
fn former_username(id: Uuid) -> String {
    format!("former-{}", id.simple())
}

/// A PIN-sealed key of random bytes: no PIN opens it (the seal's tag cannot match).
fn unopenable_key() -> Result<String> {
    let (mut salt, mut nonce, mut sealed) = ([0u8; 16], [0u8; 24], [0u8; 48]);
    fill_random(&mut salt);
    fill_random(&mut nonce);
    fill_random(&mut sealed);
    Ok(serde_json::to_string(&WrappedKey {
        kdf: DEFAULT_KDF,
        salt: B64.encode(salt),
        nonce: B64.encode(nonce),
        sealed: B64.encode(sealed),
    })?)
}

/// The old laptop's account, as a former account here (see the module comment). Never touches a
/// real account of this laptop.
fn keep_former_account(conn: &Connection, a: &Account, now: &str) -> Result<()> {
    exec(
        conn,
        "INSERT INTO account (id, username, display_name, role, active, created_at, disabled_at, pin_key)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, role = excluded.role
         WHERE account.username = excluded.username",
        params![
            a.id.to_string(),
            former_username(a.id),
            a.display_name,
            a.role.as_str(),
            a.created_at,
            now,
            unopenable_key()?
        ],
    )?;
    Ok(())
}

/// A former account for `id` unless there is an account with it already.
fn ensure_account(conn: &Connection, id: Uuid, now: &str) -> Result<()> {
    let known: bool = row(conn, "SELECT EXISTS (SELECT 1 FROM account WHERE id = ?1)", [id.to_string()], |r| r.get(0))?;
    if !known {
        exec(
            conn,
            "INSERT INTO account (id, username, display_name, role, active, created_at, disabled_at, pin_key)
             VALUES (?1, ?2, ?3, 'volunteer', 0, ?4, ?4, ?5)",
            params![id.to_string(), former_username(id), FORMER_ACCOUNT, now, unopenable_key()?],
        )?;
    }
    Ok(())
}

fn put_template(conn: &Connection, t: &SessionTemplate) -> Result<()> {
    exec(
        conn,
        "INSERT INTO session_template (id, weekday, starts_at, retired_at, doc) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET weekday = excluded.weekday, starts_at = excluded.starts_at,
             retired_at = excluded.retired_at, doc = excluded.doc",
        params![t.id.to_string(), t.weekday, t.starts_at, t.retired_at, serde_json::to_string(t)?],
    )?;
    Ok(())
}

fn put_session(conn: &Connection, now: &str, s: &VisitsSession) -> Result<()> {
    ensure_account(conn, s.opened_by, now)?;
    if let Some(by) = s.cancelled_by {
        ensure_account(conn, by, now)?;
    }
    // The template, if this laptop has it and no other session of that day came from it.
    let template = match s.template_id {
        Some(t) => {
            let usable: bool = row(
                conn,
                "SELECT EXISTS (SELECT 1 FROM session_template WHERE id = ?1)
                        AND NOT EXISTS (SELECT 1 FROM visits_session WHERE date = ?2 AND template_id = ?1 AND id != ?3)",
                params![t.to_string(), s.date, s.id.to_string()],
                |r| r.get(0),
            )?;
            usable.then_some(t)
        }
        None => None,
    };
    exec(
        conn,
        "INSERT INTO visits_session (id, date, name, starts_at, ends_at, kind, template_id, opened_at, opened_by,
                                     cancelled_at, cancelled_by, cancel_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET date = excluded.date, name = excluded.name, starts_at = excluded.starts_at,
             ends_at = excluded.ends_at, kind = excluded.kind, template_id = excluded.template_id,
             opened_at = excluded.opened_at, opened_by = excluded.opened_by, cancelled_at = excluded.cancelled_at,
             cancelled_by = excluded.cancelled_by, cancel_reason = excluded.cancel_reason",
        params![
            s.id.to_string(),
            s.date,
            s.name,
            s.starts_at,
            s.ends_at,
            s.kind.as_str(),
            template.map(|t| t.to_string()),
            s.opened_at,
            s.opened_by.to_string(),
            s.cancelled_at,
            s.cancelled_by.map(|b| b.to_string()),
            s.cancel_reason,
        ],
    )?;
    Ok(())
}

fn put_check_in(conn: &Connection, now: &str, c: &CheckIn) -> Result<()> {
    ensure_account(conn, c.checked_in_by, now)?;
    if let Some(by) = c.checked_out_by {
        ensure_account(conn, by, now)?;
    }
    let mut lead_name = c.lead_name.as_deref();
    let family_id = match c.family_id {
        Some(f) => {
            let removed: Option<bool> =
                row(conn, "SELECT removed_at IS NOT NULL FROM family WHERE id = ?1", [f.to_string()], |r| r.get(0))
                    .optional()?;
            match removed {
                // Head office never had the family: the check-in stands without the link.
                None => None,
                // The family was removed: its lead names are erased, whatever this change says.
                Some(true) => {
                    lead_name = None;
                    Some(f)
                }
                Some(false) => Some(f),
            }
        }
        None => None,
    };
    let b = &c.children;
    exec(
        conn,
        "INSERT INTO check_in (id, session_id, adults, age_0_1, age_2, age_3_4, age_5_11, age_12_17, first_time,
                               lead_name, arrived_at, left_at, checked_in_by, checked_out_by, needs, help, outcome,
                               welfare_offered, walkthrough, family_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
         ON CONFLICT (id) DO UPDATE SET session_id = excluded.session_id, adults = excluded.adults,
             age_0_1 = excluded.age_0_1, age_2 = excluded.age_2, age_3_4 = excluded.age_3_4,
             age_5_11 = excluded.age_5_11, age_12_17 = excluded.age_12_17, first_time = excluded.first_time,
             lead_name = excluded.lead_name, arrived_at = excluded.arrived_at, left_at = excluded.left_at,
             checked_in_by = excluded.checked_in_by, checked_out_by = excluded.checked_out_by,
             needs = excluded.needs, help = excluded.help, outcome = excluded.outcome,
             welfare_offered = excluded.welfare_offered, walkthrough = excluded.walkthrough,
             family_id = excluded.family_id",
        params![
            c.id.to_string(),
            c.session_id.to_string(),
            c.adults,
            b.age_0_1,
            b.age_2,
            b.age_3_4,
            b.age_5_11,
            b.age_12_17,
            c.first_time,
            lead_name,
            c.arrived_at,
            c.left_at,
            c.checked_in_by.to_string(),
            c.checked_out_by.map(|u| u.to_string()),
            serde_json::to_string(&c.needs)?,
            serde_json::to_string(&c.help)?,
            c.outcome.map(|o| o.as_str()),
            c.welfare_offered,
            serde_json::to_string(&c.walkthrough)?,
            family_id.map(|f| f.to_string()),
        ],
    )?;
    Ok(())
}

/// A family's erase (or an upsert head office overwrote with its tombstone): the tombstone in place
/// of the record. A payload that is not a readable tombstone still erases: the row then keeps only
/// the id and when.
fn erase_family(conn: &Connection, c: &Change) -> Result<()> {
    let (removed_at, doc) = match decode::<FamilyTombstone>(c) {
        Some(t) if t.id == c.entity_id => (t.removed_at.clone(), serde_json::to_string(&t)?),
        _ => (c.occurred_at.clone(), serde_json::json!({"id": c.entity_id, "removed_at": c.occurred_at}).to_string()),
    };
    families::restore_removal(conn, c.entity_id, &removed_at, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_never_shows_done_before_it_is() {
        assert_eq!(percent(0, 0, false), 0);
        assert_eq!(percent(5, 10, false), 50);
        assert_eq!(percent(10, 10, false), 99, "every change in, but not finished yet");
        assert_eq!(percent(12, 10, false), 99, "a total that grew after it was counted");
        assert_eq!(percent(0, 0, true), 100);
        assert_eq!(percent(i64::MAX, 1, false), 99, "no overflow");
    }

    #[test]
    fn a_former_username_is_longer_than_anyone_can_type() {
        let name = former_username(Uuid::now_v7());
        assert!(name.chars().count() > pops_domain::account::USERNAME_MAX_CHARS, "{name}");
        assert_eq!(london_date("2026-07-01T23:30:00.000Z").as_deref(), Some("2026-07-02"));
        assert_eq!(london_date("2026-12-01T23:30:00.000Z").as_deref(), Some("2026-12-01"));
        assert_eq!(london_date("yesterday"), None);
    }
}
