import { describe, expect, it } from 'vitest';
import { CommandError } from '../backend/error';
import { ScreenMessages } from './screen.svelte';

describe('ScreenMessages', () => {
  it('keeps the error and its fields, and clears the confirmation', () => {
    let lost = 0;
    const s = new ScreenMessages(() => lost++);
    s.succeed('Saved');
    s.invalid([{ field: 'name', message: 'Enter a name' }], ['name']);
    expect(s.flash).toBe('');
    expect(s.error?.problems[0].field).toBe('name');
    expect(s.fields).toEqual(['name']);
    expect(lost).toBe(0);
  });

  it('tells the app when the screen locked under a command', () => {
    let lost = 0;
    const s = new ScreenMessages(() => lost++);
    s.fail(new CommandError('locked', 'The screen is locked', []), []);
    expect(lost).toBe(1);
    s.succeed('Done');
    expect(s.error).toBeNull();
    expect(s.flash).toBe('Done');
  });

  it('runs one command at a time and shows a failure against its form', async () => {
    const s = new ScreenMessages(() => {});
    let release: () => void = () => {};
    const first = s.run(['a'], () => new Promise<void>((r) => (release = r)));
    expect(s.busy).toBe(true);
    expect(await s.run(['b'], async () => {})).toBe(false);
    release();
    expect(await first).toBe(true);
    expect(s.busy).toBe(false);
    expect(await s.run(['name'], async () => Promise.reject(CommandError.invalid([{ field: 'name', message: 'x' }])))).toBe(false);
    expect(s.fields).toEqual(['name']);
    expect(s.busy).toBe(false);
  });
});
