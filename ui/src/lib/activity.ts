// Telling the backend that someone is using the app, so the idle lock waits, without calling it on
// every key press.

export const ACTIVITY_INTERVAL_MS = 20_000;

/**
 * Wraps `notify` so that it runs at most once every `intervalMs`. The first call runs at once.
 * `now` is the clock (milliseconds), replaceable in tests.
 */
export function throttle(notify: () => void, intervalMs: number = ACTIVITY_INTERVAL_MS, now: () => number = Date.now) {
  let last: number | null = null;
  const run = (): boolean => {
    const t = now();
    if (last !== null && t - last < intervalMs) return false;
    last = t;
    notify();
    return true;
  };
  /** Forget the last call, so the next one runs at once (for example after unlocking). */
  run.reset = (): void => {
    last = null;
  };
  return run;
}
