// What the parts of the Today screen share: one error at a time, owned by the form that caused it.
import type { Problem } from '../../backend/bindings';

/** The forms of the Today screen; an error belongs to one of them. */
export type FormKey =
  | 'load'
  | 'check_in'
  | 'check_out'
  | 'add_session'
  | 'cancel_session'
  | 'outcome'
  | 'walkthrough'
  | 'enquiry'
  | 'feedback'
  | 'roll_call';

/**
 * Runs a command for a form: while it runs the screen is busy; on success the message (if any)
 * is the quiet confirmation and the day is read again; on failure the error goes to the summary
 * and, for `invalid`, to the form's fields. Resolves to whether it worked.
 */
export type Run = (form: FormKey, fields: readonly string[], action: () => Promise<string | null>) => Promise<boolean>;

/** Shows problems the form found itself, before sending anything. */
export type Invalid = (form: FormKey, fields: readonly string[], problems: Problem[]) => void;

/** A shortcut pressed anywhere that the Today screen answers (a new `seq` each time). */
export type TodayRequest = { what: 'check_in' | 'enquiry' | 'feedback'; seq: number };

/** Forgets the error of `form`, when the desk closes that form without sending it again. */
export type Dismiss = (form: FormKey) => void;
