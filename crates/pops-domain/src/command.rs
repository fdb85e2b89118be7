//! Every command the app answers, and the one table of which roles may call it. The desktop shell
//! checks this table before running any command; the UI reads a generated copy to hide what would be
//! refused anyway.

use crate::Role;
use serde::Serialize;
use ts_rs::TS;

/// Who may call a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Callable without signing in (setting up, signing in, unlocking, reading the app's state).
    Anyone,
    /// Callable only by a signed-in, unlocked person holding one of these roles.
    Roles(&'static [Role]),
}

const EVERY_ROLE: &[Role] = &Role::ALL;
const MANAGER: &[Role] = &[Role::Manager];
const COORDINATOR_MANAGER: &[Role] = &[Role::Coordinator, Role::Manager];
const EVENT_STAFF: &[Role] = &[Role::EarlyYears, Role::Coordinator, Role::Manager];

macro_rules! commands {
    ($($variant:ident => $name:literal, $access:expr;)*) => {
        /// A command of the app. The name is the command's name over IPC.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
        #[serde(rename_all = "snake_case")]
        pub enum Command { $($variant,)* }

        impl Command {
            pub const ALL: &'static [Command] = &[$(Command::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Command::$variant => $name,)* }
            }

            pub fn access(self) -> Access {
                match self { $(Command::$variant => $access,)* }
            }
        }
    };
}

commands! {
    GetAppState => "get_app_state", Access::Anyone;
    SetUpCentre => "set_up_centre", Access::Anyone;
    SignIn => "sign_in", Access::Anyone;
    UnlockWithPin => "unlock_with_pin", Access::Anyone;
    NoteActivity => "note_activity", Access::Anyone;
    LockNow => "lock_now", Access::Roles(EVERY_ROLE);
    SignOut => "sign_out", Access::Roles(EVERY_ROLE);
    GetToday => "get_today", Access::Roles(EVERY_ROLE);
    AddVisitsSession => "add_visits_session", Access::Roles(EVERY_ROLE);
    CancelVisitsSession => "cancel_visits_session", Access::Roles(EVERY_ROLE);
    CheckInParty => "check_in_party", Access::Roles(EVERY_ROLE);
    CheckOutParty => "check_out_party", Access::Roles(EVERY_ROLE);
    RecordVisitOutcome => "record_visit_outcome", Access::Roles(EVERY_ROLE);
    TickWalkthrough => "tick_walkthrough", Access::Roles(EVERY_ROLE);
    StartRollCall => "start_roll_call", Access::Roles(EVERY_ROLE);
    MarkRollCall => "mark_roll_call", Access::Roles(EVERY_ROLE);
    FinishRollCall => "finish_roll_call", Access::Roles(EVERY_ROLE);
    LogEnquiry => "log_enquiry", Access::Roles(EVERY_ROLE);
    LogFeedback => "log_feedback", Access::Roles(EVERY_ROLE);
    ListFeedback => "list_feedback", Access::Roles(EVERY_ROLE);
    RespondToFeedback => "respond_to_feedback", Access::Roles(COORDINATOR_MANAGER);
    CloseFeedback => "close_feedback", Access::Roles(COORDINATOR_MANAGER);
    ListEvents => "list_events", Access::Roles(EVERY_ROLE);
    RecordEvent => "record_event", Access::Roles(EVENT_STAFF);
    SearchFamilies => "search_families", Access::Roles(EVERY_ROLE);
    GetFamily => "get_family", Access::Roles(EVERY_ROLE);
    GetFamilyDetails => "get_family_details", Access::Roles(COORDINATOR_MANAGER);
    SaveFamily => "save_family", Access::Roles(EVERY_ROLE);
    RenewFamilyConsent => "renew_family_consent", Access::Roles(EVERY_ROLE);
    RemoveFamily => "remove_family", Access::Roles(COORDINATOR_MANAGER);
    ListFamiliesDueForRenewal => "list_families_due_for_renewal", Access::Roles(EVERY_ROLE);
    ListSessionTemplates => "list_session_templates", Access::Roles(MANAGER);
    SaveSessionTemplate => "save_session_template", Access::Roles(MANAGER);
    RetireSessionTemplate => "retire_session_template", Access::Roles(MANAGER);
    ExportCsv => "export_csv", Access::Roles(MANAGER);
    ListAccounts => "list_accounts", Access::Roles(MANAGER);
    AddAccount => "add_account", Access::Roles(MANAGER);
    SetAccountRole => "set_account_role", Access::Roles(MANAGER);
    DisableAccount => "disable_account", Access::Roles(MANAGER);
    GetSettings => "get_settings", Access::Roles(MANAGER);
    UpdateSettings => "update_settings", Access::Roles(MANAGER);
    VerifyAuditLog => "verify_audit_log", Access::Roles(MANAGER);
    SyncStatus => "sync_status", Access::Roles(EVERY_ROLE);
    SyncSendNow => "sync_send_now", Access::Roles(EVERY_ROLE);
    SyncEnrol => "sync_enrol", Access::Roles(MANAGER);
    SyncQuarantine => "sync_quarantine", Access::Roles(MANAGER);
    SetSyncTime => "set_sync_time", Access::Roles(MANAGER);
    SyncRestoreStart => "sync_restore_start", Access::Roles(MANAGER);
}

impl Command {
    /// Whether a person with `role` may call this command (`None`: nobody is signed in).
    pub fn permits(self, role: Option<Role>) -> bool {
        match (self.access(), role) {
            (Access::Anyone, _) => true,
            (Access::Roles(roles), Some(role)) => roles.contains(&role),
            (Access::Roles(_), None) => false,
        }
    }
}

impl Command {
    /// Whether calling this command counts as someone using the app, so the idle lock waits. The
    /// window polls `sync_status` every few seconds by itself: if that counted, the screen would
    /// never lock.
    pub fn counts_as_activity(self) -> bool {
        !matches!(self, Command::SyncStatus)
    }
}

/// The table as the UI receives it: for each command, the roles that may call it
/// (`null` when anyone may).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CommandAccess {
    pub command: Command,
    pub roles: Option<Vec<Role>>,
}

pub fn access_table() -> Vec<CommandAccess> {
    Command::ALL
        .iter()
        .map(|&command| CommandAccess {
            command,
            roles: match command.access() {
                Access::Anyone => None,
                Access::Roles(r) => Some(r.to_vec()),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<_> = Command::ALL.iter().map(|c| c.name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Command::ALL.len());
    }

    #[test]
    fn serde_name_matches_ipc_name() {
        for c in Command::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.name()));
        }
    }

    #[test]
    fn only_managers_manage_accounts() {
        assert!(Command::AddAccount.permits(Some(Role::Manager)));
        for r in [Role::Volunteer, Role::EarlyYears, Role::Coordinator] {
            assert!(!Command::AddAccount.permits(Some(r)));
        }
        assert!(!Command::GetToday.permits(None));
        assert!(Command::SignIn.permits(None));
    }

    #[test]
    fn head_office_connection_is_the_managers_and_the_light_is_everyones() {
        for r in Role::ALL {
            assert!(Command::SyncStatus.permits(Some(r)) && Command::SyncSendNow.permits(Some(r)));
            let manager = r == Role::Manager;
            for c in [Command::SyncEnrol, Command::SyncQuarantine, Command::SetSyncTime, Command::SyncRestoreStart] {
                assert_eq!(c.permits(Some(r)), manager, "{} as {}", c.name(), r.as_str());
            }
        }
        assert!(!Command::SyncStatus.counts_as_activity(), "polled by the window");
        assert!(Command::SyncSendNow.counts_as_activity() && Command::GetToday.counts_as_activity());
    }
}
