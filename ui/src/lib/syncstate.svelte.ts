// The head-office status as the shell last read it, shared with the lists whose chips follow it.
// The shell writes it (every 3 s while signed in, and right after any command); nothing else does.
import type { SyncSnapshot } from './sync';

export const syncSnapshot: SyncSnapshot = $state({ view: null, askedAt: 0 });
