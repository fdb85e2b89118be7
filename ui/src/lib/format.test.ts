import { describe, expect, it } from 'vitest';
import { formatDate, formatLongDay, formatTime, londonDay, parseDay, whenText } from './format';

describe('formatTime', () => {
  it('shows winter times as GMT (UTC+0)', () => {
    expect(formatTime('2026-11-25T14:05:00Z')).toBe('14:05');
    expect(formatTime('2026-01-02T09:07:59Z')).toBe('09:07');
  });

  it('shows summer times as BST (UTC+1)', () => {
    expect(formatTime('2026-07-01T13:05:00Z')).toBe('14:05');
    expect(formatTime('2026-07-01T23:30:00Z')).toBe('00:30');
  });

  it('honours the offset written in the text', () => {
    expect(formatTime('2026-11-25T15:05:00+01:00')).toBe('14:05');
  });

  it('follows the clocks going forward (29 March 2026, 01:00 UTC)', () => {
    expect(formatTime('2026-03-29T00:59:00Z')).toBe('00:59');
    expect(formatTime('2026-03-29T01:00:00Z')).toBe('02:00');
    expect(formatTime('2026-03-29T01:30:00Z')).toBe('02:30');
  });

  it('follows the clocks going back (25 October 2026, 01:00 UTC)', () => {
    expect(formatTime('2026-10-25T00:30:00Z')).toBe('01:30');
    expect(formatTime('2026-10-25T01:30:00Z')).toBe('01:30');
    expect(formatTime('2026-10-25T02:00:00Z')).toBe('02:00');
  });

  it('shows midnight as 00:00, never 24:00', () => {
    expect(formatTime('2026-12-01T00:00:00Z')).toBe('00:00');
    expect(formatTime('2026-06-30T23:00:00Z')).toBe('00:00');
  });

  it('is empty for text that is not a time', () => {
    expect(formatTime('not a time')).toBe('');
  });
});

describe('formatDate', () => {
  it('writes a plain day the UK way', () => {
    expect(formatDate('2026-11-25')).toBe('25 Nov 2026');
    expect(formatDate('2026-09-01')).toBe('1 Sep 2026');
  });

  it('takes the day of an instant in Europe/London', () => {
    // 23:30 UTC on 30 June is 00:30 BST on 1 July.
    expect(formatDate('2026-06-30T23:30:00Z')).toBe('1 Jul 2026');
    // 23:30 UTC on 30 November is still 30 November (GMT).
    expect(formatDate('2026-11-30T23:30:00Z')).toBe('30 Nov 2026');
  });

  it('is empty for text that is not a date', () => {
    expect(formatDate('')).toBe('');
    expect(formatDate('2026-02-30')).toBe('');
  });
});

describe('formatLongDay', () => {
  it('names the weekday and month in full', () => {
    expect(formatLongDay('2026-11-25')).toBe('Wednesday 25 November 2026');
    expect(formatLongDay('2026-03-29')).toBe('Sunday 29 March 2026');
    expect(formatLongDay('2024-02-29')).toBe('Thursday 29 February 2024');
  });

  it('is empty for text that is not a day', () => {
    expect(formatLongDay('25/11/2026')).toBe('');
  });
});

describe('londonDay', () => {
  it('is the day in Europe/London, not in UTC', () => {
    expect(londonDay(new Date('2026-06-30T23:30:00Z'))).toBe('2026-07-01');
    expect(londonDay(new Date('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
    expect(londonDay(new Date('2026-03-28T23:59:00Z'))).toBe('2026-03-28');
  });
});

describe('parseDay', () => {
  it('accepts real days only', () => {
    expect(parseDay('2026-11-25')).toEqual({ year: 2026, month: 11, day: 25 });
    expect(parseDay('2026-13-01')).toBeNull();
    expect(parseDay('2026-1-1')).toBeNull();
  });
});

describe('whenText', () => {
  const now = new Date('2026-11-25T16:00:00Z');

  it('says today and yesterday in London, else the date', () => {
    expect(whenText('2026-11-25T14:02:00Z', now)).toBe('today 14:02');
    expect(whenText('2026-11-25T00:00:00Z', now)).toBe('today 00:00');
    expect(whenText('2026-11-24T18:30:00Z', now)).toBe('yesterday 18:30');
    expect(whenText('2026-11-23T23:59:00Z', now)).toBe('23 Nov 2026, 23:59');
    expect(whenText('2025-12-31T09:00:00Z', now)).toBe('31 Dec 2025, 09:00');
  });

  it('counts days in London, not UTC', () => {
    // 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    const summer = new Date('2026-07-01T09:00:00Z');
    expect(whenText('2026-06-30T23:30:00Z', summer)).toBe('today 00:30');
    expect(whenText('2026-06-30T22:30:00Z', summer)).toBe('yesterday 23:30');
  });

  it('steps over the first of the month and the clocks going back', () => {
    expect(whenText('2026-10-31T20:00:00Z', new Date('2026-11-01T10:00:00Z'))).toBe('yesterday 20:00');
    expect(whenText('2026-10-24T22:00:00Z', new Date('2026-10-25T12:00:00Z'))).toBe('yesterday 23:00');
  });

  it('is empty for text that is not a time', () => {
    expect(whenText('', now)).toBe('');
    expect(whenText('not a time', now)).toBe('');
  });
});
