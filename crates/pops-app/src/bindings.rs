//! TypeScript declarations of every type that crosses the IPC boundary, for `ui/src/backend/`.
//! `cargo xtask codegen` writes them; a test fails when the committed file is stale.

use crate::api::*;
use pops_domain::account::*;
use pops_domain::centre::*;
use pops_domain::command::*;
use pops_domain::desk::*;
use pops_domain::families::*;
use pops_domain::sync::RecordState;
use pops_domain::visits::*;
use pops_domain::{Problem, Role};
use ts_rs::TS;

/// The committed file, relative to the workspace root.
pub const PATH: &str = "ui/src/backend/bindings.ts";

macro_rules! decls {
    ($($t:ty),* $(,)?) => { vec![$(format!("export {}", <$t as TS>::decl())),*] };
}

/// The whole generated file.
pub fn typescript() -> String {
    let decls: Vec<String> = decls![
        Role,
        Problem,
        Command,
        CommandAccess,
        Prison,
        PrisonOption,
        SetUpCentreInput,
        Account,
        AddAccountInput,
        SetAccountRoleInput,
        DisableAccountInput,
        AgeBands,
        VisitKind,
        SessionTemplate,
        SessionTimesInput,
        SaveSessionTemplateInput,
        RetireSessionTemplateInput,
        TemplateList,
        VisitsSession,
        AddVisitsSessionInput,
        CancelVisitsSessionInput,
        SupportNeeds,
        HelpGiven,
        VisitOutcome,
        RecordVisitOutcomeInput,
        WalkthroughItem,
        TickWalkthroughInput,
        CheckInPartyInput,
        CheckOutPartyInput,
        CheckIn,
        CheckInRow,
        VisitCounts,
        SessionSummary,
        RollCall,
        MarkRollCallInput,
        FinishRollCallInput,
        TodayView,
        EnquiryTopic,
        EnquiryResolution,
        LogEnquiryInput,
        Enquiry,
        EnquiryRow,
        FeedbackKind,
        FeedbackChannel,
        FeedbackStatus,
        LogFeedbackInput,
        Feedback,
        FeedbackItem,
        FeedbackList,
        RespondToFeedbackInput,
        CloseFeedbackInput,
        EventKind,
        RecordEventInput,
        CentreEvent,
        EventList,
        AgeBand,
        Relationship,
        ConsentMethod,
        ConsentStatus,
        RemovalReason,
        FamilyMember,
        Consent,
        Contact,
        LinkedPrisoner,
        Family,
        MemberOutline,
        FamilyOutline,
        VisitHistory,
        FamilySummary,
        FamilyTombstone,
        ConsentInput,
        FamilyMemberInput,
        ContactInput,
        PrisonerInput,
        SaveFamilyInput,
        RenewConsentInput,
        RemoveFamilyInput,
        SearchFamiliesInput,
        FamilySearchResult,
        FamilyView,
        FamilyIdInput,
        ExportList,
        ExportCsvInput,
        ExportResult,
        Phase,
        SignedInUser,
        AppStateView,
        SignInInput,
        UnlockWithPinInput,
        SetUpResult,
        SettingsView,
        UpdateSettingsInput,
        WalkthroughItemInput,
        AccountList,
        AuditReport,
        ErrorKind,
        ErrorBody,
        RecordState,
        SyncView,
        RestoreView,
        SyncEnrolInput,
        QuarantinedChangeView,
        QuarantineList,
        SetSyncTimeInput,
    ];
    let mut out = String::from("// Generated from the Rust types by `cargo xtask codegen`. Do not edit by hand.\n\n");
    for d in decls {
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn committed_bindings_are_fresh() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let path = root.join(super::PATH);
        let want = super::typescript();
        if std::env::var_os("POPS_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &want).expect("write bindings");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(have == want, "{} is stale: run `cargo xtask codegen` and commit it", super::PATH);
    }
}
