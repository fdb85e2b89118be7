// Sync with head office as the window shows it: the light of the status strip, its words, what
// to announce, and which state a record's chip shows. Pure functions of what the backend said.
import type { RecordState, RestoreView, SyncView } from '../backend/bindings';
import { whenText } from './format';
import { SYNC_WORDS, restoredText, restoringText, waitingText } from './words';

/**
 * The strip's light. `green`: connected and nothing waiting (safe to shut the laptop); `amber`:
 * changes waiting; `red`: head office has stopped this laptop sending; `grey`: not connected yet.
 */
export type Light = 'green' | 'amber' | 'red' | 'grey';

export function syncLight(view: SyncView | null): Light {
  if (view === null || !view.enrolled) return 'grey';
  if (view.blocked) return 'red';
  return view.safe_to_shut ? 'green' : 'amber';
}

/** The strip's main line for the light. */
export function syncHeadline(view: SyncView | null): string {
  switch (syncLight(view)) {
    case 'grey':
      return SYNC_WORDS.notConnected;
    case 'red':
      return SYNC_WORDS.blocked;
    case 'green':
      return SYNC_WORDS.safe;
    case 'amber':
      return waitingText(view?.waiting ?? 0);
  }
}

/** The problem to show under the main line, in the backend's plain words, if there is one. */
export function syncProblem(view: SyncView | null): string | null {
  if (view === null || !view.enrolled) return null;
  return view.last_error ?? null;
}

/** "Last confirmed by head office: today 14:02" (or "not yet"). */
export function lastConfirmedText(view: SyncView | null, now: Date = new Date()): string {
  const when = view?.last_ack_at ? whenText(view.last_ack_at, now) : '';
  return `${SYNC_WORDS.lastConfirmed} ${when || SYNC_WORDS.neverConfirmed}`;
}

/**
 * What the strip's live region should say now: the new light's words when the light has changed
 * since the last view, else null (counts going up and down are not announced).
 */
export function announcement(previous: SyncView | null, next: SyncView | null): string | null {
  if (previous === null || syncLight(previous) === syncLight(next)) return null;
  const problem = syncProblem(next);
  return problem ? `${syncHeadline(next)}. ${problem}` : syncHeadline(next);
}

/** The status as last asked for, and when the asking began (`performance.now()`). */
export interface SyncSnapshot {
  view: SyncView | null;
  askedAt: number;
}

/**
 * The state a record's chip shows. A list is read at one moment and the status at another: when
 * a status asked for after the list arrived (`loadedAt`) says nothing is waiting, every change
 * made before it has been confirmed, this record's included, so the chip says so without reading
 * the list again.
 */
export function shownRecordState(state: RecordState | null, loadedAt: number, snapshot: SyncSnapshot): RecordState | null {
  if (state === null) return null;
  const v = snapshot.view;
  if (v && v.enrolled && v.waiting === 0 && snapshot.askedAt > loadedAt) return 'confirmed';
  return state;
}

/**
 * An enrolment code as head office shows it, `XXXX-XXXX-XXXX-XXXX`, when what was typed is one
 * (any case, spaces and dashes); otherwise what was typed, untouched.
 */
export function formatEnrolmentCode(typed: string): string {
  const plain = typed.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[0-9A-Z]{16}$/.test(plain)) return typed;
  return plain.match(/.{4}/g)?.join('-') ?? typed;
}

/**
 * What the Head office section shows about restoring from head office: nothing (not connected,
 * or nothing to offer), the reason it cannot be done, the offer, the progress, or the result.
 */
export type RestorePanel =
  | { kind: 'none' }
  | { kind: 'refused'; words: string }
  | { kind: 'offer' }
  | { kind: 'progress'; percent: number; text: string }
  | { kind: 'done'; text: string };

export function restorePanel(view: SyncView | null): RestorePanel {
  if (view === null || !view.enrolled) return { kind: 'none' };
  const r: RestoreView | null = view.restore;
  if (r !== null) {
    if (r.finished) return { kind: 'done', text: restoredText(r.applied, r.skipped) };
    return { kind: 'progress', percent: r.percent, text: restoringText(r.applied + r.skipped, r.total, r.percent) };
  }
  if (view.can_restore) return { kind: 'offer' };
  if (view.restore_refusal !== null) return { kind: 'refused', words: view.restore_refusal };
  return { kind: 'none' };
}
