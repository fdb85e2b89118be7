import { describe, expect, it } from 'vitest';
import { type KeyTarget, onEscape } from './escape';

function target() {
  const listeners = new Set<(e: KeyboardEvent) => void>();
  const node: KeyTarget = {
    addEventListener: (_t, l) => listeners.add(l),
    removeEventListener: (_t, l) => listeners.delete(l),
  };
  const press = (key: string, mods: Partial<KeyboardEvent> = {}) => {
    const seen = { prevented: false, stopped: false };
    const e = {
      key,
      altKey: false,
      ctrlKey: false,
      metaKey: false,
      shiftKey: false,
      ...mods,
      preventDefault: () => (seen.prevented = true),
      stopPropagation: () => (seen.stopped = true),
    } as unknown as KeyboardEvent;
    for (const l of listeners) l(e);
    return seen;
  };
  return { node, press, listeners };
}

describe('onEscape', () => {
  it('closes on Escape and keeps the key from going further', () => {
    const t = target();
    let closed = 0;
    onEscape(t.node, () => closed++);
    expect(t.press('Escape')).toEqual({ prevented: true, stopped: true });
    expect(closed).toBe(1);
  });

  it('ignores other keys and Escape with a modifier', () => {
    const t = target();
    let closed = 0;
    onEscape(t.node, () => closed++);
    expect(t.press('Enter')).toEqual({ prevented: false, stopped: false });
    t.press('Escape', { shiftKey: true });
    expect(closed).toBe(0);
  });

  it('uses the newest handler and lets go when destroyed', () => {
    const t = target();
    const calls: string[] = [];
    const action = onEscape(t.node, () => calls.push('first'));
    action.update(() => calls.push('second'));
    t.press('Escape');
    action.destroy();
    expect(t.listeners.size).toBe(0);
    expect(calls).toEqual(['second']);
  });
});
