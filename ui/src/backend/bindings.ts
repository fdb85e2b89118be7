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

export type Command = "get_app_state" | "set_up_centre" | "sign_in" | "unlock_with_pin" | "note_activity" | "lock_now" | "sign_out" | "get_today" | "open_visits_session" | "check_in_party" | "check_out_party" | "list_accounts" | "add_account" | "set_account_role" | "disable_account" | "get_settings" | "update_settings" | "verify_audit_log";

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

export type Slot = "morning" | "afternoon" | "evening";

export type AgeBands = { age_0_1: number, age_2: number, age_3_4: number, age_5_11: number, age_12_17: number, };

export type VisitsSession = { id: string, 
/**
 * The day in Europe/London, `YYYY-MM-DD`.
 */
date: string, slot: Slot, 
/**
 * RFC 3339, UTC.
 */
opened_at: string, opened_by: string, };

export type OpenVisitsSessionInput = { slot: Slot | null, };

export type CheckInPartyInput = { session_id: string | null, adults: number, children: AgeBands, first_time: boolean, 
/**
 * Optional; most families give no name.
 */
lead_name: string, };

export type CheckOutPartyInput = { check_in_id: string, };

export type CheckIn = { id: string, session_id: string, adults: number, children: AgeBands, first_time: boolean, lead_name: string | null, 
/**
 * RFC 3339, UTC.
 */
arrived_at: string, left_at: string | null, checked_in_by: string, checked_out_by: string | null, };

export type VisitCounts = { parties: number, adults: number, children: number, first_time_parties: number, on_site_parties: number, on_site_people: number, };

export type SessionSummary = { session: VisitsSession, counts: VisitCounts, };

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
on_site: Array<CheckIn>, 
/**
 * Parties that have left today, most recent departure first.
 */
left: Array<CheckIn>, counts: VisitCounts, };

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
idle_lock_minutes: number, };

export type UpdateSettingsInput = { idle_lock_minutes: number, };

export type AccountList = { accounts: Array<Account>, };

export type AuditReport = { intact: boolean, entries: number, 
/**
 * Where the chain breaks, in plain words, when it does.
 */
problem: string | null, };

export type ErrorKind = "invalid" | "not_found" | "conflict" | "forbidden" | "signed_out" | "locked" | "wrong_credentials" | "throttled" | "storage" | "internal";

export type ErrorBody = { kind: ErrorKind, 
/**
 * One sentence a volunteer understands.
 */
message: string, 
/**
 * For `invalid`: each problem with the field it belongs to.
 */
problems: Array<Problem>, };
