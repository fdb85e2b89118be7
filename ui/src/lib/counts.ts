// The numbers typed into steppers and number fields.

/** A whole number of at least 0 from what was typed: empty counts as 0; anything else is null. */
export function parseCount(raw: string): number | null {
  const t = raw.trim();
  if (t === '') return 0;
  if (!/^\d{1,6}$/.test(t)) return null;
  return Number(t);
}

/** A whole number (which may be negative), or null when the text is not one. Empty is null. */
export function parseWhole(raw: string): number | null {
  const t = raw.trim();
  if (!/^-?\d{1,6}$/.test(t)) return null;
  return Number(t);
}

/** The stepper's new text after − (delta −1) or + (delta +1). Never below `min`; unreadable text starts from `min`. */
export function stepCount(raw: string, delta: number, min = 0): string {
  const n = parseCount(raw);
  const next = Math.max(min, (n ?? min) + delta);
  return String(next);
}
