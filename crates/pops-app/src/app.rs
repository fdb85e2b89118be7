//! The app's state (not set up, signed out, locked, unlocked) and every command, each checking the
//! one role table in `pops_domain::command` before it does anything.

use crate::api::*;
use crate::error::{Error, Result};
use crate::time;
use chrono::{DateTime, Utc};
use pops_domain::account::{self, Account, AddAccountInput, DisableAccountInput, SetAccountRoleInput};
use pops_domain::centre::{self, SetUpCentreInput, prison_options};
use pops_domain::command::{Command, access_table};
use pops_domain::visits::{
    self, CheckIn, CheckInPartyInput, CheckOutPartyInput, OpenVisitsSessionInput, TodayView, VisitsSession,
};
use pops_domain::{Problem, Role};
use pops_store::attempts::Attempts;
use pops_store::keyslots::{self, DEFAULT_KDF, KdfParams, KeySlots, WrappedKey};
use pops_store::{DATABASE_FILE, DbKey, Store, accounts, audit, centre as centre_store};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
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
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config { data_dir: data_dir.into(), idle_lock: None, kdf: DEFAULT_KDF }
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
    /// Reads the key slots file (not the database: that needs a passphrase).
    pub fn start(config: Config) -> Result<App> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            tracing::error!(error = %e, "cannot create the data folder");
            Error::new(ErrorKind::Storage, "The app cannot create its data folder. Check the folder's permissions.")
        })?;
        let slots = KeySlots::load(&config.data_dir)?;
        let idle_lock =
            config.idle_lock.unwrap_or(Duration::from_secs(60 * centre_store::DEFAULT_IDLE_LOCK_MINUTES as u64));
        Ok(App { config, inner: Mutex::new(Inner { slots, session: Session::SignedOut, idle_lock }) })
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
            inner.session = match pin_key {
                Some(pin_key) => Session::Locked { user: u.user.clone(), pin_key, attempts_left: PIN_ATTEMPTS },
                None => Session::SignedOut,
            };
            // `u` (the key and the open database) is dropped here.
        } else {
            inner.session = session;
        }
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
                u.last_activity = Instant::now();
            }
        }
        Ok(UnlockedGuard { inner })
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
                    inner.session = Session::SignedOut;
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
        inner.session = Session::SignedOut;
        Ok(self.state_of(&inner))
    }

    pub fn get_today(&self) -> Result<TodayView> {
        let g = self.unlocked(Command::GetToday)?;
        let u = g.unlocked();
        let date = time::london_date(now());
        Ok(u.store.read(|c| pops_store::visits::day(c, &date))?)
    }

    pub fn open_visits_session(&self, input: OpenVisitsSessionInput) -> Result<VisitsSession> {
        let mut g = self.unlocked(Command::OpenVisitsSession)?;
        let slot = input
            .slot
            .ok_or_else(|| Error::field("slot", "Choose which session to open: morning, afternoon or evening"))?;
        let u = g.unlocked_mut();
        let at = now();
        let date = time::london_date(at);
        Ok(u.store.write(Some(u.user.account_id), at, |w| pops_store::visits::open_session(w, &date, slot))?)
    }

    pub fn check_in_party(&self, input: CheckInPartyInput) -> Result<CheckIn> {
        let mut g = self.unlocked(Command::CheckInParty)?;
        let party = visits::check_party(&input)?;
        let u = g.unlocked_mut();
        let at = now();
        let session = u.store.read(|c| pops_store::visits::session(c, party.session_id))?.ok_or_else(|| {
            Error::field("session_id", "That visits session could not be found: open today's session")
        })?;
        if session.date != time::london_date(at) {
            return Err(Error::field("session_id", "That session was on another day: open today's session first"));
        }
        Ok(u.store.write(Some(u.user.account_id), at, |w| pops_store::visits::check_in(w, &party))?)
    }

    pub fn check_out_party(&self, input: CheckOutPartyInput) -> Result<CheckIn> {
        let mut g = self.unlocked(Command::CheckOutParty)?;
        let u = g.unlocked_mut();
        Ok(u.store.write(Some(u.user.account_id), now(), |w| pops_store::visits::check_out(w, input.check_in_id))?)
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
        Ok(SettingsView { idle_lock_minutes: s.idle_lock_minutes })
    }

    pub fn update_settings(&self, input: UpdateSettingsInput) -> Result<SettingsView> {
        let mut g = self.unlocked(Command::UpdateSettings)?;
        if !(1..=60).contains(&input.idle_lock_minutes) {
            return Err(Error::field("idle_lock_minutes", "Enter a number of minutes from 1 to 60, for example 5"));
        }
        let settings = centre_store::Settings { idle_lock_minutes: input.idle_lock_minutes };
        let u = g.unlocked_mut();
        let centre_id = u.centre_id;
        u.store.write(Some(u.user.account_id), now(), |w| centre_store::save_settings(w, centre_id, &settings))?;
        let idle = self.idle_lock_for(&g.unlocked().store);
        g.inner.idle_lock = idle;
        Ok(SettingsView { idle_lock_minutes: settings.idle_lock_minutes })
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
}

/// The state lock, held while a signed-in command runs, known to be unlocked.
struct UnlockedGuard<'a> {
    inner: MutexGuard<'a, Inner>,
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
