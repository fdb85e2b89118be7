import { describe, expect, it } from 'vitest';
import { KEY_LABELS, type KeyLike, shortcutFor } from './keys';

const key = (k: Partial<KeyLike>): KeyLike => ({
  key: '',
  code: '',
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  ...k,
});

describe('shortcutFor', () => {
  it('knows F9', () => {
    expect(shortcutFor(key({ key: 'F9', code: 'F9' }))).toEqual({ kind: 'privacy' });
  });

  it('knows Alt+digit by the physical key', () => {
    expect(shortcutFor(key({ key: '¡', code: 'Digit1', altKey: true }))).toEqual({ kind: 'place', key: '1' });
    expect(shortcutFor(key({ key: '7', code: 'Numpad7', altKey: true }))).toEqual({ kind: 'place', key: '7' });
  });

  it('knows Alt+N', () => {
    expect(shortcutFor(key({ key: 'n', code: 'KeyN', altKey: true }))).toEqual({ kind: 'new_check_in' });
  });

  it('knows F2 for the fire list, without modifiers', () => {
    expect(shortcutFor(key({ key: 'F2', code: 'F2' }))).toEqual({ kind: 'fire_list' });
    expect(shortcutFor(key({ key: 'F2', code: 'F2', altKey: true }))).toBeNull();
    expect(shortcutFor(key({ key: 'F2', code: 'F2', ctrlKey: true }))).toBeNull();
    expect(shortcutFor(key({ key: 'F2', code: 'F2', shiftKey: true }))).toBeNull();
  });

  it('knows Alt+E and Alt+F for the quick forms, by the physical key', () => {
    expect(shortcutFor(key({ key: 'e', code: 'KeyE', altKey: true }))).toEqual({ kind: 'log_enquiry' });
    expect(shortcutFor(key({ key: 'ƒ', code: 'KeyF', altKey: true }))).toEqual({ kind: 'log_feedback' });
    expect(shortcutFor(key({ key: 'e', code: 'KeyE' }))).toBeNull();
  });

  it('shows the keys it knows', () => {
    expect(KEY_LABELS.fire_list).toBe('F2');
    expect(shortcutFor(key({ key: KEY_LABELS.fire_list, code: KEY_LABELS.fire_list }))).toEqual({ kind: 'fire_list' });
  });

  it('ignores plain keys and other modifiers', () => {
    expect(shortcutFor(key({ key: '1', code: 'Digit1' }))).toBeNull();
    expect(shortcutFor(key({ key: 'n', code: 'KeyN', altKey: true, ctrlKey: true }))).toBeNull();
    expect(shortcutFor(key({ key: 'N', code: 'KeyN', altKey: true, shiftKey: true }))).toBeNull();
  });
});
