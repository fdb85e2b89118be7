//! The inputs and outputs of the app's commands that are not domain records: the app's state,
//! sign-in, settings, and the error every command may answer.

use pops_domain::account::Account;
use pops_domain::centre::PrisonOption;
use pops_domain::command::CommandAccess;
use pops_domain::desk::CentreEvent;
use pops_domain::families::{FamilyOutline, FamilySummary, VisitHistory};
use pops_domain::visits::{SessionTemplate, WalkthroughItem};
use pops_domain::{Problem, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

/// Where the app is: which screen the UI should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No centre on this laptop yet: first-run set-up.
    NeedsSetup,
    /// The database is closed: sign in with username and passphrase.
    SignedOut,
    /// Locked after idle time or on request: the signed-in person's PIN opens it again.
    Locked,
    /// Signed in and unlocked.
    Unlocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SignedInUser {
    pub account_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// What every screen needs to know about the app.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppStateView {
    pub phase: Phase,
    /// Known once the centre is set up, even while signed out (it is not personal data).
    pub centre_name: Option<String>,
    pub prison_label: Option<String>,
    /// The person signed in, or whose screen is locked.
    pub user: Option<SignedInUser>,
    pub idle_lock_seconds: i32,
    /// PIN attempts left before the full passphrase is needed (while locked).
    pub pin_attempts_left: Option<i32>,
    /// Which roles may call which command.
    pub access: Vec<CommandAccess>,
    /// The prisons offered at set-up.
    pub prisons: Vec<PrisonOption>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SignInInput {
    pub username: String,
    pub passphrase: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct UnlockWithPinInput {
    pub pin: String,
}

/// The answer to first-run set-up.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SetUpResult {
    /// Shown once, for head office to keep: it opens the centre's data if every passphrase is lost.
    pub recovery_code: String,
    pub state: AppStateView,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SettingsView {
    /// Minutes without use before the screen locks (1 to 60).
    pub idle_lock_minutes: i32,
    /// The first-visit walkthrough, in order.
    pub walkthrough: Vec<WalkthroughItem>,
    /// How long a family's consent lasts, in months.
    pub consent_months: i32,
    /// When the laptop sends to head office each night at the latest, London time, `HH:MM`
    /// (changed with `set_sync_time`, not `update_settings`).
    pub nightly_at: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct UpdateSettingsInput {
    pub idle_lock_minutes: i32,
    pub walkthrough: Vec<WalkthroughItemInput>,
    pub consent_months: i32,
}

/// One walkthrough item as edited: an existing item keeps its id; a new one has none.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct WalkthroughItemInput {
    pub id: Option<Uuid>,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct TemplateList {
    pub templates: Vec<SessionTemplate>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct EventList {
    pub events: Vec<CentreEvent>,
}

/// The lists a manager can export as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportList {
    /// Who is on site now, with the roll-call ticks if one is running.
    FireList,
    CheckIns,
    Enquiries,
    Feedback,
    Events,
    /// The families on record: names, visits and consent (no contact details or prisoner).
    Families,
}

impl ExportList {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportList::FireList => "fire list",
            ExportList::CheckIns => "check-ins",
            ExportList::Enquiries => "enquiries",
            ExportList::Feedback => "feedback",
            ExportList::Events => "events",
            ExportList::Families => "families",
        }
    }
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ExportCsvInput {
    pub list: Option<ExportList>,
}

/// Where the export was written.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportResult {
    pub path: String,
    pub rows: i32,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AccountList {
    pub accounts: Vec<Account>,
}

/// The result of checking the audit log's hash chain.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditReport {
    pub intact: bool,
    pub entries: i32,
    /// Where the chain breaks, in plain words, when it does.
    pub problem: Option<String>,
}

/// The closed set of error kinds the UI branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Something typed is wrong; `problems` says what, field by field.
    Invalid,
    /// The record asked for does not exist.
    NotFound,
    /// The action does not fit the record's state (for example checking out twice).
    Conflict,
    /// The signed-in person's role may not do this.
    Forbidden,
    /// Nobody is signed in.
    SignedOut,
    /// The screen is locked.
    Locked,
    /// Wrong username, passphrase or PIN.
    WrongCredentials,
    /// Too many wrong attempts: wait before trying again.
    Throttled,
    /// The centre's data could not be read or written.
    Storage,
    /// Head office could not be reached or could not answer; nothing was changed on this laptop.
    Unavailable,
    /// Anything else; a bug.
    Internal,
}

/// What a command answers when it fails.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    /// One sentence a volunteer understands.
    pub message: String,
    /// For `invalid`: each problem with the field it belongs to.
    pub problems: Vec<Problem>,
}

/// Families found by part of a name.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FamilySearchResult {
    pub families: Vec<FamilySummary>,
}

/// A family as the desk sees it: names, relationships, age bands, consent and visit history.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FamilyView {
    pub outline: FamilyOutline,
    pub visits: VisitHistory,
    /// Whether the person asking may open the contact details and the linked prisoner.
    pub may_see_details: bool,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct FamilyIdInput {
    pub family_id: Uuid,
}

/// Sync with head office as the window shows it: the strip on every screen and the manager's
/// Head office settings. Read from the app's own connection plus what only the worker knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SyncView {
    /// This laptop has an enrolment with head office (it may still be blocked).
    pub enrolled: bool,
    /// The hub's address, when enrolled (never with credentials: those are refused).
    pub hub_address: Option<String>,
    /// This laptop's id at head office, when enrolled.
    pub device_id: Option<Uuid>,
    /// RFC 3339, UTC.
    pub enrolled_at: Option<String>,
    /// Changes head office has not acknowledged yet.
    #[ts(type = "number")]
    pub waiting: i64,
    /// Changes head office acknowledged but could not accept (the manager's list).
    #[ts(type = "number")]
    pub quarantined: i64,
    /// When head office last confirmed changes, RFC 3339 UTC.
    pub last_ack_at: Option<String>,
    /// The last problem in plain words for a volunteer; gone after the next success.
    pub last_error: Option<String>,
    /// RFC 3339, UTC.
    pub last_error_at: Option<String>,
    /// Head office has withdrawn this laptop's permission to send: a new enrolment code is needed.
    pub blocked: bool,
    /// The laptop is talking to head office right now.
    pub sending: bool,
    /// Whether head office answered at the last try; `None` before any try since the app started.
    pub hub_reachable: Option<bool>,
    /// When the laptop will next try by itself, RFC 3339 UTC.
    pub next_attempt_at: Option<String>,
    /// Enrolled and nothing waiting: shutting the laptop loses nothing head office does not have.
    pub safe_to_shut: bool,
    /// How far restoring the centre's records from head office has got; `None`: none started.
    pub restore: Option<RestoreView>,
    /// A restore may be started (or carried on) here now (`sync_restore_start`). Always false for
    /// a role that may not start one.
    pub can_restore: bool,
    /// Why a restore cannot be started here, in plain words for the manager; `None` when it can,
    /// when the laptop is not enrolled yet (connecting comes first), or for a role that may not
    /// start one.
    pub restore_refusal: Option<String>,
}

/// How far restoring the centre's records from head office has got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RestoreView {
    /// 0 to 100, for a progress bar: 100 only once finished.
    pub percent: u8,
    /// Changes applied to this laptop's records.
    #[ts(type = "number")]
    pub applied: i64,
    /// Changes skipped (accounts, this laptop's own, ones that cannot be used here).
    #[ts(type = "number")]
    pub skipped: i64,
    /// How many changes the centre had at head office at the last page (0 before the first).
    #[ts(type = "number")]
    pub total: i64,
    /// Every change head office had is applied.
    pub finished: bool,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC, once finished.
    pub finished_at: Option<String>,
}

/// Connecting this laptop to head office with the one-time code head office gave.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SyncEnrolInput {
    /// For example `https://hub.pops.org.uk`; `http://` only for a hub on this laptop itself.
    pub hub_address: String,
    /// 16 letters and numbers, shown `XXXX-XXXX-XXXX-XXXX`; case, spaces and dashes do not matter.
    pub enrolment_code: String,
}

/// A change head office acknowledged but could not accept. No payload: the record is still on
/// this laptop, and head office has the change in its own quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct QuarantinedChangeView {
    #[ts(type = "number")]
    pub seq: i64,
    /// The kind of record, e.g. `check_in`.
    pub entity: String,
    pub entity_id: Uuid,
    /// Head office's reason, in its words (never the record's contents).
    pub reason: String,
    /// When head office's reply came, RFC 3339 UTC.
    pub at: String,
}

/// The changes head office could not accept, newest first.
#[derive(Debug, Clone, Serialize, TS)]
pub struct QuarantineList {
    pub changes: Vec<QuarantinedChangeView>,
}

/// The nightly send to head office.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetSyncTimeInput {
    /// London time, `HH:MM` on the 24-hour clock, for example `02:00`.
    pub nightly_at: String,
}
