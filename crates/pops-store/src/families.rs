//! Families in the database: the whole record as JSON in `family.doc`, a trigram search index over
//! every member's name, visit history from linked check-ins, consent renewal, and removal that
//! leaves a tombstone with no personal data.
//!
//! ## Search
//! `family.search_text` holds every member's name in *search form*: each word is preceded by the
//! word-start marker `\u{1}\u{1}`, hyphens count as spaces, apostrophes are dropped, and members are
//! separated by a line break. `Aisha Khan-Ali` and `Zoë O'Neil` become
//! `\u{1}\u{1}Aisha\u{1}\u{1}Khan\u{1}\u{1}Ali\n\u{1}\u{1}Zoë\u{1}\u{1}ONeil`. The FTS5 table
//! `family_search` indexes it with the trigram tokenizer (case and accents folded), one row per
//! family, so a limit of 20 rows is 20 families.
//!
//! A query goes through the same conversion, then becomes an FTS5 phrase, quoted (a `"` doubled), so
//! nothing the user types is read as query syntax. Control characters, which the names cannot
//! contain, are read as spaces, so a query cannot forge a marker.
//! - 3 or more characters: first the phrase with one marker in front (a word of a name *starts* with
//!   the query), then, to fill the list, the bare phrase (the query anywhere in a name). Words are
//!   matched in the order typed: `sha kh` finds `Aisha Khan`.
//! - 1 or 2 characters: padded with markers to one trigram, so only words starting with those
//!   letters match (`k` finds `Khan` and `Kowalski`, not `Mikhail`). A trigram index cannot do better
//!   and the desk needs nothing more; it is one index look-up, as fast as the longer queries.
//!
//! Control characters are refused in names (`pops_domain::families`), so the markers cannot appear in
//! a name itself.

use crate::db::{exec, row};
use crate::visits::rfc3339;
use crate::{Error, Result, Writer};
use chrono::NaiveDate;
use pops_domain::change::{Op, entity};
use pops_domain::families::{
    CheckedFamily, ConsentDetails, Family, FamilySummary, FamilyTombstone, RemovalReason, VisitHistory, build_family,
    renewal_horizon,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

/// Marks the start of each word in `search_text`. Two characters so that a one-letter query still
/// makes a whole trigram.
const WORD_START: &str = "\u{1}\u{1}";
/// Separates members in `search_text`: no query contains it, so no match spans two members.
const MEMBER_BREAK: char = '\n';
/// Longest query read; longer input is cut (no name is this long).
const QUERY_MAX_CHARS: usize = 100;
/// Most results one search answers.
pub const SEARCH_MAX_LIMIT: usize = 100;

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`')
}

/// The words of a name or query: split at spaces, hyphens and control characters; apostrophes dropped.
fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| c.is_whitespace() || c.is_control() || c == '-' || c == '\u{2010}' || c == '\u{2013}')
        .map(|w| w.chars().filter(|c| !is_apostrophe(*c)).collect::<String>())
        .filter(|w| !w.is_empty())
}

/// The search form of one family's names (see the module comment).
pub(crate) fn search_text(family: &Family) -> String {
    let mut out = String::new();
    for (i, m) in family.members.iter().enumerate() {
        if i > 0 {
            out.push(MEMBER_BREAK);
        }
        for w in words(&m.name) {
            out.push_str(WORD_START);
            out.push_str(&w);
        }
    }
    out
}

/// An FTS5 string: the text in double quotes, any double quote doubled. Inside a string FTS5 reads
/// nothing as syntax, so `OR`, `*`, `-`, `(`, `^` and `NEAR` are just characters.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 queries for what was typed.
#[derive(Debug, PartialEq, Eq)]
struct SearchQuery {
    /// A word of a name starts with the query.
    word_start: String,
    /// The query anywhere in a name (3 or more characters only).
    anywhere: Option<String>,
}

impl SearchQuery {
    fn new(typed: &str) -> Option<SearchQuery> {
        let typed: String = typed.chars().take(QUERY_MAX_CHARS).collect();
        let body = words(&typed).collect::<Vec<_>>().join(WORD_START);
        match body.chars().count() {
            0 => None,
            1 => Some(SearchQuery { word_start: fts_phrase(&format!("{WORD_START}{body}")), anywhere: None }),
            2 => Some(SearchQuery { word_start: fts_phrase(&format!("\u{1}{body}")), anywhere: None }),
            _ => {
                Some(SearchQuery { word_start: fts_phrase(&format!("\u{1}{body}")), anywhere: Some(fts_phrase(&body)) })
            }
        }
    }
}

fn matching(conn: &Connection, query: &str, limit: usize) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT rowid FROM family_search WHERE family_search MATCH ?1 LIMIT ?2")?;
    let rows = stmt.query_map(params![query, i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
}

/// Families with a member whose name contains `query` (case and accents ignored), at most `limit`
/// (up to `SEARCH_MAX_LIMIT`): those with a name that starts with it first. One or two characters
/// find names with a word starting with them. `today` decides each consent's status.
pub fn search_families(conn: &Connection, query: &str, today: NaiveDate, limit: usize) -> Result<Vec<FamilySummary>> {
    let limit = limit.min(SEARCH_MAX_LIMIT);
    let Some(q) = SearchQuery::new(query) else { return Ok(Vec::new()) };
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut found = matching(conn, &q.word_start, limit)?;
    if found.len() < limit
        && let Some(anywhere) = &q.anywhere
    {
        // Every word-start match is also an anywhere match: ask for enough to fill the list.
        for rid in matching(conn, anywhere, limit + found.len())? {
            if found.len() == limit {
                break;
            }
            if !found.contains(&rid) {
                found.push(rid);
            }
        }
    }
    summaries(conn, &found, today)
}

/// The summaries of the live families with these row ids, in the same order, with their visit
/// history: one statement for all of them.
fn summaries(conn: &Connection, rids: &[i64], today: NaiveDate) -> Result<Vec<FamilySummary>> {
    if rids.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "WITH hit (rid, pos) AS (SELECT value, key FROM json_each(?1))
         SELECT f.doc, v.first_visit, v.last_visit, COALESCE(v.check_ins, 0)
         FROM hit JOIN family f ON f.rid = hit.rid
         LEFT JOIN (SELECT c.family_id, min(c.arrived_at) AS first_visit, max(c.arrived_at) AS last_visit,
                           count(*) AS check_ins
                    FROM check_in c
                    WHERE c.family_id IN (SELECT f2.id FROM hit JOIN family f2 ON f2.rid = hit.rid)
                    GROUP BY c.family_id) v ON v.family_id = f.id
         WHERE f.removed_at IS NULL
         ORDER BY hit.pos",
    )?;
    let ids = serde_json::to_string(rids)?;
    let rows = stmt.query_map([ids], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::with_capacity(rids.len());
    for row in rows {
        let (doc, first_visit, last_visit, check_ins) = row?;
        let family: Family = serde_json::from_str(&doc)?;
        let check_ins = u32::try_from(check_ins).map_err(|_| Error::Malformed("check-in count".into()))?;
        out.push(family.summary(VisitHistory { first_visit, last_visit, check_ins }, today));
    }
    Ok(out)
}

/// The family with this id, unless it has been removed.
pub fn get_family(conn: &Connection, id: Uuid) -> Result<Option<Family>> {
    row(conn, "SELECT doc FROM family WHERE id = ?1 AND removed_at IS NULL", [id.to_string()], |r| {
        r.get::<_, String>(0)
    })
    .optional()?
    .map(|d| Ok(serde_json::from_str(&d)?))
    .transpose()
}

/// The family to change: `NotFound` when there is none, `Conflict` when it has been removed.
fn live_family(conn: &Connection, id: Uuid) -> Result<Family> {
    let doc: Option<(Option<String>, String)> =
        row(conn, "SELECT removed_at, doc FROM family WHERE id = ?1", [id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
    match doc {
        None => Err(Error::NotFound("family")),
        Some((Some(_), _)) => Err(Error::Conflict(
            "This family's record has been removed: to keep their details again, add them as a new family with their consent"
                .into(),
        )),
        Some((None, doc)) => Ok(serde_json::from_str(&doc)?),
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Adds a family (`family_id` is `None`) or replaces the record of one on file, with its search
/// entry. One change of the whole record and one audit entry.
pub fn save_family(w: &Writer<'_>, checked: CheckedFamily) -> Result<Family> {
    let by = w.user_id().ok_or(Error::Malformed("saving a family needs the person doing it".into()))?;
    let at = rfc3339(w.now());
    let previous = checked.family_id.map(|id| live_family(w.tx(), id)).transpose()?;
    let id = checked.family_id.unwrap_or_else(Uuid::now_v7);
    let family = build_family(checked, previous.as_ref(), id, by, &at, Uuid::now_v7).map_err(|e| {
        Error::Conflict(e.0.into_iter().next().map_or_else(|| "The family could not be saved".into(), |p| p.message))
    })?;
    let doc = serde_json::to_string(&family)?;
    let text = search_text(&family);
    if previous.is_some() {
        exec(
            w.tx(),
            "UPDATE family SET consent_expires = ?1, search_text = ?2, doc = ?3 WHERE id = ?4",
            params![family.consent.expires_on, text, doc, id.to_string()],
        )?;
    } else {
        exec(
            w.tx(),
            "INSERT INTO family (id, consent_expires, search_text, doc) VALUES (?1, ?2, ?3, ?4)",
            params![id.to_string(), family.consent.expires_on, text, doc],
        )?;
    }
    let action = if previous.is_some() { "family_updated" } else { "family_added" };
    let detail = format!(
        "members={} contact={} prisoner={} consent={}",
        family.members.len(),
        yes_no(family.contact != Default::default()),
        yes_no(family.prisoner.is_some()),
        family.consent.method.as_str()
    );
    w.record(entity::FAMILY, id, Op::Upsert, &family, action, &detail)?;
    Ok(family)
}

/// Records the family's renewed consent; it then lasts from its new date.
pub fn renew_consent(w: &Writer<'_>, id: Uuid, consent: ConsentDetails) -> Result<Family> {
    let by = w.user_id().ok_or(Error::Malformed("renewing consent needs the person doing it".into()))?;
    let at = rfc3339(w.now());
    let mut family = live_family(w.tx(), id)?;
    family.consent = consent.recorded(by, &at);
    family.updated_at = at;
    family.updated_by = by;
    exec(
        w.tx(),
        "UPDATE family SET consent_expires = ?1, doc = ?2 WHERE id = ?3",
        params![family.consent.expires_on, serde_json::to_string(&family)?, id.to_string()],
    )?;
    let detail = format!("consent={}", family.consent.method.as_str());
    w.record(entity::FAMILY, id, Op::Upsert, &family, "family_consent_renewed", &detail)?;
    Ok(family)
}

/// Removes a family's personal data (consent withdrawn, expired and not renewed, or erasure asked
/// for). The row stays as a tombstone (id, reason, when, by whom) so that the check-ins linked to
/// it stay valid; its search entry is deleted, and the lead names typed on its linked check-ins are
/// cleared (each such check-in is a change of its own). The family's change is an `erase`.
///
/// Freed bytes are overwritten with zeros rather than left in free space inside the file: SQLCipher
/// turns SQLite's `secure_delete` on for every keyed database (a store test checks it stays so), and
/// the search index has FTS5's own `secure-delete` on (see `schema.rs`).
pub fn remove_family(w: &Writer<'_>, id: Uuid, reason: RemovalReason) -> Result<FamilyTombstone> {
    let by = w.user_id().ok_or(Error::Malformed("removing a family needs the person doing it".into()))?;
    live_family(w.tx(), id)?;
    let tombstone = FamilyTombstone { id, reason, removed_at: rfc3339(w.now()), removed_by: by };
    exec(
        w.tx(),
        "UPDATE family SET consent_expires = NULL, removed_at = ?1, search_text = '', doc = ?2 WHERE id = ?3",
        params![tombstone.removed_at, serde_json::to_string(&tombstone)?, id.to_string()],
    )?;
    let named: Vec<Uuid> = {
        let mut stmt = w.tx().prepare("SELECT id FROM check_in WHERE family_id = ?1 AND lead_name IS NOT NULL")?;
        let ids = stmt.query_map([id.to_string()], |r| r.get::<_, String>(0))?;
        ids.map(|i| Uuid::parse_str(&i?).map_err(|_| Error::Malformed("a check-in id is not a UUID".into())))
            .collect::<Result<_>>()?
    };
    for check_in_id in &named {
        let mut record = crate::visits::get_check_in(w.tx(), *check_in_id)?.ok_or(Error::NotFound("check-in"))?;
        record.lead_name = None;
        exec(w.tx(), "UPDATE check_in SET lead_name = NULL WHERE id = ?1", [check_in_id.to_string()])?;
        w.record(entity::CHECK_IN, record.id, Op::Upsert, &record, "check_in_lead_name_erased", "family removed")?;
    }
    let detail = format!("reason={} check_in_names_cleared={}", reason.as_str(), named.len());
    w.record(entity::FAMILY, id, Op::Erase, &tombstone, "family_removed", &detail)?;
    Ok(tombstone)
}

/// Families whose consent has expired or expires within `RENEWAL_WARNING_DAYS` of `today`, soonest
/// first.
pub fn families_due_for_renewal(conn: &Connection, today: NaiveDate) -> Result<Vec<FamilySummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT rid FROM family WHERE consent_expires IS NOT NULL AND consent_expires <= ?1
         ORDER BY consent_expires, rid",
    )?;
    let rids =
        stmt.query_map([renewal_horizon(today)], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    summaries(conn, &rids, today)
}

/// For benchmarks only: inserts a family row and, through the triggers, its search entry, with
/// **no outbox change and no audit entry**, so that a million families load in seconds. The app
/// never calls it; every real write goes through `save_family`.
#[doc(hidden)]
pub fn insert_for_bench(conn: &Connection, family: &Family) -> Result<()> {
    exec(
        conn,
        "INSERT INTO family (id, consent_expires, search_text, doc) VALUES (?1, ?2, ?3, ?4)",
        params![family.id.to_string(), family.consent.expires_on, search_text(family), serde_json::to_string(family)?],
    )?;
    Ok(())
}

/// How often the family has come: its linked check-ins.
pub fn visit_history(conn: &Connection, family_id: Uuid) -> Result<VisitHistory> {
    let (first_visit, last_visit, check_ins): (Option<String>, Option<String>, i64) = row(
        conn,
        "SELECT min(arrived_at), max(arrived_at), count(*) FROM check_in WHERE family_id = ?1",
        [family_id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let check_ins = u32::try_from(check_ins).map_err(|_| Error::Malformed("check-in count".into()))?;
    Ok(VisitHistory { first_visit, last_visit, check_ins })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_phrases_in_search_form() {
        let q = SearchQuery::new("  Khan ").unwrap();
        assert_eq!(q.word_start, "\"\u{1}Khan\"");
        assert_eq!(q.anywhere.as_deref(), Some("\"Khan\""));
        let q = SearchQuery::new("O'Neil-Sm").unwrap();
        assert_eq!(q.anywhere.as_deref(), Some("\"ONeil\u{1}\u{1}Sm\""));
        let q = SearchQuery::new("k").unwrap();
        assert_eq!((q.word_start.as_str(), q.anywhere), ("\"\u{1}\u{1}k\"", None));
        let q = SearchQuery::new("kh").unwrap();
        assert_eq!((q.word_start.as_str(), q.anywhere), ("\"\u{1}kh\"", None));
        let q = SearchQuery::new("a\"b OR c").unwrap();
        assert_eq!(q.anywhere.as_deref(), Some("\"a\"\"b\u{1}\u{1}OR\u{1}\u{1}c\""));
        assert_eq!(SearchQuery::new(" \t\u{1}- "), None);
        let q = SearchQuery::new("ab\u{1}\u{1}c").unwrap();
        assert_eq!(q.anywhere.as_deref(), Some("\"ab\u{1}\u{1}c\""), "a control character is a space");
    }
}
