//! The sync API over real HTTP, every scenario on SQLite and on PostgreSQL, every response checked
//! against `docs/openapi/sync.yaml`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Body, Hub, TestDb, batch, change, check_in, check_in_payload, check_ins, family_payload, gzip};
use pops_domain::change::{Op, entity};
use pops_domain::sync::{Batch, ChangesPage, MAX_BODY_BYTES, ReferencePage};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

on_both_storages!(
    health_answers_without_a_token,
    an_enrolment_code_works_once_within_24_hours,
    wrong_enrolment_codes_are_braked_after_ten,
    a_batch_moves_the_high_water_mark_and_the_records_hold_the_latest_state,
    a_payload_is_stored_as_it_came_or_as_it_was_judged,
    the_same_batch_sent_again_or_ten_times_at_once_is_stored_once_with_the_same_reply,
    a_batch_id_reused_for_other_changes_is_refused,
    a_gap_after_the_high_water_mark_is_refused_with_the_expected_seq,
    an_invalid_change_is_acknowledged_quarantined_and_does_not_stop_the_batch,
    an_erase_scrubs_every_earlier_payload_of_the_record,
    tokens_are_checked_and_a_device_writes_only_its_own_changes,
    a_revoked_device_is_told_so,
    bodies_may_be_gzip_and_are_capped_before_and_after_gunzip,
    malformed_bodies_get_a_problem_that_never_repeats_them,
    changes_page_through_the_centre_across_its_devices_only,
    reference_data_pages_through_each_import,
    unknown_addresses_and_methods_get_problems,
    an_unreachable_database_answers_503_with_retry_after,
    bulk_insert_is_a_plain_insert_of_the_same_rows,
    a_request_in_flight_finishes_after_the_shutdown_signal,
    a_database_from_a_newer_hub_is_refused_not_damaged,
);

async fn health_answers_without_a_token(db: &TestDb) {
    let hub = Hub::start(db).await;
    let r = hub.api.get("/v1/health", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    hub.stop().await;
}

async fn an_enrolment_code_works_once_within_24_hours(db: &TestDb) {
    let hub = Hub::start(db).await;
    let centre = hub.storage.add_centre("HMP Example").unwrap();
    let code = hub.storage.new_enrolment_code(centre).unwrap();
    assert_eq!(code.len(), 19);
    // Typed in lower case, with spaces for dashes: the same code.
    let typed = code.to_lowercase().replace('-', " ");
    let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": typed })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let e: pops_domain::sync::Enrolment = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(e.centre_id, centre);
    assert_eq!(e.device_token.len(), 43);
    let status = hub.api.get(&format!("/v1/devices/{}/status", e.device_id), Some(&e.device_token)).await;
    assert_eq!(status.json(), json!({"acked_through_seq": 0}));

    let again = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": code })).await;
    assert_eq!(again.status, 401);
    assert!(again.detail().contains("used already"), "{}", again.detail());

    let made_yesterday = chrono::Utc::now() - chrono::Duration::hours(25);
    let old = hub.storage.new_enrolment_code_at(centre, made_yesterday).unwrap();
    let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": old })).await;
    assert_eq!(r.status, 401);

    let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": "0000-0000-0000-0000" })).await;
    assert_eq!(r.status, 401);
    let r = hub.api.post("/v1/enrol", None, &json!({ "code": "x" })).await;
    assert_eq!(r.status, 400);
    assert!(r.detail().contains("enrolment_code"), "{}", r.detail());
    let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": "" })).await;
    assert_eq!(r.status, 400);
    assert!(hub.storage.new_enrolment_code(Uuid::now_v7()).is_err(), "a code for no centre");
    hub.stop().await;
}

async fn wrong_enrolment_codes_are_braked_after_ten(db: &TestDb) {
    let hub = Hub::start(db).await;
    let centre = hub.storage.add_centre("HMP Example").unwrap();
    let good = hub.storage.new_enrolment_code(centre).unwrap();
    for _ in 0..10 {
        let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": "ABCD-ABCD-ABCD-ABCD" })).await;
        assert_eq!(r.status, 401);
    }
    // Even the right code waits now.
    let r = hub.api.post("/v1/enrol", None, &json!({ "enrolment_code": good })).await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    hub.stop().await;
}

async fn a_batch_moves_the_high_water_mark_and_the_records_hold_the_latest_state(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let mut changes = check_ins(1, 3);
    // The fourth change updates the first record.
    let first = changes[0].clone();
    changes.push(change(
        4,
        entity::CHECK_IN,
        first.entity_id,
        Op::Upsert,
        check_in_payload(first.entity_id, "Test Visitor", 3),
    ));
    let r = hub.api.push(&dev, &batch(changes.clone())).await.reply();
    assert_eq!(r.acked_through_seq, 4);
    assert!(r.rejected.is_empty());
    assert_eq!(hub.api.get(&dev.path("status"), Some(&dev.token)).await.json(), json!({"acked_through_seq": 4}));
    assert_eq!(hub.storage.acked_through(dev.id).unwrap(), 4);
    assert_eq!(hub.storage.device_changes(dev.id).unwrap(), changes);
    let record = hub.storage.centre_record(dev.centre, entity::CHECK_IN, first.entity_id).unwrap().unwrap();
    assert_eq!(record["adults"], json!(3));
    let second = hub.storage.centre_record(dev.centre, entity::CHECK_IN, changes[1].entity_id).unwrap().unwrap();
    assert_eq!(second, changes[1].payload);
    // The next batch carries on.
    let r = hub.api.push(&dev, &batch(check_ins(5, 6))).await.reply();
    assert_eq!(r.acked_through_seq, 6);
    hub.stop().await;
}

/// The hub stores a payload's text as the device sent it, unread as a value; one whose reading had
/// to fall back to a value (here, a field given twice) is stored as that value, so that SQL on the
/// stored payload sees what the check saw.
async fn a_payload_is_stored_as_it_came_or_as_it_was_judged(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let changes = check_ins(1, 2);
    let b = batch(changes.clone());
    let mut json = serde_json::to_string(&b).unwrap();
    // The first payload spaced out; the second gives `adults` twice, the last one counting.
    let (first, second) =
        (serde_json::to_string(&changes[0].payload).unwrap(), serde_json::to_string(&changes[1].payload).unwrap());
    let spaced = serde_json::to_string_pretty(&changes[0].payload).unwrap();
    json = json.replacen(&first, &spaced, 1);
    let twice = format!("{{\"adults\":\"Quentin Twice\",{}", &second[1..]);
    json = json.replacen(&second, &twice, 1);
    let r = hub.api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Raw(json.into_bytes())).await;
    let r = r.reply();
    assert_eq!((r.acked_through_seq, r.rejected.len()), (2, 0));
    assert_eq!(hub.storage.device_changes(dev.id).unwrap(), changes);
    for c in &changes {
        assert_eq!(
            hub.storage.centre_record(dev.centre, entity::CHECK_IN, c.entity_id).unwrap().as_ref(),
            Some(&c.payload)
        );
    }
    if db.is_postgres() {
        let stored: Vec<String> =
            db.pg_query("SELECT payload::text FROM changes ORDER BY seq").iter().map(|r| r.get(0)).collect();
        assert!(!stored.iter().any(|p| p.contains("Quentin")), "{stored:?}");
    } else {
        let bytes = String::from_utf8_lossy(&db.sqlite_bytes()).into_owned();
        assert!(bytes.contains(&spaced), "the spaced payload is stored as it came");
        assert!(!bytes.contains("Quentin"), "the payload given twice is stored as it was judged");
    }
    hub.stop().await;
}

async fn the_same_batch_sent_again_or_ten_times_at_once_is_stored_once_with_the_same_reply(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let b = batch(check_ins(1, 5));
    let first = hub.api.push(&dev, &b).await;
    assert_eq!(first.reply().acked_through_seq, 5);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let again = hub.api.push(&dev, &b).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body, "the stored reply, byte for byte (same server_time)");

    // Ten at once, of a new batch.
    let b2 = batch(check_ins(6, 9));
    let sends = (0..10).map(|_| {
        let (api, dev, b2) = (hub.api.clone(), dev.clone(), b2.clone());
        tokio::spawn(async move { api.push(&dev, &b2).await })
    });
    let replies: Vec<_> = futures_join(sends).await;
    for r in &replies {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, replies[0].body);
    }
    assert_eq!(replies[0].reply().acked_through_seq, 9);
    assert_eq!(hub.storage.device_changes(dev.id).unwrap().len(), 9, "each change stored once");

    // A new batch that overlaps what the hub has: the old changes are skipped, the new stored.
    let mut overlap = b2.changes[2..].to_vec();
    overlap.extend(check_ins(10, 11));
    let r = hub.api.push(&dev, &batch(overlap)).await.reply();
    assert_eq!(r.acked_through_seq, 11);
    assert!(r.rejected.is_empty());
    assert_eq!(hub.storage.device_changes(dev.id).unwrap().len(), 11);
    hub.stop().await;
}

async fn futures_join(handles: impl Iterator<Item = tokio::task::JoinHandle<common::Reply>>) -> Vec<common::Reply> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

async fn a_batch_id_reused_for_other_changes_is_refused(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let b = batch(check_ins(1, 2));
    hub.api.push(&dev, &b).await.reply();
    let other = Batch { changes: check_ins(3, 4), first_seq: 3, last_seq: 4, ..b.clone() };
    let r = hub.api.push(&dev, &other).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail(), "batch_id reused for different changes");
    assert_eq!(hub.storage.acked_through(dev.id).unwrap(), 2);
    assert_eq!(hub.storage.device_changes(dev.id).unwrap().len(), 2);
    hub.stop().await;
}

async fn a_gap_after_the_high_water_mark_is_refused_with_the_expected_seq(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let r = hub.api.push(&dev, &batch(check_ins(2, 3))).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.problem().expected_seq, Some(1));
    hub.api.push(&dev, &batch(check_ins(1, 3))).await.reply();
    let gap = batch(check_ins(7, 8));
    let r = hub.api.push(&dev, &gap).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.problem().expected_seq, Some(4));
    assert_eq!(hub.storage.device_changes(dev.id).unwrap().len(), 3, "nothing of the refused batch is stored");
    // The refusal was not stored as the batch's reply: once the gap is filled, the batch goes in.
    hub.api.push(&dev, &batch(check_ins(4, 6))).await.reply();
    assert_eq!(hub.api.push(&dev, &gap).await.reply().acked_through_seq, 8);
    hub.stop().await;
}

async fn an_invalid_change_is_acknowledged_quarantined_and_does_not_stop_the_batch(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let secret_name = "Quillon Marchbanks";
    let mut changes = check_ins(1, 5);
    changes[1].entity = "tuck_shop".into();
    changes[1].payload = json!({"note": secret_name});
    let wrong_id = Uuid::now_v7();
    changes[3].payload = check_in_payload(wrong_id, secret_name, 1);
    changes[4].payload["adults"] = json!(secret_name);
    let b = batch(changes.clone());
    let r = hub.api.push(&dev, &b).await.reply();
    assert_eq!(r.acked_through_seq, 5);
    let rejected: Vec<Uuid> = r.rejected.iter().map(|x| x.change_id).collect();
    assert_eq!(rejected, vec![changes[1].change_id, changes[3].change_id, changes[4].change_id]);
    for x in &r.rejected {
        assert!(!x.reason.contains("Quillon"), "a reason repeats the payload: {}", x.reason);
    }
    assert!(r.rejected[0].reason.contains("entity"), "{}", r.rejected[0].reason);
    assert!(r.rejected[2].reason.contains("adults"), "{}", r.rejected[2].reason);
    let stored: Vec<Uuid> = hub.storage.device_changes(dev.id).unwrap().iter().map(|c| c.change_id).collect();
    assert_eq!(stored, vec![changes[0].change_id, changes[2].change_id]);
    let quarantined = hub.storage.quarantined(dev.id).unwrap();
    assert_eq!(quarantined.iter().map(|q| q.0).collect::<Vec<_>>(), rejected);
    assert_eq!(quarantined[1].1, r.rejected[1].reason);

    // The same changes again, in a new batch (say the device lost the reply): the same refusals,
    // nothing quarantined twice.
    let r2 = hub.api.push(&dev, &batch(changes.clone())).await.reply();
    assert_eq!(r2.rejected, r.rejected);
    assert_eq!(hub.storage.quarantined(dev.id).unwrap().len(), 3);
    // A different change under an acknowledged seq is refused and quarantined too.
    let impostor = check_in(2);
    let r3 = hub.api.push(&dev, &batch(vec![impostor.clone()])).await.reply();
    assert_eq!(r3.acked_through_seq, 5);
    assert_eq!(r3.rejected.len(), 1);
    assert!(r3.rejected[0].reason.contains("seq 2"), "{}", r3.rejected[0].reason);
    assert_eq!(hub.storage.quarantined(dev.id).unwrap().len(), 4);
    let all = hub.storage.quarantine().unwrap();
    assert!(all.iter().any(|q| q.change_id == impostor.change_id && q.seq == 2 && q.device_id == dev.id));
    hub.stop().await;
}

async fn an_erase_scrubs_every_earlier_payload_of_the_record(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let name = "Zebedee Quartzfeather";
    let family = Uuid::now_v7();
    let mut first = family_payload(family, name);
    let second = {
        first["contact"]["phone"] = json!("07700 900456");
        first.clone()
    };
    let mut invalid = change(3, entity::FAMILY, family, Op::Upsert, family_payload(family, name));
    invalid.schema_version = 99;
    let changes = vec![
        change(1, entity::FAMILY, family, Op::Upsert, family_payload(family, name)),
        change(2, entity::FAMILY, family, Op::Upsert, second),
        invalid,
        check_in(4),
    ];
    let r = hub.api.push(&dev, &batch(changes)).await.reply();
    assert_eq!(r.rejected.len(), 1);
    assert!(planted(db, name) > 0, "the name is in the database before the erase");

    let tombstone =
        json!({"id": family, "reason": "erasure_requested", "removed_at": common::NOW, "removed_by": Uuid::now_v7()});
    let erase = change(5, entity::FAMILY, family, Op::Erase, tombstone.clone());
    let r = hub.api.push(&dev, &batch(vec![erase])).await.reply();
    assert_eq!(r.acked_through_seq, 5);
    assert!(r.rejected.is_empty());
    assert_eq!(hub.storage.centre_record(dev.centre, entity::FAMILY, family).unwrap(), Some(tombstone.clone()));
    for c in hub.storage.device_changes(dev.id).unwrap().iter().filter(|c| c.entity_id == family) {
        assert_eq!(c.payload, tombstone, "seq {} still holds the record", c.seq);
    }
    // The change rows stay, so a resend is still recognised.
    assert_eq!(hub.storage.device_changes(dev.id).unwrap().len(), 4);
    hub.stop().await;
    assert_eq!(planted(db, name), 0, "the name is still somewhere in the hub's database");
}

/// How many places the hub's database still holds `name`: for SQLite every byte of the file and
/// its write-ahead log, for PostgreSQL every JSON and text column.
fn planted(db: &TestDb, name: &str) -> usize {
    if db.is_postgres() {
        let needle = name.replace('\'', "''");
        let sql = format!(
            "SELECT (SELECT count(*) FROM changes WHERE payload::text LIKE '%{needle}%')
                  + (SELECT count(*) FROM quarantine WHERE change::text LIKE '%{needle}%' OR reason LIKE '%{needle}%')
                  + (SELECT count(*) FROM batches WHERE reply LIKE '%{needle}%')"
        );
        let n: i64 = db.pg_query(&sql)[0].get(0);
        n as usize
    } else {
        let bytes = db.sqlite_bytes();
        bytes.windows(name.len()).filter(|w| *w == name.as_bytes()).count()
    }
}

async fn tokens_are_checked_and_a_device_writes_only_its_own_changes(db: &TestDb) {
    let hub = Hub::start(db).await;
    let a = hub.device().await;
    let b = hub.device_in(a.centre).await;
    let body = serde_json::to_value(batch(check_ins(1, 1))).unwrap();

    let r = hub.api.post(&a.path("batches"), None, &body).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    let r = hub.api.post(&a.path("batches"), Some("not-a-token"), &body).await;
    assert_eq!(r.status, 401);
    let unknown = pops_hub::secret::new_token().unwrap();
    let r = hub.api.get(&a.path("status"), Some(&unknown)).await;
    assert_eq!(r.status, 401);
    let r = hub.api.get(&a.path("changes"), None).await;
    assert_eq!(r.status, 401);
    let r = hub.api.get("/v1/reference/price_list", None).await;
    assert_eq!(r.status, 401);

    // B's token on A's paths.
    let r = hub.api.post(&a.path("batches"), Some(&b.token), &body).await;
    assert_eq!(r.status, 403);
    assert_eq!(hub.api.get(&a.path("status"), Some(&b.token)).await.status, 403);
    assert_eq!(hub.api.get(&a.path("changes"), Some(&b.token)).await.status, 403);
    assert_eq!(hub.api.get("/v1/devices/not-a-uuid/status", Some(&b.token)).await.status, 403);
    assert_eq!(hub.storage.device_changes(a.id).unwrap().len(), 0);
    assert_eq!(hub.api.post(&a.path("batches"), Some(&a.token), &body).await.status, 200);
    hub.stop().await;
}

async fn a_revoked_device_is_told_so(db: &TestDb) {
    let hub = Hub::start(db).await;
    let a = hub.device().await;
    let b = hub.device_in(a.centre).await;
    hub.api.push(&a, &batch(check_ins(1, 1))).await.reply();
    hub.storage.revoke_device(a.id).unwrap();
    let r = hub.api.push(&a, &batch(check_ins(2, 2))).await;
    assert_eq!(r.status, 401);
    assert!(r.detail().contains("revoked by head office"), "{}", r.detail());
    let r = hub.api.get(&a.path("status"), Some(&a.token)).await;
    assert_eq!(r.status, 401);
    assert!(r.detail().contains("revoked by head office"));
    assert_eq!(hub.api.get(&b.path("status"), Some(&b.token)).await.status, 200, "the other device goes on");
    assert!(hub.storage.revoke_device(Uuid::now_v7()).is_err());
    hub.stop().await;
}

async fn bodies_may_be_gzip_and_are_capped_before_and_after_gunzip(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let json = serde_json::to_vec(&batch(check_ins(1, 3))).unwrap();
    let r = hub.api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Gzip(gzip(&json))).await;
    assert_eq!(r.reply().acked_through_seq, 3);

    // A "gzip bomb": a few kilobytes that unzip past the cap.
    let mut bomb_json = br#"{"batch_id":""#.to_vec();
    bomb_json.extend(std::iter::repeat_n(b'a', MAX_BODY_BYTES + 1));
    let bomb = gzip(&bomb_json);
    assert!(bomb.len() < 10_000);
    let r = hub.api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Gzip(bomb)).await;
    assert_eq!(r.status, 413, "{}", r.text());

    // Over the cap as sent, compressed or not.
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    let r = hub.api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Raw(big.clone())).await;
    assert_eq!(r.status, 413);
    let r = hub.api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Gzip(big)).await;
    assert_eq!(r.status, 413);

    let r = hub.api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Gzip(b"not gzip".to_vec())).await;
    assert_eq!(r.status, 400);
    assert!(r.detail().contains("gzip"));
    assert_eq!(hub.storage.acked_through(dev.id).unwrap(), 3);
    hub.stop().await;
}

async fn malformed_bodies_get_a_problem_that_never_repeats_them(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let post = |bytes: &[u8]| {
        let (api, dev, bytes) = (hub.api.clone(), dev.clone(), bytes.to_vec());
        async move { api.send(Method::POST, &dev.path("batches"), Some(&dev.token), Body::Raw(bytes)).await }
    };
    let r = post(b"{\"batch_id\": \"Wilhelmina").await;
    assert_eq!(r.status, 400);
    assert!(r.detail().contains("not valid JSON"), "{}", r.detail());
    let mut b = serde_json::to_value(batch(check_ins(1, 2))).unwrap();
    b["changes"][1]["entity_id"] = json!("Wilhelmina Oddsock");
    let r = post(&serde_json::to_vec(&b).unwrap()).await;
    assert_eq!(r.status, 400);
    assert!(r.detail().contains("changes[1].entity_id"), "{}", r.detail());
    assert!(!r.text().contains("Wilhelmina"), "{}", r.text());
    // Fields that disagree.
    let mut b = batch(check_ins(1, 2));
    b.last_seq = 5;
    let r = hub.api.push(&dev, &b).await;
    assert_eq!(r.status, 400);
    assert!(r.detail().contains("last_seq"), "{}", r.detail());
    let empty = Batch { batch_id: Uuid::now_v7(), first_seq: 1, last_seq: 0, changes: vec![] };
    assert_eq!(hub.api.push(&dev, &empty).await.status, 400);
    assert_eq!(hub.storage.acked_through(dev.id).unwrap(), 0);
    hub.stop().await;
}

async fn changes_page_through_the_centre_across_its_devices_only(db: &TestDb) {
    let hub = Hub::start(db).await;
    let a = hub.device().await;
    let b = hub.device_in(a.centre).await;
    let elsewhere = hub.device().await;
    let mut a_changes = check_ins(1, 3);
    a_changes[1].entity = "tuck_shop".into(); // quarantined: not in the restore
    hub.api.push(&a, &batch(a_changes.clone())).await.reply();
    let b_changes = check_ins(1, 2);
    hub.api.push(&b, &batch(b_changes.clone())).await.reply();
    hub.api.push(&elsewhere, &batch(check_ins(1, 2))).await.reply();

    let mut got = Vec::new();
    let mut after = 0;
    let mut pages = 0;
    loop {
        let r = hub.api.get(&format!("{}?after={after}&limit=2", a.path("changes")), Some(&a.token)).await;
        let page: ChangesPage = serde_json::from_slice(&r.body).unwrap();
        assert!(page.changes.len() <= 2);
        assert_eq!(page.total, 4, "every page counts the centre's stored changes, quarantined ones not");
        got.extend(page.changes.iter().map(|c| c.change_id));
        pages += 1;
        if !page.has_more {
            let end = hub.api.get(&format!("{}?after={}", a.path("changes"), page.next_after), Some(&a.token)).await;
            let end: ChangesPage = serde_json::from_slice(&end.body).unwrap();
            assert!(end.changes.is_empty() && !end.has_more && end.next_after == page.next_after);
            assert_eq!(end.total, 4, "the page past the end still counts them all");
            break;
        }
        assert!(page.next_after > after);
        after = page.next_after;
    }
    assert_eq!(pages, 2);
    let want = vec![a_changes[0].change_id, a_changes[2].change_id, b_changes[0].change_id, b_changes[1].change_id];
    assert_eq!(got, want, "the centre's stored changes, both devices, in the order stored");
    // Device B sees the same restore; the other centre sees only its own.
    let r = hub.api.get(&b.path("changes"), Some(&b.token)).await;
    let page: ChangesPage = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(page.changes.len(), 4);
    assert_eq!(page.changes[0], a_changes[0]);
    assert_eq!(page.total, 4);
    let r = hub.api.get(&elsewhere.path("changes"), Some(&elsewhere.token)).await;
    let page = serde_json::from_slice::<ChangesPage>(&r.body).unwrap();
    assert_eq!((page.changes.len(), page.total), (2, 2), "another centre's count is its own");
    // The count grows as the centre's devices send more.
    hub.api.push(&b, &batch(check_ins(3, 3))).await.reply();
    let r = hub.api.get(&format!("{}?after={after}&limit=1", a.path("changes")), Some(&a.token)).await;
    assert_eq!(serde_json::from_slice::<ChangesPage>(&r.body).unwrap().total, 5);

    for bad in ["limit=0", "limit=1001", "after=-1", "after=abc", "limit=2.5"] {
        let r = hub.api.get(&format!("{}?{bad}", a.path("changes")), Some(&a.token)).await;
        assert_eq!(r.status, 400, "{bad}");
    }
    let r = hub.api.get(&format!("{}?limit=1000", a.path("changes")), Some(&a.token)).await;
    assert_eq!(r.status, 200);
    hub.stop().await;
}

async fn reference_data_pages_through_each_import(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let items: Vec<_> = (0..250)
        .map(|i| json!({"id": format!("item-{i:03}"), "name": format!("Item {i}"), "price_pence": i}))
        .collect();
    assert_eq!(hub.storage.import_reference("price_list", items.clone()).unwrap(), 1);
    let page = |since: i64| {
        let (api, dev) = (hub.api.clone(), dev.clone());
        async move {
            let r = api.get(&format!("/v1/reference/price_list?since={since}"), Some(&dev.token)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            serde_json::from_slice::<ReferencePage>(&r.body).unwrap()
        }
    };
    let p1 = page(0).await;
    assert_eq!(p1.items.len(), 200);
    assert!(p1.has_more);
    assert_eq!(p1.items[0].key, "item-000");
    assert_eq!(p1.items[0].version, 1);
    let p2 = page(p1.next_since).await;
    assert_eq!(p2.items.len(), 50);
    assert!(!p2.has_more);
    let done = page(p2.next_since).await;
    assert!(done.items.is_empty() && !done.has_more && done.next_since == p2.next_since);

    // Version 2: item 7 dearer, item 9 gone, the rest the same.
    let mut v2 = items.clone();
    v2[7]["price_pence"] = json!(999);
    v2.remove(9);
    assert_eq!(hub.storage.import_reference("price_list", v2).unwrap(), 2);
    let p3 = page(p2.next_since).await;
    assert_eq!(p3.items.len(), 2, "only what changed: {:?}", p3.items);
    assert_eq!(p3.items[0].key, "item-007");
    assert_eq!(p3.items[0].version, 2);
    assert_eq!(p3.items[0].item.as_ref().unwrap()["price_pence"], json!(999));
    assert_eq!(p3.items[1].key, "item-009");
    assert_eq!(p3.items[1].item, None);

    // A bad item refuses the whole import.
    let mut bad = items.clone();
    bad[3]["price_pence"] = json!(-1);
    let e = hub.storage.import_reference("price_list", bad).unwrap_err().to_string();
    assert!(e.contains("item 4"), "{e}");
    assert!(page(p3.next_since).await.items.is_empty());
    // Other datasets are empty, unknown ones are not there, the cursor must be a number.
    let r = hub.api.get("/v1/reference/session_slots", Some(&dev.token)).await;
    assert_eq!(serde_json::from_slice::<ReferencePage>(&r.body).unwrap().items.len(), 0);
    assert_eq!(hub.api.get("/v1/reference/menu", Some(&dev.token)).await.status, 404);
    assert_eq!(hub.api.get("/v1/reference/price_list?since=-3", Some(&dev.token)).await.status, 400);
    hub.stop().await;
}

async fn unknown_addresses_and_methods_get_problems(db: &TestDb) {
    let hub = Hub::start(db).await;
    let r = hub.api.get("/v1/nothing", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.problem().status, 404);
    let r = hub.api.send(Method::DELETE, "/v1/health", None, Body::None).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET,HEAD"));
    let r = hub.api.get("/v1/enrol", None).await;
    assert_eq!(r.status, 405);
    hub.stop().await;
}

async fn an_unreachable_database_answers_503_with_retry_after(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let _lock = if db.is_postgres() {
        db.pg_drop();
        None
    } else {
        // Another process holds the file's write lock for longer than the hub waits.
        let path = db.url.trim_start_matches("sqlite://").to_string();
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        Some(conn)
    };
    let r = hub.api.get(&dev.path("status"), Some(&dev.token)).await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    hub.stop().await;
}

async fn bulk_insert_is_a_plain_insert_of_the_same_rows(db: &TestDb) {
    let hub = Hub::start(db).await;
    let dev = hub.device().await;
    let changes = check_ins(1, 1200);
    hub.storage.bulk_insert_changes(dev.id, &changes).unwrap();
    assert_eq!(hub.storage.device_changes(dev.id).unwrap(), changes);
    for c in [&changes[0], &changes[700], &changes[1199]] {
        let record = hub.storage.centre_record(dev.centre, entity::CHECK_IN, c.entity_id).unwrap();
        assert_eq!(record.as_ref(), Some(&c.payload), "and the record beside each change");
    }
    assert_eq!(hub.storage.acked_through(dev.id).unwrap(), 0, "no checks, no high-water mark");
    assert!(hub.storage.bulk_insert_changes(Uuid::now_v7(), &changes[..1]).is_err(), "an unknown device");
    hub.stop().await;
}

async fn a_request_in_flight_finishes_after_the_shutdown_signal(db: &TestDb) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut hub = Hub::start(db).await;
    let dev = hub.device().await;
    let body = serde_json::to_vec(&batch(check_ins(1, 50))).unwrap();
    let path = dev.path("batches");
    let mut conn = tokio::net::TcpStream::connect(hub.addr()).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        dev.token,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..body.len() / 2]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    hub.signal_stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // No new connections now...
    assert!(tokio::net::TcpStream::connect(hub.addr()).await.is_err(), "still accepting after the signal");
    // ...but the request half-sent before it is finished and answered.
    conn.write_all(&body[body.len() / 2..]).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let r = common::raw_reply("POST", &path, &raw);
    assert_eq!(r.reply().acked_through_seq, 50);
    let storage = hub.storage.clone();
    hub.stop().await;
    assert_eq!(storage.device_changes(dev.id).unwrap().len(), 50);
}

async fn a_database_from_a_newer_hub_is_refused_not_damaged(db: &TestDb) {
    let storage = pops_hub::open(&db.url).unwrap();
    let centre = storage.add_centre("HMP Example").unwrap();
    drop(storage);
    // Opening again runs no step twice.
    assert_eq!(pops_hub::open(&db.url).unwrap().centres().unwrap().len(), 1);
    let sqlite_path = db.url.trim_start_matches("sqlite://").to_string();
    let current: i64 = if db.is_postgres() {
        db.pg_query("SELECT version FROM hub_schema")[0].get(0)
    } else {
        rusqlite::Connection::open(&sqlite_path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
    };
    if db.is_postgres() {
        db.pg_query("UPDATE hub_schema SET version = 99");
    } else {
        let conn = rusqlite::Connection::open(&sqlite_path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let e = pops_hub::open(&db.url).err().expect("a newer schema is refused").to_string();
    assert!(e.contains("newer"), "{e}");
    if db.is_postgres() {
        db.pg_query(&format!("UPDATE hub_schema SET version = {current}"));
    } else {
        let conn = rusqlite::Connection::open(&sqlite_path).unwrap();
        conn.pragma_update(None, "user_version", current).unwrap();
    }
    assert_eq!(pops_hub::open(&db.url).unwrap().centres().unwrap()[0].id, centre, "nothing was lost");
}

/// The contract check itself: a body or status the document does not allow fails the test.
#[test]
fn the_contract_check_refuses_what_sync_yaml_does_not_allow() {
    let c = common::contract::contract();
    let mut json = reqwest::header::HeaderMap::new();
    json.insert("content-type", "application/json".parse().unwrap());
    let mut problem = reqwest::header::HeaderMap::new();
    problem.insert("content-type", "application/problem+json".parse().unwrap());
    let path = format!("/v1/devices/{}/status", Uuid::now_v7());
    c.check("GET", &path, 200, &json, br#"{"acked_through_seq": 3}"#);
    let fails = |f: Box<dyn FnOnce() + std::panic::UnwindSafe>| std::panic::catch_unwind(f).is_err();
    let (p, j, pr) = (path.clone(), json.clone(), problem.clone());
    assert!(fails(Box::new(move || c.check("GET", &p, 200, &j, br#"{"acked_through_seq": -1}"#))));
    let (p, j) = (path.clone(), json.clone());
    assert!(fails(Box::new(move || c.check("GET", &p, 418, &j, b"{}"))), "an undocumented status");
    let p = path.clone();
    assert!(fails(Box::new(move || c.check("GET", &p, 401, &pr, br#"{"title": "x"}"#))), "a problem without type");
    assert!(fails(Box::new(move || c.check("GET", &path, 401, &json, br#"{"type":"a","title":"b","status":401}"#))));
    let batch_reply = br#"{"acked_through_seq": 1, "rejected": [], "server_time": "yesterday"}"#;
    let mut j = reqwest::header::HeaderMap::new();
    j.insert("content-type", "application/json".parse().unwrap());
    let p = format!("/v1/devices/{}/batches", Uuid::now_v7());
    assert!(fails(Box::new(move || c.check("POST", &p, 200, &j, batch_reply))), "formats are checked");
}
