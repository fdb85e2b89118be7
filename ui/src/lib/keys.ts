// The keyboard shortcuts of the app, as a pure function of the key pressed.

export type Shortcut =
  | { kind: 'privacy' }
  | { kind: 'place'; key: string }
  | { kind: 'new_check_in' };

export interface KeyLike {
  key: string;
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/**
 * F9: hide or show the screen. Alt+1 … Alt+7: go to a place. Alt+N: a new check-in.
 * Uses the physical key (`code`) for Alt shortcuts, because Alt changes `key` on some layouts.
 */
export function shortcutFor(e: KeyLike): Shortcut | null {
  if (e.key === 'F9' && !e.altKey && !e.ctrlKey && !e.metaKey) return { kind: 'privacy' };
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  const digit = /^(?:Digit|Numpad)([1-9])$/.exec(e.code);
  if (digit) return { kind: 'place', key: digit[1] };
  if (e.code === 'KeyN') return { kind: 'new_check_in' };
  return null;
}
