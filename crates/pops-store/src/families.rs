//! Families in the database: the whole record as JSON in `family.doc`, a small `family_card` per
//! live family for search results and renewal lists (names, consent expiry, visit history), two
//! FTS5 indexes over every member's name, consent renewal, and removal that leaves a tombstone
//! with no personal data.
//!
//! ## Search
//! `family_card.search_text` holds every member's name in *search form*: hyphens count as spaces,
//! apostrophes are dropped, words are separated by one space, and members by the private-use
//! character U+E000 between spaces. `Aisha Khan-Ali` and `Zoë O'Neil` become
//! `Aisha Khan Ali \u{E000} Zoë ONeil`. No query contains U+E000, so no match spans two members
//! (for the trigram index it is just a character; for unicode61 it is a word of its own).
//!
//! A query goes through the same conversion (control characters, which names cannot contain, count
//! as spaces) and becomes FTS5 strings, quoted with any `"` doubled, so nothing typed is read as
//! query syntax (`OR`, `*`, `-`, `(`, `^`, `NEAR`, `col:` are just characters):
//! - `family_search` (trigram: any piece of 3 or more characters, case and accents folded) is asked
//!   for one more match than the list holds: `"sha kh"`;
//! - if that is all there are, they are ranked in Rust (a word of a name starts with the query
//!   first), with no second look-up: this is the case of the rare pieces, whose look-up is the slow
//!   one, so it is kept to one index;
//! - if there are more, `family_word` (unicode61, case and accents folded, prefix indexes for 1 to 8
//!   characters) gives those with a word *starting* with the query (`"sha kh" *`, only for queries of
//!   letters, digits and spaces, which is what unicode61 indexes), in one index look-up however many
//!   or few there are, and the trigram matches fill the rest of the list.
//!
//! Words match in the order typed (`sha kh` finds `Aisha Khan`, `khan aisha` does not). One or
//! two characters find only names with a word starting with them (`k` finds `Khan` and `Kowalski`,
//! not `Mikhail`): a trigram index cannot look up fewer than 3 characters, and the desk needs nothing
//! more. Results come in the index's order (oldest family first) within each of the two groups.
//!
//! Each result's summary comes from its card, read in the same statement as the match: no record is
//! parsed.

use crate::db::{exec, row};
use crate::visits::rfc3339;
use crate::{Error, Result, Writer};
use chrono::NaiveDate;
use pops_domain::change::{Op, entity};
use pops_domain::families::{
    CheckedFamily, ConsentDetails, Family, FamilySummary, FamilyTombstone, RemovalReason, VisitHistory, build_family,
    consent_status, renewal_horizon,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

/// Separates members in `search_text`.
const MEMBER_BREAK: char = '\u{E000}';
/// Longest query read; longer input is cut (no name is this long).
const QUERY_MAX_CHARS: usize = 100;
/// Most results one search answers.
pub const SEARCH_MAX_LIMIT: usize = 100;

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`')
}

fn is_word_break(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '-' | '\u{2010}' | '\u{2013}' | MEMBER_BREAK)
}

/// The words of a name or a query, apostrophes dropped, joined by single spaces.
fn search_form(s: &str) -> String {
    let words = s.split(is_word_break).map(|w| w.chars().filter(|c| !is_apostrophe(*c)).collect::<String>());
    words.filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The search form of one family's names (see the module comment).
fn search_text(family: &Family) -> String {
    let members: Vec<String> = family.members.iter().map(|m| search_form(&m.name)).collect();
    members.join(&format!(" {MEMBER_BREAK} "))
}

/// An FTS5 string: the text in double quotes, any double quote doubled. Inside a string FTS5 reads
/// nothing as syntax.
fn fts_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 queries for what was typed.
#[derive(Debug, PartialEq, Eq)]
struct SearchQuery {
    /// For `family_word`: a word of a name starts with the query.
    word_start: Option<String>,
    /// For `family_search`: the query anywhere in a name (3 or more characters).
    anywhere: Option<String>,
}

impl SearchQuery {
    fn new(typed: &str) -> Option<SearchQuery> {
        let typed: String = typed.chars().take(QUERY_MAX_CHARS).collect();
        let body = search_form(&typed);
        let q = SearchQuery {
            word_start: body
                .chars()
                .all(|c| c == ' ' || c.is_alphanumeric())
                .then(|| format!("{} *", fts_string(&body))),
            anywhere: (body.chars().count() >= 3).then(|| fts_string(&body)),
        };
        (!body.is_empty() && (q.word_start.is_some() || q.anywhere.is_some())).then_some(q)
    }
}

/// The columns of a card that make a summary, read with the match that found it (`rid` first).
macro_rules! card_columns {
    () => {
        "c.rid, c.id, c.names, c.consent_expires, c.first_visit, c.last_visit, c.check_ins"
    };
}

const ANYWHERE: &str = concat!(
    "SELECT ",
    card_columns!(),
    " FROM family_search s JOIN family_card c ON c.rid = s.rowid WHERE family_search MATCH ?1 LIMIT ?2"
);
const WORD_START: &str = concat!(
    "SELECT ",
    card_columns!(),
    " FROM family_word w JOIN family_card c ON c.rid = w.rowid WHERE family_word MATCH ?1 LIMIT ?2"
);

/// A card as read, before its id and dates are parsed (only the cards that make the list are).
struct CardRow {
    rid: i64,
    id: String,
    names: String,
    consent_expires: String,
    first_visit: Option<String>,
    last_visit: Option<String>,
    check_ins: i64,
}

fn card_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CardRow> {
    Ok(CardRow {
        rid: r.get(0)?,
        id: r.get(1)?,
        names: r.get(2)?,
        consent_expires: r.get(3)?,
        first_visit: r.get(4)?,
        last_visit: r.get(5)?,
        check_ins: r.get(6)?,
    })
}

/// The cards that match, in the index's order; `sql` is `ANYWHERE` or `WORD_START`.
fn cards(conn: &Connection, sql: &str, query: &str, limit: usize) -> Result<Vec<CardRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![query, i64::try_from(limit).unwrap_or(i64::MAX)], card_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// `YYYY-MM-DD`, as the cards hold it.
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|d| d.parse::<u32>().ok());
    NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
}

impl CardRow {
    fn summary(self, today: NaiveDate) -> Result<FamilySummary> {
        let expiry =
            iso_date(&self.consent_expires).ok_or_else(|| Error::Malformed("a family card's consent expiry".into()))?;
        Ok(FamilySummary {
            id: Uuid::parse_str(&self.id).map_err(|_| Error::Malformed("a family id is not a UUID".into()))?,
            names: self.names.split('\n').map(String::from).collect(),
            visits: VisitHistory {
                first_visit: self.first_visit,
                last_visit: self.last_visit,
                check_ins: u32::try_from(self.check_ins).map_err(|_| Error::Malformed("check-in count".into()))?,
            },
            consent_status: consent_status(expiry, today),
            consent_expires_on: self.consent_expires,
            sync_state: None,
        })
    }
}

fn summaries(rows: Vec<CardRow>, today: NaiveDate) -> Result<Vec<FamilySummary>> {
    rows.into_iter().map(|c| c.summary(today)).collect()
}

/// Families with a member whose name contains `query` (case and accents ignored), at most `limit`
/// (up to `SEARCH_MAX_LIMIT`): those with a name that has a word starting with it first. One or two
/// characters find names with a word starting with them. `today` decides each consent's status.
pub fn search_families(conn: &Connection, query: &str, today: NaiveDate, limit: usize) -> Result<Vec<FamilySummary>> {
    let limit = limit.min(SEARCH_MAX_LIMIT);
    let Some(q) = SearchQuery::new(query) else { return Ok(Vec::new()) };
    if limit == 0 {
        return Ok(Vec::new());
    }
    let word_start = |n: usize| match &q.word_start {
        Some(w) => cards(conn, WORD_START, w, n),
        None => Ok(Vec::new()),
    };
    let Some(anywhere) = &q.anywhere else {
        return summaries(word_start(limit)?, today);
    };
    let mut all = cards(conn, ANYWHERE, anywhere, limit + 1)?;
    if all.len() <= limit {
        // Every match is here: those with a word starting with the query first, without asking the
        // second index.
        let typed = fold(&search_form(query));
        all.sort_by_key(|c| !c.names.split('\n').any(|n| starts_a_word(&fold(&search_form(n)), &typed)));
        return summaries(all, today);
    }
    // More than a list of matches: those with a word starting with the query first, then the rest
    // (`all` holds one more than the list, so it always fills it).
    let mut first = word_start(limit)?;
    all.retain(|c| !first.iter().any(|f| f.rid == c.rid));
    first.extend(all);
    first.truncate(limit);
    summaries(first, today)
}

/// Whether `text` has a word (after a space, or at the start) that starts with `typed`.
fn starts_a_word(text: &str, typed: &str) -> bool {
    text.match_indices(typed).any(|(i, _)| i == 0 || text[..i].ends_with(' '))
}

/// Letters with a diacritic and the letter they fold to, as the search indexes fold them.
const FOLDS: &[(&str, char)] = &[
    ("àáâãäåāăą", 'a'),
    ("çćĉċč", 'c'),
    ("ďđ", 'd'),
    ("èéêëēĕėęě", 'e'),
    ("ĝğġģ", 'g'),
    ("ĥħ", 'h'),
    ("ìíîïĩīĭįı", 'i'),
    ("ĵ", 'j'),
    ("ķ", 'k'),
    ("ĺļľŀł", 'l'),
    ("ñńņňŉ", 'n'),
    ("òóôõöøōŏő", 'o'),
    ("ŕŗř", 'r'),
    ("śŝşšș", 's'),
    ("ţťŧț", 't'),
    ("ùúûüũūŭůűų", 'u'),
    ("ŵ", 'w'),
    ("ýÿŷ", 'y'),
    ("źżž", 'z'),
];

/// Lower case, without the diacritics of Latin letters (also when typed as combining marks). Only
/// for ordering matches already found, so a letter it does not know merely ranks a little lower.
fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(
            |c| if c.is_ascii() { c } else { FOLDS.iter().find(|(from, _)| from.contains(c)).map_or(c, |(_, to)| *to) },
        )
        .collect()
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

/// Writes the card of a live family (its names, consent and search text; the visit history is
/// left as the triggers keep it).
fn put_card(conn: &Connection, rid: i64, family: &Family) -> Result<()> {
    let names: Vec<&str> = family.members.iter().map(|m| m.name.as_str()).collect();
    exec(
        conn,
        "INSERT INTO family_card (rid, id, names, search_text, consent_expires, first_visit, last_visit, check_ins)
         SELECT ?1, ?2, ?3, ?4, ?5, min(arrived_at), max(arrived_at), count(*) FROM check_in WHERE family_id = ?2
         ON CONFLICT (rid) DO UPDATE SET names = excluded.names, search_text = excluded.search_text,
             consent_expires = excluded.consent_expires",
        params![rid, family.id.to_string(), names.join("\n"), search_text(family), family.consent.expires_on],
    )?;
    Ok(())
}

/// Adds a family (`family_id` is `None`) or replaces the record of one on file, with its card and
/// search entries. One change of the whole record and one audit entry.
pub fn save_family(w: &Writer<'_>, checked: CheckedFamily) -> Result<Family> {
    let by = w.user_id().ok_or(Error::Malformed("saving a family needs the person doing it".into()))?;
    let at = rfc3339(w.now());
    let previous = checked.family_id.map(|id| live_family(w.tx(), id)).transpose()?;
    let id = checked.family_id.unwrap_or_else(Uuid::now_v7);
    let family = build_family(checked, previous.as_ref(), id, by, &at, Uuid::now_v7).map_err(|e| {
        Error::Conflict(e.0.into_iter().next().map_or_else(|| "The family could not be saved".into(), |p| p.message))
    })?;
    let rid = write_record(w.tx(), &family)?;
    put_card(w.tx(), rid, &family)?;
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

/// Inserts or replaces a live family's `doc`; answers its row id.
fn write_record(conn: &Connection, family: &Family) -> Result<i64> {
    Ok(row(
        conn,
        "INSERT INTO family (id, removed_at, doc) VALUES (?1, NULL, ?2)
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc
         RETURNING rid",
        params![family.id.to_string(), serde_json::to_string(family)?],
        |r| r.get(0),
    )?)
}

/// Records the family's renewed consent; it then lasts from its new date.
pub fn renew_consent(w: &Writer<'_>, id: Uuid, consent: ConsentDetails) -> Result<Family> {
    let by = w.user_id().ok_or(Error::Malformed("renewing consent needs the person doing it".into()))?;
    let at = rfc3339(w.now());
    let mut family = live_family(w.tx(), id)?;
    family.consent = consent.recorded(by, &at);
    family.updated_at = at;
    family.updated_by = by;
    let rid = write_record(w.tx(), &family)?;
    put_card(w.tx(), rid, &family)?;
    let detail = format!("consent={}", family.consent.method.as_str());
    w.record(entity::FAMILY, id, Op::Upsert, &family, "family_consent_renewed", &detail)?;
    Ok(family)
}

/// Removes a family's personal data (consent withdrawn, expired and not renewed, or erasure asked
/// for). The row stays as a tombstone (id, reason, when, by whom) so that the check-ins linked to
/// it stay valid; its card and search entries are deleted, and the lead names typed on its linked
/// check-ins are cleared (each such check-in is a change of its own). The family's change is an
/// `erase`.
///
/// Freed bytes are overwritten with zeros rather than left in free space inside the file: SQLCipher
/// turns SQLite's `secure_delete` on for every keyed database (a store test checks it stays so), and
/// the search indexes have FTS5's own `secure-delete` on (see `schema.rs`).
pub fn remove_family(w: &Writer<'_>, id: Uuid, reason: RemovalReason) -> Result<FamilyTombstone> {
    let by = w.user_id().ok_or(Error::Malformed("removing a family needs the person doing it".into()))?;
    live_family(w.tx(), id)?;
    let tombstone = FamilyTombstone { id, reason, removed_at: rfc3339(w.now()), removed_by: by };
    exec(w.tx(), "DELETE FROM family_card WHERE id = ?1", [id.to_string()])?;
    exec(
        w.tx(),
        "UPDATE family SET removed_at = ?1, doc = ?2 WHERE id = ?3",
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
    // No earlier change on this laptop still holds what was removed.
    crate::outbox::scrub_history(w.tx(), entity::FAMILY, id)?;
    for check_in_id in &named {
        crate::outbox::scrub_history(w.tx(), entity::CHECK_IN, *check_in_id)?;
    }
    Ok(tombstone)
}

/// Restore (`restore.rs`): the family's whole record as another laptop of the centre last saved it,
/// with its card and search entries kept exactly as [`save_family`] keeps them, but no outbox change
/// or audit entry (head office has the change already). A family removed here stays removed: an
/// erase is final. Answers whether the record was written.
pub(crate) fn restore_family(conn: &Connection, family: &Family) -> Result<bool> {
    let removed: Option<bool> =
        row(conn, "SELECT removed_at IS NOT NULL FROM family WHERE id = ?1", [family.id.to_string()], |r| r.get(0))
            .optional()?;
    if removed == Some(true) {
        return Ok(false);
    }
    let rid = write_record(conn, family)?;
    put_card(conn, rid, family)?;
    Ok(true)
}

/// Restore (`restore.rs`): the family as [`remove_family`] leaves it — the tombstone in place of the
/// record (the row is made if this laptop never had the family), no card and so no search entries,
/// and no lead name on its linked check-ins — with no outbox change or audit entry. `doc` is the
/// tombstone's JSON.
pub(crate) fn restore_removal(conn: &Connection, id: Uuid, removed_at: &str, doc: &str) -> Result<()> {
    exec(conn, "DELETE FROM family_card WHERE id = ?1", [id.to_string()])?;
    exec(
        conn,
        "INSERT INTO family (id, removed_at, doc) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET removed_at = excluded.removed_at, doc = excluded.doc",
        params![id.to_string(), removed_at, doc],
    )?;
    exec(
        conn,
        "UPDATE check_in SET lead_name = NULL WHERE family_id = ?1 AND lead_name IS NOT NULL",
        [id.to_string()],
    )?;
    Ok(())
}

/// Families whose consent has expired or expires within `RENEWAL_WARNING_DAYS` of `today`, soonest
/// first.
pub fn families_due_for_renewal(conn: &Connection, today: NaiveDate) -> Result<Vec<FamilySummary>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        card_columns!(),
        " FROM family_card c WHERE c.consent_expires <= ?1 ORDER BY c.consent_expires, c.rid"
    ))?;
    let rows = stmt.query_map([renewal_horizon(today)], card_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    summaries(rows, today)
}

/// Every live family, by name (for the manager's export).
pub fn all_families(conn: &Connection, today: NaiveDate) -> Result<Vec<FamilySummary>> {
    let mut stmt = conn.prepare(concat!("SELECT ", card_columns!(), " FROM family_card c ORDER BY c.names, c.rid"))?;
    let rows = stmt.query_map([], card_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    summaries(rows, today)
}

/// How often the family has come: its linked check-ins, as the triggers keep them on its card.
/// A removed family has no card and no history.
pub fn visit_history(conn: &Connection, family_id: Uuid) -> Result<VisitHistory> {
    let found: Option<(Option<String>, Option<String>, i64)> = row(
        conn,
        "SELECT c.first_visit, c.last_visit, c.check_ins FROM family f JOIN family_card c ON c.rid = f.rid
         WHERE f.id = ?1",
        [family_id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()?;
    let Some((first_visit, last_visit, check_ins)) = found else { return Ok(VisitHistory::default()) };
    let check_ins = u32::try_from(check_ins).map_err(|_| Error::Malformed("check-in count".into()))?;
    Ok(VisitHistory { first_visit, last_visit, check_ins })
}

/// For benchmarks only: loads families fast, with **no outbox change and no audit entry**. The app
/// never calls it; every real write goes through `save_family`. Each family's row is written at
/// once and its card is staged; `bulk_finish_for_bench` then writes every card in one statement.
/// Row by row, each card insert would be a statement of its own, and FTS5 writes its pending index
/// data to disk at every statement's savepoint: a tiny segment per family, merged over and over.
#[doc(hidden)]
pub fn bulk_insert_for_bench(conn: &Connection, family: &Family) -> Result<()> {
    exec(
        conn,
        "CREATE TEMP TABLE IF NOT EXISTS card_load (rid INTEGER PRIMARY KEY, id TEXT, names TEXT, search_text TEXT,
                                                     consent_expires TEXT)",
        [],
    )?;
    let rid = write_record(conn, family)?;
    let names: Vec<&str> = family.members.iter().map(|m| m.name.as_str()).collect();
    exec(
        conn,
        "INSERT INTO temp.card_load VALUES (?1, ?2, ?3, ?4, ?5)",
        params![rid, family.id.to_string(), names.join("\n"), search_text(family), family.consent.expires_on],
    )?;
    Ok(())
}

/// For benchmarks only: writes the cards staged by `bulk_insert_for_bench`, with their visit
/// history from the check-ins already linked.
#[doc(hidden)]
pub fn bulk_finish_for_bench(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "INSERT INTO family_card (rid, id, names, search_text, consent_expires, first_visit, last_visit, check_ins)
         SELECT l.rid, l.id, l.names, l.search_text, l.consent_expires, v.first_visit, v.last_visit,
                COALESCE(v.check_ins, 0)
         FROM temp.card_load l
         LEFT JOIN (SELECT family_id, min(arrived_at) AS first_visit, max(arrived_at) AS last_visit,
                           count(*) AS check_ins
                    FROM check_in WHERE family_id IS NOT NULL GROUP BY family_id) v ON v.family_id = l.id
         ORDER BY l.rid;
         DROP TABLE temp.card_load;",
    )?;
    Ok(())
}

/// For benchmarks only: the trigram FTS5 string for `query` (the query anywhere in a name), to time
/// against `search_families` as a bare `MATCH`.
#[doc(hidden)]
pub fn phrase_for_bench(query: &str) -> Option<String> {
    SearchQuery::new(query).and_then(|q| q.anywhere)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_quoted_strings_in_search_form() {
        let q = SearchQuery::new("  Khan ").unwrap();
        assert_eq!(q.word_start.as_deref(), Some("\"Khan\" *"));
        assert_eq!(q.anywhere.as_deref(), Some("\"Khan\""));
        let q = SearchQuery::new("O'Neil-Sm").unwrap();
        assert_eq!(q.anywhere.as_deref(), Some("\"ONeil Sm\""));
        let q = SearchQuery::new("k").unwrap();
        assert_eq!((q.word_start.as_deref(), q.anywhere), (Some("\"k\" *"), None));
        let q = SearchQuery::new("a\"b OR c").unwrap();
        assert_eq!((q.word_start, q.anywhere.as_deref()), (None, Some("\"a\"\"b OR c\"")));
        assert_eq!(SearchQuery::new(" \t\u{1}- "), None);
        assert_eq!(SearchQuery::new("*"), None, "one symbol: neither index can look it up");
        let q = SearchQuery::new("ab\u{1}\u{E000}c").unwrap();
        assert_eq!(q.anywhere.as_deref(), Some("\"ab c\""), "control and private-use characters are spaces");
    }

    #[test]
    fn ranking_folds_case_and_accents_and_looks_at_word_starts() {
        assert_eq!(fold("JOSÉ Łukasz Wiśniewski"), "jose lukasz wisniewski");
        assert_eq!(fold("Jose\u{301}"), "jose", "a combining accent");
        assert!(starts_a_word("aisha khan", "kha"));
        assert!(starts_a_word("aisha khan", "aisha k"));
        assert!(!starts_a_word("mikhail nowak", "kha"));
        assert!(starts_a_word("ali khan ali", "ali"));
        assert!(!starts_a_word("natalia", "ali"));
    }
}
