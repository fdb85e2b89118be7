import { describe, expect, it } from 'vitest';
import { throttle } from './activity';

describe('throttle', () => {
  it('runs at most once every 20 seconds', () => {
    let t = 1_000_000;
    let calls = 0;
    const note = throttle(() => calls++, 20_000, () => t);
    expect(note()).toBe(true);
    t += 5_000;
    expect(note()).toBe(false);
    t += 14_999;
    expect(note()).toBe(false);
    t += 1;
    expect(note()).toBe(true);
    expect(calls).toBe(2);
  });

  it('runs at once after a reset', () => {
    let t = 0;
    let calls = 0;
    const note = throttle(() => calls++, 20_000, () => t);
    note();
    t += 1_000;
    note.reset();
    expect(note()).toBe(true);
    expect(calls).toBe(2);
  });
});
