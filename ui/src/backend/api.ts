// The one place that talks to the Rust side. One typed function per command in `bindings.ts`.
// Each command takes a single argument named `input` (or none), answers its output, or rejects
// with an `ErrorBody`, which is wrapped here in a `CommandError`.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  Account,
  AccountList,
  AddAccountInput,
  AddVisitsSessionInput,
  AppStateView,
  AuditReport,
  CancelVisitsSessionInput,
  CentreEvent,
  CheckIn,
  CheckInPartyInput,
  CheckOutPartyInput,
  CloseFeedbackInput,
  Command,
  DisableAccountInput,
  Enquiry,
  EventList,
  ExportCsvInput,
  ExportResult,
  Family,
  FamilyIdInput,
  FamilySearchResult,
  FamilyTombstone,
  FamilyView,
  Feedback,
  FeedbackList,
  FinishRollCallInput,
  LogEnquiryInput,
  LogFeedbackInput,
  MarkRollCallInput,
  RecordEventInput,
  RecordVisitOutcomeInput,
  RemoveFamilyInput,
  RenewConsentInput,
  RespondToFeedbackInput,
  RetireSessionTemplateInput,
  QuarantineList,
  RollCall,
  SaveFamilyInput,
  SaveSessionTemplateInput,
  SearchFamiliesInput,
  SessionTemplate,
  SetAccountRoleInput,
  SetSyncTimeInput,
  SetUpCentreInput,
  SetUpResult,
  SettingsView,
  SignInInput,
  SyncEnrolInput,
  SyncView,
  TemplateList,
  TickWalkthroughInput,
  TodayView,
  UnlockWithPinInput,
  UpdateSettingsInput,
  VisitsSession,
} from './bindings';
import { CommandError } from './error';

export { CommandError, isErrorBody } from './error';

/** Commands that only read the app's state or note activity: the status strip does not ask again after them. */
const QUIET: readonly Command[] = ['sync_status', 'get_app_state', 'note_activity'];
const commandListeners = new Set<(command: Command) => void>();

/**
 * Calls `listener` after every command but the quiet ones (whether it succeeded or not), so the
 * head-office status is asked for again at once. Answers a function that stops it.
 */
export function onCommandDone(listener: (command: Command) => void): () => void {
  commandListeners.add(listener);
  return () => commandListeners.delete(listener);
}

async function call<T>(command: Command, input?: unknown): Promise<T> {
  try {
    return input === undefined ? await invoke<T>(command) : await invoke<T>(command, { input });
  } catch (e) {
    throw CommandError.from(e);
  } finally {
    if (!QUIET.includes(command)) for (const listener of commandListeners) listener(command);
  }
}

export const getAppState = (): Promise<AppStateView> => call('get_app_state');
export const setUpCentre = (input: SetUpCentreInput): Promise<SetUpResult> => call('set_up_centre', input);
export const signIn = (input: SignInInput): Promise<AppStateView> => call('sign_in', input);
export const unlockWithPin = (input: UnlockWithPinInput): Promise<AppStateView> => call('unlock_with_pin', input);
export const noteActivity = (): Promise<null> => call('note_activity');
export const lockNow = (): Promise<AppStateView> => call('lock_now');
export const signOut = (): Promise<AppStateView> => call('sign_out');
export const getToday = (): Promise<TodayView> => call('get_today');
export const addVisitsSession = (input: AddVisitsSessionInput): Promise<VisitsSession> => call('add_visits_session', input);
export const cancelVisitsSession = (input: CancelVisitsSessionInput): Promise<VisitsSession> => call('cancel_visits_session', input);
export const checkInParty = (input: CheckInPartyInput): Promise<CheckIn> => call('check_in_party', input);
export const checkOutParty = (input: CheckOutPartyInput): Promise<CheckIn> => call('check_out_party', input);
export const recordVisitOutcome = (input: RecordVisitOutcomeInput): Promise<CheckIn> => call('record_visit_outcome', input);
export const tickWalkthrough = (input: TickWalkthroughInput): Promise<CheckIn> => call('tick_walkthrough', input);
export const startRollCall = (): Promise<RollCall> => call('start_roll_call');
export const markRollCall = (input: MarkRollCallInput): Promise<RollCall> => call('mark_roll_call', input);
export const finishRollCall = (input: FinishRollCallInput): Promise<RollCall> => call('finish_roll_call', input);
export const logEnquiry = (input: LogEnquiryInput): Promise<Enquiry> => call('log_enquiry', input);
export const logFeedback = (input: LogFeedbackInput): Promise<Feedback> => call('log_feedback', input);
export const listFeedback = (): Promise<FeedbackList> => call('list_feedback');
export const respondToFeedback = (input: RespondToFeedbackInput): Promise<Feedback> => call('respond_to_feedback', input);
export const closeFeedback = (input: CloseFeedbackInput): Promise<Feedback> => call('close_feedback', input);
export const listEvents = (): Promise<EventList> => call('list_events');
export const recordEvent = (input: RecordEventInput): Promise<CentreEvent> => call('record_event', input);
export const searchFamilies = (input: SearchFamiliesInput): Promise<FamilySearchResult> => call('search_families', input);
export const getFamily = (input: FamilyIdInput): Promise<FamilyView> => call('get_family', input);
export const getFamilyDetails = (input: FamilyIdInput): Promise<Family> => call('get_family_details', input);
export const saveFamily = (input: SaveFamilyInput): Promise<FamilyView> => call('save_family', input);
export const renewFamilyConsent = (input: RenewConsentInput): Promise<FamilyView> => call('renew_family_consent', input);
export const removeFamily = (input: RemoveFamilyInput): Promise<FamilyTombstone> => call('remove_family', input);
export const listFamiliesDueForRenewal = (): Promise<FamilySearchResult> => call('list_families_due_for_renewal');
export const listSessionTemplates = (): Promise<TemplateList> => call('list_session_templates');
export const saveSessionTemplate = (input: SaveSessionTemplateInput): Promise<SessionTemplate> => call('save_session_template', input);
export const retireSessionTemplate = (input: RetireSessionTemplateInput): Promise<SessionTemplate> => call('retire_session_template', input);
export const exportCsv = (input: ExportCsvInput): Promise<ExportResult> => call('export_csv', input);
export const listAccounts = (): Promise<AccountList> => call('list_accounts');
export const addAccount = (input: AddAccountInput): Promise<Account> => call('add_account', input);
export const setAccountRole = (input: SetAccountRoleInput): Promise<Account> => call('set_account_role', input);
export const disableAccount = (input: DisableAccountInput): Promise<Account> => call('disable_account', input);
export const getSettings = (): Promise<SettingsView> => call('get_settings');
export const updateSettings = (input: UpdateSettingsInput): Promise<SettingsView> => call('update_settings', input);
export const verifyAuditLog = (): Promise<AuditReport> => call('verify_audit_log');
export const syncStatus = (): Promise<SyncView> => call('sync_status');
export const syncSendNow = (): Promise<SyncView> => call('sync_send_now');
export const syncEnrol = (input: SyncEnrolInput): Promise<SyncView> => call('sync_enrol', input);
export const syncQuarantine = (): Promise<QuarantineList> => call('sync_quarantine');
export const setSyncTime = (input: SetSyncTimeInput): Promise<SettingsView> => call('set_sync_time', input);
export const syncRestoreStart = (): Promise<SyncView> => call('sync_restore_start');

/**
 * Every command by its IPC name. Typed against `Command`, so a command added to the Rust side
 * without a function here fails `npm run check`.
 */
export const commands = {
  get_app_state: getAppState,
  set_up_centre: setUpCentre,
  sign_in: signIn,
  unlock_with_pin: unlockWithPin,
  note_activity: noteActivity,
  lock_now: lockNow,
  sign_out: signOut,
  get_today: getToday,
  add_visits_session: addVisitsSession,
  cancel_visits_session: cancelVisitsSession,
  check_in_party: checkInParty,
  check_out_party: checkOutParty,
  record_visit_outcome: recordVisitOutcome,
  tick_walkthrough: tickWalkthrough,
  start_roll_call: startRollCall,
  mark_roll_call: markRollCall,
  finish_roll_call: finishRollCall,
  log_enquiry: logEnquiry,
  log_feedback: logFeedback,
  list_feedback: listFeedback,
  respond_to_feedback: respondToFeedback,
  close_feedback: closeFeedback,
  list_events: listEvents,
  record_event: recordEvent,
  search_families: searchFamilies,
  get_family: getFamily,
  get_family_details: getFamilyDetails,
  save_family: saveFamily,
  renew_family_consent: renewFamilyConsent,
  remove_family: removeFamily,
  list_families_due_for_renewal: listFamiliesDueForRenewal,
  list_session_templates: listSessionTemplates,
  save_session_template: saveSessionTemplate,
  retire_session_template: retireSessionTemplate,
  export_csv: exportCsv,
  list_accounts: listAccounts,
  add_account: addAccount,
  set_account_role: setAccountRole,
  disable_account: disableAccount,
  get_settings: getSettings,
  update_settings: updateSettings,
  verify_audit_log: verifyAuditLog,
  sync_status: syncStatus,
  sync_send_now: syncSendNow,
  sync_enrol: syncEnrol,
  sync_quarantine: syncQuarantine,
  set_sync_time: setSyncTime,
  sync_restore_start: syncRestoreStart,
} satisfies Record<Command, (input: never) => Promise<unknown>>;

/** The event the backend emits when the app's state changes by itself (the idle lock engaging). */
export const APP_STATE_CHANGED = 'app-state-changed';

/** Calls `cb` with the new state each time the backend emits `app-state-changed`. Resolves to a function that stops listening. */
export async function onAppStateChanged(cb: (state: AppStateView) => void): Promise<() => void> {
  return listen<AppStateView>(APP_STATE_CHANGED, (event) => cb(event.payload));
}
