// Which places of the centre a role may use, read from the backend's access table (the backend
// refuses anything else anyway; this only hides what would be refused).
import type { Command, CommandAccess, Role } from '../backend/bindings';

/** Whether a person with `role` (null: nobody signed in) may call `command`. Unknown commands: no. */
export function mayCall(access: readonly CommandAccess[], command: Command, role: Role | null): boolean {
  const entry = access.find((a) => a.command === command);
  if (!entry) return false;
  if (entry.roles === null) return true;
  return role !== null && entry.roles.includes(role);
}

export type PlaceId = 'today' | 'families' | 'feedback' | 'settings';

export interface Place {
  id: PlaceId;
  label: string;
  /** The digit pressed with Alt to go there. */
  key: string;
  /** The command a role must be allowed to call to use the place. */
  needs: Command;
}

/**
 * The places built so far, in the rail's order. Play (Alt+2), Café (Alt+3),
 * Referrals (Alt+5) and Reports (Alt+6) come later and keep their numbers free; Feedback and
 * events, a desk place the brief's rail does not name, takes Alt+8.
 */
export const PLACES: readonly Place[] = [
  { id: 'today', label: 'Today', key: '1', needs: 'get_today' },
  { id: 'families', label: 'Families', key: '4', needs: 'search_families' },
  { id: 'feedback', label: 'Feedback and events', key: '8', needs: 'list_feedback' },
  { id: 'settings', label: 'Settings', key: '7', needs: 'list_accounts' },
];

/** The places a role may use, in the rail's order. */
export function placesFor(access: readonly CommandAccess[], role: Role | null): Place[] {
  return PLACES.filter((p) => mayCall(access, p.needs, role));
}

const ROLE_LABELS: Record<Role, string> = {
  volunteer: 'Volunteer',
  early_years: 'Early Years Worker',
  coordinator: 'Family Services Coordinator',
  manager: 'Centre manager',
};

export const ROLES: readonly Role[] = ['volunteer', 'early_years', 'coordinator', 'manager'];

/** How a role is named on screen (the same words as the Rust side's `Role::label`). */
export const roleLabel = (role: Role): string => ROLE_LABELS[role];
