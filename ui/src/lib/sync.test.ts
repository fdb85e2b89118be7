import { describe, expect, it } from 'vitest';
import type { RestoreView, SyncView } from '../backend/bindings';
import {
  announcement,
  formatEnrolmentCode,
  lastConfirmedText,
  restorePanel,
  shownRecordState,
  syncHeadline,
  syncLight,
  syncProblem,
} from './sync';

const view = (v: Partial<SyncView> = {}): SyncView => ({
  enrolled: true,
  hub_address: 'https://hub.pops.org.uk',
  device_id: '0190a0e0-0000-7000-8000-000000000000',
  enrolled_at: '2026-11-20T10:00:00.000Z',
  waiting: 0,
  quarantined: 0,
  last_ack_at: '2026-11-25T14:02:00.000Z',
  last_error: null,
  last_error_at: null,
  blocked: false,
  sending: false,
  hub_reachable: true,
  next_attempt_at: null,
  safe_to_shut: true,
  restore: null,
  can_restore: false,
  restore_refusal: null,
  ...v,
});

const UNREACHABLE = 'Head office cannot be reached. Changes are kept safely on this laptop.';

describe('the light', () => {
  it('is grey until the laptop is connected, whatever is waiting', () => {
    expect(syncLight(null)).toBe('grey');
    const notYet = view({ enrolled: false, hub_address: null, waiting: 12, safe_to_shut: false });
    expect(syncLight(notYet)).toBe('grey');
    expect(syncHeadline(notYet)).toBe('Not connected to head office yet');
    expect(syncProblem(notYet)).toBeNull();
  });

  it('is green when nothing is waiting', () => {
    expect(syncLight(view())).toBe('green');
    expect(syncHeadline(view())).toBe('Safe to shut the laptop');
  });

  it('is amber with the count when changes wait, with the last error in plain words', () => {
    const waiting = view({ waiting: 1, safe_to_shut: false, last_error: UNREACHABLE });
    expect(syncLight(waiting)).toBe('amber');
    expect(syncHeadline(waiting)).toBe('1 change waiting to go to head office');
    expect(syncHeadline(view({ waiting: 37, safe_to_shut: false }))).toBe('37 changes waiting to go to head office');
    expect(syncProblem(waiting)).toBe(UNREACHABLE);
  });

  it('is red when head office has stopped the laptop sending', () => {
    const blocked = view({ blocked: true, waiting: 3, safe_to_shut: false, last_error: 'Ask head office for a new enrolment code.' });
    expect(syncLight(blocked)).toBe('red');
    expect(syncHeadline(blocked)).toBe('Head office has stopped this laptop sending');
    expect(syncProblem(blocked)).toContain('new enrolment code');
  });
});

describe('lastConfirmedText', () => {
  const now = new Date('2026-11-25T16:00:00Z');
  it('says when head office last confirmed, in London', () => {
    expect(lastConfirmedText(view(), now)).toBe('Last confirmed by head office: today 14:02');
    expect(lastConfirmedText(view({ last_ack_at: null }), now)).toBe('Last confirmed by head office: not yet');
    expect(lastConfirmedText(null, now)).toBe('Last confirmed by head office: not yet');
  });
});

describe('announcement', () => {
  it('speaks only when the light changes', () => {
    const green = view();
    const amber = view({ waiting: 1, safe_to_shut: false });
    expect(announcement(null, green)).toBeNull();
    expect(announcement(green, green)).toBeNull();
    expect(announcement(amber, view({ waiting: 2, safe_to_shut: false }))).toBeNull();
    expect(announcement(green, amber)).toBe('1 change waiting to go to head office');
    expect(announcement(amber, view({ ...amber, last_error: UNREACHABLE }))).toBeNull();
    expect(announcement(view({ enrolled: false }), { ...amber, last_error: UNREACHABLE })).toBe(
      `1 change waiting to go to head office. ${UNREACHABLE}`,
    );
    expect(announcement(amber, green)).toBe('Safe to shut the laptop');
  });
});

describe('shownRecordState', () => {
  it('shows the state the list was read with', () => {
    expect(shownRecordState('queued', 10, { view: null, askedAt: 0 })).toBe('queued');
    expect(shownRecordState(null, 10, { view: view(), askedAt: 20 })).toBeNull();
  });

  it('is confirmed once a status asked for after the list came says nothing is waiting', () => {
    expect(shownRecordState('queued', 10, { view: view(), askedAt: 20 })).toBe('confirmed');
    expect(shownRecordState('sent', 10, { view: view(), askedAt: 20 })).toBe('confirmed');
  });

  it('keeps the list state when the status is older than the list, or something waits', () => {
    expect(shownRecordState('queued', 30, { view: view(), askedAt: 20 })).toBe('queued');
    expect(shownRecordState('queued', 10, { view: view({ waiting: 1, safe_to_shut: false }), askedAt: 20 })).toBe('queued');
    expect(shownRecordState('saved', 10, { view: view({ enrolled: false, waiting: 0 }), askedAt: 20 })).toBe('saved');
  });
});

describe('formatEnrolmentCode', () => {
  it('groups a whole code in fours, whatever its case, spaces and dashes', () => {
    expect(formatEnrolmentCode('abcdefghjkmnpqrs')).toBe('ABCD-EFGH-JKMN-PQRS');
    expect(formatEnrolmentCode(' abcd efgh-jkmn pqrs ')).toBe('ABCD-EFGH-JKMN-PQRS');
  });

  it('leaves anything else as typed', () => {
    expect(formatEnrolmentCode('abcd-efgh')).toBe('abcd-efgh');
    expect(formatEnrolmentCode('')).toBe('');
    expect(formatEnrolmentCode('abcd-efgh-jkmn-pqrs-t')).toBe('abcd-efgh-jkmn-pqrs-t');
  });
});

describe('restoring from head office', () => {
  const progress = (r: Partial<RestoreView> = {}): RestoreView => ({
    percent: 25,
    applied: 1150,
    skipped: 50,
    total: 4800,
    finished: false,
    started_at: '2026-11-25T13:00:00.000Z',
    finished_at: null,
    ...r,
  });

  it('offers nothing until the laptop is connected', () => {
    expect(restorePanel(null)).toEqual({ kind: 'none' });
    expect(restorePanel(view({ enrolled: false, can_restore: true }))).toEqual({ kind: 'none' });
    expect(restorePanel(view())).toEqual({ kind: 'none' });
  });

  it('offers the restore on a new laptop, or says why not in the words given', () => {
    expect(restorePanel(view({ can_restore: true }))).toEqual({ kind: 'offer' });
    const words = 'This laptop already holds records of its own (3 check-ins).';
    expect(restorePanel(view({ restore_refusal: words }))).toEqual({ kind: 'refused', words });
  });

  it('shows how far it has got, with the counts in words', () => {
    expect(restorePanel(view({ can_restore: true, restore: progress() }))).toEqual({
      kind: 'progress',
      percent: 25,
      text: 'Restoring… 1,200 of 4,800 changes (25%)',
    });
    expect(restorePanel(view({ restore: progress({ applied: 0, skipped: 0, total: 0, percent: 0 }) }))).toEqual({
      kind: 'progress',
      percent: 0,
      text: 'Restoring… waiting for head office',
    });
  });

  it('says what came back once finished', () => {
    const done = progress({ finished: true, percent: 100, applied: 4790, skipped: 10, finished_at: '2026-11-25T13:05:00.000Z' });
    expect(restorePanel(view({ restore: done, restore_refusal: 'Already restored.' }))).toEqual({
      kind: 'done',
      text: 'Restored: 4,790 records; 10 skipped',
    });
    expect(restorePanel(view({ restore: progress({ finished: true, percent: 100, applied: 1, skipped: 0 }) }))).toEqual({
      kind: 'done',
      text: 'Restored: 1 record; 0 skipped',
    });
  });
});
