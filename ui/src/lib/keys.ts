// The keyboard shortcuts of the app, as a pure function of the key pressed.

export type Shortcut =
  | { kind: 'privacy' }
  | { kind: 'fire_list' }
  | { kind: 'place'; key: string }
  | { kind: 'new_check_in' }
  | { kind: 'log_enquiry' }
  | { kind: 'log_feedback' };

export interface KeyLike {
  key: string;
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/** The keys as shown on buttons and in the rail. */
export const KEY_LABELS = {
  privacy: 'F9',
  fire_list: 'F2',
  new_check_in: 'Alt+N',
  log_enquiry: 'Alt+E',
  log_feedback: 'Alt+F',
} as const;

/**
 * F9: hide or show the screen. F2: the fire list and roll-call. Alt+1 … Alt+7: go to a place.
 * Alt+N: a new check-in. Alt+E: log an enquiry. Alt+F: log feedback.
 * Uses the physical key (`code`) for Alt shortcuts, because Alt changes `key` on some layouts.
 */
export function shortcutFor(e: KeyLike): Shortcut | null {
  const plain = !e.altKey && !e.ctrlKey && !e.metaKey;
  if (e.key === 'F9' && plain) return { kind: 'privacy' };
  if (e.key === 'F2' && plain && !e.shiftKey) return { kind: 'fire_list' };
  if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
  const digit = /^(?:Digit|Numpad)([1-9])$/.exec(e.code);
  if (digit) return { kind: 'place', key: digit[1] };
  if (e.code === 'KeyN') return { kind: 'new_check_in' };
  if (e.code === 'KeyE') return { kind: 'log_enquiry' };
  if (e.code === 'KeyF') return { kind: 'log_feedback' };
  return null;
}
