import { describe, expect, it } from 'vitest';
import { byStartTime, clockMinutes, defaultSessionId, londonMinutes, sessionStatuses, type SessionLike } from './sessions';

const s = (id: string, starts_at: string, ends_at: string, cancelled = false): SessionLike => ({
  id,
  starts_at,
  ends_at,
  cancelled_at: cancelled ? '2026-11-25T08:00:00Z' : null,
});

const at = (hhmm: string): number => clockMinutes(hhmm) ?? -1;

const weekend = [s('morning', '09:30', '11:30'), s('afternoon', '14:00', '16:00')];

describe('clockMinutes', () => {
  it('reads HH:MM and H:MM', () => {
    expect(clockMinutes('14:05')).toBe(14 * 60 + 5);
    expect(clockMinutes('9:30')).toBe(570);
    expect(clockMinutes('00:00')).toBe(0);
  });

  it('refuses what is not a time', () => {
    expect(clockMinutes('24:00')).toBeNull();
    expect(clockMinutes('noon')).toBeNull();
    expect(clockMinutes('12:60')).toBeNull();
  });
});

describe('londonMinutes', () => {
  it('uses the London clock, in summer too', () => {
    expect(londonMinutes(new Date('2026-11-25T14:05:00Z'))).toBe(14 * 60 + 5);
    expect(londonMinutes(new Date('2026-07-01T13:05:00Z'))).toBe(14 * 60 + 5);
  });
});

describe('defaultSessionId', () => {
  it('chooses the next session before any has started', () => {
    expect(defaultSessionId(weekend, at('08:45'))).toBe('morning');
  });

  it('chooses the session on now', () => {
    expect(defaultSessionId(weekend, at('09:30'))).toBe('morning');
    expect(defaultSessionId(weekend, at('15:59'))).toBe('afternoon');
  });

  it('chooses the next one between sessions', () => {
    expect(defaultSessionId(weekend, at('11:30'))).toBe('afternoon');
    expect(defaultSessionId(weekend, at('13:15'))).toBe('afternoon');
  });

  it('chooses the last to finish once all are over', () => {
    expect(defaultSessionId(weekend, at('17:00'))).toBe('afternoon');
  });

  it('never chooses a cancelled session', () => {
    const day = [s('morning', '09:30', '11:30', true), s('afternoon', '14:00', '16:00')];
    expect(defaultSessionId(day, at('10:00'))).toBe('afternoon');
    const late = [s('morning', '09:30', '11:30'), s('afternoon', '14:00', '16:00', true)];
    expect(defaultSessionId(late, at('14:30'))).toBe('morning');
  });

  it('chooses the latest to start when two overlap', () => {
    const day = [s('long', '09:00', '17:00'), s('extra', '13:00', '14:00')];
    expect(defaultSessionId(day, at('13:30'))).toBe('extra');
    expect(defaultSessionId(day, at('14:30'))).toBe('long');
  });

  it('answers null when there is nothing to check in to', () => {
    expect(defaultSessionId([], at('10:00'))).toBeNull();
    expect(defaultSessionId([s('a', '09:30', '11:30', true)], at('10:00'))).toBeNull();
  });
});

describe('sessionStatuses', () => {
  it('names one next and the rest later', () => {
    const day = [...weekend, s('evening', '18:00', '19:30'), s('gone', '12:00', '13:00', true)];
    const st = sessionStatuses(day, at('08:00'));
    expect(st.get('morning')).toBe('next');
    expect(st.get('afternoon')).toBe('later');
    expect(st.get('evening')).toBe('later');
    expect(st.get('gone')).toBe('cancelled');
  });

  it('knows on now and finished', () => {
    const st = sessionStatuses(weekend, at('14:00'));
    expect(st.get('morning')).toBe('finished');
    expect(st.get('afternoon')).toBe('on_now');
  });
});

describe('byStartTime', () => {
  it('orders the day by start time, then name', () => {
    const day = [
      { id: '1', name: 'B', starts_at: '14:00' },
      { id: '2', name: 'Z', starts_at: '09:30' },
      { id: '3', name: 'A', starts_at: '14:00' },
    ];
    expect(byStartTime(day, (x) => x).map((x) => x.id)).toEqual(['2', '3', '1']);
    const wrapped = day.map((session) => ({ session }));
    expect(byStartTime(wrapped, (w) => w.session).map((w) => w.session.id)).toEqual(['2', '3', '1']);
  });
});
