import { describe, expect, it } from 'vitest';
import type { AgeBands } from '../backend/bindings';
import { checkedInSentence, checkedOutSentence, childrenTotal, partyText, peopleText, slotLabel } from './words';

const bands = (b: Partial<AgeBands> = {}): AgeBands => ({
  age_0_1: 0,
  age_2: 0,
  age_3_4: 0,
  age_5_11: 0,
  age_12_17: 0,
  ...b,
});

describe('checkedInSentence', () => {
  it('uses plurals for more than one', () => {
    expect(checkedInSentence({ adults: 2, children: bands({ age_3_4: 1, age_5_11: 2 }), first_time: false })).toBe(
      'Checked in: 2 adults, 3 children',
    );
  });

  it('uses the singular for exactly one', () => {
    expect(checkedInSentence({ adults: 1, children: bands({ age_0_1: 1 }), first_time: false })).toBe(
      'Checked in: 1 adult, 1 child',
    );
  });

  it('leaves out a count of nobody', () => {
    expect(checkedInSentence({ adults: 1, children: bands(), first_time: false })).toBe('Checked in: 1 adult');
    expect(checkedInSentence({ adults: 0, children: bands({ age_12_17: 2 }), first_time: false })).toBe(
      'Checked in: 2 children',
    );
  });

  it('notes a first visit', () => {
    expect(checkedInSentence({ adults: 1, children: bands({ age_2: 1 }), first_time: true })).toBe(
      'Checked in: 1 adult, 1 child — first visit',
    );
  });
});

describe('other sentences', () => {
  it('checks out with the same counts', () => {
    expect(checkedOutSentence({ adults: 3, children: bands({ age_2: 1 }), first_time: true })).toBe(
      'Checked out: 3 adults, 1 child',
    );
  });

  it('counts children across the bands', () => {
    expect(childrenTotal(bands({ age_0_1: 1, age_2: 2, age_3_4: 3, age_5_11: 4, age_12_17: 5 }))).toBe(15);
  });

  it('says no one for an empty party', () => {
    expect(partyText(0, 0)).toBe('no one');
  });

  it('counts people', () => {
    expect(peopleText(1)).toBe('1 person');
    expect(peopleText(0)).toBe('0 people');
    expect(peopleText(7)).toBe('7 people');
  });

  it('names slots', () => {
    expect(slotLabel('afternoon')).toBe('Afternoon');
  });
});
