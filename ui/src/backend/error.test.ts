import { describe, expect, it } from 'vitest';
import { CommandError, isErrorBody } from './error';

describe('CommandError.from', () => {
  it('keeps an ErrorBody as it is', () => {
    const e = CommandError.from({
      kind: 'invalid',
      message: 'There is a problem',
      problems: [{ field: 'adults', message: 'Enter the number of adults, for example 2' }],
    });
    expect(e).toBeInstanceOf(CommandError);
    expect(e.kind).toBe('invalid');
    expect(e.message).toBe('There is a problem');
    expect(e.problems).toEqual([{ field: 'adults', message: 'Enter the number of adults, for example 2' }]);
  });

  it('turns anything else into an internal error with a plain message', () => {
    const fromString = CommandError.from('invoke failed');
    expect(fromString.kind).toBe('internal');
    expect(fromString.message).toContain('invoke failed');
    expect(fromString.problems).toEqual([]);

    expect(CommandError.from(new TypeError('x is undefined')).kind).toBe('internal');
    expect(CommandError.from({ kind: 'nonsense', message: 'x', problems: [] }).kind).toBe('internal');
    expect(CommandError.from(undefined).message).toMatch(/Something went wrong/);
  });

  it('leaves a CommandError alone', () => {
    const e = new CommandError('locked', 'The screen is locked');
    expect(CommandError.from(e)).toBe(e);
  });
});

describe('isErrorBody', () => {
  it('checks the shape', () => {
    expect(isErrorBody({ kind: 'storage', message: 'm', problems: [] })).toBe(true);
    expect(isErrorBody({ kind: 'unavailable', message: 'Head office cannot be reached', problems: [] })).toBe(true);
    expect(isErrorBody({ kind: 'storage', message: 'm' })).toBe(false);
    expect(isErrorBody({ kind: 'storage', message: 'm', problems: [{ field: 1 }] })).toBe(false);
    expect(isErrorBody(null)).toBe(false);
  });
});
