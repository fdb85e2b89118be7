// Dates and times as people in the UK read them, always in Europe/London whatever the laptop's zone.
// Month and day names come from fixed tables rather than the browser's locale data, so that every
// webview (WebView2, WebKitGTK) shows exactly the same words ("Sep", not "Sept").

export const TIME_ZONE = 'Europe/London';

const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A calendar day and a wall-clock time in Europe/London. */
export interface LondonParts {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
  /** 0 to 23. */
  hour: number;
  minute: number;
}

const partsFormatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  hourCycle: 'h23',
});

/** The instant's day and time in Europe/London. */
export function londonParts(instant: Date): LondonParts {
  const out: Record<string, number> = {};
  for (const p of partsFormatter.formatToParts(instant)) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  return {
    year: out.year,
    month: out.month,
    day: out.day,
    // Some engines answer 24 for midnight even with h23.
    hour: out.hour % 24,
    minute: out.minute,
  };
}

function parseInstant(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A plain `YYYY-MM-DD` day, or null when it is not one. */
export function parseDay(ymd: string): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return null;
  }
  return { year, month, day };
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "14:05": the time of an RFC 3339 instant in Europe/London. Empty when the text is not a time. */
export function formatTime(iso: string): string {
  const d = parseInstant(iso);
  if (!d) return '';
  const p = londonParts(d);
  return `${pad2(p.hour)}:${pad2(p.minute)}`;
}

/** "25 Nov 2026": the day of an RFC 3339 instant in Europe/London, or of a plain `YYYY-MM-DD` day. */
export function formatDate(isoOrDay: string): string {
  const day = parseDay(isoOrDay);
  if (day) return `${day.day} ${MONTHS_SHORT[day.month - 1]} ${day.year}`;
  if (!isoOrDay.includes('T')) return '';
  const d = parseInstant(isoOrDay);
  if (!d) return '';
  const p = londonParts(d);
  return `${p.day} ${MONTHS_SHORT[p.month - 1]} ${p.year}`;
}

/** "Wednesday 25 November 2026", from a plain `YYYY-MM-DD` day. Empty when the text is not a day. */
export function formatLongDay(ymd: string): string {
  const day = parseDay(ymd);
  if (!day) return '';
  const weekday = new Date(Date.UTC(day.year, day.month - 1, day.day)).getUTCDay();
  return `${WEEKDAYS[weekday]} ${day.day} ${MONTHS_LONG[day.month - 1]} ${day.year}`;
}

/** Today's day in Europe/London as `YYYY-MM-DD`. */
export function londonDay(now: Date = new Date()): string {
  const p = londonParts(now);
  return `${p.year}-${pad2(p.month)}-${pad2(p.day)}`;
}

/**
 * When something happened, as a person at the desk says it, in Europe/London: "today 14:02",
 * "yesterday 18:30", or "25 Nov 2026, 14:02". Empty when the text is not a time.
 */
export function whenText(iso: string, now: Date = new Date()): string {
  const d = parseInstant(iso);
  if (!d) return '';
  const time = formatTime(iso);
  const day = londonDay(d);
  if (day === londonDay(now)) return `today ${time}`;
  // The London day before today: step back from today's London noon, so a clock change does not matter.
  const today = parseDay(londonDay(now));
  if (today) {
    const yesterday = new Date(Date.UTC(today.year, today.month - 1, today.day - 1));
    const ymd = `${yesterday.getUTCFullYear()}-${pad2(yesterday.getUTCMonth() + 1)}-${pad2(yesterday.getUTCDate())}`;
    if (day === ymd) return `yesterday ${time}`;
  }
  return `${formatDate(iso)}, ${time}`;
}
