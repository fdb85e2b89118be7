import { describe, expect, it } from 'vitest';
import { CommandError } from '../backend/error';
import { describedBy, fieldErrorId, fieldId, messagesFor, summaryItems } from './errors';

describe('fieldId', () => {
  it('prefixes the field name', () => {
    expect(fieldId('adults')).toBe('field-adults');
    expect(fieldId('passphrase_confirm')).toBe('field-passphrase_confirm');
  });

  it('replaces every dot with a dash', () => {
    expect(fieldId('children.age_0_1')).toBe('field-children-age_0_1');
    expect(fieldId('a.b.c')).toBe('field-a-b-c');
    expect(fieldErrorId('children.age_2')).toBe('field-children-age_2-error');
  });
});

describe('summaryItems', () => {
  const error = CommandError.from({
    kind: 'invalid',
    message: 'There is a problem',
    problems: [
      { field: 'adults', message: 'Enter the number of adults, for example 2' },
      { field: 'children.age_5_11', message: 'Aged 5 to 11: a party can have at most 15 children' },
      { field: 'session_id', message: "Open today's visits session before checking families in" },
    ],
  });

  it('links each problem to its field, and keeps problems without a field on the form', () => {
    expect(summaryItems(error, ['adults', 'children.age_5_11'])).toEqual([
      { message: 'Enter the number of adults, for example 2', href: '#field-adults' },
      { message: 'Aged 5 to 11: a party can have at most 15 children', href: '#field-children-age_5_11' },
      { message: "Open today's visits session before checking families in", href: null },
    ]);
  });

  it('shows the message alone for other kinds', () => {
    const e = CommandError.from({ kind: 'wrong_credentials', message: 'The username or passphrase is wrong', problems: [] });
    expect(summaryItems(e, ['username'])).toEqual([{ message: 'The username or passphrase is wrong', href: null }]);
  });

  it('shows the message when an invalid error has no problems', () => {
    const e = new CommandError('invalid', 'Check the details');
    expect(summaryItems(e, [])).toEqual([{ message: 'Check the details', href: null }]);
  });
});

describe('messagesFor', () => {
  it('gives every message for the field, and nothing for other kinds', () => {
    const e = CommandError.from({
      kind: 'invalid',
      message: 'x',
      problems: [
        { field: 'pin', message: 'one' },
        { field: 'username', message: 'two' },
        { field: 'pin', message: 'three' },
      ],
    });
    expect(messagesFor(e, 'pin')).toEqual(['one', 'three']);
    expect(messagesFor(e, 'display_name')).toEqual([]);
    expect(messagesFor(null, 'pin')).toEqual([]);
    expect(messagesFor(new CommandError('conflict', 'x', [{ field: 'pin', message: 'y' }]), 'pin')).toEqual([]);
  });
});

describe('describedBy', () => {
  it('joins the hint and the error', () => {
    expect(describedBy('pin', true, true)).toBe('field-pin-hint field-pin-error');
    expect(describedBy('pin', false, true)).toBe('field-pin-error');
    expect(describedBy('pin', true, false)).toBe('field-pin-hint');
    expect(describedBy('pin', false, false)).toBeUndefined();
  });
});
