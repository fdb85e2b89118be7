//! Benchmark of sync (issue 4), all on 127.0.0.1, all figures from one run:
//! 1. 100,000 changes pushed by the worker from a laptop's SQLCipher store to a hub on SQLite,
//!    against a bulk insert of the same rows straight into a hub database. Target: at most 2×.
//! 2. The bytes the laptop sent (counted by a proxy on the wire, HTTP headers included) against the
//!    changes' raw JSON. Target: at most 0.3.
//! 3. Twelve laptops sending at once into a hub on PostgreSQL (`POPS_TEST_POSTGRES_URL`, which
//!    `cargo xtask bench` starts): changes per second.
//!
//! `POPS_BENCH_CHANGES` sets the size of the first run (default 100000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Hub, Laptop, drained};
use pops_proxy::FaultProxy;
use pops_store::outbox;
use pops_sync::{SyncConfig, Syncer};
use std::time::Instant;

fn main() {
    let n: usize = std::env::var("POPS_BENCH_CHANGES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    common::logs(); // POPS_TEST_LOG=info shows each batch

    // 1 and 2: one laptop, one hub on SQLite, a counting proxy between them.
    let hub = Hub::new(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let proxy = rt.block_on(FaultProxy::start(([127, 0, 0, 1], hub.port).into()));
    let mut laptop = Laptop::new(dir.path());
    let syncer = Syncer::start(SyncConfig::default());
    syncer.attach(laptop.opener());
    syncer.enrol(&proxy.url(), &hub.code()).unwrap();
    drained(&laptop);
    let before = laptop.outbox().len() as i64;
    let bytes_before = proxy.bytes_up();
    eprintln!("writing {n} check-ins…");
    laptop.check_ins(n);
    let changes = laptop.store.read(|c| outbox::changes_after(c, before, i64::MAX)).unwrap();
    let raw_json: usize = changes.iter().map(|c| serde_json::to_vec(c).unwrap().len()).sum();

    let start = Instant::now();
    syncer.send_now();
    drained(&laptop);
    let push = start.elapsed();
    let sent = proxy.bytes_up() - bytes_before;
    drop(syncer);

    // The baseline is the median of three bulk inserts, each into a new hub database: one run of
    // it varies by a fifth from run to run on this machine.
    let mut bulks: Vec<_> = (0..3)
        .map(|_| {
            let bulk_dir = tempfile::tempdir().unwrap();
            let bulk_hub = common::open_hub(bulk_dir.path());
            let centre = bulk_hub.add_centre("Bulk").unwrap();
            let code = bulk_hub.new_enrolment_code(centre).unwrap();
            let device = bulk_hub.enrol(&code, chrono::Utc::now()).unwrap().unwrap().device_id;
            let start = Instant::now();
            for chunk in changes.chunks(500) {
                bulk_hub.bulk_insert_changes(device, chunk).unwrap();
            }
            start.elapsed()
        })
        .collect();
    bulks.sort();
    let bulk = bulks[1];

    // Where the time goes: the hub's batch transaction alone, on the same rows, no HTTP, no laptop.
    let direct_dir = tempfile::tempdir().unwrap();
    let direct_hub = common::open_hub(direct_dir.path());
    let centre = direct_hub.add_centre("Direct").unwrap();
    let code = direct_hub.new_enrolment_code(centre).unwrap();
    let device = direct_hub.enrol(&code, chrono::Utc::now()).unwrap().unwrap().device_id;
    let mut renumbered = changes.clone();
    for (i, c) in renumbered.iter_mut().enumerate() {
        c.seq = i as i64 + 1;
    }
    // Each batch as the hub reads it off the wire, and its hash, made before the clock starts.
    let batches: Vec<_> = renumbered
        .chunks(500)
        .map(|chunk| {
            let batch = pops_domain::sync::Batch {
                batch_id: uuid::Uuid::now_v7(),
                first_seq: chunk[0].seq,
                last_seq: chunk[chunk.len() - 1].seq,
                changes: chunk.to_vec(),
            };
            let hash = pops_hub::secret::batch_hash(&batch).unwrap();
            (pops_domain::sync::RawBatch::from_batch(&batch).unwrap(), pops_hub::storage::BatchHash::ready(hash))
        })
        .collect();
    let start = Instant::now();
    for (batch, hash) in &batches {
        let received = pops_hub::storage::Received { batch, hash };
        direct_hub.push_received(device, &received, chrono::Utc::now()).unwrap();
    }
    let direct = start.elapsed();

    let push_ratio = push.as_secs_f64() / bulk.as_secs_f64();
    let byte_ratio = sent as f64 / raw_json as f64;
    println!(
        "push {n} changes through the worker to a SQLite hub: {:.2} s ({:.0} changes/s)",
        push.as_secs_f64(),
        n as f64 / push.as_secs_f64()
    );
    println!(
        "bulk insert of the same rows into a SQLite hub:   {:.2} s (median of {:.2}, {:.2}, {:.2})",
        bulk.as_secs_f64(),
        bulks[0].as_secs_f64(),
        bulks[1].as_secs_f64(),
        bulks[2].as_secs_f64()
    );
    println!("the hub's batch transactions alone, same rows:  {:.2} s", direct.as_secs_f64());
    println!("push / bulk insert: {push_ratio:.2}× (target ≤ 2×)");
    println!("bytes on the wire: {sent} against {raw_json} bytes of raw JSON: {byte_ratio:.3} (target ≤ 0.3)");

    // 3: twelve laptops into PostgreSQL.
    let Ok(url) = std::env::var("POPS_TEST_POSTGRES_URL") else {
        println!(
            "twelve laptops into PostgreSQL: skipped (POPS_TEST_POSTGRES_URL is not set; `cargo xtask bench` sets it)"
        );
        return;
    };
    let per_laptop: usize = (n / 20).max(100);
    let pg = pops_hub::open(&url).unwrap();
    let pg_hub = Hub::serve(pg, 0);
    let dirs: Vec<_> = (0..12).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut laptops: Vec<_> = dirs.iter().map(|d| Laptop::new(d.path())).collect();
    let syncers: Vec<_> = laptops
        .iter()
        .map(|l| {
            let s = Syncer::start(SyncConfig::default());
            s.attach(l.opener());
            s.enrol(&pg_hub.url(), &pg_hub.code()).unwrap();
            s
        })
        .collect();
    laptops.iter().for_each(|l| {
        drained(l);
    });
    let before: usize = laptops.iter().map(|l| l.outbox().len()).sum();
    for laptop in &mut laptops {
        laptop.check_ins(per_laptop);
    }
    let total: usize = laptops.iter().map(|l| l.outbox().len()).sum::<usize>() - before;
    let start = Instant::now();
    syncers.iter().for_each(Syncer::send_now);
    laptops.iter().for_each(|l| {
        drained(l);
    });
    let took = start.elapsed();
    println!(
        "twelve laptops at once into PostgreSQL: {total} changes in {:.2} s = {:.0} changes/s",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
}
