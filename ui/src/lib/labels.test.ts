import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, EXPORT_LISTS, optionsOf, waited, weekdayLabel } from './labels';

describe('labels', () => {
  it('names ISO weekdays from Monday', () => {
    expect(weekdayLabel(1)).toBe('Monday');
    expect(weekdayLabel(7)).toBe('Sunday');
    expect(weekdayLabel(9)).toBe('Unknown day');
  });

  it('turns a label record into select options in order', () => {
    expect(optionsOf(EVENT_KINDS).map((o) => o.value)).toEqual(['family_day', 'family_forum']);
    expect(optionsOf(EXPORT_LISTS)[0]).toEqual({ value: 'fire_list', label: 'Fire list (who is on site now)' });
  });

  it('says how long feedback has waited in words', () => {
    expect(waited(0)).toBe('today');
    expect(waited(1)).toBe('1 day');
    expect(waited(12)).toBe('12 days');
  });
});
