import { describe, expect, it } from 'vitest';
import type { CommandAccess } from '../backend/bindings';
import { mayCall, placesFor, roleLabel } from './access';

const EVERY = ['volunteer', 'early_years', 'coordinator', 'manager'] as const;

// A copy of the table the backend sends.
const access: CommandAccess[] = [
  { command: 'get_app_state', roles: null },
  { command: 'sign_in', roles: null },
  { command: 'lock_now', roles: [...EVERY] },
  { command: 'get_today', roles: [...EVERY] },
  { command: 'check_in_party', roles: [...EVERY] },
  { command: 'list_feedback', roles: [...EVERY] },
  { command: 'search_families', roles: [...EVERY] },
  { command: 'list_accounts', roles: ['manager'] },
  { command: 'add_account', roles: ['manager'] },
];

describe('mayCall', () => {
  it('lets anyone call a command open to all', () => {
    expect(mayCall(access, 'sign_in', null)).toBe(true);
    expect(mayCall(access, 'get_app_state', 'volunteer')).toBe(true);
  });

  it('needs a listed role otherwise', () => {
    expect(mayCall(access, 'get_today', null)).toBe(false);
    expect(mayCall(access, 'list_accounts', 'volunteer')).toBe(false);
    expect(mayCall(access, 'list_accounts', 'manager')).toBe(true);
  });

  it('refuses a command missing from the table', () => {
    expect(mayCall(access, 'verify_audit_log', 'manager')).toBe(false);
  });
});

describe('placesFor', () => {
  it('gives a manager Today, Families, Feedback and events, and Settings', () => {
    expect(placesFor(access, 'manager').map((p) => [p.id, p.key])).toEqual([
      ['today', '1'],
      ['families', '4'],
      ['feedback', '8'],
      ['settings', '7'],
    ]);
  });

  it('gives everyone else Today, Families, and Feedback and events', () => {
    for (const role of ['volunteer', 'early_years', 'coordinator'] as const) {
      expect(placesFor(access, role).map((p) => p.id)).toEqual(['today', 'families', 'feedback']);
    }
  });

  it('gives nobody anything when signed out', () => {
    expect(placesFor(access, null)).toEqual([]);
  });

  it('follows the table, not the role names', () => {
    const managersOnlyToday: CommandAccess[] = [
      { command: 'get_today', roles: ['manager'] },
      { command: 'list_accounts', roles: ['manager', 'coordinator'] },
    ];
    expect(placesFor(managersOnlyToday, 'coordinator').map((p) => p.id)).toEqual(['settings']);
    expect(placesFor(managersOnlyToday, 'volunteer')).toEqual([]);
  });
});

describe('roleLabel', () => {
  it('names roles in plain words', () => {
    expect(roleLabel('early_years')).toBe('Early Years Worker');
    expect(roleLabel('manager')).toBe('Centre manager');
  });
});
