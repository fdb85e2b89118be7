//! The database schema: the full current SQL for a new database, and the steps that bring an older
//! database up to date, one version at a time. The version lives in `PRAGMA user_version`.

use crate::{Error, Result};
use rusqlite::Transaction;

/// The schema version this build writes.
pub const VERSION: i64 = 9;

/// Tables every version has had: the centre, settings, accounts, the outbox and the audit log.
const FOUNDATION: &str = r#"
CREATE TABLE centre (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    prison      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE setting (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;

CREATE TABLE account (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('volunteer', 'early_years', 'coordinator', 'manager')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    disabled_at   TEXT,
    pin_key       TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Every change to a record, in order, waiting for (or acknowledged by) head office.
-- `change_id` is a fresh UUIDv7 per change; it carries no index, to keep each write small.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    change_id       TEXT NOT NULL,
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    op              TEXT NOT NULL CHECK (op IN ('upsert', 'erase')),
    occurred_at     TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    schema_version  INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    -- The audit entry written with this change, and its hash: the chain's anchor, so that audit
    -- entries cut from the end of the log are found (see audit::verify).
    audit_id        INTEGER NOT NULL,
    audit_hash      TEXT NOT NULL,
    acked_at        TEXT
) STRICT;

CREATE TRIGGER outbox_change_is_fixed BEFORE UPDATE OF
    seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload, audit_id, audit_hash
    ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox changes cannot be edited');
END;

CREATE TRIGGER outbox_keeps_unsent BEFORE DELETE ON outbox WHEN OLD.acked_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'unsent outbox changes cannot be deleted');
END;

-- Who did what, when, to which record. Append-only and hash-chained.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    user_id    TEXT,
    action     TEXT NOT NULL,
    entity     TEXT,
    entity_id  TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
"#;

/// Version 2: visits sessions and check-ins.
const VISITS: &str = r#"
CREATE TABLE visits_session (
    id          TEXT PRIMARY KEY,
    date        TEXT NOT NULL,
    slot        TEXT NOT NULL CHECK (slot IN ('morning', 'afternoon', 'evening')),
    opened_at   TEXT NOT NULL,
    opened_by   TEXT NOT NULL REFERENCES account(id),
    UNIQUE (date, slot)
) STRICT, WITHOUT ROWID;

CREATE TABLE check_in (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES visits_session(id),
    adults          INTEGER NOT NULL CHECK (adults BETWEEN 0 AND 100),
    age_0_1         INTEGER NOT NULL CHECK (age_0_1 >= 0),
    age_2           INTEGER NOT NULL CHECK (age_2 >= 0),
    age_3_4         INTEGER NOT NULL CHECK (age_3_4 >= 0),
    age_5_11        INTEGER NOT NULL CHECK (age_5_11 >= 0),
    age_12_17       INTEGER NOT NULL CHECK (age_12_17 >= 0),
    first_time      INTEGER NOT NULL CHECK (first_time IN (0, 1)),
    lead_name       TEXT,
    arrived_at      TEXT NOT NULL,
    left_at         TEXT,
    checked_in_by   TEXT NOT NULL REFERENCES account(id),
    checked_out_by  TEXT REFERENCES account(id)
) STRICT, WITHOUT ROWID;

CREATE INDEX check_in_session ON check_in(session_id);
"#;

/// Version 3: the whole visits day. Sessions come from per-weekday templates (or are added by hand)
/// and can be cancelled; a check-in records support needs, help given, the visit's outcome and the
/// first-visit walkthrough; enquiries, feedback and events are logged at the desk. Records whose
/// shape is richer than their queries keep the whole record as JSON in `doc` beside the columns
/// that are searched or sorted on. `visits_session` is rebuilt (its one-session-per-slot rule goes).
const VISITS_DAY: &str = r#"
CREATE TABLE session_template (
    id          TEXT PRIMARY KEY,
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts_at   TEXT NOT NULL,
    retired_at  TEXT,
    doc         TEXT NOT NULL CHECK (json_valid(doc))
) STRICT, WITHOUT ROWID;

CREATE TABLE visits_session_v3 (
    id            TEXT PRIMARY KEY,
    date          TEXT NOT NULL,
    name          TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('open', 'closed')),
    template_id   TEXT REFERENCES session_template(id),
    opened_at     TEXT NOT NULL,
    opened_by     TEXT NOT NULL REFERENCES account(id),
    cancelled_at  TEXT,
    cancelled_by  TEXT REFERENCES account(id),
    cancel_reason TEXT,
    UNIQUE (date, template_id)
) STRICT, WITHOUT ROWID;

INSERT INTO visits_session_v3 (id, date, name, starts_at, ends_at, kind, opened_at, opened_by)
SELECT id, date,
       CASE slot WHEN 'morning' THEN 'Morning' WHEN 'afternoon' THEN 'Afternoon' ELSE 'Evening' END,
       CASE slot WHEN 'morning' THEN '09:30' WHEN 'afternoon' THEN '14:00' ELSE '18:00' END,
       CASE slot WHEN 'morning' THEN '11:30' WHEN 'afternoon' THEN '16:00' ELSE '20:00' END,
       'open', opened_at, opened_by
FROM visits_session;

DROP TABLE visits_session;
ALTER TABLE visits_session_v3 RENAME TO visits_session;
CREATE INDEX visits_session_date ON visits_session(date);

ALTER TABLE check_in ADD COLUMN needs TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(needs));
ALTER TABLE check_in ADD COLUMN help TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(help));
ALTER TABLE check_in ADD COLUMN outcome TEXT CHECK (outcome IN
    ('visited', 'did_not_go_in', 'declined_entry', 'failed_security', 'cancelled_by_prison'));
ALTER TABLE check_in ADD COLUMN welfare_offered INTEGER CHECK (welfare_offered IN (0, 1));
ALTER TABLE check_in ADD COLUMN walkthrough TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(walkthrough));

CREATE TABLE enquiry (
    id           TEXT PRIMARY KEY,
    received_at  TEXT NOT NULL,
    date         TEXT NOT NULL,
    doc          TEXT NOT NULL CHECK (json_valid(doc))
) STRICT, WITHOUT ROWID;
CREATE INDEX enquiry_date ON enquiry(date);

CREATE TABLE feedback (
    id           TEXT PRIMARY KEY,
    received_at  TEXT NOT NULL,
    date         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('compliment', 'complaint', 'suggestion')),
    status       TEXT NOT NULL CHECK (status IN ('open', 'responded', 'closed')),
    doc          TEXT NOT NULL CHECK (json_valid(doc))
) STRICT, WITHOUT ROWID;
CREATE INDEX feedback_status ON feedback(status, received_at);
CREATE INDEX feedback_date ON feedback(date);

CREATE TABLE centre_event (
    id     TEXT PRIMARY KEY,
    date   TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('family_day', 'family_forum')),
    doc    TEXT NOT NULL CHECK (json_valid(doc))
) STRICT, WITHOUT ROWID;
CREATE INDEX centre_event_date ON centre_event(date);

-- Roll-calls taken from the fire list: which parties were accounted for.
CREATE TABLE roll_call (
    id           TEXT PRIMARY KEY,
    started_at   TEXT NOT NULL,
    doc          TEXT NOT NULL CHECK (json_valid(doc))
) STRICT, WITHOUT ROWID;
"#;

/// Version 4: families, kept only with consent. `doc` is the whole record; once the family is removed it
/// is a tombstone with no personal data, and the row stays because check-ins refer to it.
/// `search_text` is every member's name in search form (see `families.rs`); the external-content
/// FTS5 index `family_search` reads it, and the triggers keep the two in step. The trigram
/// tokenizer finds any 3-character piece of a name; `remove_diacritics` makes `jose` find `José`.
/// FTS5 `secure-delete` removes a deleted row's trigrams from the index at once instead of leaving
/// delete markers over them until the next merge.
const FAMILIES: &str = r#"
CREATE TABLE family (
    rid              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    consent_expires  TEXT,
    removed_at       TEXT,
    search_text      TEXT NOT NULL DEFAULT '',
    doc              TEXT NOT NULL CHECK (json_valid(doc)),
    CHECK ((removed_at IS NULL) = (consent_expires IS NOT NULL)),
    CHECK (removed_at IS NULL OR search_text = '')
) STRICT;
CREATE INDEX family_consent_expires ON family(consent_expires) WHERE consent_expires IS NOT NULL;

CREATE VIRTUAL TABLE family_search USING fts5(
    search_text, content='family', content_rowid='rid', tokenize='trigram remove_diacritics 1'
);
INSERT INTO family_search (family_search, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER family_search_add AFTER INSERT ON family WHEN new.search_text != ''
BEGIN
    INSERT INTO family_search (rowid, search_text) VALUES (new.rid, new.search_text);
END;

CREATE TRIGGER family_search_change AFTER UPDATE OF search_text ON family
    WHEN old.search_text != new.search_text
BEGIN
    INSERT INTO family_search (family_search, rowid, search_text)
        SELECT 'delete', old.rid, old.search_text WHERE old.search_text != '';
    INSERT INTO family_search (rowid, search_text) SELECT new.rid, new.search_text WHERE new.search_text != '';
END;

CREATE TRIGGER family_keeps_its_ids BEFORE UPDATE OF rid, id ON family
    WHEN new.rid != old.rid OR new.id != old.id
BEGIN
    SELECT RAISE(ABORT, 'a family keeps its ids');
END;

CREATE TRIGGER family_is_never_deleted BEFORE DELETE ON family
BEGIN
    SELECT RAISE(ABORT, 'a family is removed by erasing its personal data: the row stays for its check-ins');
END;

ALTER TABLE check_in ADD COLUMN family_id TEXT REFERENCES family(id);
CREATE INDEX check_in_family ON check_in(family_id, arrived_at) WHERE family_id IS NOT NULL;
"#;

/// Version 5: family search that stays fast as the records grow. `family.doc` stays the whole
/// record (a tombstone with no personal data once the family is removed); what a search result or a
/// renewal list shows moves to `family_card`, a small derived row per live family, so that search
/// reads no record and a centre's cards stay in SQLite's page cache (every page read from the file
/// is decrypted). The card's visit history follows the linked check-ins through triggers. A removed
/// family has no card.
///
/// Two FTS5 indexes read the card's `search_text` (every member's name in search form, see
/// `families.rs`), kept in step by triggers: `family_search` with the trigram tokenizer finds any
/// 3-character piece of a name (`remove_diacritics` makes `jose` find `José`), and `family_word`
/// with unicode61 and prefix indexes finds names with a word that *starts* with what was typed, in
/// one index look-up however few or many there are. Both have FTS5 `secure-delete` on, which removes
/// a deleted row's tokens from the index at once instead of leaving them under delete markers until
/// the next merge.
///
/// Version 4's search text (word starts marked with two U+0001) becomes the new form (words
/// separated by spaces, members by U+E000 between spaces), and `family` is rebuilt without the
/// columns that moved to the card.
const FAMILY_SEARCH: &str = r#"
DROP TRIGGER family_search_add;
DROP TRIGGER family_search_change;
DROP TABLE family_search;
DROP INDEX family_consent_expires;

CREATE TABLE family_card (
    rid              INTEGER PRIMARY KEY REFERENCES family(rid),
    id               TEXT NOT NULL,
    names            TEXT NOT NULL,
    search_text      TEXT NOT NULL,
    consent_expires  TEXT NOT NULL,
    first_visit      TEXT,
    last_visit       TEXT,
    check_ins        INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX family_card_consent ON family_card(consent_expires);

INSERT INTO family_card (rid, id, names, search_text, consent_expires, first_visit, last_visit, check_ins)
SELECT f.rid, f.id,
       COALESCE((SELECT group_concat(json_extract(m.value, '$.name'), char(10) ORDER BY m.key)
                 FROM json_each(f.doc, '$.members') AS m), ''),
       ltrim(replace(replace(f.search_text, char(1, 1), ' '), char(10), ' ' || char(57344)), ' '),
       f.consent_expires,
       (SELECT min(arrived_at) FROM check_in c WHERE c.family_id = f.id),
       (SELECT max(arrived_at) FROM check_in c WHERE c.family_id = f.id),
       (SELECT count(*) FROM check_in c WHERE c.family_id = f.id)
FROM family f WHERE f.removed_at IS NULL;

CREATE TABLE family_v5 (
    rid         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    removed_at  TEXT,
    doc         TEXT NOT NULL CHECK (json_valid(doc))
) STRICT;

INSERT INTO family_v5 (rid, id, removed_at, doc) SELECT rid, id, removed_at, doc FROM family;
DROP TABLE family;
ALTER TABLE family_v5 RENAME TO family;

CREATE TRIGGER family_keeps_its_ids BEFORE UPDATE OF rid, id ON family
    WHEN new.rid != old.rid OR new.id != old.id
BEGIN
    SELECT RAISE(ABORT, 'a family keeps its ids');
END;

CREATE TRIGGER family_is_never_deleted BEFORE DELETE ON family
BEGIN
    SELECT RAISE(ABORT, 'a family is removed by erasing its personal data: the row stays for its check-ins');
END;

CREATE VIRTUAL TABLE family_search USING fts5(
    search_text, content='family_card', content_rowid='rid', tokenize='trigram remove_diacritics 1'
);
INSERT INTO family_search (family_search, rank) VALUES ('secure-delete', 1);

CREATE VIRTUAL TABLE family_word USING fts5(
    search_text, content='family_card', content_rowid='rid', tokenize='unicode61 remove_diacritics 2',
    prefix='1 2 3 4 5 6 7 8'
);
INSERT INTO family_word (family_word, rank) VALUES ('secure-delete', 1);

INSERT INTO family_search (family_search) VALUES ('rebuild');
INSERT INTO family_word (family_word) VALUES ('rebuild');

CREATE TRIGGER family_card_added AFTER INSERT ON family_card
BEGIN
    INSERT INTO family_search (rowid, search_text) VALUES (new.rid, new.search_text);
    INSERT INTO family_word (rowid, search_text) VALUES (new.rid, new.search_text);
END;

CREATE TRIGGER family_card_renamed AFTER UPDATE OF search_text ON family_card
    WHEN old.search_text != new.search_text
BEGIN
    INSERT INTO family_search (family_search, rowid, search_text) VALUES ('delete', old.rid, old.search_text);
    INSERT INTO family_word (family_word, rowid, search_text) VALUES ('delete', old.rid, old.search_text);
    INSERT INTO family_search (rowid, search_text) VALUES (new.rid, new.search_text);
    INSERT INTO family_word (rowid, search_text) VALUES (new.rid, new.search_text);
END;

CREATE TRIGGER family_card_removed AFTER DELETE ON family_card
BEGIN
    INSERT INTO family_search (family_search, rowid, search_text) VALUES ('delete', old.rid, old.search_text);
    INSERT INTO family_word (family_word, rowid, search_text) VALUES ('delete', old.rid, old.search_text);
END;

CREATE TRIGGER check_in_family_added AFTER INSERT ON check_in WHEN new.family_id IS NOT NULL
BEGIN
    UPDATE family_card SET (first_visit, last_visit, check_ins) =
        (SELECT min(arrived_at), max(arrived_at), count(*) FROM check_in WHERE family_id = new.family_id)
    WHERE rid = (SELECT rid FROM family WHERE id = new.family_id);
END;

CREATE TRIGGER check_in_family_changed AFTER UPDATE OF family_id ON check_in
    WHEN old.family_id IS NOT new.family_id
BEGIN
    UPDATE family_card SET (first_visit, last_visit, check_ins) =
        (SELECT min(arrived_at), max(arrived_at), count(*) FROM check_in WHERE family_id = old.family_id)
    WHERE rid = (SELECT rid FROM family WHERE id = old.family_id);
    UPDATE family_card SET (first_visit, last_visit, check_ins) =
        (SELECT min(arrived_at), max(arrived_at), count(*) FROM check_in WHERE family_id = new.family_id)
    WHERE rid = (SELECT rid FROM family WHERE id = new.family_id);
END;
"#;

/// Version 6: sync with head office (`sync.rs`). `sync_state` is one row: the hub this device is
/// enrolled with, its token (only ever inside this encrypted file), how far head office has
/// acknowledged the outbox, the batch out for acknowledgement, and the last error in plain words.
/// An outbox row gets `sent_at` when it first goes out in a batch and `acked_at` once the hub's
/// reply is committed here; an acknowledgement is never taken back. Changes the hub acknowledged but
/// would not apply are kept in `sync_quarantine` for the manager. Reference data head office keeps
/// (partner agencies, price list, session slots) is mirrored in `reference_item`, with a cursor per
/// dataset in `reference_cursor`.
const SYNC: &str = r#"
ALTER TABLE outbox ADD COLUMN sent_at TEXT;
CREATE INDEX outbox_entity ON outbox(entity_id);

CREATE TRIGGER outbox_ack_is_final BEFORE UPDATE OF acked_at ON outbox
    WHEN OLD.acked_at IS NOT NULL AND NEW.acked_at IS NOT OLD.acked_at
BEGIN
    SELECT RAISE(ABORT, 'an acknowledged change stays acknowledged');
END;

CREATE TABLE sync_state (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    hub_url             TEXT,
    device_id           TEXT,
    centre_id           TEXT,
    device_token        TEXT,
    enrolled_at         TEXT,
    acked_through_seq   INTEGER NOT NULL DEFAULT 0 CHECK (acked_through_seq >= 0),
    last_ack_at         TEXT,
    last_attempt_at     TEXT,
    last_error          TEXT,
    last_error_at       TEXT,
    blocked             INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    pending_batch_id    TEXT,
    pending_first_seq   INTEGER,
    pending_last_seq    INTEGER,
    last_reference_at   TEXT,
    CHECK ((hub_url IS NULL) = (device_token IS NULL)),
    CHECK ((pending_batch_id IS NULL) = (pending_first_seq IS NULL)
           AND (pending_first_seq IS NULL) = (pending_last_seq IS NULL))
) STRICT;
INSERT INTO sync_state (id) VALUES (1);

CREATE TABLE sync_quarantine (
    id         INTEGER PRIMARY KEY,
    seq        INTEGER,
    change_id  TEXT NOT NULL UNIQUE,
    entity     TEXT,
    entity_id  TEXT,
    reason     TEXT NOT NULL,
    at         TEXT NOT NULL
) STRICT;

CREATE TABLE reference_item (
    dataset  TEXT NOT NULL,
    key      TEXT NOT NULL,
    version  INTEGER NOT NULL,
    item     TEXT NOT NULL CHECK (json_valid(item)),
    PRIMARY KEY (dataset, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE reference_cursor (
    dataset    TEXT PRIMARY KEY,
    since      INTEGER NOT NULL CHECK (since >= 0),
    pulled_at  TEXT NOT NULL
) STRICT, WITHOUT ROWID;
"#;

/// Version 7: restoring a centre from head office onto a replacement laptop (`restore.rs`).
/// `restore_state` is one row once a restore has started: who started it and when, the cursor into
/// the centre's changes at the hub (`after`: every change up to there is applied here), how many the
/// centre had at the last page (`total`), how many were applied and skipped, and when it finished.
/// Restored records go into the ordinary tables without outbox rows: head office has them already.
const RESTORE: &str = r#"
CREATE TABLE restore_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    started_at   TEXT NOT NULL,
    started_by   TEXT NOT NULL,
    after        INTEGER NOT NULL DEFAULT 0 CHECK (after >= 0),
    total        INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    applied      INTEGER NOT NULL DEFAULT 0 CHECK (applied >= 0),
    skipped      INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),
    pages        INTEGER NOT NULL DEFAULT 0 CHECK (pages >= 0),
    finished_at  TEXT
) STRICT;
"#;

/// Version 8: removal leaves no personal data in the outbox either. An earlier change of a record
/// may become a copy of a later change of the same record (same op and payload, its id, seq,
/// times and audit link untouched), except while it is in the batch out for acknowledgement: so
/// after a family's removal its earlier changes are all its tombstone, and a check-in whose lead
/// name was cleared keeps no change holding the name. `outbox_scrub` lists the records whose
/// changes in the batch out still wait for that, until its reply is committed.
const SCRUB: &str = r#"
DROP TRIGGER outbox_change_is_fixed;
CREATE TRIGGER outbox_change_is_fixed BEFORE UPDATE OF
    seq, change_id, entity, entity_id, op, occurred_at, user_id, schema_version, payload, audit_id, audit_hash
    ON outbox
    WHEN NOT (
        NEW.seq = OLD.seq AND NEW.change_id = OLD.change_id AND NEW.entity = OLD.entity
        AND NEW.entity_id = OLD.entity_id AND NEW.occurred_at = OLD.occurred_at AND NEW.user_id = OLD.user_id
        AND NEW.schema_version = OLD.schema_version AND NEW.audit_id = OLD.audit_id
        AND NEW.audit_hash = OLD.audit_hash
        AND EXISTS (SELECT 1 FROM outbox later WHERE later.entity_id = OLD.entity_id AND later.entity = OLD.entity
                    AND later.seq > OLD.seq AND later.op = NEW.op AND later.payload = NEW.payload)
        AND NOT EXISTS (SELECT 1 FROM sync_state s WHERE OLD.seq BETWEEN s.pending_first_seq AND s.pending_last_seq)
    )
BEGIN
    SELECT RAISE(ABORT, 'outbox changes cannot be edited');
END;

CREATE TABLE outbox_scrub (
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    PRIMARY KEY (entity, entity_id)
) STRICT, WITHOUT ROWID;
"#;

/// Version 9: how far head office has the outbox is two marks in `sync_state`, not a stamp on each
/// row. Acknowledgements and sends both go in seq order, so the rows acknowledged are always those
/// up to the highest seq ever acknowledged (`confirmed_through_seq`, which never moves back, even
/// when a 409 makes the device re-send from `acked_through_seq` below it), and the rows sent those
/// up to `sent_through_seq`. Stamping `acked_at` and `sent_at` rewrote (and re-encrypted) every
/// page of every batch, twice; moving a mark writes one row. An acknowledged row may be deleted,
/// an unacknowledged one may not.
const MARKS: &str = r#"
ALTER TABLE sync_state ADD COLUMN confirmed_through_seq INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_through_seq >= 0);
ALTER TABLE sync_state ADD COLUMN sent_through_seq INTEGER NOT NULL DEFAULT 0 CHECK (sent_through_seq >= 0);
UPDATE sync_state SET
    confirmed_through_seq = COALESCE((SELECT MAX(seq) FROM outbox WHERE acked_at IS NOT NULL), 0),
    sent_through_seq = COALESCE((SELECT MAX(seq) FROM outbox WHERE sent_at IS NOT NULL OR acked_at IS NOT NULL), 0);

DROP TRIGGER outbox_ack_is_final;
DROP TRIGGER outbox_keeps_unsent;
ALTER TABLE outbox DROP COLUMN acked_at;
ALTER TABLE outbox DROP COLUMN sent_at;

CREATE TRIGGER outbox_keeps_unacknowledged BEFORE DELETE ON outbox
    WHEN OLD.seq > (SELECT confirmed_through_seq FROM sync_state WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'unacknowledged outbox changes cannot be deleted');
END;

CREATE TRIGGER sync_acknowledgement_is_final BEFORE UPDATE OF confirmed_through_seq, sent_through_seq ON sync_state
    WHEN NEW.confirmed_through_seq < OLD.confirmed_through_seq OR NEW.sent_through_seq < OLD.sent_through_seq
BEGIN
    SELECT RAISE(ABORT, 'an acknowledged or sent change stays so');
END;
"#;

/// The steps from an empty file: step `i` takes a database from version `i` to `i + 1`. A new
/// database runs every step, so a fresh file and an upgraded one are built by the same SQL.
const STEPS: &[&str] = &[FOUNDATION, VISITS, VISITS_DAY, FAMILIES, FAMILY_SEARCH, SYNC, RESTORE, SCRUB, MARKS];

/// Creates every table of the current version in an empty database.
pub fn create(tx: &Transaction<'_>) -> Result<()> {
    for step in STEPS {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

/// Brings a database at `version` up by exactly one version.
fn upgrade_from(tx: &Transaction<'_>, version: i64) -> Result<()> {
    let step = usize::try_from(version)
        .ok()
        .and_then(|v| STEPS.get(v))
        .ok_or_else(|| Error::Malformed(format!("no upgrade from schema version {version}")))?;
    tx.execute_batch(step)?;
    Ok(())
}

/// Creates the schema, or upgrades it step by step. Runs inside one transaction, with foreign keys
/// off (a step may rebuild a table that others refer to); every reference is checked before the
/// transaction commits.
pub fn ensure(tx: &Transaction<'_>) -> Result<()> {
    let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables == 0 {
            return create(tx);
        }
    }
    if version > VERSION {
        return Err(Error::TooNew { found: version, known: VERSION });
    }
    let upgrading = version < VERSION;
    while version < VERSION {
        upgrade_from(tx, version)?;
        version += 1;
        tx.pragma_update(None, "user_version", version)?;
    }
    if upgrading {
        let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
        if broken > 0 {
            return Err(Error::Malformed(format!("{broken} broken reference(s) after the schema upgrade")));
        }
    }
    Ok(())
}

/// The schema as it was at `version` (1 to `VERSION`), for the upgrade tests.
#[doc(hidden)]
pub fn create_version(tx: &Transaction<'_>, version: i64) -> Result<()> {
    let steps = usize::try_from(version).ok().filter(|v| (1..=STEPS.len()).contains(v));
    let steps = steps.ok_or_else(|| Error::Malformed(format!("no schema version {version}")))?;
    for step in &STEPS[..steps] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", version)?;
    Ok(())
}
