import { describe, expect, it } from 'vitest';
import { parseCount, parseWhole, stepCount } from './counts';

describe('parseCount', () => {
  it('reads whole numbers, with empty as 0', () => {
    expect(parseCount('3')).toBe(3);
    expect(parseCount(' 12 ')).toBe(12);
    expect(parseCount('')).toBe(0);
    expect(parseCount('007')).toBe(7);
  });

  it('refuses anything else', () => {
    expect(parseCount('two')).toBeNull();
    expect(parseCount('-1')).toBeNull();
    expect(parseCount('1.5')).toBeNull();
    expect(parseCount('1e3')).toBeNull();
  });
});

describe('parseWhole', () => {
  it('reads signed whole numbers and refuses empty text', () => {
    expect(parseWhole('15')).toBe(15);
    expect(parseWhole('-2')).toBe(-2);
    expect(parseWhole('')).toBeNull();
    expect(parseWhole('ten')).toBeNull();
  });
});

describe('stepCount', () => {
  it('adds and takes away one', () => {
    expect(stepCount('1', 1)).toBe('2');
    expect(stepCount('2', -1)).toBe('1');
  });

  it('never goes below 0', () => {
    expect(stepCount('0', -1)).toBe('0');
    expect(stepCount('', -1)).toBe('0');
  });

  it('starts again from 0 when the text is not a number', () => {
    expect(stepCount('abc', 1)).toBe('1');
    expect(stepCount('abc', -1)).toBe('0');
  });
});
