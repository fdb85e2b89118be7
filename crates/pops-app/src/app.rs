//! The app's state (not set up, signed out, locked, unlocked) and every command, each checking the
//! one role table in `pops_domain::command` before it does anything.

use crate::api::*;
use crate::error::{Error, Result};
use crate::time;
use chrono::{DateTime, Utc};
use pops_domain::account::{self, Account, AddAccountInput, DisableAccountInput, SetAccountRoleInput};
use pops_domain::centre::{self, SetUpCentreInput, prison_options};
use pops_domain::command::{Command, access_table};
use pops_domain::desk::{
    self, CentreEvent, CloseFeedbackInput, Enquiry, Feedback, FeedbackItem, FeedbackList, FeedbackStatus,
    LogEnquiryInput, LogFeedbackInput, RecordEventInput, RespondToFeedbackInput,
};
use pops_domain::families::{
    self, Family, FamilyTombstone, RemoveFamilyInput, RenewConsentInput, SaveFamilyInput, SearchFamiliesInput,
};
use pops_domain::visits::{
    self, AddVisitsSessionInput, CancelVisitsSessionInput, CheckIn, CheckInPartyInput, CheckOutPartyInput,
    FinishRollCallInput, MarkRollCallInput, RecordVisitOutcomeInput, RetireSessionTemplateInput, RollCall,
    SaveSessionTemplateInput, SessionTemplate, TickWalkthroughInput, TodayView, VisitsSession, WalkthroughItem,
};
use pops_domain::{Problem, Role};
use pops_store::attempts::Attempts;
use pops_store::keyslots::{self, DEFAULT_KDF, KdfParams, KeySlots, WrappedKey};
use pops_store::restore::{self as restore_store, RestoreProgress};
use pops_store::{DATABASE_FILE, DbKey, Store, accounts, audit, centre as centre_store};
use pops_store::{desk as desk_store, families as families_store, sync as sync_store, visits as visits_store};
use pops_sync::{HubAddress, RestoreError, SyncError, Syncer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Wrong PINs allowed before the full passphrase is needed.
pub const PIN_ATTEMPTS: i32 = 5;

/// How the app is started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the database and its key slots live.
    pub data_dir: PathBuf,
    /// Overrides the centre's idle-lock setting (for training and for tests).
    pub idle_lock: Option<Duration>,
    /// The Argon2id cost of new key slots.
    pub kdf: KdfParams,
    /// Where CSV exports are written (the shell passes the person's Documents folder).
    pub export_dir: Option<PathBuf>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config { data_dir: data_dir.into(), idle_lock: None, kdf: DEFAULT_KDF, export_dir: None }
    }
}

struct Unlocked {
    store: Store,
    key: DbKey,
    user: SignedInUser,
    centre_id: Uuid,
    last_activity: Instant,
}

enum Session {
    SignedOut,
    Locked { user: SignedInUser, pin_key: WrappedKey, attempts_left: i32 },
    Unlocked(Box<Unlocked>),
}

struct Inner {
    slots: Option<KeySlots>,
    session: Session,
    /// From the centre's settings, read at each sign-in.
    idle_lock: Duration,
    /// The sync worker the shell started, if any (tests of the commands run without one).
    sync: Option<Arc<Syncer>>,
    /// The worker has its own connection to the database: from sign-in to sign-out, locked
    /// screen included (see ARCHITECTURE.md, "Sync goes on while the screen is locked").
    sync_attached: bool,
}

/// The whole app behind the desktop shell. Every method is one command.
pub struct App {
    config: Config,
    inner: Mutex<Inner>,
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn user_of(account: &Account) -> SignedInUser {
    SignedInUser {
        account_id: account.id,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        role: account.role,
    }
}

fn forbidden(role: Role) -> Error {
    Error::new(
        ErrorKind::Forbidden,
        format!("Your role ({}) cannot do this. Ask the centre manager if you need it.", role.label()),
    )
}

impl App {
    /// Reads the key slots file (not the database: that needs a passphrase). No sync with head
    /// office: see [`App::start_with_sync`].
    pub fn start(config: Config) -> Result<App> {
        Self::start_inner(config, None)
    }

    /// [`App::start`] with the sync worker the shell started at launch. The app attaches it after
    /// each sign-in (it opens its own connection with a copy of the key), keeps it attached while
    /// the screen is locked, detaches it at sign-out, and tells it about every change a command
    /// commits. The shell still owns its shutdown.
    pub fn start_with_sync(config: Config, sync: Arc<Syncer>) -> Result<App> {
        Self::start_inner(config, Some(sync))
    }

    fn start_inner(config: Config, sync: Option<Arc<Syncer>>) -> Result<App> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            tracing::error!(error = %e, "cannot create the data folder");
            Error::new(ErrorKind::Storage, "The app cannot create its data folder. Check the folder's permissions.")
        })?;
        let slots = KeySlots::load(&config.data_dir)?;
        let idle_lock =
            config.idle_lock.unwrap_or(Duration::from_secs(60 * centre_store::DEFAULT_IDLE_LOCK_MINUTES as u64));
        Ok(App {
            config,
            inner: Mutex::new(Inner { slots, session: Session::SignedOut, idle_lock, sync, sync_attached: false }),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the state as it was before that command: carry on.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state_of(&self, inner: &Inner) -> AppStateView {
        let (phase, user, pin_attempts_left) = match (&inner.slots, &inner.session) {
            (None, _) => (Phase::NeedsSetup, None, None),
            (Some(_), Session::SignedOut) => (Phase::SignedOut, None, None),
            (Some(_), Session::Locked { user, attempts_left, .. }) => {
                (Phase::Locked, Some(user.clone()), Some(*attempts_left))
            }
            (Some(_), Session::Unlocked(u)) => (Phase::Unlocked, Some(u.user.clone()), None),
        };
        let prison = inner.slots.as_ref().and_then(|s| centre::Prison::parse(&s.prison));
        AppStateView {
            phase,
            centre_name: inner.slots.as_ref().map(|s| s.centre_name.clone()),
            prison_label: prison.map(|p| p.label().to_string()),
            user,
            idle_lock_seconds: i32::try_from(inner.idle_lock.as_secs()).unwrap_or(i32::MAX),
            pin_attempts_left,
            access: access_table(),
            prisons: prison_options(),
        }
    }

    /// Locks the screen if nobody has used the app for the idle time. Answers whether it just locked.
    pub fn lock_if_idle(&self) -> bool {
        let mut inner = self.lock_inner();
        Self::lock_if_idle_inner(&mut inner, Instant::now())
    }

    fn lock_if_idle_inner(inner: &mut Inner, now: Instant) -> bool {
        let idle = inner.idle_lock;
        let expired = matches!(&inner.session, Session::Unlocked(u) if now.duration_since(u.last_activity) >= idle);
        if expired {
            Self::lock_session(inner, "locked_idle");
        }
        expired
    }

    /// Drops the key and closes the database, keeping only the PIN-sealed key in memory.
    fn lock_session(inner: &mut Inner, action: &str) {
        let session = std::mem::replace(&mut inner.session, Session::SignedOut);
        if let Session::Unlocked(mut u) = session {
            let user_id = u.user.account_id;
            if let Err(e) = u.store.write(Some(user_id), now(), |w| w.audit(action, None, None, "")) {
                tracing::error!(error = %e, "could not audit the lock");
            }
            let pin_key = u.store.read(|c| accounts::get(c, user_id)).ok().flatten().map(|(_, k)| k);
            match pin_key {
                Some(pin_key) => {
                    inner.session = Session::Locked { user: u.user.clone(), pin_key, attempts_left: PIN_ATTEMPTS };
                }
                None => Self::end_session(inner),
            }
            // `u` (the key and the open database) is dropped here. The sync worker keeps its own
            // connection while the screen is locked: the lock guards the screen, and changes must
            // still reach head office while the desk is empty.
        } else {
            inner.session = session;
        }
    }

    /// Nobody signed in any more: the session ends and the sync worker closes its connection.
    fn end_session(inner: &mut Inner) {
        inner.session = Session::SignedOut;
        if inner.sync_attached {
            if let Some(sync) = &inner.sync {
                sync.detach();
            }
            inner.sync_attached = false;
        }
    }

    /// Gives the sync worker its own connection to the database, once per sign-in: the opener
    /// holds a copy of the key, only inside the closure, until the worker has opened the file.
    fn attach_sync(&self, inner: &mut Inner) {
        let (Some(sync), false, Session::Unlocked(u)) = (&inner.sync, inner.sync_attached, &inner.session) else {
            return;
        };
        let key = DbKey::from_bytes(*u.key.as_bytes());
        let path = self.config.data_dir.join(DATABASE_FILE);
        sync.attach(Box::new(move || Store::open(&path, &key)));
        inner.sync_attached = true;
    }

    /// The gate every signed-in command passes: unlocked, not idle, and the role allowed.
    fn unlocked(&self, command: Command) -> Result<UnlockedGuard<'_>> {
        let mut inner = self.lock_inner();
        Self::lock_if_idle_inner(&mut inner, Instant::now());
        match &mut inner.session {
            Session::SignedOut => {
                return Err(Error::new(ErrorKind::SignedOut, "Sign in first."));
            }
            Session::Locked { .. } => {
                return Err(Error::new(ErrorKind::Locked, "The screen is locked: enter your PIN to carry on."));
            }
            Session::Unlocked(u) => {
                if !command.permits(Some(u.user.role)) {
                    let role = u.user.role;
                    let who = u.user.account_id;
                    // Trying a button one should not is worth knowing about.
                    let _ = u.store.write(Some(who), now(), |w| w.audit("command_refused", None, None, command.name()));
                    tracing::warn!(command = command.name(), "refused for role");
                    return Err(forbidden(role));
                }
                if command.counts_as_activity() {
                    u.last_activity = Instant::now();
                }
            }
        }
        let changes_before = match &inner.session {
            Session::Unlocked(u) => u.store.changes_written(),
            _ => 0,
        };
        Ok(UnlockedGuard { inner, changes_before })
    }

    // ----- Commands anyone may call -----

    pub fn get_app_state(&self) -> AppStateView {
        let mut inner = self.lock_inner();
        Self::lock_if_idle_inner(&mut inner, Instant::now());
        self.state_of(&inner)
    }

    pub fn note_activity(&self) {
        let mut inner = self.lock_inner();
        if Self::lock_if_idle_inner(&mut inner, Instant::now()) {
            return;
        }
        if let Session::Unlocked(u) = &mut inner.session {
            u.last_activity = Instant::now();
        }
    }

    pub fn set_up_centre(&self, input: SetUpCentreInput) -> Result<SetUpResult> {
        let mut inner = self.lock_inner();
        if inner.slots.is_some() {
            return Err(Error::new(ErrorKind::Conflict, "This laptop already has a centre set up. Sign in instead."));
        }
        let setup = centre::check_set_up(&input)?;
        let dir = &self.config.data_dir;
        let db_path = dir.join(DATABASE_FILE);
        // A database without a key slots file is from a set-up that stopped half way: its key is
        // gone with it, so it can never be opened. Keep it aside rather than delete anything.
        if db_path.exists() {
            let aside = dir.join(format!("abandoned-{}.db", now().format("%Y%m%dT%H%M%S")));
            std::fs::rename(&db_path, aside).map_err(pops_store::Error::from)?;
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("{DATABASE_FILE}{suffix}")));
            }
        }
        let key = DbKey::generate();
        let mut store = Store::open(&db_path, &key)?;
        let at = now();
        let account = Account {
            id: Uuid::now_v7(),
            username: setup.manager.username.clone(),
            display_name: setup.manager.display_name.clone(),
            role: Role::Manager,
            active: true,
            created_at: time::rfc3339(at),
        };
        let centre = centre_store::CentreRecord {
            id: Uuid::now_v7(),
            name: setup.centre_name.clone(),
            prison: setup.prison.as_str().into(),
            device_id: Uuid::now_v7(),
            created_at: time::rfc3339(at),
        };
        let pin_key =
            WrappedKey::seal(&key, setup.manager.pin.as_bytes(), &accounts::pin_context(account.id), self.config.kdf)?;
        store.write(Some(account.id), at, |w| {
            centre_store::create(w, &centre)?;
            accounts::insert(w, &account, &pin_key)?;
            // A new centre starts with the usual weekly sessions and walkthrough; the manager
            // changes both in Settings.
            for (weekday, t) in visits::default_templates() {
                let template = SessionTemplate {
                    id: Uuid::now_v7(),
                    weekday,
                    name: t.name,
                    starts_at: t.starts_at,
                    ends_at: t.ends_at,
                    kind: t.kind,
                    retired_at: None,
                };
                visits_store::save_template(w, &template)?;
            }
            let settings = centre_store::Settings {
                idle_lock_minutes: centre_store::DEFAULT_IDLE_LOCK_MINUTES,
                walkthrough: visits::WALKTHROUGH_DEFAULTS
                    .iter()
                    .map(|label| WalkthroughItem { id: Uuid::now_v7(), label: (*label).into() })
                    .collect(),
                consent_months: centre_store::DEFAULT_CONSENT_MONTHS,
                nightly_at: centre_store::DEFAULT_NIGHTLY_AT.into(),
            };
            centre_store::save_settings(w, centre.id, &settings)?;
            w.audit("signed_in", None, None, "first run")
        })?;
        let mut slots = KeySlots::new(&setup.centre_name, setup.prison.as_str());
        slots.set_account_slot(account.id, &account.username, &setup.manager.passphrase, &key, self.config.kdf)?;
        let recovery_code = keyslots::new_recovery_code();
        slots.set_recovery_slot(&recovery_code, &key)?;
        slots.save(dir)?;
        inner.slots = Some(slots);
        self.enter_unlocked(&mut inner, store, key, &account, centre.id);
        tracing::info!(centre = %centre.id, "centre set up");
        Ok(SetUpResult { recovery_code, state: self.state_of(&inner) })
    }

    fn idle_lock_for(&self, store: &Store) -> Duration {
        self.config.idle_lock.unwrap_or_else(|| {
            let minutes = store
                .read(centre_store::settings)
                .map(|s| s.idle_lock_minutes)
                .unwrap_or(centre_store::DEFAULT_IDLE_LOCK_MINUTES);
            Duration::from_secs(60 * u64::try_from(minutes).unwrap_or(5))
        })
    }

    /// Makes `account` the signed-in person, with the centre's idle-lock time.
    fn enter_unlocked(&self, inner: &mut Inner, store: Store, key: DbKey, account: &Account, centre_id: Uuid) {
        inner.idle_lock = self.idle_lock_for(&store);
        inner.session = Session::Unlocked(Box::new(Unlocked {
            store,
            key,
            user: user_of(account),
            centre_id,
            last_activity: Instant::now(),
        }));
        self.attach_sync(inner);
    }

    /// Opens the database with a key just unwrapped, writes the held audit entries and `action`,
    /// and answers the open store with the account.
    fn open_for(
        &self,
        key: &DbKey,
        account_id: Uuid,
        attempts: &mut Attempts,
        action: &str,
    ) -> Result<(Store, Account, Uuid)> {
        let mut store = Store::open(&self.config.data_dir.join(DATABASE_FILE), key)?;
        let (account, _) = store.read(|c| accounts::get(c, account_id))?.ok_or_else(|| {
            Error::new(ErrorKind::WrongCredentials, "This account no longer exists. Ask the centre manager.")
        })?;
        let centre = store.read(centre_store::get)?.ok_or(pops_store::Error::NotFound("centre"))?;
        let pending = std::mem::take(&mut attempts.pending);
        let active = account.active;
        store.write(Some(account.id), now(), |w| {
            for p in &pending {
                w.audit_as(p.at, p.account_id, &p.action, "")?;
            }
            w.audit(if active { action } else { "sign_in_refused_disabled" }, None, None, "")
        })?;
        // Rewrite the attempts file only when there was something in it to clear.
        if !pending.is_empty() || attempts.failures > 0 {
            attempts.failures = 0;
            attempts.last_failure_at = None;
            attempts.save(&self.config.data_dir)?;
        }
        if !account.active {
            return Err(Error::new(
                ErrorKind::WrongCredentials,
                "This account has been disabled. Ask the centre manager.",
            ));
        }
        Ok((store, account, centre.id))
    }

    pub fn sign_in(&self, input: SignInInput) -> Result<AppStateView> {
        let mut problems = pops_domain::error::Problems::new();
        let username = account::normalise_username(&input.username);
        if username.is_empty() {
            problems.add("username", "Enter your username");
        }
        if input.passphrase.is_empty() {
            problems.add("passphrase", "Enter your passphrase");
        }
        problems.finish()?;
        let mut inner = self.lock_inner();
        let Some(slots) = inner.slots.clone() else {
            return Err(Error::new(ErrorKind::Conflict, "This laptop has no centre set up yet."));
        };
        if matches!(inner.session, Session::Unlocked(_)) {
            return Err(Error::new(ErrorKind::Conflict, "Someone is already signed in. Lock or sign out first."));
        }
        let dir = &self.config.data_dir;
        let mut attempts = Attempts::load(dir)?;
        let at = now();
        if let Some(wait) = attempts.wait_at(at) {
            attempts.record(at, "sign_in_throttled", None);
            attempts.save(dir)?;
            let secs = wait.num_seconds().max(1);
            return Err(Error::new(
                ErrorKind::Throttled,
                format!(
                    "Too many wrong attempts. Wait {secs} second{} and try again.",
                    if secs == 1 { "" } else { "s" }
                ),
            ));
        }
        let Some((account_id, key)) = slots.open_with_passphrase(&username, &input.passphrase)? else {
            attempts.record_failure(at, None);
            attempts.save(dir)?;
            tracing::info!("sign-in refused");
            return Err(Error::new(
                ErrorKind::WrongCredentials,
                "The username or passphrase is not right. Check them and try again.",
            ));
        };
        let opened = self.open_for(&key, account_id, &mut attempts, "signed_in");
        let (store, account, centre_id) = match opened {
            Ok(x) => x,
            Err(e) => {
                // A disabled account's slot that outlived a crash: remove it now.
                if let Some(slots) = inner.slots.as_mut()
                    && e.kind == ErrorKind::WrongCredentials
                    && slots.remove_account_slot(account_id)
                {
                    let _ = slots.save(dir);
                }
                return Err(e);
            }
        };
        self.enter_unlocked(&mut inner, store, key, &account, centre_id);
        tracing::info!(account = %account.id, "signed in");
        Ok(self.state_of(&inner))
    }

    pub fn unlock_with_pin(&self, input: UnlockWithPinInput) -> Result<AppStateView> {
        let pin = input.pin.trim().to_string();
        if pin.is_empty() {
            return Err(Error::field("pin", "Enter your PIN"));
        }
        let mut inner = self.lock_inner();
        let Session::Locked { user, pin_key, attempts_left } = &mut inner.session else {
            return Err(Error::new(ErrorKind::Conflict, "The screen is not locked."));
        };
        let dir = self.config.data_dir.clone();
        let mut attempts = Attempts::load(&dir)?;
        let account_id = user.account_id;
        match pin_key.open(pin.as_bytes(), &accounts::pin_context(account_id))? {
            None => {
                *attempts_left -= 1;
                attempts.record(now(), "pin_failed", Some(account_id));
                attempts.save(&dir)?;
                if *attempts_left <= 0 {
                    Self::end_session(&mut inner);
                    return Err(Error::new(
                        ErrorKind::WrongCredentials,
                        "Wrong PIN too many times. Sign in with your username and passphrase.",
                    ));
                }
                let left = *attempts_left;
                Err(Error {
                    kind: ErrorKind::WrongCredentials,
                    message: format!(
                        "That PIN is not right. {left} {} left before you need your passphrase.",
                        if left == 1 { "try" } else { "tries" }
                    ),
                    problems: vec![Problem { field: "pin".into(), message: "That PIN is not right".into() }],
                })
            }
            Some(key) => {
                let (store, account, centre_id) = self.open_for(&key, account_id, &mut attempts, "unlocked")?;
                self.enter_unlocked(&mut inner, store, key, &account, centre_id);
                Ok(self.state_of(&inner))
            }
        }
    }

    // ----- Commands for anyone signed in -----

    pub fn lock_now(&self) -> Result<AppStateView> {
        let mut g = self.unlocked(Command::LockNow)?;
        Self::lock_session(&mut g.inner, "locked");
        Ok(self.state_of(&g.inner))
    }

    pub fn sign_out(&self) -> Result<AppStateView> {
        let mut inner = self.lock_inner();
        match &mut inner.session {
            Session::Unlocked(u) => {
                if !Command::SignOut.permits(Some(u.user.role)) {
                    return Err(forbidden(u.user.role));
                }
                let who = u.user.account_id;
                if let Err(e) = u.store.write(Some(who), now(), |w| w.audit("signed_out", None, None, "")) {
                    tracing::error!(error = %e, "could not audit the sign-out");
                }
            }
            Session::Locked { user, .. } => {
                // The database is closed; the sign-out is recorded at the next sign-in.
                let mut attempts = Attempts::load(&self.config.data_dir)?;
                attempts.record(now(), "signed_out_while_locked", Some(user.account_id));
                attempts.save(&self.config.data_dir)?;
            }
            Session::SignedOut => return Err(Error::new(ErrorKind::SignedOut, "Nobody is signed in.")),
        }
        Self::end_session(&mut inner);
        Ok(self.state_of(&inner))
    }

    pub fn get_today(&self) -> Result<TodayView> {
        let mut g = self.unlocked(Command::GetToday)?;
        let u = g.unlocked_mut();
        let at = now();
        let date = time::london_date(at);
        let weekday = time::london_weekday(at);
        // The day's sessions come from the centre's weekly templates the first time anyone looks.
        let missing = u.store.read(|c| visits_store::missing_template_sessions(c, &date, weekday))?;
        if !missing.is_empty() {
            u.store.write(Some(u.user.account_id), at, |w| visits_store::sessions_from_templates(w, &date, weekday))?;
        }
        Ok(u.store.read(|c| visits_store::day(c, &date))?)
    }

    pub fn add_visits_session(&self, input: AddVisitsSessionInput) -> Result<VisitsSession> {
        let mut g = self.unlocked(Command::AddVisitsSession)?;
        let mut p = pops_domain::error::Problems::new();
        let times = visits::check_session_times(&mut p, &input.times);
        p.finish()?;
        let times = times.ok_or_else(|| Error::field("name", "Enter the session's name and times"))?;
        let u = g.unlocked_mut();
        let at = now();
        let date = time::london_date(at);
        Ok(u.store.write(Some(u.user.account_id), at, |w| visits_store::add_session(w, &date, &times))?)
    }

    pub fn cancel_visits_session(&self, input: CancelVisitsSessionInput) -> Result<VisitsSession> {
        let mut g = self.unlocked(Command::CancelVisitsSession)?;
        let reason = visits::check_cancel(&input)?;
        let u = g.unlocked_mut();
        Ok(u.store
            .write(Some(u.user.account_id), now(), |w| visits_store::cancel_session(w, input.session_id, &reason))?)
    }

    pub fn check_in_party(&self, input: CheckInPartyInput) -> Result<CheckIn> {
        let mut g = self.unlocked(Command::CheckInParty)?;
        let party = visits::check_party(&input)?;
        let u = g.unlocked_mut();
        let at = now();
        let session = u.store.read(|c| visits_store::session(c, party.session_id))?.ok_or_else(|| {
            Error::field("session_id", "That visits session could not be found: choose one of today's sessions")
        })?;
        if session.date != time::london_date(at) {
            return Err(Error::field("session_id", "That session was on another day: choose one of today's sessions"));
        }
        if session.cancelled_at.is_some() {
            return Err(Error::field(
                "session_id",
                format!("The {} session has been cancelled: choose another session", session.name),
            ));
        }
        Ok(u.store.write(Some(u.user.account_id), at, |w| visits_store::check_in(w, &party))?)
    }

    pub fn check_out_party(&self, input: CheckOutPartyInput) -> Result<CheckIn> {
        let mut g = self.unlocked(Command::CheckOutParty)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| visits_store::check_out(w, input.check_in_id))?)
    }

    pub fn record_visit_outcome(&self, input: RecordVisitOutcomeInput) -> Result<CheckIn> {
        let mut g = self.unlocked(Command::RecordVisitOutcome)?;
        let (outcome, welfare) = visits::check_outcome(&input)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| {
            visits_store::record_outcome(w, input.check_in_id, outcome, welfare)
        })?)
    }

    pub fn tick_walkthrough(&self, input: TickWalkthroughInput) -> Result<CheckIn> {
        let mut g = self.unlocked(Command::TickWalkthrough)?;
        let u = g.unlocked_mut();
        let items = u.store.read(centre_store::settings)?.walkthrough;
        let mut ticked = Vec::new();
        for id in input.ticked {
            if !items.iter().any(|i| i.id == id) {
                return Err(Error::field(
                    "ticked",
                    "That walkthrough item is no longer on the list: refresh and try again",
                ));
            }
            if !ticked.contains(&id) {
                ticked.push(id);
            }
        }
        Ok(u.store
            .write(Some(u.user.account_id), now(), |w| visits_store::set_walkthrough(w, input.check_in_id, ticked))?)
    }

    pub fn start_roll_call(&self) -> Result<RollCall> {
        let mut g = self.unlocked(Command::StartRollCall)?;
        let u = g.unlocked_mut();
        let at = now();
        let date = time::london_date(at);
        Ok(u.store.write(Some(u.user.account_id), at, |w| visits_store::start_roll_call(w, &date))?)
    }

    pub fn mark_roll_call(&self, input: MarkRollCallInput) -> Result<RollCall> {
        let mut g = self.unlocked(Command::MarkRollCall)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| {
            visits_store::mark_roll_call(w, input.roll_call_id, input.check_in_id, input.accounted)
        })?)
    }

    pub fn finish_roll_call(&self, input: FinishRollCallInput) -> Result<RollCall> {
        let mut g = self.unlocked(Command::FinishRollCall)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| visits_store::finish_roll_call(w, input.roll_call_id))?)
    }

    pub fn log_enquiry(&self, input: LogEnquiryInput) -> Result<Enquiry> {
        let mut g = self.unlocked(Command::LogEnquiry)?;
        let d = desk::check_enquiry(&input)?;
        let u = g.unlocked_mut();
        let at = now();
        let e = Enquiry {
            id: Uuid::now_v7(),
            received_at: time::rfc3339(at),
            topic: d.topic,
            resolution: d.resolution,
            signposted_to: d.signposted_to,
            note: d.note,
            recorded_by: u.user.account_id,
        };
        let date = time::london_date(at);
        u.store.write(Some(u.user.account_id), at, |w| desk_store::log_enquiry(w, &date, &e))?;
        Ok(e)
    }

    pub fn log_feedback(&self, input: LogFeedbackInput) -> Result<Feedback> {
        let mut g = self.unlocked(Command::LogFeedback)?;
        let (kind, channel, summary) = desk::check_feedback(&input)?;
        let u = g.unlocked_mut();
        let at = now();
        let f = Feedback {
            id: Uuid::now_v7(),
            received_at: time::rfc3339(at),
            kind,
            channel,
            summary,
            status: FeedbackStatus::Open,
            recorded_by: u.user.account_id,
            response: None,
            responded_by: None,
            responded_at: None,
            closed_by: None,
            closed_at: None,
        };
        let date = time::london_date(at);
        u.store.write(Some(u.user.account_id), at, |w| desk_store::log_feedback(w, &date, &f))?;
        Ok(f)
    }

    pub fn list_feedback(&self) -> Result<FeedbackList> {
        let g = self.unlocked(Command::ListFeedback)?;
        let items = g.unlocked().store.read(desk_store::feedback_list)?;
        let ids: Vec<Uuid> = items.iter().map(|f| f.id).collect();
        let states =
            g.unlocked().store.read(|c| sync_store::record_states(c, pops_domain::change::entity::FEEDBACK, &ids))?;
        let people = g.unlocked().store.read(accounts::list)?;
        let name_of = |id: Option<Uuid>| people.iter().find(|a| Some(a.id) == id).map(|a| a.display_name.clone());
        let at = now();
        Ok(FeedbackList {
            items: items
                .into_iter()
                .map(|feedback| {
                    let age_days = chrono::DateTime::parse_from_rfc3339(&feedback.received_at)
                        .map(|t| i32::try_from((at - t.with_timezone(&Utc)).num_days()).unwrap_or(i32::MAX))
                        .unwrap_or(0);
                    let responded_by_name = name_of(feedback.responded_by);
                    let sync_state = states.get(&feedback.id).copied();
                    FeedbackItem { feedback, age_days, responded_by_name, sync_state }
                })
                .collect(),
        })
    }

    pub fn respond_to_feedback(&self, input: RespondToFeedbackInput) -> Result<Feedback> {
        let mut g = self.unlocked(Command::RespondToFeedback)?;
        let response = desk::check_response(&input)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| {
            desk_store::respond_to_feedback(w, input.feedback_id, &response)
        })?)
    }

    pub fn close_feedback(&self, input: CloseFeedbackInput) -> Result<Feedback> {
        let mut g = self.unlocked(Command::CloseFeedback)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| desk_store::close_feedback(w, input.feedback_id))?)
    }

    pub fn list_events(&self) -> Result<EventList> {
        let g = self.unlocked(Command::ListEvents)?;
        Ok(EventList { events: g.unlocked().store.read(desk_store::events)? })
    }

    pub fn record_event(&self, input: RecordEventInput) -> Result<CentreEvent> {
        let mut g = self.unlocked(Command::RecordEvent)?;
        let at = now();
        let mut e = desk::check_event(&input, time::london_day(at))?;
        let u = g.unlocked_mut();
        e.id = Uuid::now_v7();
        e.recorded_by = u.user.account_id;
        e.recorded_at = time::rfc3339(at);
        u.store.write(Some(u.user.account_id), at, |w| desk_store::record_event(w, &e))?;
        Ok(e)
    }

    // ----- Families -----

    pub fn search_families(&self, input: SearchFamiliesInput) -> Result<FamilySearchResult> {
        let g = self.unlocked(Command::SearchFamilies)?;
        let today = time::london_day(now());
        let families = g.unlocked().store.read(|c| families_store::search_families(c, &input.query, today, 20))?;
        Ok(FamilySearchResult { families: with_sync_states(g.unlocked(), families)? })
    }

    pub fn get_family(&self, input: FamilyIdInput) -> Result<FamilyView> {
        let g = self.unlocked(Command::GetFamily)?;
        let u = g.unlocked();
        let today = time::london_day(now());
        let family = u
            .store
            .read(|c| families_store::get_family(c, input.family_id))?
            .ok_or(pops_store::Error::NotFound("family"))?;
        let visits = u.store.read(|c| families_store::visit_history(c, input.family_id))?;
        Ok(FamilyView {
            outline: family.without_private_details(today),
            visits,
            may_see_details: Command::GetFamilyDetails.permits(Some(u.user.role)),
        })
    }

    /// The whole record, contact details and linked prisoner included (coordinator and manager).
    pub fn get_family_details(&self, input: FamilyIdInput) -> Result<Family> {
        let mut g = self.unlocked(Command::GetFamilyDetails)?;
        let u = g.unlocked_mut();
        let family = u
            .store
            .read(|c| families_store::get_family(c, input.family_id))?
            .ok_or(pops_store::Error::NotFound("family"))?;
        // Who opened a family's private details is worth knowing.
        u.store.write(Some(u.user.account_id), now(), |w| {
            w.audit("family_details_viewed", Some(pops_domain::change::entity::FAMILY), Some(family.id), "")
        })?;
        Ok(family)
    }

    pub fn save_family(&self, input: SaveFamilyInput) -> Result<FamilyView> {
        let mut g = self.unlocked(Command::SaveFamily)?;
        let at = now();
        let today = time::london_day(at);
        let role = g.unlocked().user.role;
        let may_see_details = Command::GetFamilyDetails.permits(Some(role));
        let consent_months = g.unlocked().store.read(centre_store::settings)?.consent_months;
        let mut checked = families::check_family(&input, today, consent_months)?;
        if !may_see_details {
            // The desk records names and consent; contact details and the prisoner are the
            // coordinator's and manager's to record. An update keeps what they recorded.
            let typed = [
                ("contact.phone", &input.contact.phone),
                ("contact.email", &input.contact.email),
                ("contact.address", &input.contact.address),
                ("prisoner.name", &input.prisoner.name),
                ("prisoner.prison_number", &input.prisoner.prison_number),
            ];
            if let Some((field, _)) = typed.iter().find(|(_, v)| !v.trim().is_empty()) {
                return Err(Error::field(
                    field,
                    "Only the Family Services Coordinator or the centre manager records contact details and the prisoner: leave this empty",
                ));
            }
            let previous = match checked.family_id {
                Some(id) => g.unlocked().store.read(|c| families_store::get_family(c, id))?,
                None => None,
            };
            checked.contact = previous.as_ref().map(|f| f.contact.clone()).unwrap_or_default();
            // The desk sees age bands, not dates of birth: a member sent back without one keeps
            // the date of birth on record.
            if let Some(previous) = &previous {
                for m in &mut checked.members {
                    let known = previous.members.iter().find(|p| Some(p.id) == m.member_id);
                    if let Some(dob) = known.and_then(|p| p.date_of_birth.clone())
                        && m.date_of_birth.is_none()
                    {
                        m.date_of_birth = Some(dob);
                        m.age_band = None;
                    }
                }
            }
            checked.prisoner = previous.and_then(|f| f.prisoner);
        }
        let u = g.unlocked_mut();
        let family = u.store.write(Some(u.user.account_id), at, |w| families_store::save_family(w, checked))?;
        let visits = u.store.read(|c| families_store::visit_history(c, family.id))?;
        Ok(FamilyView { outline: family.without_private_details(today), visits, may_see_details })
    }

    pub fn renew_family_consent(&self, input: RenewConsentInput) -> Result<FamilyView> {
        let mut g = self.unlocked(Command::RenewFamilyConsent)?;
        let at = now();
        let today = time::london_day(at);
        let consent_months = g.unlocked().store.read(centre_store::settings)?.consent_months;
        let consent = families::check_renewal(&input, today, consent_months)?;
        let u = g.unlocked_mut();
        let family = u
            .store
            .write(Some(u.user.account_id), at, |w| families_store::renew_consent(w, input.family_id, consent))?;
        let visits = u.store.read(|c| families_store::visit_history(c, family.id))?;
        Ok(FamilyView {
            outline: family.without_private_details(today),
            visits,
            may_see_details: Command::GetFamilyDetails.permits(Some(u.user.role)),
        })
    }

    pub fn remove_family(&self, input: RemoveFamilyInput) -> Result<FamilyTombstone> {
        let mut g = self.unlocked(Command::RemoveFamily)?;
        let reason = families::check_removal(&input)?;
        let u = g.unlocked_mut();
        Ok(u.store
            .write(Some(u.user.account_id), now(), |w| families_store::remove_family(w, input.family_id, reason))?)
    }

    pub fn list_families_due_for_renewal(&self) -> Result<FamilySearchResult> {
        let g = self.unlocked(Command::ListFamiliesDueForRenewal)?;
        let today = time::london_day(now());
        let families = g.unlocked().store.read(|c| families_store::families_due_for_renewal(c, today))?;
        Ok(FamilySearchResult { families: with_sync_states(g.unlocked(), families)? })
    }

    // ----- Manager commands -----

    pub fn list_accounts(&self) -> Result<AccountList> {
        let g = self.unlocked(Command::ListAccounts)?;
        Ok(AccountList { accounts: g.unlocked().store.read(accounts::list)? })
    }

    pub fn add_account(&self, input: AddAccountInput) -> Result<Account> {
        let mut g = self.unlocked(Command::AddAccount)?;
        let (fields, role) = account::check_add_account(&input)?;
        let kdf = self.config.kdf;
        let dir = self.config.data_dir.clone();
        let inner = &mut *g.inner;
        let (Some(slots), Session::Unlocked(u)) = (inner.slots.as_mut(), &mut inner.session) else {
            return Err(Error::new(ErrorKind::SignedOut, "Sign in first."));
        };
        if u.store.read(|c| accounts::username_taken(c, &fields.username))? {
            return Err(Error::field(
                "username",
                format!("The username {} is already taken: choose another", fields.username),
            ));
        }
        let at = now();
        let new = Account {
            id: Uuid::now_v7(),
            username: fields.username.clone(),
            display_name: fields.display_name.clone(),
            role,
            active: true,
            created_at: time::rfc3339(at),
        };
        let pin_key = WrappedKey::seal(&u.key, fields.pin.as_bytes(), &accounts::pin_context(new.id), kdf)?;
        // The slot first: if the database write then fails, the slot is taken back out.
        slots.set_account_slot(new.id, &new.username, &fields.passphrase, &u.key, kdf)?;
        slots.save(&dir)?;
        if let Err(e) = u.store.write(Some(u.user.account_id), at, |w| accounts::insert(w, &new, &pin_key)) {
            slots.remove_account_slot(new.id);
            slots.save(&dir)?;
            return Err(e.into());
        }
        tracing::info!(account = %new.id, "account added");
        Ok(new)
    }

    pub fn set_account_role(&self, input: SetAccountRoleInput) -> Result<Account> {
        let mut g = self.unlocked(Command::SetAccountRole)?;
        let u = g.unlocked_mut();
        let account =
            u.store.write(Some(u.user.account_id), now(), |w| accounts::set_role(w, input.account_id, input.role))?;
        if account.id == u.user.account_id {
            u.user.role = account.role;
        }
        Ok(account)
    }

    pub fn disable_account(&self, input: DisableAccountInput) -> Result<Account> {
        let mut g = self.unlocked(Command::DisableAccount)?;
        let dir = self.config.data_dir.clone();
        let inner = &mut *g.inner;
        let (Some(slots), Session::Unlocked(u)) = (inner.slots.as_mut(), &mut inner.session) else {
            return Err(Error::new(ErrorKind::SignedOut, "Sign in first."));
        };
        if input.account_id == u.user.account_id {
            return Err(Error::new(ErrorKind::Conflict, "You cannot disable your own account."));
        }
        let account = u.store.write(Some(u.user.account_id), now(), |w| accounts::disable(w, input.account_id))?;
        slots.remove_account_slot(account.id);
        slots.save(&dir)?;
        tracing::info!(account = %account.id, "account disabled");
        Ok(account)
    }

    pub fn get_settings(&self) -> Result<SettingsView> {
        let g = self.unlocked(Command::GetSettings)?;
        let s = g.unlocked().store.read(centre_store::settings)?;
        Ok(settings_view(s))
    }

    pub fn update_settings(&self, input: UpdateSettingsInput) -> Result<SettingsView> {
        let mut g = self.unlocked(Command::UpdateSettings)?;
        let mut p = pops_domain::error::Problems::new();
        if !(1..=60).contains(&input.idle_lock_minutes) {
            p.add("idle_lock_minutes", "Enter a number of minutes from 1 to 60, for example 5");
        }
        if !(1..=120).contains(&input.consent_months) {
            p.add("consent_months", "Enter a number of months from 1 to 120, for example 12");
        }
        let mut walkthrough: Vec<WalkthroughItem> = Vec::new();
        for (i, item) in input.walkthrough.iter().enumerate() {
            let field = format!("walkthrough.{i}");
            let label = pops_domain::error::clean_text(&mut p, &field, "A walkthrough item", &item.label, 80);
            if let Some(label) = label {
                walkthrough.push(WalkthroughItem { id: item.id.unwrap_or_else(Uuid::now_v7), label });
            }
        }
        if walkthrough.len() > 30 {
            p.add("walkthrough", "The walkthrough can have at most 30 items");
        }
        p.finish()?;
        // The nightly sync time has its own command (the Head office settings); it stays as it is.
        let nightly_at = g.unlocked().store.read(centre_store::settings)?.nightly_at;
        let settings = centre_store::Settings {
            idle_lock_minutes: input.idle_lock_minutes,
            walkthrough,
            consent_months: input.consent_months,
            nightly_at,
        };
        let u = g.unlocked_mut();
        let centre_id = u.centre_id;
        u.store.write(Some(u.user.account_id), now(), |w| centre_store::save_settings(w, centre_id, &settings))?;
        let idle = self.idle_lock_for(&g.unlocked().store);
        g.inner.idle_lock = idle;
        Ok(settings_view(settings))
    }

    pub fn list_session_templates(&self) -> Result<TemplateList> {
        let g = self.unlocked(Command::ListSessionTemplates)?;
        Ok(TemplateList { templates: g.unlocked().store.read(visits_store::templates)? })
    }

    pub fn save_session_template(&self, input: SaveSessionTemplateInput) -> Result<SessionTemplate> {
        let mut g = self.unlocked(Command::SaveSessionTemplate)?;
        let (weekday, times) = visits::check_template(&input)?;
        let u = g.unlocked_mut();
        let retired_at = match input.template_id {
            Some(id) => {
                let old = u.store.read(|c| visits_store::template(c, id))?;
                old.ok_or(pops_store::Error::NotFound("session template"))?.retired_at
            }
            None => None,
        };
        let t = SessionTemplate {
            id: input.template_id.unwrap_or_else(Uuid::now_v7),
            weekday,
            name: times.name,
            starts_at: times.starts_at,
            ends_at: times.ends_at,
            kind: times.kind,
            retired_at,
        };
        u.store.write(Some(u.user.account_id), now(), |w| visits_store::save_template(w, &t))?;
        Ok(t)
    }

    pub fn retire_session_template(&self, input: RetireSessionTemplateInput) -> Result<SessionTemplate> {
        let mut g = self.unlocked(Command::RetireSessionTemplate)?;
        let u = g.unlocked_mut();
        let at = now();
        let mut t = u
            .store
            .read(|c| visits_store::template(c, input.template_id))?
            .ok_or(pops_store::Error::NotFound("session template"))?;
        if t.retired_at.is_some() {
            return Err(Error::new(ErrorKind::Conflict, "This session has already been taken off the weekly list."));
        }
        t.retired_at = Some(time::rfc3339(at));
        u.store.write(Some(u.user.account_id), at, |w| visits_store::save_template(w, &t))?;
        Ok(t)
    }

    pub fn export_csv(&self, input: ExportCsvInput) -> Result<ExportResult> {
        let mut g = self.unlocked(Command::ExportCsv)?;
        let Some(list) = input.list else {
            return Err(Error::field("list", "Choose which list to export"));
        };
        let at = now();
        let date = time::london_date(at);
        let table = g.unlocked().store.read(|c| crate::export::table(c, list, &date))?;
        let dir = self.config.export_dir.clone().unwrap_or_else(|| self.config.data_dir.join("exports"));
        let path = crate::export::write(&dir, list, &table, at)?;
        let rows = table.rows.len();
        let u = g.unlocked_mut();
        let detail = format!("list={} rows={rows}", list.as_str());
        u.store.write(Some(u.user.account_id), at, |w| w.audit("csv_exported", None, None, &detail))?;
        Ok(ExportResult { path: path.display().to_string(), rows: i32::try_from(rows).unwrap_or(i32::MAX) })
    }

    pub fn verify_audit_log(&self) -> Result<AuditReport> {
        let mut g = self.unlocked(Command::VerifyAuditLog)?;
        let u = g.unlocked_mut();
        let v = u.store.read(audit::verify)?;
        let detail = if v.problem.is_none() { "intact" } else { "broken" };
        u.store.write(Some(u.user.account_id), now(), |w| w.audit("audit_verified", None, None, detail))?;
        Ok(AuditReport {
            intact: v.problem.is_none(),
            entries: i32::try_from(v.entries).unwrap_or(i32::MAX),
            problem: v.problem,
        })
    }

    // ----- Head office -----

    fn sync_view(&self, inner: &Inner, (s, r): (sync_store::SyncState, RestoreStatus)) -> SyncView {
        let live = inner.sync.as_ref().map(|sync| sync.status()).unwrap_or_default();
        SyncView {
            enrolled: s.enrolled,
            hub_address: s.hub_url,
            device_id: s.device_id,
            enrolled_at: s.enrolled_at,
            waiting: s.waiting,
            quarantined: s.quarantined,
            last_ack_at: s.last_ack_at,
            // A problem the worker met outside the store (it could not open it) comes first.
            last_error: live.problem.or(s.last_error),
            last_error_at: s.last_error_at,
            blocked: s.blocked,
            sending: live.sending,
            hub_reachable: live.hub_reachable,
            next_attempt_at: live.next_attempt_at.map(time::rfc3339),
            safe_to_shut: s.safe_to_shut,
            restore: r.progress.map(|p| RestoreView {
                percent: p.percent,
                applied: p.applied,
                skipped: p.skipped,
                total: p.total,
                finished: p.finished(),
                started_at: p.started_at,
                finished_at: p.finished_at,
            }),
            can_restore: r.can_start,
            restore_refusal: r.refusal,
        }
    }

    /// Where sync with head office stands. The window polls this every few seconds, so it is
    /// not use of the app (the idle lock is not put off) and it writes nothing, audit included.
    pub fn sync_status(&self) -> Result<SyncView> {
        let g = self.unlocked(Command::SyncStatus)?;
        let state = sync_and_restore_status(g.unlocked())?;
        Ok(self.sync_view(&g.inner, state))
    }

    /// Asks the worker to try at once (never sooner than head office's `Retry-After`).
    pub fn sync_send_now(&self) -> Result<SyncView> {
        let g = self.unlocked(Command::SyncSendNow)?;
        let sync = g.inner.sync.clone().ok_or_else(sync_stopped)?;
        sync.send_now();
        let state = sync_and_restore_status(g.unlocked())?;
        Ok(self.sync_view(&g.inner, state))
    }

    /// Connects this laptop to head office with the one-time code head office gave (also after
    /// head office revoked it). Waits for head office's answer (up to the request time-out), with
    /// the app's state lock released so the window and the strip carry on meanwhile. Audited as
    /// `device_enrolled` with the manager's id and the hub's device id; never the code or token.
    pub fn sync_enrol(&self, input: SyncEnrolInput) -> Result<SyncView> {
        let (by, sync) = {
            let g = self.unlocked(Command::SyncEnrol)?;
            (g.unlocked().user.account_id, g.inner.sync.clone())
        };
        let (address, code) = check_enrolment(&input)?;
        let sync = sync.ok_or_else(sync_stopped)?;
        sync.enrol_by(address.as_str(), &code, Some(by)).map_err(enrolment_error)?;
        tracing::info!("this laptop is enrolled with head office");
        let g = self.unlocked(Command::SyncStatus)?;
        let state = sync_and_restore_status(g.unlocked())?;
        Ok(self.sync_view(&g.inner, state))
    }

    /// Starts restoring the centre's records from head office onto this laptop (a replacement
    /// laptop, set up and enrolled to the same centre), or carries on with the one under way. The
    /// pages come in the background; `sync_status` says how far it has got. Refused (`Conflict`,
    /// with the reason in plain words) when the laptop is not enrolled, is blocked, has restored
    /// already, or holds records of its own. Audited by the store as `restore_started`.
    pub fn sync_restore_start(&self) -> Result<SyncView> {
        let (by, sync) = {
            let g = self.unlocked(Command::SyncRestoreStart)?;
            (g.unlocked().user.account_id, g.inner.sync.clone())
        };
        let sync = sync.ok_or_else(sync_stopped)?;
        sync.restore(by).map_err(|e| match e {
            RestoreError::Refused(words) => Error::new(ErrorKind::Conflict, words),
            RestoreError::Sync(e) => enrolment_error(e),
        })?;
        tracing::info!("restoring the centre's records from head office");
        let g = self.unlocked(Command::SyncStatus)?;
        let state = sync_and_restore_status(g.unlocked())?;
        Ok(self.sync_view(&g.inner, state))
    }

    /// The changes head office acknowledged but could not accept, newest first; no payloads.
    pub fn sync_quarantine(&self) -> Result<QuarantineList> {
        let g = self.unlocked(Command::SyncQuarantine)?;
        let changes = g.unlocked().store.read(sync_store::quarantined)?;
        Ok(QuarantineList {
            changes: changes
                .into_iter()
                .map(|c| QuarantinedChangeView {
                    seq: c.seq,
                    entity: c.entity,
                    entity_id: c.entity_id,
                    reason: c.reason,
                    at: c.at,
                })
                .collect(),
        })
    }

    /// Sets the time of the nightly send, London time. The worker reads it at its next cycle
    /// (the saved settings are a change for head office, so that cycle comes within seconds).
    pub fn set_sync_time(&self, input: SetSyncTimeInput) -> Result<SettingsView> {
        let mut g = self.unlocked(Command::SetSyncTime)?;
        let minutes = visits::parse_clock(&input.nightly_at).ok_or_else(|| {
            Error::field("nightly_at", "Enter the time as hours and minutes on the 24-hour clock, for example 02:00")
        })?;
        let u = g.unlocked_mut();
        let mut settings = u.store.read(centre_store::settings)?;
        settings.nightly_at = visits::format_clock(minutes);
        let centre_id = u.centre_id;
        u.store.write(Some(u.user.account_id), now(), |w| centre_store::save_settings(w, centre_id, &settings))?;
        Ok(settings_view(settings))
    }
}

/// The families with where each one's latest change to head office has got to (one look-up for
/// the list).
fn with_sync_states(
    u: &Unlocked,
    mut families: Vec<pops_domain::families::FamilySummary>,
) -> Result<Vec<pops_domain::families::FamilySummary>> {
    let ids: Vec<Uuid> = families.iter().map(|f| f.id).collect();
    let states = u.store.read(|c| sync_store::record_states(c, pops_domain::change::entity::FAMILY, &ids))?;
    for f in &mut families {
        f.sync_state = states.get(&f.id).copied();
    }
    Ok(families)
}

/// What `sync_status` says about restoring from head office: cheap reads, nothing written.
struct RestoreStatus {
    progress: Option<RestoreProgress>,
    can_start: bool,
    refusal: Option<String>,
}

/// The sync state and the restore's, as `SyncView` shows them. Whether a restore may start is
/// worked out only for those who may start one (the managers): it counts this laptop's records,
/// and the window polls this every few seconds on every screen.
fn sync_and_restore_status(u: &Unlocked) -> Result<(sync_store::SyncState, RestoreStatus)> {
    let may_start = Command::SyncRestoreStart.permits(Some(u.user.role));
    Ok(u.store.read(|conn| {
        let state = sync_store::status(conn)?;
        let progress = restore_store::progress(conn)?;
        let (can_start, refusal) = if !may_start || !state.enrolled {
            // Connecting comes first; the Head office section says so already.
            (false, None)
        } else {
            match restore_store::check_can_start(conn) {
                Ok(()) => (true, None),
                Err(pops_store::Error::Conflict(words)) => (false, Some(words)),
                Err(e) => return Err(e),
            }
        };
        Ok((state, RestoreStatus { progress, can_start, refusal }))
    })?)
}

fn sync_stopped() -> Error {
    Error::new(ErrorKind::Internal, SyncError::Stopped.to_string())
}

/// The address and the code in their normal forms, or each problem at its field.
fn check_enrolment(input: &SyncEnrolInput) -> Result<(HubAddress, String)> {
    let mut p = pops_domain::error::Problems::new();
    let address = if input.hub_address.trim().is_empty() {
        p.add("hub_address", "Enter the head office address, for example https://hub.pops.org.uk");
        None
    } else {
        match HubAddress::parse(&input.hub_address) {
            Ok(a) => Some(a),
            Err(SyncError::InsecureAddress) => {
                p.add(
                    "hub_address",
                    "Enter an address that starts with https://. An http:// address is not encrypted, so it is \
                     allowed only for a head office server on this laptop itself (127.0.0.1 or localhost)",
                );
                None
            }
            Err(e) => {
                p.add("hub_address", e.to_string());
                None
            }
        }
    };
    let code = if input.enrolment_code.trim().is_empty() {
        p.add("enrolment_code", "Enter the enrolment code head office gave you");
        None
    } else {
        let code = pops_domain::sync::normalise_enrolment_code(&input.enrolment_code);
        if code.is_none() {
            p.add(
                "enrolment_code",
                "Enter the enrolment code as head office gave it: 16 letters and numbers, for example \
                 ABCD-EFGH-JKMN-PQRS",
            );
        }
        code
    };
    p.finish()?;
    match (address, code) {
        (Some(a), Some(c)) => Ok((a, c)),
        _ => Err(Error::field("enrolment_code", "Enter the enrolment code head office gave you")),
    }
}

/// What went wrong connecting to head office, at the field it is about or for the whole form.
fn enrolment_error(e: SyncError) -> Error {
    match e {
        SyncError::BadAddress { .. } | SyncError::InsecureAddress => Error::field("hub_address", e.to_string()),
        SyncError::NoCode | SyncError::CodeRefused => Error::field("enrolment_code", e.to_string()),
        SyncError::Unreachable | SyncError::TimedOut => Error::new(
            ErrorKind::Unavailable,
            "Head office cannot be reached at that address, so this laptop is not connected yet. Check the \
             address and that the laptop is online, then try again.",
        ),
        SyncError::Busy
        | SyncError::Refused { .. }
        | SyncError::HubProblem { .. }
        | SyncError::BadReply
        | SyncError::Revoked
        | SyncError::TooLarge { .. } => Error::new(ErrorKind::Unavailable, e.to_string()),
        SyncError::NotSignedIn | SyncError::NotEnrolled => Error::new(ErrorKind::Conflict, e.to_string()),
        SyncError::Store(_) => Error::new(ErrorKind::Storage, e.to_string()),
        SyncError::Setup(_) | SyncError::Stopped => Error::new(ErrorKind::Internal, e.to_string()),
    }
}

fn settings_view(s: centre_store::Settings) -> SettingsView {
    SettingsView {
        idle_lock_minutes: s.idle_lock_minutes,
        walkthrough: s.walkthrough,
        consent_months: s.consent_months,
        nightly_at: s.nightly_at,
    }
}

/// The state lock, held while a signed-in command runs, known to be unlocked.
struct UnlockedGuard<'a> {
    inner: MutexGuard<'a, Inner>,
    /// The store's count of committed changes when the command began.
    changes_before: u64,
}

impl Drop for UnlockedGuard<'_> {
    /// Every command ends here: when it committed a change for head office, the sync worker hears
    /// of it (and sends it about 2 s later, once for a burst). One place for every write command.
    fn drop(&mut self) {
        if let (Session::Unlocked(u), Some(sync)) = (&self.inner.session, &self.inner.sync)
            && u.store.changes_written() > self.changes_before
        {
            sync.changed();
        }
    }
}

impl UnlockedGuard<'_> {
    fn unlocked(&self) -> &Unlocked {
        match &self.inner.session {
            Session::Unlocked(u) => u,
            // `App::unlocked` only hands out a guard for an unlocked session, and nothing in
            // between changes it while the lock is held.
            _ => unreachable!("guard over a session that is not unlocked"),
        }
    }
    fn unlocked_mut(&mut self) -> &mut Unlocked {
        match &mut self.inner.session {
            Session::Unlocked(u) => u,
            _ => unreachable!("guard over a session that is not unlocked"),
        }
    }
}
