//! Restoring a centre onto a replacement laptop, at the store's level: laptop A's changes, as head
//! office hands them out (its erases already scrubbed into the earlier changes), applied page by
//! page to laptop B, a real SQLCipher file set up as the app sets one up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/day.rs"]
mod day;

use chrono::Utc;
use pops_domain::change::{Change, Op, entity};
use pops_domain::sync::{ChangesPage, Enrolment};
use pops_domain::visits::{PartyArrival, SessionTemplate};
use pops_store::restore::{self, Outcome, Skip};
use pops_store::{DbKey, Error, Store, accounts, audit, families, outbox, sync, visits};
use serde_json::json;
use std::collections::HashSet;
use std::path::Path;
use uuid::Uuid;

struct Laptop {
    store: Store,
    key: DbKey,
    setup: day::SetUp,
}

fn laptop(dir: &Path, manager_name: &str) -> Laptop {
    let key = DbKey::generate();
    let mut store = Store::open(&dir.join("centre.db"), &key).unwrap();
    let setup = day::set_up(&mut store, &key, manager_name);
    Laptop { store, key, setup }
}

/// Laptop A after its busy day.
fn old_laptop(dir: &Path) -> (Laptop, day::Day) {
    let mut a = laptop(dir, "Ada Manager");
    let d = day::busy_day(&mut a.store, &a.key, a.setup.manager);
    (a, d)
}

/// Laptop B: set up, Today opened once (its templates made the day's empty sessions), enrolled.
fn new_laptop(dir: &Path) -> Laptop {
    let mut b = laptop(dir, "Bea Manager");
    let made = b
        .store
        .write(Some(b.setup.manager), Utc::now(), |w| visits::sessions_from_templates(w, "2026-11-28", 6))
        .unwrap();
    assert_eq!(made, 2, "Saturday's morning and afternoon sessions");
    enrol(&mut b);
    b
}

fn enrol(b: &mut Laptop) {
    let enrolment =
        Enrolment { device_id: Uuid::now_v7(), centre_id: Uuid::now_v7(), device_token: "not-a-real-token".into() };
    b.store.write(None, Utc::now(), |w| sync::save_enrolment(w, "https://hub.example", &enrolment)).unwrap();
}

/// A's changes as head office holds them: an erase overwrites the payload of every change of that
/// record with its tombstone.
fn hub_feed(a: &Store) -> Vec<Change> {
    let mut feed = a.read(|c| outbox::changes_after(c, 0, i64::MAX)).unwrap();
    let erased: Vec<(String, Uuid, serde_json::Value)> =
        feed.iter().filter(|c| c.op == Op::Erase).map(|c| (c.entity.clone(), c.entity_id, c.payload.clone())).collect();
    for c in &mut feed {
        if let Some((_, _, tombstone)) = erased.iter().find(|(e, id, _)| *e == c.entity && *id == c.entity_id) {
            c.payload = tombstone.clone();
        }
    }
    feed
}

/// The feed as pages of `size`, each with the cursor it is asked for from. Positions are 1, 2, 3 …
fn pages(feed: &[Change], size: usize) -> Vec<(i64, ChangesPage)> {
    let chunks: Vec<&[Change]> = feed.chunks(size).collect();
    let mut out = Vec::new();
    let mut after = 0;
    for (i, chunk) in chunks.iter().enumerate() {
        let next_after = after + chunk.len() as i64;
        out.push((
            after,
            ChangesPage {
                changes: chunk.to_vec(),
                next_after,
                has_more: i + 1 < chunks.len(),
                total: feed.len() as i64,
            },
        ));
        after = next_after;
    }
    out
}

fn apply(b: &mut Laptop, after: i64, page: &ChangesPage) -> restore::PageApplied {
    b.store.write(Some(b.setup.manager), Utc::now(), |w| restore::apply_page(w, after, page)).unwrap()
}

fn begin(b: &mut Laptop) -> Result<restore::RestoreProgress, Error> {
    b.store.write(Some(b.setup.manager), Utc::now(), restore::begin)
}

fn count(store: &Store, sql: &str) -> i64 {
    store.read(|c| Ok(c.query_row(sql, [], |r| r.get(0))?)).unwrap()
}

fn audit_actions(store: &Store, action: &str) -> Vec<String> {
    store
        .read(|c| {
            let mut s = c.prepare("SELECT detail FROM audit WHERE action = ?1 ORDER BY id")?;
            let rows = s.query_map([action], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap()
}

/// Whether the raw pages of either family search index hold any of these byte strings.
fn raw_index_holds(store: &Store, pieces: &[&str]) -> bool {
    store
        .read(|c| {
            let mut s =
                c.prepare("SELECT block FROM family_search_data UNION ALL SELECT block FROM family_word_data")?;
            let blocks = s.query_map([], |r| r.get::<_, Vec<u8>>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(blocks.iter().any(|b| pieces.iter().any(|t| b.windows(t.len()).any(|w| w == t.as_bytes()))))
        })
        .unwrap()
}

/// Every text value in every ordinary table, one string (the search indexes' own tables hold
/// tokens, checked by `raw_index_holds`).
fn all_text(store: &Store) -> String {
    store
        .read(|c| {
            let tables: Vec<String> = {
                let mut s = c.prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                     AND name NOT LIKE 'family_search%' AND name NOT LIKE 'family_word%'",
                )?;
                s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            let mut out = String::new();
            for t in tables {
                let mut s = c.prepare(&format!("SELECT * FROM {t}"))?;
                let n = s.column_count();
                let mut rows = s.query([])?;
                while let Some(r) = rows.next()? {
                    for i in 0..n {
                        if let Ok(Some(text)) = r.get::<_, Option<String>>(i) {
                            out.push_str(&text);
                            out.push('\n');
                        }
                    }
                }
            }
            Ok(out)
        })
        .unwrap()
}

fn sound(store: &Store) {
    store.integrity_check().unwrap();
    assert_eq!(count(store, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    store.read(|c| Ok(c.execute("INSERT INTO family_search (family_search) VALUES ('integrity-check')", [])?)).unwrap();
    store.read(|c| Ok(c.execute("INSERT INTO family_word (family_word) VALUES ('integrity-check')", [])?)).unwrap();
    store.read(audit::verify).unwrap();
}

#[test]
fn a_restored_laptop_reads_as_the_old_one_did_and_sends_none_of_it_back() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (a, d) = old_laptop(dir_a.path());
    let mut b = new_laptop(dir_b.path());
    let before: Vec<Change> = b.store.read(|c| outbox::changes_after(c, 0, i64::MAX)).unwrap();
    let own_templates: Vec<SessionTemplate> = b.store.read(visits::templates).unwrap();
    let own_sessions = b.store.read(|c| visits::day(c, "2026-11-28")).unwrap().sessions;

    let started = begin(&mut b).unwrap();
    assert_eq!((started.after, started.total, started.applied, started.percent), (0, 0, 0, 0));
    assert!(!started.finished() && started.started_by == b.setup.manager);
    assert_eq!(begin(&mut b).unwrap(), started, "starting again answers the restore under way");
    let feed = hub_feed(&a.store);
    let all = pages(&feed, 7);
    let mut last = None;
    for (i, (after, page)) in all.iter().enumerate() {
        let done = apply(&mut b, *after, page);
        assert!(done.problems.is_empty(), "{:?}", done.problems);
        assert_eq!(done.finished, i + 1 == all.len());
        assert_eq!(done.progress.after, page.next_after);
        if !done.finished {
            assert!(done.progress.percent < 100 && done.progress.fraction() < 1.0);
        }
        last = Some(done.progress);
    }
    let p = last.unwrap();
    assert!(p.finished());
    assert_eq!((p.total, p.done(), p.percent, p.fraction()), (feed.len() as i64, feed.len() as i64, 100, 1.0));
    assert_eq!(p.skipped, 3, "the centre row and two accounts");
    assert_eq!(b.store.read(restore::progress).unwrap(), Some(p.clone()));
    assert!(!b.store.read(restore::restoring).unwrap());

    // Every read the app makes answers the same on B as on A.
    let (on_a, _) = day::without_sync_states(a.store.read(|c| Ok(day::reads(c, &d))).unwrap());
    let (on_b, states) = day::without_sync_states(b.store.read(|c| Ok(day::reads(c, &d))).unwrap());
    assert_eq!(on_a, on_b);
    // A never sent its records (saved); on B they came from head office (confirmed).
    // (Family summaries leave the state to the app: null here on both.)
    let states: Vec<_> = states.into_iter().filter(|s| !s.is_null()).collect();
    assert!(!states.is_empty() && states.iter().all(|s| s == "confirmed"), "{states:?}");
    assert_eq!(on_b["today"]["on_site"].as_array().unwrap().len(), 2, "the day is really there");
    assert_eq!(on_b["searches"]["khan"].as_array().unwrap().len(), 1);

    // Nothing restored entered B's outbox: it holds B's set-up, and B's set-up templates retired and
    // their empty sessions cancelled (B's own records, changed by B).
    let after: Vec<Change> = b.store.read(|c| outbox::changes_after(c, 0, i64::MAX)).unwrap();
    assert_eq!(&after[..before.len()], &before[..]);
    let a_ids: HashSet<Uuid> = feed.iter().map(|c| c.change_id).collect();
    assert!(after.iter().all(|c| !a_ids.contains(&c.change_id)));
    let own_ids: HashSet<Uuid> = before.iter().map(|c| c.entity_id).collect();
    let added = &after[before.len()..];
    assert_eq!(added.len(), own_templates.len() + own_sessions.len());
    assert!(added.iter().all(|c| own_ids.contains(&c.entity_id)), "only B's own records changed");
    for s in &own_sessions {
        let now = b.store.read(|c| visits::session(c, s.session.id)).unwrap().unwrap();
        assert_eq!(now.cancel_reason.as_deref(), Some(restore::SETUP_SESSION_REPLACED));
    }
    for t in &own_templates {
        assert!(b.store.read(|c| visits::template(c, t.id)).unwrap().unwrap().retired_at.is_some());
    }
    let saturday = b.store.read(|c| visits::missing_template_sessions(c, "2026-12-05", 6)).unwrap();
    assert_eq!(saturday.len(), 3, "the centre's own Saturday templates make the days from now on");
    assert!(saturday.iter().all(|t| d.templates.contains(&t.id)));

    // The old laptop's people are former accounts: named on the records, unable to sign in.
    let people = b.store.read(accounts::list).unwrap();
    assert_eq!(people.iter().filter(|a| a.active).map(|a| a.id).collect::<Vec<_>>(), [b.setup.manager]);
    let vera = people.iter().find(|a| a.id == d.volunteer).unwrap();
    assert_eq!((vera.display_name.as_str(), vera.active), ("Vera Volunteer", false));
    assert!(vera.username.starts_with("former-") && vera.username.len() > 32);
    let ada_id = a_manager(&a.store);
    let ada = people.iter().find(|p| p.id == ada_id).unwrap();
    assert_eq!((ada.display_name.as_str(), ada.role), ("Ada Manager", pops_domain::Role::Manager));
    let (_, pin_key) = b.store.read(|c| accounts::get(c, d.volunteer)).unwrap().unwrap();
    let cheap = pops_store::keyslots::WrappedKey { kdf: day_fast(), ..pin_key };
    assert!(cheap.open(b"918273", &accounts::pin_context(d.volunteer)).unwrap().is_none(), "no PIN opens it");

    // The removed family's personal data is nowhere in B's records.
    assert_eq!(b.store.read(|c| families::get_family(c, d.removed_family)).unwrap(), None);
    let text = all_text(&b.store);
    for private in day::REMOVED_NAMES.iter().chain(&day::REMOVED_DETAILS) {
        assert!(!text.contains(private), "{private} is in B's records");
    }
    assert!(text.contains("Aisha Khan"), "the check above can see names");
    assert!(!raw_index_holds(&b.store, &["zqx", "qxj", "pqk", "yvw", "zqxjvw", "pqkrstu"]));
    assert!(raw_index_holds(&b.store, &["ais", "aisha"]), "the check above can see the index");

    // One audit entry at the start, one at the end, with counts only.
    assert_eq!(audit_actions(&b.store, "restore_started"), ["after=0"]);
    let finished = audit_actions(&b.store, "restore_finished");
    assert_eq!(finished.len(), 1);
    assert_eq!(
        finished[0],
        format!(
            "applied={} skipped=3 total={} pages={} setup_templates_retired={} setup_sessions_cancelled={}",
            feed.len() - 3,
            feed.len(),
            all.len(),
            own_templates.len(),
            own_sessions.len()
        )
    );
    sound(&b.store);

    // A second restore is refused; the laptop carries on as itself.
    let again = begin(&mut b).unwrap_err();
    assert!(again.to_string().contains("already restored"), "{again}");
    let session = d.sessions[0];
    let manager = b.setup.manager;
    let mine = b.store.write(Some(manager), Utc::now(), |w| visits::check_in(w, &party(session))).unwrap();
    let last = b.store.read(|c| outbox::changes_after(c, 0, i64::MAX)).unwrap().pop().unwrap();
    assert_eq!((last.entity.as_str(), last.entity_id, last.user_id), (entity::CHECK_IN, mine.id, manager));
}

fn a_manager(store: &Store) -> Uuid {
    store.read(accounts::list).unwrap().into_iter().find(|a| a.display_name == "Ada Manager").unwrap().id
}

fn day_fast() -> pops_store::keyslots::KdfParams {
    pops_store::keyslots::KdfParams { m_cost: 1024, t_cost: 1, p_cost: 1 }
}

fn party(session: Uuid) -> PartyArrival {
    PartyArrival {
        session_id: session,
        adults: 1,
        children: Default::default(),
        first_time: false,
        lead_name: Some("Mary Seacole".into()),
        needs: Default::default(),
        help: Default::default(),
        family_id: None,
    }
}

#[test]
fn applying_the_same_changes_again_changes_nothing() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (a, d) = old_laptop(dir_a.path());
    let mut b = new_laptop(dir_b.path());
    begin(&mut b).unwrap();
    let feed = hub_feed(&a.store);
    for (after, page) in pages(&feed, 500) {
        apply(&mut b, after, &page);
    }
    let reads = b.store.read(|c| Ok(day::reads(c, &d))).unwrap();
    let tables = ["outbox", "audit", "account", "check_in", "visits_session", "family", "family_card", "feedback"];
    let counts: Vec<i64> = tables.iter().map(|t| count(&b.store, &format!("SELECT count(*) FROM {t}"))).collect();

    // Every change again, one at a time, and the whole feed again in one go.
    for change in &feed {
        b.store.write(Some(b.setup.manager), Utc::now(), |w| restore::apply_change(w, change)).unwrap();
    }
    b.store
        .write(Some(b.setup.manager), Utc::now(), |w| {
            feed.iter().try_for_each(|c| restore::apply_change(w, c).map(drop))
        })
        .unwrap();
    assert_eq!(b.store.read(|c| Ok(day::reads(c, &d))).unwrap(), reads);
    let again: Vec<i64> = tables.iter().map(|t| count(&b.store, &format!("SELECT count(*) FROM {t}"))).collect();
    assert_eq!(again, counts, "{tables:?}");
    assert_eq!(
        day::without_sync_states(reads).0,
        day::without_sync_states(a.store.read(|c| Ok(day::reads(c, &d))).unwrap()).0
    );
    sound(&b.store);
}

#[test]
fn a_restore_cut_off_part_way_carries_on_from_its_cursor() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (a, d) = old_laptop(dir_a.path());
    let mut b = new_laptop(dir_b.path());
    begin(&mut b).unwrap();
    let feed = hub_feed(&a.store);
    let all = pages(&feed, 5);
    assert!(all.len() > 6);
    for (after, page) in &all[..3] {
        apply(&mut b, *after, page);
    }
    // The laptop goes off mid-restore: the file is opened again.
    let Laptop { store, key, setup } = b;
    drop(store);
    let mut b = Laptop { store: Store::open(&dir_b.path().join("centre.db"), &key).unwrap(), key, setup };
    let p = b.store.read(restore::progress).unwrap().unwrap();
    assert_eq!((p.after, p.pages, p.done(), p.finished()), (15, 3, 15, false));
    assert!(b.store.read(restore::restoring).unwrap());
    // While it is under way, Today makes sessions from this laptop's own templates only.
    let wednesday = b.store.read(|c| visits::missing_template_sessions(c, "2026-12-02", 3)).unwrap();
    assert!(!wednesday.is_empty() && wednesday.iter().all(|t| !d.templates.contains(&t.id)));

    // A page asked for from another point is refused and changes nothing.
    let stale = b.store.write(Some(b.setup.manager), Utc::now(), |w| restore::apply_page(w, all[1].0, &all[1].1));
    assert!(matches!(&stale, Err(Error::Conflict(w)) if w.contains("up to 15")), "{stale:?}");
    // It carries on from its cursor.
    let outbox_before = count(&b.store, "SELECT count(*) FROM outbox");
    for (after, page) in &all[3..] {
        apply(&mut b, *after, page);
    }
    let p = b.store.read(restore::progress).unwrap().unwrap();
    assert!(p.finished());
    assert_eq!((p.done(), p.total, p.pages), (feed.len() as i64, feed.len() as i64, all.len() as i64));
    assert_eq!(audit_actions(&b.store, "restore_started").len(), 1);
    assert_eq!(audit_actions(&b.store, "restore_finished").len(), 1);
    assert!(count(&b.store, "SELECT count(*) FROM outbox") > outbox_before, "the set-up templates retired");
    assert_eq!(
        day::without_sync_states(b.store.read(|c| Ok(day::reads(c, &d))).unwrap()).0,
        day::without_sync_states(a.store.read(|c| Ok(day::reads(c, &d))).unwrap()).0
    );
    sound(&b.store);
}

#[test]
fn a_restore_is_refused_in_plain_words_when_it_could_mix_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = laptop(dir.path(), "Bea Manager");
    let words = begin(&mut b).unwrap_err().to_string();
    assert!(words.starts_with("Enrol this laptop with head office first"), "{words}");
    enrol(&mut b);
    b.store.read(restore::check_can_start).unwrap();

    // Someone used the desk: a session added by hand, a check-in, a family.
    let manager = b.setup.manager;
    b.store
        .write(Some(manager), Utc::now(), |w| {
            let s = visits::add_session(
                w,
                "2026-11-25",
                &pops_domain::visits::SessionTimes {
                    name: "Extra visits".into(),
                    starts_at: "10:00".into(),
                    ends_at: "11:00".into(),
                    kind: pops_domain::visits::VisitKind::Open,
                },
            )?;
            visits::check_in(w, &party(s.id))
        })
        .unwrap();
    let refused = begin(&mut b).unwrap_err();
    let Error::Conflict(words) = &refused else { panic!("{refused:?}") };
    assert!(
        words.starts_with(
            "This laptop already holds records of its own (1 check-in, 1 session added or cancelled by hand)."
        ),
        "{words}"
    );
    assert!(words.contains("newly set-up laptop"), "{words}");
    assert!(!words.contains("Mary"), "no personal data in the words");
    assert_eq!(b.store.read(restore::progress).unwrap(), None, "nothing started");
    assert!(audit_actions(&b.store, "restore_started").is_empty());

    // A laptop head office has blocked cannot restore either.
    let dir = tempfile::tempdir().unwrap();
    let mut c = laptop(dir.path(), "Cal Manager");
    enrol(&mut c);
    c.store.write(None, Utc::now(), |w| sync::block(w, "withdrawn")).unwrap();
    assert!(begin(&mut c).unwrap_err().to_string().contains("withdrawn this laptop's permission"));
}

fn change(entity: &str, entity_id: Uuid, op: Op, payload: serde_json::Value) -> Change {
    Change {
        change_id: Uuid::now_v7(),
        seq: 1,
        entity: entity.into(),
        entity_id,
        op,
        occurred_at: "2026-11-25T10:00:00.000Z".into(),
        user_id: Uuid::now_v7(),
        schema_version: 7,
        payload,
    }
}

#[test]
fn changes_that_do_not_fit_are_skipped_and_never_stop_the_restore() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let (a, _) = old_laptop(dir_a.path());
    let mut b = new_laptop(dir_b.path());
    begin(&mut b).unwrap();
    let feed = hub_feed(&a.store);
    let check_in = feed.iter().find(|c| c.entity == entity::CHECK_IN).unwrap().clone();
    let session_id = check_in.payload["session_id"].as_str().unwrap();
    let session = feed.iter().find(|c| c.entity_id.to_string() == session_id).unwrap().clone();
    let family = feed.iter().find(|c| c.entity == entity::FAMILY && c.op == Op::Upsert).unwrap().clone();

    let stranger = Uuid::now_v7();
    let nowhere = Uuid::now_v7();
    let mut orphan = check_in.payload.clone();
    let orphan_id = Uuid::now_v7();
    orphan["id"] = json!(orphan_id);
    orphan["session_id"] = json!(Uuid::now_v7());
    let mut strangers = check_in.payload.clone();
    let strangers_id = Uuid::now_v7();
    strangers["id"] = json!(strangers_id);
    strangers["checked_in_by"] = json!(stranger);
    strangers["family_id"] = json!(nowhere);
    let mut unreadable = check_in.payload.clone();
    unreadable["adults"] = json!("two");
    let mut crowd = check_in.payload.clone();
    let crowd_id = Uuid::now_v7();
    crowd["id"] = json!(crowd_id);
    crowd["adults"] = json!(1000);
    let gone = Uuid::now_v7();
    let tombstone = json!({"id": gone, "reason": "erasure_requested", "removed_at": "2026-11-25T11:00:00.000Z", "removed_by": stranger});

    let odd = vec![
        (session.clone(), Outcome::Applied),
        (change("tuck_shop", Uuid::now_v7(), Op::Upsert, json!({"price": 1})), Outcome::Skipped(Skip::Unknown)),
        (change(entity::CHECK_IN, check_in.entity_id, Op::Erase, json!({})), Outcome::Skipped(Skip::Unknown)),
        (change(entity::CHECK_IN, check_in.entity_id, Op::Upsert, unreadable), Outcome::Skipped(Skip::Unreadable)),
        (
            change(entity::CHECK_IN, Uuid::now_v7(), Op::Upsert, check_in.payload.clone()),
            Outcome::Skipped(Skip::Unreadable),
        ),
        (change(entity::CHECK_IN, orphan_id, Op::Upsert, orphan), Outcome::Skipped(Skip::Conflict)),
        (change(entity::CHECK_IN, crowd_id, Op::Upsert, crowd), Outcome::Skipped(Skip::Conflict)),
        (change(entity::CHECK_IN, strangers_id, Op::Upsert, strangers), Outcome::Applied),
        (change(entity::FAMILY, gone, Op::Erase, tombstone), Outcome::Applied),
        (change(entity::FAMILY, gone, Op::Upsert, family.payload.clone()), Outcome::Skipped(Skip::Unreadable)),
        (family.clone(), Outcome::Applied),
        (change(entity::FAMILY, family.entity_id, Op::Erase, json!({"note": "not a tombstone"})), Outcome::Applied),
        (family.clone(), Outcome::Applied),
    ];
    for (c, want) in &odd {
        let got = b.store.write(Some(b.setup.manager), Utc::now(), |w| restore::apply_change(w, c)).unwrap();
        assert_eq!(got, *want, "{} {:?}", c.entity, c.op);
    }
    // A record naming someone head office never sent names a former account; a family it never had
    // is dropped from the check-in, not the check-in.
    let (who, _) = b.store.read(|c| accounts::get(c, stranger)).unwrap().unwrap();
    assert_eq!((who.display_name.as_str(), who.active), (restore::FORMER_ACCOUNT, false));
    let kept = b.store.read(|c| visits::get_check_in(c, strangers_id)).unwrap().unwrap();
    assert_eq!(kept.family_id, None);
    assert_eq!(b.store.read(|c| visits::get_check_in(c, orphan_id)).unwrap(), None, "nothing half-written");
    assert_eq!(b.store.read(|c| visits::get_check_in(c, crowd_id)).unwrap(), None);
    // An erase is final: the family's record comes again, and stays removed.
    assert_eq!(b.store.read(|c| families::get_family(c, family.entity_id)).unwrap(), None);
    let doc: String = b
        .store
        .read(
            |c| Ok(c.query_row("SELECT doc FROM family WHERE id = ?1", [family.entity_id.to_string()], |r| r.get(0))?),
        )
        .unwrap();
    assert!(!doc.contains("Aisha") && !doc.contains("note"), "{doc}");
    assert_eq!(count(&b.store, &format!("SELECT count(*) FROM family_card WHERE id = '{}'", family.entity_id)), 0);
    sound(&b.store);

    // A page of such changes is applied and counted, and the restore goes on.
    let page = ChangesPage {
        changes: odd.iter().map(|(c, _)| c.clone()).collect(),
        next_after: 13,
        has_more: true,
        total: 20,
    };
    let done = apply(&mut b, 0, &page);
    assert_eq!((done.applied, done.skipped, done.finished), (6, 7, false));
    assert_eq!(done.problems.len(), 7);
    assert!(done.problems.iter().all(|p| !p.reason.expected()));
    assert_eq!((done.progress.after, done.progress.total, done.progress.percent), (13, 20, 65));
}
