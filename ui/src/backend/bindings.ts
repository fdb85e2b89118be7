// Generated from the Rust types by `cargo xtask codegen`. Do not edit by hand.

export type Role = "volunteer" | "early_years" | "coordinator" | "manager";

export type Problem = { 
/**
 * The input field's name, as the UI knows it (for example `adults`).
 */
field: string, 
/**
 * What to do about it, in plain English.
 */
message: string, };

export type Command = "get_app_state" | "set_up_centre" | "sign_in" | "unlock_with_pin" | "note_activity" | "lock_now" | "sign_out" | "get_today" | "add_visits_session" | "cancel_visits_session" | "check_in_party" | "check_out_party" | "record_visit_outcome" | "tick_walkthrough" | "start_roll_call" | "mark_roll_call" | "finish_roll_call" | "log_enquiry" | "log_feedback" | "list_feedback" | "respond_to_feedback" | "close_feedback" | "list_events" | "record_event" | "search_families" | "get_family" | "get_family_details" | "save_family" | "renew_family_consent" | "remove_family" | "list_families_due_for_renewal" | "list_session_templates" | "save_session_template" | "retire_session_template" | "export_csv" | "list_accounts" | "add_account" | "set_account_role" | "disable_account" | "get_settings" | "update_settings" | "verify_audit_log" | "sync_status" | "sync_send_now" | "sync_enrol" | "sync_quarantine" | "set_sync_time" | "sync_restore_start";

export type CommandAccess = { command: Command, roles: Array<Role> | null, };

export type Prison = "manchester" | "thorne_cross" | "buckley_hall" | "garth" | "hindley" | "kennet" | "kirkham" | "lancaster_farms" | "liverpool" | "risley" | "wymott" | "wakefield";

export type PrisonOption = { prison: Prison, label: string, };

export type SetUpCentreInput = { centre_name: string, 
/**
 * `None` until the person picks one.
 */
prison: Prison | null, display_name: string, username: string, passphrase: string, passphrase_confirm: string, pin: string, };

export type Account = { id: string, username: string, display_name: string, role: Role, active: boolean, 
/**
 * RFC 3339, UTC.
 */
created_at: string, };

export type AddAccountInput = { display_name: string, username: string, role: Role | null, passphrase: string, passphrase_confirm: string, pin: string, };

export type SetAccountRoleInput = { account_id: string, role: Role, };

export type DisableAccountInput = { account_id: string, };

export type AgeBands = { age_0_1: number, age_2: number, age_3_4: number, age_5_11: number, age_12_17: number, };

export type VisitKind = "open" | "closed";

export type SessionTemplate = { id: string, 
/**
 * ISO weekday: 1 is Monday, 7 is Sunday.
 */
weekday: number, name: string, 
/**
 * `HH:MM`, Europe/London.
 */
starts_at: string, ends_at: string, kind: VisitKind, 
/**
 * RFC 3339 when the centre stopped running it; retired templates make no more sessions.
 */
retired_at: string | null, };

export type SessionTimesInput = { name: string, starts_at: string, ends_at: string, kind: VisitKind | null, };

export type SaveSessionTemplateInput = { 
/**
 * `None` adds a new template.
 */
template_id: string | null, weekday: number | null, times: SessionTimesInput, };

export type RetireSessionTemplateInput = { template_id: string, };

export type TemplateList = { templates: Array<SessionTemplate>, };

export type VisitsSession = { id: string, 
/**
 * The day in Europe/London, `YYYY-MM-DD`.
 */
date: string, name: string, 
/**
 * `HH:MM`, Europe/London.
 */
starts_at: string, ends_at: string, kind: VisitKind, 
/**
 * The weekly template it came from; `None` when added by hand.
 */
template_id: string | null, 
/**
 * RFC 3339, UTC.
 */
opened_at: string, opened_by: string, cancelled_at: string | null, cancelled_by: string | null, cancel_reason: string | null, };

export type AddVisitsSessionInput = { times: SessionTimesInput, };

export type CancelVisitsSessionInput = { session_id: string, reason: string, };

export type SupportNeeds = { induction_loop: boolean, bsl_interpreter: boolean, step_free_access: boolean, distress: boolean, 
/**
 * The language, when an interpreter is needed; empty when not.
 */
interpreter_language: string, 
/**
 * Anything else, in the volunteer's words; empty when nothing.
 */
other: string, };

export type HelpGiven = { information: boolean, locker: boolean, walkthrough: boolean, 
/**
 * Where the family was signposted; empty when nowhere.
 */
signposted_to: string, };

export type VisitOutcome = "visited" | "did_not_go_in" | "declined_entry" | "failed_security" | "cancelled_by_prison";

export type RecordVisitOutcomeInput = { check_in_id: string, outcome: VisitOutcome | null, 
/**
 * Required when the outcome is declined entry or failed security checks.
 */
welfare_offered: boolean | null, };

export type WalkthroughItem = { id: string, label: string, };

export type TickWalkthroughInput = { check_in_id: string, ticked: Array<string>, };

export type CheckInPartyInput = { session_id: string | null, adults: number, children: AgeBands, first_time: boolean, 
/**
 * Optional; most families give no name.
 */
lead_name: string, needs: SupportNeeds, help: HelpGiven, 
/**
 * The family on record this party is, when the desk found them.
 */
family_id: string | null, };

export type CheckOutPartyInput = { check_in_id: string, };

export type CheckIn = { id: string, session_id: string, adults: number, children: AgeBands, first_time: boolean, lead_name: string | null, 
/**
 * RFC 3339, UTC.
 */
arrived_at: string, left_at: string | null, checked_in_by: string, checked_out_by: string | null, needs: SupportNeeds, help: HelpGiven, outcome: VisitOutcome | null, welfare_offered: boolean | null, 
/**
 * Walkthrough items gone through with this (first-time) party.
 */
walkthrough: Array<string>, 
/**
 * The family on record that this party is, when the desk has linked one.
 */
family_id: string | null, };

export type CheckInRow = { 
/**
 * Where the check-in's latest change to head office has got to.
 */
sync_state: RecordState | null, id: string, session_id: string, adults: number, children: AgeBands, first_time: boolean, lead_name: string | null, 
/**
 * RFC 3339, UTC.
 */
arrived_at: string, left_at: string | null, checked_in_by: string, checked_out_by: string | null, needs: SupportNeeds, help: HelpGiven, outcome: VisitOutcome | null, welfare_offered: boolean | null, 
/**
 * Walkthrough items gone through with this (first-time) party.
 */
walkthrough: Array<string>, 
/**
 * The family on record that this party is, when the desk has linked one.
 */
family_id: string | null, };

export type VisitCounts = { parties: number, adults: number, children: number, first_time_parties: number, on_site_parties: number, on_site_people: number, left_parties: number, };

export type SessionSummary = { session: VisitsSession, counts: VisitCounts, };

export type RollCall = { id: string, 
/**
 * RFC 3339, UTC.
 */
started_at: string, started_by: string, finished_at: string | null, 
/**
 * Check-in ids of the parties on site at the start.
 */
parties: Array<string>, accounted: Array<string>, };

export type MarkRollCallInput = { roll_call_id: string, check_in_id: string, accounted: boolean, };

export type FinishRollCallInput = { roll_call_id: string, };

export type TodayView = { 
/**
 * The day in Europe/London, `YYYY-MM-DD`.
 */
date: string, 
/**
 * Newest first.
 */
sessions: Array<SessionSummary>, 
/**
 * Parties on site now, newest arrival first.
 */
on_site: Array<CheckInRow>, 
/**
 * Parties that have left today, most recent departure first.
 */
left: Array<CheckInRow>, counts: VisitCounts, 
/**
 * Enquiries logged today, newest first.
 */
enquiries: Array<EnquiryRow>, 
/**
 * Feedback received today.
 */
feedback_received: number, 
/**
 * The centre's first-visit walkthrough.
 */
walkthrough: Array<WalkthroughItem>, 
/**
 * The roll-call in progress, if any.
 */
roll_call: RollCall | null, };

export type EnquiryTopic = "visit_booking" | "property" | "money_for_prisoner" | "release" | "health_and_welfare" | "transport" | "other";

export type EnquiryResolution = "answered" | "signposted" | "passed_to_coordinator";

export type LogEnquiryInput = { topic: EnquiryTopic | null, resolution: EnquiryResolution | null, 
/**
 * Where the person was signposted (needed when the resolution is `signposted`).
 */
signposted_to: string, note: string, };

export type Enquiry = { id: string, 
/**
 * RFC 3339, UTC.
 */
received_at: string, topic: EnquiryTopic, resolution: EnquiryResolution, signposted_to: string | null, note: string | null, recorded_by: string, };

export type EnquiryRow = { 
/**
 * Where the enquiry's change to head office has got to.
 */
sync_state: RecordState | null, id: string, 
/**
 * RFC 3339, UTC.
 */
received_at: string, topic: EnquiryTopic, resolution: EnquiryResolution, signposted_to: string | null, note: string | null, recorded_by: string, };

export type FeedbackKind = "compliment" | "complaint" | "suggestion";

export type FeedbackChannel = "in_person" | "comment_card" | "family_forum";

export type FeedbackStatus = "open" | "responded" | "closed";

export type LogFeedbackInput = { kind: FeedbackKind | null, channel: FeedbackChannel | null, summary: string, };

export type Feedback = { id: string, 
/**
 * RFC 3339, UTC.
 */
received_at: string, kind: FeedbackKind, channel: FeedbackChannel, summary: string, status: FeedbackStatus, recorded_by: string, response: string | null, responded_by: string | null, responded_at: string | null, closed_by: string | null, closed_at: string | null, };

export type FeedbackItem = { feedback: Feedback, 
/**
 * Whole days since it was received (for open complaints, how long it has waited).
 */
age_days: number, 
/**
 * The name of whoever recorded the response, when there is one.
 */
responded_by_name: string | null, 
/**
 * Where the feedback's latest change to head office has got to.
 */
sync_state: RecordState | null, };

export type FeedbackList = { items: Array<FeedbackItem>, };

export type RespondToFeedbackInput = { feedback_id: string, response: string, };

export type CloseFeedbackInput = { feedback_id: string, };

export type EventKind = "family_day" | "family_forum";

export type RecordEventInput = { 
/**
 * `YYYY-MM-DD`.
 */
date: string, kind: EventKind | null, title: string, adults: number, children: AgeBands, notes: string, };

export type CentreEvent = { id: string, date: string, kind: EventKind, title: string, adults: number, children: AgeBands, notes: string | null, recorded_by: string, recorded_at: string, };

export type EventList = { events: Array<CentreEvent>, };

export type AgeBand = "adult" | "age_0_1" | "age_2" | "age_3_4" | "age_5_11" | "age_12_17";

export type Relationship = "partner" | "parent" | "child" | "stepchild" | "grandparent" | "grandchild" | "sibling" | "other_relative" | "friend" | "carer";

export type ConsentMethod = "verbal" | "written";

export type ConsentStatus = "current" | "due_for_renewal" | "expired";

export type RemovalReason = "consent_withdrawn" | "consent_expired" | "erasure_requested";

export type FamilyMember = { id: string, name: string, relationship: Relationship, 
/**
 * `YYYY-MM-DD`, when the family gave it; the age band then follows from it.
 */
date_of_birth: string | null, 
/**
 * The band given instead of a date of birth; `None` when the date of birth is known.
 */
age_band: AgeBand | null, };

export type Consent = { 
/**
 * Who gave it (usually the lead visitor).
 */
given_by: string, method: ConsentMethod, 
/**
 * `YYYY-MM-DD`.
 */
given_on: string, 
/**
 * `YYYY-MM-DD`: `given_on` plus the centre's consent period. The consent has expired on this day.
 */
expires_on: string, 
/**
 * Who recorded it in the app, and when (RFC 3339, UTC).
 */
recorded_by: string, recorded_at: string, };

export type Contact = { phone: string | null, email: string | null, 
/**
 * May run over several lines.
 */
address: string | null, };

export type LinkedPrisoner = { name: string | null, 
/**
 * Upper case, like `A1234BC`.
 */
prison_number: string | null, };

export type Family = { id: string, 
/**
 * The lead visitor first.
 */
members: Array<FamilyMember>, consent: Consent, contact: Contact, prisoner: LinkedPrisoner | null, 
/**
 * RFC 3339, UTC.
 */
created_at: string, created_by: string, updated_at: string, updated_by: string, };

export type MemberOutline = { id: string, name: string, relationship: Relationship, 
/**
 * On the day the outline was made.
 */
age_band: AgeBand, };

export type FamilyOutline = { id: string, 
/**
 * The lead visitor first.
 */
members: Array<MemberOutline>, consent_expires_on: string, consent_status: ConsentStatus, };

export type VisitHistory = { 
/**
 * RFC 3339, UTC: the arrival of the first and the latest check-in.
 */
first_visit: string | null, last_visit: string | null, check_ins: number, };

export type FamilySummary = { id: string, 
/**
 * Every member's name, the lead visitor first.
 */
names: Array<string>, visits: VisitHistory, consent_expires_on: string, consent_status: ConsentStatus, 
/**
 * Where the family's latest change to head office has got to (filled in by the app for the
 * lists it shows; `None` in exports).
 */
sync_state: RecordState | null, };

export type FamilyTombstone = { id: string, reason: RemovalReason, 
/**
 * RFC 3339, UTC.
 */
removed_at: string, removed_by: string, };

export type ConsentInput = { 
/**
 * The tick box: the family agrees to the centre keeping their details.
 */
consent_given: boolean, given_by: string, method: ConsentMethod | null, 
/**
 * `YYYY-MM-DD` (or `DD/MM/YYYY`).
 */
given_on: string, };

export type FamilyMemberInput = { 
/**
 * The member's id when editing an existing member; `None` adds a member.
 */
member_id: string | null, name: string, relationship: Relationship | null, 
/**
 * `YYYY-MM-DD` (or `DD/MM/YYYY`); empty when an age band is given instead.
 */
date_of_birth: string, age_band: AgeBand | null, };

export type ContactInput = { phone: string, email: string, address: string, };

export type PrisonerInput = { name: string, prison_number: string, };

export type SaveFamilyInput = { family_id: string | null, consent: ConsentInput, 
/**
 * The lead visitor first.
 */
members: Array<FamilyMemberInput>, contact: ContactInput, prisoner: PrisonerInput, };

export type RenewConsentInput = { family_id: string, consent: ConsentInput, };

export type RemoveFamilyInput = { family_id: string, reason: RemovalReason | null, };

export type SearchFamiliesInput = { 
/**
 * Part of any member's name.
 */
query: string, };

export type FamilySearchResult = { families: Array<FamilySummary>, };

export type FamilyView = { outline: FamilyOutline, visits: VisitHistory, 
/**
 * Whether the person asking may open the contact details and the linked prisoner.
 */
may_see_details: boolean, };

export type FamilyIdInput = { family_id: string, };

export type ExportList = "fire_list" | "check_ins" | "enquiries" | "feedback" | "events" | "families";

export type ExportCsvInput = { list: ExportList | null, };

export type ExportResult = { path: string, rows: number, };

export type Phase = "needs_setup" | "signed_out" | "locked" | "unlocked";

export type SignedInUser = { account_id: string, username: string, display_name: string, role: Role, };

export type AppStateView = { phase: Phase, 
/**
 * Known once the centre is set up, even while signed out (it is not personal data).
 */
centre_name: string | null, prison_label: string | null, 
/**
 * The person signed in, or whose screen is locked.
 */
user: SignedInUser | null, idle_lock_seconds: number, 
/**
 * PIN attempts left before the full passphrase is needed (while locked).
 */
pin_attempts_left: number | null, 
/**
 * Which roles may call which command.
 */
access: Array<CommandAccess>, 
/**
 * The prisons offered at set-up.
 */
prisons: Array<PrisonOption>, };

export type SignInInput = { username: string, passphrase: string, };

export type UnlockWithPinInput = { pin: string, };

export type SetUpResult = { 
/**
 * Shown once, for head office to keep: it opens the centre's data if every passphrase is lost.
 */
recovery_code: string, state: AppStateView, };

export type SettingsView = { 
/**
 * Minutes without use before the screen locks (1 to 60).
 */
idle_lock_minutes: number, 
/**
 * The first-visit walkthrough, in order.
 */
walkthrough: Array<WalkthroughItem>, 
/**
 * How long a family's consent lasts, in months.
 */
consent_months: number, 
/**
 * When the laptop sends to head office each night at the latest, London time, `HH:MM`
 * (changed with `set_sync_time`, not `update_settings`).
 */
nightly_at: string, };

export type UpdateSettingsInput = { idle_lock_minutes: number, walkthrough: Array<WalkthroughItemInput>, consent_months: number, };

export type WalkthroughItemInput = { id: string | null, label: string, };

export type AccountList = { accounts: Array<Account>, };

export type AuditReport = { intact: boolean, entries: number, 
/**
 * Where the chain breaks, in plain words, when it does.
 */
problem: string | null, };

export type ErrorKind = "invalid" | "not_found" | "conflict" | "forbidden" | "signed_out" | "locked" | "wrong_credentials" | "throttled" | "storage" | "unavailable" | "internal";

export type ErrorBody = { kind: ErrorKind, 
/**
 * One sentence a volunteer understands.
 */
message: string, 
/**
 * For `invalid`: each problem with the field it belongs to.
 */
problems: Array<Problem>, };

export type RecordState = "saved" | "queued" | "sent" | "confirmed";

export type SyncView = { 
/**
 * This laptop has an enrolment with head office (it may still be blocked).
 */
enrolled: boolean, 
/**
 * The hub's address, when enrolled (never with credentials: those are refused).
 */
hub_address: string | null, 
/**
 * This laptop's id at head office, when enrolled.
 */
device_id: string | null, 
/**
 * RFC 3339, UTC.
 */
enrolled_at: string | null, 
/**
 * Changes head office has not acknowledged yet.
 */
waiting: number, 
/**
 * Changes head office acknowledged but could not accept (the manager's list).
 */
quarantined: number, 
/**
 * When head office last confirmed changes, RFC 3339 UTC.
 */
last_ack_at: string | null, 
/**
 * The last problem in plain words for a volunteer; gone after the next success.
 */
last_error: string | null, 
/**
 * RFC 3339, UTC.
 */
last_error_at: string | null, 
/**
 * Head office has withdrawn this laptop's permission to send: a new enrolment code is needed.
 */
blocked: boolean, 
/**
 * The laptop is talking to head office right now.
 */
sending: boolean, 
/**
 * Whether head office answered at the last try; `None` before any try since the app started.
 */
hub_reachable: boolean | null, 
/**
 * When the laptop will next try by itself, RFC 3339 UTC.
 */
next_attempt_at: string | null, 
/**
 * Enrolled and nothing waiting: shutting the laptop loses nothing head office does not have.
 */
safe_to_shut: boolean, 
/**
 * How far restoring the centre's records from head office has got; `None`: none started.
 */
restore: RestoreView | null, 
/**
 * A restore may be started (or carried on) here now (`sync_restore_start`). Always false for
 * a role that may not start one.
 */
can_restore: boolean, 
/**
 * Why a restore cannot be started here, in plain words for the manager; `None` when it can,
 * when the laptop is not enrolled yet (connecting comes first), or for a role that may not
 * start one.
 */
restore_refusal: string | null, };

export type RestoreView = { 
/**
 * 0 to 100, for a progress bar: 100 only once finished.
 */
percent: number, 
/**
 * Changes applied to this laptop's records.
 */
applied: number, 
/**
 * Changes skipped (accounts, this laptop's own, ones that cannot be used here).
 */
skipped: number, 
/**
 * How many changes the centre had at head office at the last page (0 before the first).
 */
total: number, 
/**
 * Every change head office had is applied.
 */
finished: boolean, 
/**
 * RFC 3339, UTC.
 */
started_at: string, 
/**
 * RFC 3339, UTC, once finished.
 */
finished_at: string | null, };

export type SyncEnrolInput = { 
/**
 * For example `https://hub.pops.org.uk`; `http://` only for a hub on this laptop itself.
 */
hub_address: string, 
/**
 * 16 letters and numbers, shown `XXXX-XXXX-XXXX-XXXX`; case, spaces and dashes do not matter.
 */
enrolment_code: string, };

export type QuarantinedChangeView = { seq: number, 
/**
 * The kind of record, e.g. `check_in`.
 */
entity: string, entity_id: string, 
/**
 * Head office's reason, in its words (never the record's contents).
 */
reason: string, 
/**
 * When head office's reply came, RFC 3339 UTC.
 */
at: string, };

export type QuarantineList = { changes: Array<QuarantinedChangeView>, };

export type SetSyncTimeInput = { 
/**
 * London time, `HH:MM` on the 24-hour clock, for example `02:00`.
 */
nightly_at: string, };
