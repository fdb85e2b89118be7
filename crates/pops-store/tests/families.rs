//! Families in a real SQLCipher file: saving and reading back, search by any part of any member's
//! name, hostile queries, consent renewal, visit history, and removal that leaves no personal data.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use pops_domain::change::Op;
use pops_domain::families::{
    AgeBand, ConsentInput, ConsentMethod, ConsentStatus, ContactInput, Family, FamilyMemberInput, FamilySummary,
    PrisonerInput, Relationship, RemovalReason, RenewConsentInput, SaveFamilyInput, check_family, check_renewal,
};
use pops_store::{Error, Store, families, outbox, visits};
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

fn input(names: &[&str]) -> SaveFamilyInput {
    SaveFamilyInput {
        family_id: None,
        consent: ConsentInput {
            consent_given: true,
            given_by: names[0].into(),
            method: Some(ConsentMethod::Written),
            given_on: "2026-11-25".into(),
        },
        members: names
            .iter()
            .enumerate()
            .map(|(i, n)| FamilyMemberInput {
                member_id: None,
                name: (*n).into(),
                relationship: Some(if i == 0 { Relationship::Partner } else { Relationship::Child }),
                date_of_birth: if i == 0 { "1991-03-04".into() } else { String::new() },
                age_band: if i == 0 { None } else { Some(AgeBand::Age5To11) },
            })
            .collect(),
        contact: ContactInput {
            phone: "07700 900123".into(),
            email: "family@example.com".into(),
            address: "2 Mill Lane\nLiverpool".into(),
        },
        prisoner: PrisonerInput { name: "Dan Smith".into(), prison_number: "a1234bc".into() },
    }
}

fn save_on(store: &mut Store, user: Uuid, input: &SaveFamilyInput, day: NaiveDate) -> Result<Family, Error> {
    let checked = check_family(input, day, 12).unwrap();
    store.write(Some(user), Utc::now(), |w| families::save_family(w, checked))
}

fn save(fx: &mut common::Fixture, names: &[&str]) -> Family {
    save_on(&mut fx.store, fx.user, &input(names), today()).unwrap()
}

fn search(fx: &common::Fixture, query: &str) -> Vec<FamilySummary> {
    fx.store.read(|c| families::search_families(c, query, today(), 20)).unwrap()
}

/// The lead name of each family found, in order.
fn leads(fx: &common::Fixture, query: &str) -> Vec<String> {
    search(fx, query).into_iter().map(|s| s.names[0].clone()).collect()
}

fn totals(fx: &common::Fixture) -> (i64, i64) {
    (common::count(&fx.store, "SELECT count(*) FROM outbox"), common::count(&fx.store, "SELECT count(*) FROM audit"))
}

fn outbox_payloads(fx: &common::Fixture) -> Vec<String> {
    fx.store
        .read(|c| {
            let mut stmt = c.prepare("SELECT payload FROM outbox ORDER BY seq")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap()
}

/// Every outbox row's seq, change id and audit link.
fn outbox_links(fx: &common::Fixture) -> Vec<(i64, String, i64, String)> {
    fx.store
        .read(|c| {
            let mut stmt = c.prepare("SELECT seq, change_id, audit_id, audit_hash FROM outbox ORDER BY seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .unwrap()
}

fn index_is_sound(store: &Store) {
    store.read(|c| Ok(c.execute("INSERT INTO family_search (family_search) VALUES ('integrity-check')", [])?)).unwrap();
}

#[test]
fn a_family_reads_back_exactly_as_saved_with_emoji_and_right_to_left_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let names = ["محمد علي", "שרה כהן", "عائشہ خان", "Zoë 🌸 Nowak"];
    let saved = save(&mut fx, &names);
    let read = fx.store.read(|c| families::get_family(c, saved.id)).unwrap().unwrap();
    assert_eq!(read, saved);
    assert_eq!(read.members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), names);
    assert_eq!(read.members[0].date_of_birth.as_deref(), Some("1991-03-04"));
    assert_eq!(read.members[1].age_band, Some(AgeBand::Age5To11));
    assert_eq!(read.prisoner.as_ref().unwrap().prison_number.as_deref(), Some("A1234BC"));
    assert_eq!(read.contact.address.as_deref(), Some("2 Mill Lane\nLiverpool"));
    assert_eq!(read.consent.expires_on, "2027-11-25");
    assert_eq!(read.consent.recorded_by, fx.user);
    assert_eq!(leads(&fx, "محم"), ["محمد علي"]);
    assert_eq!(leads(&fx, "כהן"), ["محمد علي"]);
    assert_eq!(leads(&fx, "خان"), ["محمد علي"]);
    assert_eq!(leads(&fx, "🌸 now"), ["محمد علي"]);
    assert_eq!(fx.store.read(|c| families::get_family(c, Uuid::now_v7())).unwrap(), None);
}

#[test]
fn each_save_leaves_one_change_of_the_whole_record_and_one_audit_entry_without_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let (o0, a0) = totals(&fx);
    let first = save(&mut fx, &["Aisha Khan", "Imran Khan"]);
    assert_eq!(totals(&fx), (o0 + 1, a0 + 1));
    let change = fx.store.read(|c| outbox::changes_after(c, o0, 10)).unwrap().remove(0);
    assert_eq!((change.entity.as_str(), change.entity_id, change.op), ("family", first.id, Op::Upsert));
    assert_eq!(change.payload, serde_json::to_value(&first).unwrap());

    let mut edit = input(&["Aisha Khan", "Imran Khan", "Sara Khan"]);
    edit.family_id = Some(first.id);
    edit.members[0].member_id = Some(first.members[0].id);
    edit.members[1].member_id = Some(first.members[1].id);
    let second = save_on(&mut fx.store, fx.user, &edit, today()).unwrap();
    assert_eq!(totals(&fx), (o0 + 2, a0 + 2));
    assert_eq!(
        second.members[..2].iter().map(|m| m.id).collect::<Vec<_>>(),
        [first.members[0].id, first.members[1].id]
    );
    assert_eq!(second.created_at, first.created_at);
    let change = fx.store.read(|c| outbox::changes_after(c, o0 + 1, 10)).unwrap().remove(0);
    assert_eq!(change.payload, serde_json::to_value(&second).unwrap());

    let details: Vec<String> = fx
        .store
        .read(|c| {
            let mut s = c.prepare("SELECT action || ' ' || detail FROM audit")?;
            let rows = s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(rows)
        })
        .unwrap();
    assert!(details.iter().any(|d| d == "family_added members=2 contact=yes prisoner=yes consent=written"));
    assert!(details.iter().any(|d| d.starts_with("family_updated members=3")));
    for d in &details {
        for private in ["Khan", "Aisha", "07700", "example.com", "Mill Lane", "A1234BC", "1991"] {
            assert!(!d.contains(private), "{private} in the audit log: {d}");
        }
    }
}

#[test]
fn refused_saves_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let first = save(&mut fx, &["Aisha Khan"]);
    let before = totals(&fx);
    let mut edit = input(&["Aisha Khan"]);
    edit.family_id = Some(first.id);
    edit.members[0].member_id = Some(Uuid::now_v7());
    let stale = save_on(&mut fx.store, fx.user, &edit, today());
    assert!(matches!(&stale, Err(Error::Conflict(m)) if m.contains("reload")), "{stale:?}");
    edit.family_id = Some(Uuid::now_v7());
    edit.members[0].member_id = None;
    let unknown = save_on(&mut fx.store, fx.user, &edit, today());
    assert!(matches!(unknown, Err(Error::NotFound("family"))), "{unknown:?}");
    assert_eq!(totals(&fx), before);
    assert_eq!(fx.store.read(|c| families::get_family(c, first.id)).unwrap().unwrap(), first);
}

fn a_few_families(fx: &mut common::Fixture) {
    save(fx, &["Mikhail Nowak", "Anna Nowak"]);
    save(fx, &["Aisha Khan", "Imran Khan"]);
    save(fx, &["José García", "Zoë Brontë"]);
    save(fx, &["Ahmed Al-Hassan"]);
    save(fx, &["Siobhan O'Neill", "Kacper Wiśniewski"]);
}

#[test]
fn found_by_the_start_or_middle_of_any_members_name_ignoring_case_and_accents() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    a_few_families(&mut fx);
    // Names that start with the query come first, then names that contain it.
    assert_eq!(leads(&fx, "kha"), ["Aisha Khan", "Mikhail Nowak"]);
    assert_eq!(leads(&fx, "KHAN"), ["Aisha Khan"]);
    assert_eq!(leads(&fx, "hail"), ["Mikhail Nowak"]);
    assert_eq!(leads(&fx, "mra"), ["Aisha Khan"], "the middle of a member who is not the lead");
    assert_eq!(leads(&fx, "jose"), ["José García"]);
    assert_eq!(leads(&fx, "JOSÉ"), ["José García"]);
    assert_eq!(leads(&fx, "garc"), ["José García"]);
    assert_eq!(leads(&fx, "zoe bro"), ["José García"]);
    assert_eq!(leads(&fx, "wisn"), ["Siobhan O'Neill"]);
    assert_eq!(leads(&fx, "Al-Has"), ["Ahmed Al-Hassan"]);
    assert_eq!(leads(&fx, "al has"), ["Ahmed Al-Hassan"]);
    assert_eq!(leads(&fx, "hassan"), ["Ahmed Al-Hassan"]);
    assert_eq!(leads(&fx, "oneill"), ["Siobhan O'Neill"]);
    assert_eq!(leads(&fx, "O’Neil"), ["Siobhan O'Neill"]);
    assert_eq!(leads(&fx, "sha kh"), ["Aisha Khan"]);
    assert!(leads(&fx, "khan aisha").is_empty(), "words match in the order typed");
    assert!(leads(&fx, "n\nimr").is_empty(), "no match spans two members");
    // One or two letters: words that start with them.
    assert_eq!(leads(&fx, "k"), ["Aisha Khan", "Siobhan O'Neill"]);
    assert_eq!(leads(&fx, "Mi"), ["Mikhail Nowak"]);
    assert_eq!(leads(&fx, "zo"), ["José García"]);
    assert!(leads(&fx, "il").is_empty(), "Mikhail and O'Neill contain il but no word starts with it");
    let found = search(&fx, "imran");
    assert_eq!(found[0].names, ["Aisha Khan", "Imran Khan"], "every name, the lead first");
    assert_eq!(found[0].consent_status, ConsentStatus::Current);
    assert_eq!(found[0].consent_expires_on, "2027-11-25");
    assert!(search(&fx, "").is_empty());
    assert_eq!(fx.store.read(|c| families::search_families(c, "k", today(), 1)).unwrap().len(), 1);
    index_is_sound(&fx.store);
}

#[test]
fn hostile_queries_are_only_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    a_few_families(&mut fx);
    let hostile = [
        "\"",
        "\"\"",
        "\"kha",
        "kha\"",
        "*",
        "kha*",
        "-",
        "-kha",
        "OR",
        "kha OR nowak",
        "kha AND nowak",
        "NOT kha",
        "(",
        "(kha",
        ")",
        "NEAR(kha nowak)",
        "^kha",
        "search_text:kha",
        "{search_text}: kha",
        "'; DROP TABLE family; --",
        "\u{0}kha",
        "+",
        "kha + nowak",
        ":",
        "\\",
        "%",
        "_",
        "𞤀𞤁𞤂",
        "𞤀",
        "\u{301}\u{301}\u{301}",
        "ـــ",
        "🌸🌸🌸",
    ];
    for q in hostile {
        let found = fx.store.read(|c| families::search_families(c, q, today(), 20));
        assert!(found.is_ok(), "{q:?}: {found:?}");
    }
    for q in ["kha*", "kha OR nowak", "NOT kha", "NEAR(kha nowak)", "^kha", "search_text:kha", "%", "_"] {
        assert!(leads(&fx, q).is_empty(), "{q:?} is read as text, not as query syntax");
    }
    assert_eq!(leads(&fx, "\u{0}kha"), leads(&fx, "kha"), "a control character is a space");
    assert!(search(&fx, &"a".repeat(10_000)).is_empty());
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM family"), 5);
}

/// Whether the raw pages of either search index hold any of these byte strings.
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

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, hour, 0, 0).unwrap()
}

#[test]
fn a_removed_family_leaves_a_tombstone_its_check_ins_and_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    a_few_families(&mut fx);
    let gone = save(&mut fx, &["Zqxjvw Pqkrstu", "Yvwbzq Pqkrstu"]);
    let kept = fx.store.read(|c| families::get_family(c, gone.id)).unwrap().unwrap();
    assert_eq!(kept, gone);
    let check_in = fx
        .store
        .write(Some(fx.user), at(10), |w| {
            let c = visits::check_in(w, &common::party(fx.session.id, Some("Zqxjvw Pqkrstu")))?;
            visits::link_family(w, c.id, Some(gone.id))
        })
        .unwrap();
    assert_eq!(leads(&fx, "zqxj"), ["Zqxjvw Pqkrstu"]);
    assert!(raw_index_holds(&fx.store, &["zqx", "qxj", "xjv", "pqk"]), "the check below can see trigrams");
    assert!(raw_index_holds(&fx.store, &["zqxjvw", "pqkrstu", "yvwbzq"]), "and words");
    let (o0, a0) = totals(&fx);
    let links_before = outbox_links(&fx);
    assert!(outbox_payloads(&fx).iter().any(|p| p.contains("Pqkrstu")), "the check below can see names");

    let tombstone = fx
        .store
        .write(Some(fx.user), at(11), |w| families::remove_family(w, gone.id, RemovalReason::ConsentWithdrawn))
        .unwrap();
    // One erase change for the family, one change for the check-in whose lead name was cleared.
    assert_eq!(totals(&fx), (o0 + 2, a0 + 2));
    let changes = fx.store.read(|c| outbox::changes_after(c, o0, 10)).unwrap();
    assert_eq!((changes[0].entity.as_str(), changes[0].op), ("check_in", Op::Upsert));
    assert_eq!(changes[0].payload["lead_name"], serde_json::Value::Null);
    assert_eq!((changes[1].entity.as_str(), changes[1].entity_id, changes[1].op), ("family", gone.id, Op::Erase));
    assert_eq!(changes[1].payload, serde_json::to_value(&tombstone).unwrap());
    // The family's and the check-in's earlier changes are copies of their latest now: no change on
    // the laptop holds the names, and every change keeps its id, seq and audit link.
    // (The other families share the fixture's contact details, so the names are what is looked for.)
    for payload in outbox_payloads(&fx) {
        for private in ["Pqkrstu", "Zqxjvw", "Yvwbzq"] {
            assert!(!payload.contains(private), "{private} left in the outbox: {payload}");
        }
    }
    assert_eq!(&outbox_links(&fx)[..links_before.len()], &links_before[..], "ids, seqs and audit links stay");
    let family_changes: Vec<_> = fx
        .store
        .read(|c| outbox::changes_after(c, 0, 1000))
        .unwrap()
        .into_iter()
        .filter(|c| c.entity_id == gone.id)
        .collect();
    assert!(family_changes.len() >= 2, "the family's upsert and its erase");
    assert!(family_changes.iter().all(|c| c.op == Op::Erase && c.payload == changes[1].payload));
    assert!(fx.store.read(pops_store::audit::verify).unwrap().problem.is_none(), "the chain is whole");

    assert_eq!(fx.store.read(|c| families::get_family(c, gone.id)).unwrap(), None);
    for q in ["zqxj", "pqkrstu", "zq", "yvw"] {
        assert!(leads(&fx, q).is_empty(), "{q} still finds the removed family");
    }
    assert!(!raw_index_holds(&fx.store, &["zqx", "qxj", "xjv", "pqk", "yvw"]), "trigrams left in the index");
    assert!(!raw_index_holds(&fx.store, &["zqxjvw", "pqkrstu", "yvwbzq"]), "words left in the index");
    let row: String = fx
        .store
        .read(|c| Ok(c.query_row("SELECT doc FROM family WHERE id = ?1", [gone.id.to_string()], |r| r.get(0))?))
        .unwrap();
    for private in ["Pqkrstu", "Zqxjvw", "07700", "example.com", "Mill Lane", "A1234BC", "1991-03-04", "Dan Smith"] {
        assert!(!row.contains(private), "{private} left in the tombstone: {row}");
    }
    let card = format!("SELECT count(*) FROM family_card WHERE id = '{}'", gone.id);
    assert_eq!(common::count(&fx.store, &card), 0, "a removed family has no card");
    let (doc, removed): (String, i64) = fx
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT doc, removed_at IS NOT NULL FROM family WHERE id = ?1",
                [gone.id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&doc).unwrap(), serde_json::to_value(&tombstone).unwrap());
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM family_search_docsize"), 5, "one entry per live family");

    // The check-in still refers to the family, keeps its counts, and has lost the lead name.
    let after = fx.store.read(|c| visits::get_check_in(c, check_in.id)).unwrap().unwrap();
    assert_eq!((after.family_id, after.lead_name.as_deref(), after.adults), (Some(gone.id), None, 2));
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(common::count(&fx.store, "PRAGMA secure_delete"), 1, "SQLCipher zeroes freed bytes");
    index_is_sound(&fx.store);

    // Nothing more can be done to it, and the row cannot be deleted outright.
    let again =
        fx.store.write(Some(fx.user), at(12), |w| families::remove_family(w, gone.id, RemovalReason::ConsentExpired));
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    let mut edit = input(&["Zqxjvw Pqkrstu"]);
    edit.family_id = Some(gone.id);
    assert!(matches!(save_on(&mut fx.store, fx.user, &edit, today()), Err(Error::Conflict(_))));
    let link = fx.store.write(Some(fx.user), at(12), |w| visits::link_family(w, check_in.id, Some(gone.id)));
    assert!(matches!(link, Err(Error::Conflict(_))), "{link:?}");
    let delete = fx.store.read(|c| Ok(c.execute("DELETE FROM family WHERE id = ?1", [gone.id.to_string()])?));
    assert!(delete.is_err());
    let unknown = fx
        .store
        .write(Some(fx.user), at(12), |w| families::remove_family(w, Uuid::now_v7(), RemovalReason::ConsentExpired));
    assert!(matches!(unknown, Err(Error::NotFound("family"))), "{unknown:?}");
    assert_eq!(totals(&fx), (o0 + 2, a0 + 2));
}

#[test]
fn an_update_replaces_the_search_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    a_few_families(&mut fx);
    let first = save(&mut fx, &["Fatima Begum", "Yusuf Begum"]);
    let mut edit = input(&["Fatima Rahman"]);
    edit.family_id = Some(first.id);
    edit.members[0].member_id = Some(first.members[0].id);
    save_on(&mut fx.store, fx.user, &edit, today()).unwrap();
    assert!(leads(&fx, "begum").is_empty());
    assert!(leads(&fx, "yusuf").is_empty());
    assert_eq!(leads(&fx, "rahm"), ["Fatima Rahman"]);
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM family_search_docsize"), 6);
    index_is_sound(&fx.store);
}

#[test]
fn consent_due_or_expired_is_listed_until_renewed() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    a_few_families(&mut fx);
    let given = |on: &str, names: &[&str]| {
        let mut i = input(names);
        i.consent.given_on = on.into();
        i
    };
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // Given a year ago less a fortnight (due), and a year and a week ago (expired).
    let due = save_on(&mut fx.store, fx.user, &given("2025-12-09", &["Due Family"]), day("2025-12-09")).unwrap();
    let expired =
        save_on(&mut fx.store, fx.user, &given("2025-11-18", &["Expired Family"]), day("2025-11-18")).unwrap();
    let list = fx.store.read(|c| families::families_due_for_renewal(c, today())).unwrap();
    let listed: Vec<(Uuid, ConsentStatus, &str)> =
        list.iter().map(|s| (s.id, s.consent_status, s.consent_expires_on.as_str())).collect();
    assert_eq!(
        listed,
        [(expired.id, ConsentStatus::Expired, "2026-11-18"), (due.id, ConsentStatus::DueForRenewal, "2026-12-09")]
    );
    assert_eq!(search(&fx, "expired")[0].consent_status, ConsentStatus::Expired);

    let before = totals(&fx);
    let renewal = RenewConsentInput {
        family_id: expired.id,
        consent: ConsentInput {
            consent_given: true,
            given_by: "Expired Family".into(),
            method: Some(ConsentMethod::Verbal),
            given_on: "2026-11-25".into(),
        },
    };
    let consent = check_renewal(&renewal, today(), 12).unwrap();
    let renewed =
        fx.store.write(Some(fx.user), Utc::now(), |w| families::renew_consent(w, expired.id, consent)).unwrap();
    assert_eq!(totals(&fx), (before.0 + 1, before.1 + 1));
    assert_eq!((renewed.consent.expires_on.as_str(), renewed.consent.method), ("2027-11-25", ConsentMethod::Verbal));
    assert_eq!(renewed.members, expired.members);
    assert_eq!(fx.store.read(|c| families::get_family(c, expired.id)).unwrap().unwrap(), renewed);
    let list = fx.store.read(|c| families::families_due_for_renewal(c, today())).unwrap();
    assert_eq!(list.iter().map(|s| s.id).collect::<Vec<_>>(), [due.id]);
    assert_eq!(search(&fx, "expired")[0].consent_status, ConsentStatus::Current);
}

#[test]
fn each_summary_carries_the_familys_visit_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let khan = save(&mut fx, &["Aisha Khan"]);
    let kowalski = save(&mut fx, &["Piotr Kowalski"]);
    save(&mut fx, &["Kate Kershaw"]);
    for (hour, family) in [(9, khan.id), (13, khan.id), (11, khan.id), (10, kowalski.id)] {
        fx.store
            .write(Some(fx.user), at(hour), |w| {
                let c = visits::check_in(w, &common::party(fx.session.id, None))?;
                visits::link_family(w, c.id, Some(family))
            })
            .unwrap();
    }
    // An unlinked check-in counts for nobody.
    fx.store.write(Some(fx.user), at(12), |w| visits::check_in(w, &common::party(fx.session.id, None))).unwrap();
    let found = search(&fx, "k");
    let history: Vec<(&str, Option<&str>, Option<&str>, u32)> = found
        .iter()
        .map(|s| {
            (s.names[0].as_str(), s.visits.first_visit.as_deref(), s.visits.last_visit.as_deref(), s.visits.check_ins)
        })
        .collect();
    assert_eq!(
        history,
        [
            ("Aisha Khan", Some("2026-11-25T09:00:00.000Z"), Some("2026-11-25T13:00:00.000Z"), 3),
            ("Piotr Kowalski", Some("2026-11-25T10:00:00.000Z"), Some("2026-11-25T10:00:00.000Z"), 1),
            ("Kate Kershaw", None, None, 0),
        ]
    );
    let unknown = fx.store.write(Some(fx.user), at(14), |w| {
        let c = visits::check_in(w, &common::party(fx.session.id, None))?;
        visits::link_family(w, c.id, Some(Uuid::now_v7()))
    });
    assert!(matches!(unknown, Err(Error::NotFound("family"))), "{unknown:?}");
}

#[test]
fn names_starting_with_the_query_come_first_however_many_contain_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    // Older families contain "kha" in the middle of a name; the newer ones start a word with it.
    for i in 0..24 {
        save(&mut fx, &[&format!("Mikhail Nowak{i}")]);
    }
    save(&mut fx, &["Aisha Khan"]);
    save(&mut fx, &["Zoë Brontë", "Imran Khalid"]);
    save(&mut fx, &["Kháled Begum"]);
    // More matches than the list holds: the word-start index ranks them.
    let found = leads(&fx, "kha");
    assert_eq!(found.len(), 20);
    assert_eq!(found[..3], ["Aisha Khan", "Zoë Brontë", "Kháled Begum"]);
    assert!(found[3..].iter().all(|n| n.starts_with("Mikhail")));
    // Fewer matches than the list holds: ranked in Rust, with the same result.
    let few = fx.store.read(|c| families::search_families(c, "kha", today(), 100)).unwrap();
    assert_eq!(few.len(), 27);
    let leads: Vec<&str> = few.iter().map(|s| s.names[0].as_str()).collect();
    assert_eq!(leads[..3], ["Aisha Khan", "Zoë Brontë", "Kháled Begum"]);
    let small = fx.store.read(|c| families::search_families(c, "nowak2", today(), 20)).unwrap();
    assert_eq!(small.len(), 5, "Nowak2 and Nowak20 to Nowak23");
    assert!(fx.store.read(|c| families::search_families(c, "kha", today(), 0)).unwrap().is_empty());
}

#[test]
fn a_removal_leaves_the_batch_out_as_it_went_and_scrubs_it_once_head_office_answers() {
    use pops_store::sync::{self, PendingBatch};
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    let gone = save(&mut fx, &["Zqxjvw Pqkrstu"]);
    let seq = common::count(&fx.store, "SELECT max(seq) FROM outbox");
    let batch = PendingBatch { batch_id: Uuid::now_v7(), first_seq: 1, last_seq: seq };
    fx.store.write(None, at(10), |w| sync::begin_batch(w, &batch)).unwrap();

    fx.store
        .write(Some(fx.user), at(11), |w| families::remove_family(w, gone.id, RemovalReason::ConsentWithdrawn))
        .unwrap();
    // The batch out must go again exactly as it went: its copy of the family stays for now.
    let names = |fx: &common::Fixture| outbox_payloads(fx).iter().filter(|p| p.contains("Pqkrstu")).count();
    assert_eq!(names(&fx), 1);
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM outbox_scrub"), 1);
    let in_batch = fx.store.read(|c| {
        Ok(c.execute(
            "UPDATE outbox SET op = 'erase', payload = (SELECT payload FROM outbox WHERE op = 'erase') WHERE seq = ?1",
            [seq],
        )?)
    });
    assert!(in_batch.is_err(), "the trigger keeps the batch out as it went");
    // Nor may any change be edited into anything but a later change of its own record.
    let forged = fx.store.read(|c| Ok(c.execute("UPDATE outbox SET payload = '{}' WHERE seq = 1", [])?));
    assert!(forged.is_err(), "{forged:?}");

    // Head office answers the batch: its rows are scrubbed in the same transaction.
    let reply = pops_domain::sync::BatchReply {
        acked_through_seq: seq,
        rejected: vec![],
        server_time: "2026-11-25T11:00:00.000Z".into(),
    };
    let recorded = fx.store.write(None, at(11), |w| sync::record_reply(w, &batch, &reply)).unwrap();
    assert!(recorded.scrubbed > 0, "the reply says it rewrote rows (a batch read before it is stale)");
    assert_eq!(names(&fx), 0, "no change holds the name once the batch is answered");
    assert_eq!(common::count(&fx.store, "SELECT count(*) FROM outbox_scrub"), 0);
    assert!(fx.store.read(pops_store::audit::verify).unwrap().problem.is_none());
}

#[test]
fn changes_go_to_head_office_as_their_stored_json_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = common::set_up(dir.path());
    save(&mut fx, &["محمد علي", "שרה כהן", "Zoë 🌸 O'Brien-Nowak"]);
    let values = fx.store.read(|c| outbox::changes_after(c, 0, 1000)).unwrap();
    let texts = fx.store.read(|c| outbox::changes_json_after(c, 0, 1000)).unwrap();
    assert_eq!(values.len(), texts.len());
    for (value, (seq, json)) in values.iter().zip(&texts) {
        assert_eq!(*seq, value.seq);
        let read: pops_domain::change::Change = serde_json::from_slice(json).unwrap();
        assert_eq!(&read, value, "{}", String::from_utf8_lossy(json));
    }
    let two = fx.store.read(|c| outbox::changes_json_after(c, 1, 2)).unwrap();
    assert_eq!(two.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [2, 3]);
}
