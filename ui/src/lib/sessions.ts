// Which of today's visits sessions is on now, next, or over; and which one the check-in form
// offers first. Times are the sessions' own `HH:MM` in Europe/London, compared with the London clock.
import { londonParts } from './format';

export interface SessionLike {
  id: string;
  starts_at: string;
  ends_at: string;
  cancelled_at: string | null;
}

export type SessionStatus = 'cancelled' | 'on_now' | 'next' | 'later' | 'finished';

/** Minutes after midnight of `HH:MM`, or null when the text is not a time. */
export function clockMinutes(hhmm: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : null;
}

/** The wall-clock time in Europe/London, as minutes after midnight. */
export function londonMinutes(now: Date = new Date()): number {
  const p = londonParts(now);
  return p.hour * 60 + p.minute;
}

const startOf = (s: SessionLike): number => clockMinutes(s.starts_at) ?? 0;
const endOf = (s: SessionLike): number => clockMinutes(s.ends_at) ?? 24 * 60;

/**
 * Each session's status at `now` (minutes after midnight): cancelled; on now (started, not ended);
 * finished; and of those still to come, the soonest is "next" and the rest "later".
 */
export function sessionStatuses(sessions: readonly SessionLike[], now: number): Map<string, SessionStatus> {
  const out = new Map<string, SessionStatus>();
  const upcoming = sessions
    .filter((s) => s.cancelled_at === null && startOf(s) > now)
    .sort((a, b) => startOf(a) - startOf(b));
  const next = upcoming[0]?.id ?? null;
  for (const s of sessions) {
    if (s.cancelled_at !== null) out.set(s.id, 'cancelled');
    else if (startOf(s) <= now && now < endOf(s)) out.set(s.id, 'on_now');
    else if (endOf(s) <= now) out.set(s.id, 'finished');
    else out.set(s.id, s.id === next ? 'next' : 'later');
  }
  return out;
}

/**
 * The session a new check-in goes to unless the desk chooses another: the one on now (the latest
 * to start, if several overlap), else the next to start, else the last to finish. Never a
 * cancelled one; null when every session today is cancelled (or there are none).
 */
export function defaultSessionId(sessions: readonly SessionLike[], now: number): string | null {
  const live = sessions.filter((s) => s.cancelled_at === null);
  const latest = (xs: SessionLike[], key: (s: SessionLike) => number) =>
    xs.reduce<SessionLike | null>((best, s) => (best === null || key(s) > key(best) ? s : best), null);
  const onNow = live.filter((s) => startOf(s) <= now && now < endOf(s));
  if (onNow.length > 0) return latest(onNow, startOf)?.id ?? null;
  const upcoming = live.filter((s) => startOf(s) > now).sort((a, b) => startOf(a) - startOf(b));
  if (upcoming.length > 0) return upcoming[0].id;
  return latest(live, endOf)?.id ?? null;
}

/** Sessions (or things holding one) in the order of the day: by start time, then by name. */
export function byStartTime<T>(items: readonly T[], session: (item: T) => { starts_at: string; name: string }): T[] {
  const start = (t: T) => clockMinutes(session(t).starts_at) ?? 0;
  return [...items].sort((a, b) => start(a) - start(b) || session(a).name.localeCompare(session(b).name));
}
