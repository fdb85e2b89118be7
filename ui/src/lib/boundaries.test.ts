// Rules about the source itself: only src/backend talks to Tauri, and nothing is loaded from
// outside the app (it runs under a strict content security policy).
import { describe, expect, it } from 'vitest';

const sources = import.meta.glob('/src/**/*.{ts,svelte,css}', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;
const html = import.meta.glob('/index.html', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

describe('source boundaries', () => {
  it('finds the sources', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    expect(Object.keys(html)).toEqual(['/index.html']);
  });

  it('imports @tauri-apps only under src/backend', () => {
    const offenders = Object.entries(sources)
      .filter(([path, text]) => !path.startsWith('/src/backend/') && /from\s+['"]@tauri-apps\//.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('loads nothing from another origin', () => {
    const external = /(?:url\(\s*['"]?|(?:src|href)\s*=\s*['"]|@import\s+['"]?)(?:https?:)?\/\//i;
    const offenders = Object.entries({ ...sources, ...html })
      .filter(([, text]) => external.test(text))
      .map(([path]) => path);
    expect(offenders).toEqual([]);
  });

  it('declares the page as British English', () => {
    expect(html['/index.html']).toContain('<html lang="en-GB">');
  });
});
