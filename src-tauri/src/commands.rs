//! The Tauri commands: one line each, handing the input to `pops-app` on a blocking thread (key
//! derivation takes a third of a second, and the window must never wait on it). Inputs arrive as
//! JSON and are read by `pops_app::decode`, so an input of the wrong shape is a field error too.

use pops_app::api::*;
use pops_app::{App, Error, decode};
use pops_domain::account::{Account, AddAccountInput, DisableAccountInput, SetAccountRoleInput};
use pops_domain::centre::SetUpCentreInput;
use pops_domain::desk::{
    CentreEvent, CloseFeedbackInput, Enquiry, Feedback, FeedbackList, LogEnquiryInput, LogFeedbackInput,
    RecordEventInput, RespondToFeedbackInput,
};
use pops_domain::families::{
    Family, FamilyTombstone, RemoveFamilyInput, RenewConsentInput, SaveFamilyInput, SearchFamiliesInput,
};
use pops_domain::visits::{
    AddVisitsSessionInput, CancelVisitsSessionInput, CheckIn, CheckInPartyInput, CheckOutPartyInput,
    FinishRollCallInput, MarkRollCallInput, RecordVisitOutcomeInput, RetireSessionTemplateInput, RollCall,
    SaveSessionTemplateInput, SessionTemplate, TickWalkthroughInput, TodayView, VisitsSession,
};
use serde_json::Value;
use std::sync::Arc;
use tauri::State;

type Shared<'a> = State<'a, Arc<App>>;

async fn blocking<T: Send + 'static>(
    app: &Shared<'_>,
    f: impl FnOnce(&App) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let app = Arc::clone(app);
    tauri::async_runtime::spawn_blocking(move || f(&app))
        .await
        .unwrap_or_else(|_| Err(Error::new(ErrorKind::Internal, "Something went wrong inside the app. Try again.")))
}

#[tauri::command]
async fn get_app_state(app: Shared<'_>) -> Result<AppStateView, Error> {
    blocking(&app, |a| Ok(a.get_app_state())).await
}

#[tauri::command]
async fn set_up_centre(app: Shared<'_>, input: Value) -> Result<SetUpResult, Error> {
    blocking(&app, move |a| a.set_up_centre(decode::<SetUpCentreInput>(input)?)).await
}

#[tauri::command]
async fn sign_in(app: Shared<'_>, input: Value) -> Result<AppStateView, Error> {
    blocking(&app, move |a| a.sign_in(decode::<SignInInput>(input)?)).await
}

#[tauri::command]
async fn unlock_with_pin(app: Shared<'_>, input: Value) -> Result<AppStateView, Error> {
    blocking(&app, move |a| a.unlock_with_pin(decode::<UnlockWithPinInput>(input)?)).await
}

#[tauri::command]
async fn note_activity(app: Shared<'_>) -> Result<(), Error> {
    blocking(&app, |a| {
        a.note_activity();
        Ok(())
    })
    .await
}

#[tauri::command]
async fn lock_now(app: Shared<'_>) -> Result<AppStateView, Error> {
    blocking(&app, |a| a.lock_now()).await
}

#[tauri::command]
async fn sign_out(app: Shared<'_>) -> Result<AppStateView, Error> {
    blocking(&app, |a| a.sign_out()).await
}

#[tauri::command]
async fn get_today(app: Shared<'_>) -> Result<TodayView, Error> {
    blocking(&app, |a| a.get_today()).await
}

#[tauri::command]
async fn add_visits_session(app: Shared<'_>, input: Value) -> Result<VisitsSession, Error> {
    blocking(&app, move |a| a.add_visits_session(decode::<AddVisitsSessionInput>(input)?)).await
}

#[tauri::command]
async fn cancel_visits_session(app: Shared<'_>, input: Value) -> Result<VisitsSession, Error> {
    blocking(&app, move |a| a.cancel_visits_session(decode::<CancelVisitsSessionInput>(input)?)).await
}

#[tauri::command]
async fn check_in_party(app: Shared<'_>, input: Value) -> Result<CheckIn, Error> {
    blocking(&app, move |a| a.check_in_party(decode::<CheckInPartyInput>(input)?)).await
}

#[tauri::command]
async fn check_out_party(app: Shared<'_>, input: Value) -> Result<CheckIn, Error> {
    blocking(&app, move |a| a.check_out_party(decode::<CheckOutPartyInput>(input)?)).await
}

#[tauri::command]
async fn record_visit_outcome(app: Shared<'_>, input: Value) -> Result<CheckIn, Error> {
    blocking(&app, move |a| a.record_visit_outcome(decode::<RecordVisitOutcomeInput>(input)?)).await
}

#[tauri::command]
async fn tick_walkthrough(app: Shared<'_>, input: Value) -> Result<CheckIn, Error> {
    blocking(&app, move |a| a.tick_walkthrough(decode::<TickWalkthroughInput>(input)?)).await
}

#[tauri::command]
async fn start_roll_call(app: Shared<'_>) -> Result<RollCall, Error> {
    blocking(&app, |a| a.start_roll_call()).await
}

#[tauri::command]
async fn mark_roll_call(app: Shared<'_>, input: Value) -> Result<RollCall, Error> {
    blocking(&app, move |a| a.mark_roll_call(decode::<MarkRollCallInput>(input)?)).await
}

#[tauri::command]
async fn finish_roll_call(app: Shared<'_>, input: Value) -> Result<RollCall, Error> {
    blocking(&app, move |a| a.finish_roll_call(decode::<FinishRollCallInput>(input)?)).await
}

#[tauri::command]
async fn log_enquiry(app: Shared<'_>, input: Value) -> Result<Enquiry, Error> {
    blocking(&app, move |a| a.log_enquiry(decode::<LogEnquiryInput>(input)?)).await
}

#[tauri::command]
async fn log_feedback(app: Shared<'_>, input: Value) -> Result<Feedback, Error> {
    blocking(&app, move |a| a.log_feedback(decode::<LogFeedbackInput>(input)?)).await
}

#[tauri::command]
async fn list_feedback(app: Shared<'_>) -> Result<FeedbackList, Error> {
    blocking(&app, |a| a.list_feedback()).await
}

#[tauri::command]
async fn respond_to_feedback(app: Shared<'_>, input: Value) -> Result<Feedback, Error> {
    blocking(&app, move |a| a.respond_to_feedback(decode::<RespondToFeedbackInput>(input)?)).await
}

#[tauri::command]
async fn close_feedback(app: Shared<'_>, input: Value) -> Result<Feedback, Error> {
    blocking(&app, move |a| a.close_feedback(decode::<CloseFeedbackInput>(input)?)).await
}

#[tauri::command]
async fn list_events(app: Shared<'_>) -> Result<EventList, Error> {
    blocking(&app, |a| a.list_events()).await
}

#[tauri::command]
async fn record_event(app: Shared<'_>, input: Value) -> Result<CentreEvent, Error> {
    blocking(&app, move |a| a.record_event(decode::<RecordEventInput>(input)?)).await
}

#[tauri::command]
async fn search_families(app: Shared<'_>, input: Value) -> Result<FamilySearchResult, Error> {
    blocking(&app, move |a| a.search_families(decode::<SearchFamiliesInput>(input)?)).await
}

#[tauri::command]
async fn get_family(app: Shared<'_>, input: Value) -> Result<FamilyView, Error> {
    blocking(&app, move |a| a.get_family(decode::<FamilyIdInput>(input)?)).await
}

#[tauri::command]
async fn get_family_details(app: Shared<'_>, input: Value) -> Result<Family, Error> {
    blocking(&app, move |a| a.get_family_details(decode::<FamilyIdInput>(input)?)).await
}

#[tauri::command]
async fn save_family(app: Shared<'_>, input: Value) -> Result<FamilyView, Error> {
    blocking(&app, move |a| a.save_family(decode::<SaveFamilyInput>(input)?)).await
}

#[tauri::command]
async fn renew_family_consent(app: Shared<'_>, input: Value) -> Result<FamilyView, Error> {
    blocking(&app, move |a| a.renew_family_consent(decode::<RenewConsentInput>(input)?)).await
}

#[tauri::command]
async fn remove_family(app: Shared<'_>, input: Value) -> Result<FamilyTombstone, Error> {
    blocking(&app, move |a| a.remove_family(decode::<RemoveFamilyInput>(input)?)).await
}

#[tauri::command]
async fn list_families_due_for_renewal(app: Shared<'_>) -> Result<FamilySearchResult, Error> {
    blocking(&app, |a| a.list_families_due_for_renewal()).await
}

#[tauri::command]
async fn list_session_templates(app: Shared<'_>) -> Result<TemplateList, Error> {
    blocking(&app, |a| a.list_session_templates()).await
}

#[tauri::command]
async fn save_session_template(app: Shared<'_>, input: Value) -> Result<SessionTemplate, Error> {
    blocking(&app, move |a| a.save_session_template(decode::<SaveSessionTemplateInput>(input)?)).await
}

#[tauri::command]
async fn retire_session_template(app: Shared<'_>, input: Value) -> Result<SessionTemplate, Error> {
    blocking(&app, move |a| a.retire_session_template(decode::<RetireSessionTemplateInput>(input)?)).await
}

#[tauri::command]
async fn export_csv(app: Shared<'_>, input: Value) -> Result<ExportResult, Error> {
    blocking(&app, move |a| a.export_csv(decode::<ExportCsvInput>(input)?)).await
}

#[tauri::command]
async fn list_accounts(app: Shared<'_>) -> Result<AccountList, Error> {
    blocking(&app, |a| a.list_accounts()).await
}

#[tauri::command]
async fn add_account(app: Shared<'_>, input: Value) -> Result<Account, Error> {
    blocking(&app, move |a| a.add_account(decode::<AddAccountInput>(input)?)).await
}

#[tauri::command]
async fn set_account_role(app: Shared<'_>, input: Value) -> Result<Account, Error> {
    blocking(&app, move |a| a.set_account_role(decode::<SetAccountRoleInput>(input)?)).await
}

#[tauri::command]
async fn disable_account(app: Shared<'_>, input: Value) -> Result<Account, Error> {
    blocking(&app, move |a| a.disable_account(decode::<DisableAccountInput>(input)?)).await
}

#[tauri::command]
async fn get_settings(app: Shared<'_>) -> Result<SettingsView, Error> {
    blocking(&app, |a| a.get_settings()).await
}

#[tauri::command]
async fn update_settings(app: Shared<'_>, input: Value) -> Result<SettingsView, Error> {
    blocking(&app, move |a| a.update_settings(decode::<UpdateSettingsInput>(input)?)).await
}

#[tauri::command]
async fn verify_audit_log(app: Shared<'_>) -> Result<AuditReport, Error> {
    blocking(&app, |a| a.verify_audit_log()).await
}

#[tauri::command]
async fn sync_status(app: Shared<'_>) -> Result<SyncView, Error> {
    blocking(&app, |a| a.sync_status()).await
}

#[tauri::command]
async fn sync_send_now(app: Shared<'_>) -> Result<SyncView, Error> {
    blocking(&app, |a| a.sync_send_now()).await
}

/// Waits for head office's answer (up to the request time-out) on a blocking thread: the window
/// and every other command carry on meanwhile.
#[tauri::command]
async fn sync_enrol(app: Shared<'_>, input: Value) -> Result<SyncView, Error> {
    blocking(&app, move |a| a.sync_enrol(decode::<SyncEnrolInput>(input)?)).await
}

#[tauri::command]
async fn sync_quarantine(app: Shared<'_>) -> Result<QuarantineList, Error> {
    blocking(&app, |a| a.sync_quarantine()).await
}

#[tauri::command]
async fn set_sync_time(app: Shared<'_>, input: Value) -> Result<SettingsView, Error> {
    blocking(&app, move |a| a.set_sync_time(decode::<SetSyncTimeInput>(input)?)).await
}

/// A quick local write (the pages then come in the background), on a blocking thread all the same.
#[tauri::command]
async fn sync_restore_start(app: Shared<'_>) -> Result<SyncView, Error> {
    blocking(&app, |a| a.sync_restore_start()).await
}

macro_rules! register {
    ($($command:ident),* $(,)?) => {
        /// The IPC handler for every command.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($command),*]
        }
        /// The names registered with `handler`, for the test below.
        #[cfg(test)]
        const REGISTERED: &[&str] = &[$(stringify!($command)),*];
    };
}

register![
    get_app_state,
    set_up_centre,
    sign_in,
    unlock_with_pin,
    note_activity,
    lock_now,
    sign_out,
    get_today,
    add_visits_session,
    cancel_visits_session,
    check_in_party,
    check_out_party,
    record_visit_outcome,
    tick_walkthrough,
    start_roll_call,
    mark_roll_call,
    finish_roll_call,
    log_enquiry,
    log_feedback,
    list_feedback,
    respond_to_feedback,
    close_feedback,
    list_events,
    record_event,
    search_families,
    get_family,
    get_family_details,
    save_family,
    renew_family_consent,
    remove_family,
    list_families_due_for_renewal,
    list_session_templates,
    save_session_template,
    retire_session_template,
    export_csv,
    list_accounts,
    add_account,
    set_account_role,
    disable_account,
    get_settings,
    update_settings,
    verify_audit_log,
    sync_status,
    sync_send_now,
    sync_enrol,
    sync_quarantine,
    set_sync_time,
    sync_restore_start,
];

#[cfg(test)]
mod tests {
    use pops_domain::command::Command;

    #[test]
    fn registered_commands_are_exactly_the_role_table() {
        let mut registered: Vec<&str> = super::REGISTERED.to_vec();
        let mut table: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        registered.sort_unstable();
        table.sort_unstable();
        assert_eq!(registered, table);
    }

    #[test]
    fn the_capability_grants_exactly_the_app_commands() {
        let text = include_str!("../capabilities/main.json");
        let cap: serde_json::Value = serde_json::from_str(text).expect("capability JSON");
        let mut granted: Vec<String> = cap["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .filter(|p| !p.starts_with("core:event:"))
            .map(String::from)
            .collect();
        let mut wanted: Vec<String> =
            Command::ALL.iter().map(|c| format!("allow-{}", c.name().replace('_', "-"))).collect();
        granted.sort();
        wanted.sort();
        assert_eq!(granted, wanted, "capabilities/main.json must grant the app's commands and nothing else");
        let events: Vec<&str> = cap["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .filter(|p| p.starts_with("core:"))
            .collect();
        assert_eq!(events, ["core:event:allow-listen", "core:event:allow-unlisten"]);
    }
}
