import { describe, expect, it } from 'vitest';
import { CHECK_IN_FIELDS, emptyCheckIn, hasMore, readCheckIn } from './checkin';

describe('readCheckIn', () => {
  it('reads a plain party', () => {
    const f = emptyCheckIn('s1');
    f.adults = '2';
    f.children.age_3_4 = '1';
    expect(readCheckIn(f)).toEqual({
      session_id: 's1',
      adults: 2,
      children: { age_0_1: 0, age_2: 0, age_3_4: 1, age_5_11: 0, age_12_17: 0 },
      first_time: false,
      lead_name: '',
      needs: {
        induction_loop: false,
        bsl_interpreter: false,
        step_free_access: false,
        distress: false,
        interpreter_language: '',
        other: '',
      },
      help: { information: false, locker: false, walkthrough: false, signposted_to: '' },
      family_id: null,
    });
  });

  it('sends the language only when an interpreter is ticked', () => {
    const f = emptyCheckIn('s1');
    f.needs.interpreter_language = 'Polish';
    const unticked = readCheckIn(f);
    expect(Array.isArray(unticked) ? null : unticked.needs.interpreter_language).toBe('');
    f.needs.interpreter = true;
    f.needs.interpreter_language = '  Polish ';
    const ticked = readCheckIn(f);
    expect(Array.isArray(ticked) ? null : ticked.needs.interpreter_language).toBe('Polish');
  });

  it('asks for the language when an interpreter is ticked without one', () => {
    const f = emptyCheckIn('s1');
    f.needs.interpreter = true;
    expect(readCheckIn(f)).toEqual([
      {
        field: 'needs.interpreter_language',
        message: 'Enter the language the family needs an interpreter for, for example Polish',
      },
    ]);
  });

  it('finds counts that are not whole numbers, and a missing session, at their fields', () => {
    const f = emptyCheckIn('');
    f.adults = 'two';
    f.children.age_5_11 = '-1';
    const problems = readCheckIn(f);
    expect(Array.isArray(problems) ? problems.map((p) => p.field) : []).toEqual([
      'session_id',
      'adults',
      'children.age_5_11',
    ]);
  });

  it('has an input for every field it reports', () => {
    const f = emptyCheckIn('');
    f.adults = 'x';
    f.needs.interpreter = true;
    const problems = readCheckIn(f);
    for (const p of Array.isArray(problems) ? problems : []) expect(CHECK_IN_FIELDS).toContain(p.field);
  });
});

describe('hasMore', () => {
  it('is false for a new form and true once anything is noticed', () => {
    const f = emptyCheckIn('s1');
    expect(hasMore(f)).toBe(false);
    f.help.signposted_to = 'Citizens Advice';
    expect(hasMore(f)).toBe(true);
  });
});
