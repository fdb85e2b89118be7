//! The worker: one thread, one single-threaded tokio runtime, one store connection of its own.
//! It waits for a command or the next due time, then runs a *cycle*: ask the hub how far it got
//! (after every attach), send the outbox in batches, carry on with a restore from head office when
//! one is under way, pull reference data when due. A failure is
//! kept as the last error in plain words and retried with backoff; a refused token blocks until
//! the device is enrolled again.

use crate::address::HubAddress;
use crate::client::{Failure, HubClient, Pushed};
use crate::error::REVOKED;
use crate::schedule;
use crate::{LiveStatus, Opener, RestoreError, SyncConfig, SyncError};
use chrono::{DateTime, NaiveTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use pops_domain::sync::{MAX_BATCH_CHANGES, MAX_BATCH_JSON_BYTES, MAX_CHANGES_PAGE, dataset};
use pops_store::restore::{self, RestoreProgress};
use pops_store::sync::{self as stored, Hub, PendingBatch};
use pops_store::{Store, outbox};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, sleep_until};
use uuid::Uuid;

pub(crate) enum Command {
    Attach(Opener),
    Detach,
    SendNow,
    Changed,
    Enrol {
        hub_url: String,
        code: String,
        /// Who asked (for the audit entry).
        by: Option<Uuid>,
        reply: std::sync::mpsc::SyncSender<Result<(), SyncError>>,
    },
    Restore {
        started_by: Uuid,
        reply: std::sync::mpsc::SyncSender<Result<RestoreProgress, RestoreError>>,
    },
    Shutdown,
}

#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// Bytes of a batch's JSON besides its changes: `{"batch_id":"…","first_seq":…,"last_seq":…,"changes":[]}`.
const ENVELOPE_BYTES: usize = 128;

pub(crate) struct Worker {
    config: SyncConfig,
    client: Result<HubClient, SyncError>,
    live: Arc<Mutex<LiveStatus>>,
    store: Option<Store>,
    /// Ask the hub how far it got before sending (after every attach and enrolment).
    need_status: bool,
    /// Failed cycles in a row.
    failures: u32,
    /// The hub's `Retry-After`: no request before this.
    not_before: Option<Instant>,
    next_attempt: Option<Instant>,
    /// Pull reference data in the next cycle even if the last pull is recent.
    force_reference: bool,
    /// The nightly time in use: the centre's setting, read at each cycle, else the config's.
    nightly_at: NaiveTime,
    next_nightly: DateTime<Utc>,
    /// Changes per batch: halved by each 413.
    batch_limit: usize,
    /// Changes per page of a restore: halved by each reply too large to read.
    restore_limit: i64,
    rng: StdRng,
}

fn instant_at(t: DateTime<Utc>) -> Instant {
    Instant::now() + (t - Utc::now()).to_std().unwrap_or_default()
}

fn time_at(i: Instant) -> DateTime<Utc> {
    let ahead = i.saturating_duration_since(Instant::now());
    Utc::now() + chrono::Duration::from_std(ahead).unwrap_or_default()
}

fn gzip(json: &[u8]) -> Result<Vec<u8>, SyncError> {
    // The fastest level: a batch of check-ins still shrinks to about a thirtieth (the changes repeat
    // their field names and ids), and the default level costs six times the time for a few percent.
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 16), Compression::fast());
    encoder.write_all(json).map_err(|_| SyncError::Setup("a batch could not be compressed".into()))?;
    encoder.finish().map_err(|_| SyncError::Setup("a batch could not be compressed".into()))
}

impl Worker {
    pub fn new(config: SyncConfig, live: Arc<Mutex<LiveStatus>>) -> Worker {
        let client = HubClient::new(&config);
        if let Err(e) = &client {
            tracing::error!(error = %e, "sync cannot start its HTTPS client");
        }
        let nightly_at = config.nightly_at;
        let next_nightly = schedule::next_nightly(Utc::now(), nightly_at);
        let restore_limit = config.restore_page.clamp(1, MAX_CHANGES_PAGE);
        Worker {
            config,
            client,
            live,
            store: None,
            need_status: true,
            failures: 0,
            not_before: None,
            next_attempt: None,
            force_reference: false,
            nightly_at,
            next_nightly,
            batch_limit: MAX_BATCH_CHANGES,
            restore_limit,
            rng: StdRng::from_os_rng(),
        }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, LiveStatus> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self) {
        let next = self.next_attempt.map(time_at);
        let attached = self.store.is_some();
        let failures = self.failures;
        let mut live = self.live();
        live.attached = attached;
        live.next_attempt_at = next;
        live.failures = failures;
    }

    pub async fn run(mut self, mut rx: UnboundedReceiver<Command>) {
        loop {
            self.publish();
            enum Event {
                Command(Option<Command>),
                Due,
            }
            let event = match self.next_attempt {
                Some(at) => tokio::select! {
                    biased;
                    cmd = rx.recv() => Event::Command(cmd),
                    () = sleep_until(at) => Event::Due,
                },
                None => Event::Command(rx.recv().await),
            };
            let flow = match event {
                Event::Command(Some(cmd)) => self.handle(cmd).await,
                Event::Command(None) => Flow::Stop,
                Event::Due => self.attempt(&mut rx).await,
            };
            if flow == Flow::Stop {
                break;
            }
        }
        self.store = None;
        self.next_attempt = None;
        self.publish();
        tracing::info!("sync worker stopped");
    }

    async fn handle(&mut self, cmd: Command) -> Flow {
        let now = Instant::now();
        match cmd {
            Command::Attach(opener) => {
                // The old connection closes before the new one opens.
                self.store = None;
                match opener() {
                    Ok(store) => {
                        match store.read(restore::progress) {
                            Ok(progress) => self.live().restore = progress,
                            Err(e) => tracing::warn!(error = %e, "could not read the restore's progress"),
                        }
                        self.store = Some(store);
                        self.need_status = true;
                        self.failures = 0;
                        self.batch_limit = MAX_BATCH_CHANGES;
                        self.next_attempt = Some(self.not_before.map_or(now, |nb| nb.max(now)));
                        self.live().problem = None;
                        tracing::info!("sync attached to the store");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sync could not open the store");
                        self.live().problem = Some(SyncError::from(e).to_string());
                        self.next_attempt = None;
                    }
                }
            }
            Command::Detach => {
                self.store = None;
                self.next_attempt = None;
                tracing::info!("sync detached from the store");
            }
            Command::SendNow => {
                if self.store.is_some() {
                    self.force_reference = true;
                    self.next_attempt = Some(self.not_before.map_or(now, |nb| nb.max(now)));
                }
            }
            Command::Changed => {
                // While backing off after a failure, the backoff decides; otherwise soon, once
                // for a burst of changes.
                if self.store.is_some() && self.failures == 0 {
                    let soon = now + self.config.change_debounce;
                    self.next_attempt = Some(self.next_attempt.map_or(soon, |t| t.min(soon)));
                }
            }
            Command::Restore { started_by, reply } => {
                let result = self.begin_restore(started_by);
                if let Err(e) = &result {
                    tracing::info!(error = ?e, "restore did not start");
                }
                let _ = reply.send(result);
            }
            Command::Enrol { hub_url, code, by, reply } => {
                let result = self.enrol(&hub_url, &code, by).await;
                if let Err(e) = &result {
                    tracing::info!(error = ?e, "enrolment did not succeed");
                }
                let _ = reply.send(result);
            }
            Command::Shutdown => return Flow::Stop,
        }
        Flow::Go
    }

    async fn enrol(&mut self, hub_url: &str, code: &str, by: Option<Uuid>) -> Result<(), SyncError> {
        let hub = HubAddress::parse(hub_url)?;
        let code = code.trim();
        if code.is_empty() {
            return Err(SyncError::NoCode);
        }
        let client = self.client.clone()?;
        if self.store.is_none() {
            return Err(SyncError::NotSignedIn);
        }
        let enrolment = client.enrol(&hub, code).await.map_err(|f| f.error)?;
        let store = self.store.as_mut().ok_or(SyncError::NotSignedIn)?;
        store.write(by, Utc::now(), |w| stored::save_enrolment(w, hub.as_str(), &enrolment))?;
        tracing::info!(device = %enrolment.device_id, "enrolled with head office");
        self.need_status = true;
        self.failures = 0;
        self.not_before = None;
        self.batch_limit = MAX_BATCH_CHANGES;
        self.force_reference = true;
        self.next_attempt = Some(Instant::now());
        self.live().hub_reachable = Some(true);
        Ok(())
    }

    /// Records the restore as started (or finds the one under way) and runs a cycle at once.
    fn begin_restore(&mut self, started_by: Uuid) -> Result<RestoreProgress, RestoreError> {
        let store = self.store.as_mut().ok_or(SyncError::NotSignedIn)?;
        let progress = store.write(Some(started_by), Utc::now(), restore::begin).map_err(|e| match e {
            pops_store::Error::Conflict(words) => RestoreError::Refused(words),
            other => RestoreError::Sync(SyncError::from(other)),
        })?;
        tracing::info!(after = progress.after, pages = progress.pages, "restore from head office started");
        self.live().restore = Some(progress.clone());
        self.failures = 0;
        self.restore_limit = self.config.restore_page.clamp(1, MAX_CHANGES_PAGE);
        let now = Instant::now();
        self.next_attempt = Some(self.not_before.map_or(now, |nb| nb.max(now)));
        Ok(progress)
    }

    /// Runs one cycle, but gives way to a command that ends it (shutdown, detach, a new attach):
    /// the request in flight is abandoned, which is safe because nothing counts as acknowledged
    /// until the hub's reply is committed, and the pending batch is sent again as it was.
    async fn attempt(&mut self, rx: &mut UnboundedReceiver<Command>) -> Flow {
        self.next_attempt = None;
        let mut store = match self.store.take() {
            Some(s) => s,
            None => return Flow::Go,
        };
        self.live().sending = true;
        let mut later = Vec::new();
        let mut interrupt = None;
        let finished = {
            let cycle = self.cycle(&mut store);
            tokio::pin!(cycle);
            loop {
                tokio::select! {
                    biased;
                    () = &mut cycle => break true,
                    cmd = rx.recv() => match cmd {
                        Some(c @ (Command::SendNow | Command::Changed | Command::Enrol { .. })) => later.push(c),
                        other => {
                            interrupt = Some(other);
                            break false;
                        }
                    },
                }
            }
        };
        self.store = Some(store);
        {
            // One update, so a reader never sees the cycle ended without its outcome.
            let next = self.next_attempt.map(time_at);
            let failures = self.failures;
            let mut live = self.live();
            live.sending = false;
            live.restoring = false;
            live.attempts += 1;
            live.next_attempt_at = next;
            live.failures = failures;
        }
        if !finished {
            tracing::info!("sync cycle interrupted; anything in flight is sent again later");
        }
        for cmd in later {
            self.publish();
            if self.handle(cmd).await == Flow::Stop {
                return Flow::Stop;
            }
        }
        match interrupt {
            None => Flow::Go,
            Some(None) => Flow::Stop,
            Some(Some(cmd)) => self.handle(cmd).await,
        }
    }

    /// The centre's nightly time as the manager last saved it (read at each cycle, so a change
    /// needs no restart), else the config's.
    fn follow_nightly_setting(&mut self, store: &Store, now: DateTime<Utc>) {
        let at = match store.read(pops_store::centre::nightly_at) {
            Ok(saved) => saved.as_deref().and_then(schedule::parse_clock).unwrap_or(self.config.nightly_at),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the nightly sync time; keeping the one in use");
                self.nightly_at
            }
        };
        if at != self.nightly_at {
            self.nightly_at = at;
            self.next_nightly = schedule::next_nightly(now, at);
            tracing::info!(nightly_at = %at.format("%H:%M"), "nightly sync time changed");
        }
    }

    async fn cycle(&mut self, store: &mut Store) {
        let now = Utc::now();
        self.follow_nightly_setting(store, now);
        if now >= self.next_nightly {
            self.force_reference = true;
            self.next_nightly = schedule::next_nightly(now, self.nightly_at);
        }
        match self.exchange(store).await {
            Ok(Some(hub)) => {
                self.failures = 0;
                self.not_before = None;
                self.force_reference = false;
                self.live().hub_reachable = Some(true);
                let reference_due = hub.last_reference_at.map_or(Utc::now(), |t| {
                    t + chrono::Duration::from_std(self.config.reference_every).unwrap_or_default()
                });
                self.next_attempt = Some(instant_at(reference_due.min(self.next_nightly)));
            }
            // Not enrolled, or blocked: nothing to do until an enrolment.
            Ok(None) => self.next_attempt = None,
            Err(f) => self.failed(store, f),
        }
    }

    fn failed(&mut self, store: &mut Store, f: Failure) {
        self.failures = self.failures.saturating_add(1);
        if let Some(answered) = f.error.hub_answered() {
            self.live().hub_reachable = Some(answered);
        }
        let words = f.error.to_string();
        if f.error == SyncError::Revoked {
            tracing::warn!("head office refused this device's token; sync stops until enrolled again");
            if let Err(e) = store.write(None, Utc::now(), |w| stored::block(w, REVOKED)) {
                tracing::error!(error = %e, "could not record the refusal");
            }
            self.next_attempt = None;
            return;
        }
        if let Err(e) = store.write(None, Utc::now(), |w| stored::record_error(w, &words)) {
            tracing::error!(error = %e, "could not record the sync error");
        }
        let cap = schedule::cap_at(Utc::now(), self.config.day_cap, self.config.night_cap);
        let mut delay = schedule::backoff(self.failures - 1, self.config.backoff_base, cap, &mut self.rng);
        if let Some(wait) = f.retry_after {
            self.not_before = Some(Instant::now() + wait);
            delay = delay.max(wait);
        }
        tracing::info!(failures = self.failures, delay_ms = delay.as_millis() as u64, error = ?f.error, "sync failed; will retry");
        self.next_attempt = Some(Instant::now() + delay);
    }

    /// One exchange with the hub. Answers the enrolment as it stands after it, or `None` when
    /// there is nothing to do (not enrolled, or blocked).
    async fn exchange(&mut self, store: &mut Store) -> Result<Option<Hub>, Failure> {
        let client = self.client.clone()?;
        let Some(hub) = store.read(stored::hub)? else { return Ok(None) };
        if hub.blocked {
            return Ok(None);
        }
        let address = HubAddress::parse(&hub.url)?;
        store.write(None, Utc::now(), stored::record_attempt)?;
        if self.failures > 0 {
            client.health(&address).await?;
            self.live().hub_reachable = Some(true);
        }
        if self.need_status {
            let status = client.status(&address, hub.device_id, &hub.token).await?;
            let hub_has = status.acked_through_seq;
            // The hub holds the batch whose reply was lost (a crash before it was committed here):
            // that batch goes again as it was, and the hub answers with the reply it stored, so the
            // changes it rejected are quarantined here too. Otherwise the hub's word is taken.
            let lost_reply = hub.pending.is_some_and(|p| {
                p.first_seq == hub.acked_through_seq + 1 && (p.first_seq..=p.last_seq).contains(&hub_has)
            });
            let through = if lost_reply { hub.acked_through_seq } else { hub_has };
            let acked = store.write(None, Utc::now(), |w| stored::catch_up(w, through))?;
            tracing::info!(hub_acked_through = hub_has, newly_acked = acked, lost_reply, "hub status");
            self.need_status = false;
        }
        let mut sent = self.send_all(&client, &address, store).await?;
        if store.read(restore::restoring)? {
            self.restore_pages(&client, &address, &hub, store).await?;
            // Finishing may have changed this laptop's own set-up records: send those now.
            sent += self.send_all(&client, &address, store).await?;
        }
        let due = self.force_reference
            || hub
                .last_reference_at
                .is_none_or(|t| (Utc::now() - t).to_std().unwrap_or_default() >= self.config.reference_every);
        if due {
            pull_reference(&client, &address, &hub, store).await?;
        }
        if sent == 0 {
            store.write(None, Utc::now(), stored::clear_error)?;
        }
        Ok(store.read(stored::hub)?)
    }

    /// Fetches and applies the pages of the restore under way, each page and its cursor in one local
    /// transaction, until the last page finishes it. A failure leaves the cursor where the last
    /// committed page put it, so the next try (or the next run) carries on from there.
    async fn restore_pages(
        &mut self,
        client: &HubClient,
        address: &HubAddress,
        hub: &Hub,
        store: &mut Store,
    ) -> Result<(), Failure> {
        self.live().restoring = true;
        loop {
            let Some(p) = store.read(restore::progress)? else { return Ok(()) };
            if p.finished() {
                self.live().restore = Some(p);
                return Ok(());
            }
            let page = match client.changes(address, hub.device_id, &hub.token, p.after, self.restore_limit).await {
                Ok(page) => page,
                Err(f) => {
                    if f.error == SyncError::BadReply && self.restore_limit > 1 {
                        // Perhaps a page too large to read: ask for smaller ones.
                        self.restore_limit = (self.restore_limit / 2).max(1);
                        tracing::info!(restore_limit = self.restore_limit, "restore page unreadable; halving");
                    }
                    return Err(f);
                }
            };
            let done = store.write(Some(p.started_by), Utc::now(), |w| restore::apply_page(w, p.after, &page))?;
            for s in &done.problems {
                tracing::warn!(
                    change_id = %s.change_id,
                    entity_id = %s.entity_id,
                    reason = s.reason.as_str(),
                    "restored change skipped"
                );
            }
            tracing::info!(
                after = p.after,
                next_after = page.next_after,
                applied = done.applied,
                skipped = done.skipped,
                total = page.total,
                "restore page applied"
            );
            let finished = done.finished;
            let progress = done.progress;
            if finished {
                tracing::info!(
                    applied = progress.applied,
                    skipped = progress.skipped,
                    total = progress.total,
                    pages = progress.pages,
                    "restore from head office finished"
                );
                // Page images written before the restore's later changes leave the log.
                match store.read(restore::checkpoint) {
                    Ok(true) => {}
                    Ok(false) => tracing::info!("the log is in use; the next checkpoint empties it"),
                    Err(e) => tracing::warn!(error = %e, "checkpoint after the restore failed"),
                }
            }
            self.live().restore = Some(progress);
            if finished {
                return Ok(());
            }
            // This laptop's own changes do not wait for a long restore to end.
            let last = store.read(stored::last_seq)?;
            if store.read(stored::hub)?.is_some_and(|h| h.acked_through_seq < last) {
                self.send_all(client, address, store).await?;
            }
        }
    }

    /// Sends every batch that is waiting, oldest first. Answers how many batches were acknowledged.
    async fn send_all(
        &mut self,
        client: &HubClient,
        address: &HubAddress,
        store: &mut Store,
    ) -> Result<usize, Failure> {
        let mut acked_batches = 0;
        let mut rewinds = 0;
        let mut ahead: Option<Ahead> = None;
        loop {
            let hub = store.read(stored::hub)?.ok_or(SyncError::NotEnrolled)?;
            let last = store.read(stored::last_seq)?;
            let from = hub.acked_through_seq + 1;
            if from > last {
                return Ok(acked_batches);
            }
            // The batch read while the last one was out, if the reply's commit made it the pending
            // one (see below); else the pending one, or a new one, built now.
            let (pending, body, json_bytes) = match ahead.take() {
                Some(a) if hub.pending == Some(a.pending) => (a.pending, a.body, a.json_bytes),
                _ => {
                    let (pending, json) = build_batch(store, &hub, from, last, self.batch_limit)?;
                    (pending, gzip(&json)?, json.len())
                }
            };
            let count = pending.last_seq - pending.first_seq + 1;
            tracing::info!(
                first_seq = pending.first_seq,
                last_seq = pending.last_seq,
                changes = count,
                json_bytes,
                gzip_bytes = body.len(),
                "sending batch"
            );
            // The request runs on the runtime's worker thread while this one reads and compresses
            // the batch after it (the hub's work and the laptop's overlap: two cores, not one).
            let request = {
                let (client, address, device, token) =
                    (client.clone(), address.clone(), hub.device_id, hub.token.clone());
                AbortOnDrop(tokio::spawn(async move { client.push(&address, device, &token, body).await }))
            };
            if pending.last_seq < last {
                ahead = look_ahead(store, pending.last_seq + 1, self.batch_limit);
            }
            let answer = request.finish().await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the request to the hub stopped");
                Err(Failure { error: SyncError::Unreachable, retry_after: None, went_out: true })
            });
            match answer {
                Ok(Pushed::Acked(reply)) => {
                    // The batch read ahead becomes the pending one in the same commit if the reply
                    // makes it next, no other connection has written since it was read
                    // (`data_version`; a family's removal may have scrubbed changes in it) and the
                    // reply rewrote no row either (`scrubbed`).
                    let recorded = store.write(None, Utc::now(), |w| {
                        let recorded = stored::record_reply(w, &pending, &reply)?;
                        if let Some(a) = &ahead {
                            let fits = a.pending.first_seq == reply.acked_through_seq + 1
                                && recorded.scrubbed == 0
                                && outbox::data_version(w.tx())? == a.data_version;
                            if fits {
                                stored::begin_batch(w, &a.pending)?;
                            }
                        }
                        Ok(recorded)
                    })?;
                    tracing::info!(
                        acked_through = reply.acked_through_seq,
                        newly_acked = recorded.acked,
                        quarantined = recorded.quarantined,
                        unknown_rejections = recorded.unknown_rejections,
                        "batch acknowledged"
                    );
                    if reply.acked_through_seq <= hub.acked_through_seq {
                        // The hub took the batch but did not move: sending it again would loop.
                        return Err(Failure { error: SyncError::BadReply, retry_after: None, went_out: true });
                    }
                    acked_batches += 1;
                }
                Ok(Pushed::Rewind { expected_seq }) => {
                    rewinds += 1;
                    tracing::info!(expected_seq, sent_from = pending.first_seq, "hub expects another seq");
                    if rewinds > 3 {
                        return Err(Failure { error: SyncError::BadReply, retry_after: None, went_out: true });
                    }
                    store.write(None, Utc::now(), |w| stored::rewind(w, expected_seq))?;
                }
                Ok(Pushed::TooLarge) => {
                    store.write(None, Utc::now(), stored::drop_batch)?;
                    if count <= 1 {
                        return Err(SyncError::TooLarge { seq: pending.first_seq }.into());
                    }
                    self.batch_limit = usize::try_from(count / 2).unwrap_or(1).max(1);
                    tracing::info!(batch_limit = self.batch_limit, "batch too large for the hub; halving");
                }
                Err(f) => {
                    if f.error == (SyncError::Refused { status: 400 }) {
                        // Refused as a whole, nothing stored: the next try is a new batch.
                        store.write(None, Utc::now(), stored::drop_batch)?;
                    } else if f.went_out {
                        store.write(None, Utc::now(), |w| stored::mark_sent(w, pending.last_seq))?;
                    }
                    return Err(f);
                }
            }
        }
    }
}

/// The batch to send from `from`: the pending one when it starts there (same id, same changes,
/// so the same body), else a new one of at most `limit` changes and [`MAX_BATCH_JSON_BYTES`] of
/// JSON, kept as pending before it goes out.
fn build_batch(
    store: &mut Store,
    hub: &Hub,
    from: i64,
    last: i64,
    limit: usize,
) -> Result<(PendingBatch, Vec<u8>), Failure> {
    // Each change's JSON comes straight from the stored text (`changes_json_after`), so a batch is
    // built without parsing or serialising a payload.
    if let Some(p) = hub.pending.filter(|p| p.first_seq == from && p.last_seq <= last) {
        let changes = store.read(|c| outbox::changes_json_after(c, from - 1, p.last_seq - from + 1))?;
        if numbered(from, &changes).is_ok() && changes.last().map(|(seq, _)| *seq) == Some(p.last_seq) {
            tracing::info!(first_seq = p.first_seq, last_seq = p.last_seq, "sending the pending batch again");
            return Ok((p, batch_json(&p, changes.iter().map(|(_, json)| json))));
        }
    }
    let (pending, json) = new_batch(store, from, limit)?;
    store.write(None, Utc::now(), |w| stored::begin_batch(w, &pending))?;
    Ok((pending, json))
}

/// A spawned task stopped when its handle is dropped: a cycle given up (the store locked, the
/// worker stopped) takes its request with it, as when the request was awaited in place.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn finish(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A batch put together ahead of its turn, not yet kept as pending: it goes out only if the commit
/// of the reply to the batch before it keeps it as pending (see `Worker::send_all`).
struct Ahead {
    pending: PendingBatch,
    body: Vec<u8>,
    json_bytes: usize,
    data_version: i64,
}

/// The batch from `from`, read and compressed ahead; `None` when there is none or it cannot be
/// read (it is then built in its turn, and any problem met there).
fn look_ahead(store: &Store, from: i64, limit: usize) -> Option<Ahead> {
    let data_version = store.read(outbox::data_version).ok()?;
    let (pending, json) = new_batch(store, from, limit).ok()?;
    let body = gzip(&json).ok()?;
    Some(Ahead { pending, json_bytes: json.len(), body, data_version })
}

/// A new batch from `from` of at most `limit` changes and [`MAX_BATCH_JSON_BYTES`] of JSON, and
/// its JSON; not yet kept as pending.
fn new_batch(store: &Store, from: i64, limit: usize) -> Result<(PendingBatch, Vec<u8>), Failure> {
    let limit = limit.clamp(1, MAX_BATCH_CHANGES);
    let mut changes = store.read(|c| outbox::changes_json_after(c, from - 1, limit as i64))?;
    let mut size = ENVELOPE_BYTES;
    let fits = changes
        .iter()
        .position(|(_, json)| {
            size += json.len() + 1;
            size > MAX_BATCH_JSON_BYTES
        })
        .unwrap_or(changes.len())
        .max(1);
    changes.truncate(fits);
    numbered(from, &changes).map_err(|e| SyncError::Store(format!("the outbox cannot be sent as it is: {e}")))?;
    let last_seq = from + changes.len() as i64 - 1;
    let pending = PendingBatch { batch_id: Uuid::now_v7(), first_seq: from, last_seq };
    Ok((pending, batch_json(&pending, changes.iter().map(|(_, json)| json))))
}

/// Whether `changes` are one to [`MAX_BATCH_CHANGES`] changes numbered `from`, `from + 1`, …: a
/// batch the hub will take (`Batch::check`).
fn numbered(from: i64, changes: &[(i64, Vec<u8>)]) -> Result<(), String> {
    if changes.is_empty() || changes.len() > MAX_BATCH_CHANGES {
        return Err(format!("a batch holds 1 to {MAX_BATCH_CHANGES} changes"));
    }
    for (i, (seq, _)) in changes.iter().enumerate() {
        if *seq != from + i as i64 {
            return Err(format!("change {} has seq {seq} where {} was expected", i + 1, from + i as i64));
        }
    }
    Ok(())
}

/// A batch's JSON (`Batch`'s fields, in its order) from its changes' JSON.
fn batch_json<'a>(batch: &PendingBatch, changes: impl Iterator<Item = &'a Vec<u8>> + Clone) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENVELOPE_BYTES + changes.clone().map(|c| c.len() + 1).sum::<usize>());
    out.extend_from_slice(
        format!(
            "{{\"batch_id\":\"{}\",\"first_seq\":{},\"last_seq\":{},\"changes\":[",
            batch.batch_id, batch.first_seq, batch.last_seq
        )
        .as_bytes(),
    );
    for (i, change) in changes.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(change);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Pulls every reference dataset page by page from its cursor; each page and its cursor are
/// applied in one local transaction. A page the store refuses stops the pull with its words.
async fn pull_reference(client: &HubClient, address: &HubAddress, hub: &Hub, store: &mut Store) -> Result<(), Failure> {
    for name in dataset::ALL {
        let mut pages = 0u32;
        loop {
            let since = store.read(|c| stored::reference_cursor(c, name))?;
            let Some(page) = client.reference(address, &hub.token, name, since).await? else {
                tracing::info!(dataset = name, "the hub does not offer this dataset");
                break;
            };
            pages += 1;
            if page.items.is_empty() && page.next_since == since {
                break;
            }
            let applied = store.write(None, Utc::now(), |w| stored::apply_reference_page(w, name, since, &page))?;
            tracing::info!(
                dataset = name,
                since,
                next_since = page.next_since,
                entries = applied,
                "reference page applied"
            );
            if !page.has_more || page.next_since == since || pages >= 100_000 {
                break;
            }
        }
    }
    store.write(None, Utc::now(), stored::record_reference_pull)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use pops_domain::sync::Batch;

    #[test]
    fn a_batch_put_together_from_its_encoded_changes_is_the_batch_as_json() {
        let changes: Vec<_> = (5..8)
            .map(|seq| pops_domain::change::Change {
                change_id: Uuid::now_v7(),
                seq,
                entity: "check_in".into(),
                entity_id: Uuid::now_v7(),
                op: pops_domain::change::Op::Upsert,
                occurred_at: "2026-11-25T10:00:00.000Z".into(),
                user_id: Uuid::now_v7(),
                schema_version: 8,
                payload: serde_json::json!({"name": "Zoë \"Z\" Nowak\n", "n": 2}),
            })
            .collect();
        let pending = PendingBatch { batch_id: Uuid::now_v7(), first_seq: 5, last_seq: 7 };
        let encoded: Vec<Vec<u8>> = changes.iter().map(|c| serde_json::to_vec(c).unwrap()).collect();
        let batch = Batch { batch_id: pending.batch_id, first_seq: 5, last_seq: 7, changes };
        assert_eq!(batch_json(&pending, encoded.iter()), serde_json::to_vec(&batch).unwrap());
    }
}
