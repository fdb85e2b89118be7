// Escape closes the part of the screen it is pressed in (a quick form, a party's panel): a Svelte
// action, so the keydown listener sits on the element without making it look interactive.

/** The smallest part of an element this action needs (so it can be tested without a browser). */
export interface KeyTarget {
  addEventListener(type: 'keydown', listener: (e: KeyboardEvent) => void): void;
  removeEventListener(type: 'keydown', listener: (e: KeyboardEvent) => void): void;
}

/** Calls `close` when Escape (with no modifier) is pressed inside `node`, and stops it there. */
export function onEscape(node: KeyTarget, close: () => void) {
  let handler = close;
  const listener = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    e.stopPropagation();
    handler();
  };
  node.addEventListener('keydown', listener);
  return {
    update(next: () => void) {
      handler = next;
    },
    destroy() {
      node.removeEventListener('keydown', listener);
    },
  };
}
