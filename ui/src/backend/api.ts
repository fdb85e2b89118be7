// The one place that talks to the Rust side. One typed function per command in `bindings.ts`.
// Each command takes a single argument named `input` (or none), answers its output, or rejects
// with an `ErrorBody`, which is wrapped here in a `CommandError`.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  Account,
  AccountList,
  AddAccountInput,
  AppStateView,
  AuditReport,
  CheckIn,
  CheckInPartyInput,
  CheckOutPartyInput,
  Command,
  DisableAccountInput,
  OpenVisitsSessionInput,
  SetAccountRoleInput,
  SetUpCentreInput,
  SetUpResult,
  SettingsView,
  SignInInput,
  TodayView,
  UnlockWithPinInput,
  UpdateSettingsInput,
  VisitsSession,
} from './bindings';
import { CommandError } from './error';

export { CommandError, isErrorBody } from './error';

async function call<T>(command: Command, input?: unknown): Promise<T> {
  try {
    return input === undefined ? await invoke<T>(command) : await invoke<T>(command, { input });
  } catch (e) {
    throw CommandError.from(e);
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
export const openVisitsSession = (input: OpenVisitsSessionInput): Promise<VisitsSession> =>
  call('open_visits_session', input);
export const checkInParty = (input: CheckInPartyInput): Promise<CheckIn> => call('check_in_party', input);
export const checkOutParty = (input: CheckOutPartyInput): Promise<CheckIn> => call('check_out_party', input);
export const listAccounts = (): Promise<AccountList> => call('list_accounts');
export const addAccount = (input: AddAccountInput): Promise<Account> => call('add_account', input);
export const setAccountRole = (input: SetAccountRoleInput): Promise<Account> => call('set_account_role', input);
export const disableAccount = (input: DisableAccountInput): Promise<Account> => call('disable_account', input);
export const getSettings = (): Promise<SettingsView> => call('get_settings');
export const updateSettings = (input: UpdateSettingsInput): Promise<SettingsView> => call('update_settings', input);
export const verifyAuditLog = (): Promise<AuditReport> => call('verify_audit_log');

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
  open_visits_session: openVisitsSession,
  check_in_party: checkInParty,
  check_out_party: checkOutParty,
  list_accounts: listAccounts,
  add_account: addAccount,
  set_account_role: setAccountRole,
  disable_account: disableAccount,
  get_settings: getSettings,
  update_settings: updateSettings,
  verify_audit_log: verifyAuditLog,
} satisfies Record<Command, (input: never) => Promise<unknown>>;

/** The event the backend emits when the app's state changes by itself (the idle lock engaging). */
export const APP_STATE_CHANGED = 'app-state-changed';

/** Calls `cb` with the new state each time the backend emits `app-state-changed`. Resolves to a function that stops listening. */
export async function onAppStateChanged(cb: (state: AppStateView) => void): Promise<() => void> {
  return listen<AppStateView>(APP_STATE_CHANGED, (event) => cb(event.payload));
}
