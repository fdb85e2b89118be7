// The check-in form as typed, and the input the backend takes, with the problems the form can
// find itself (counts that are not whole numbers, an interpreter ticked without a language).
import type { AgeBands, CheckInPartyInput, HelpGiven, Problem, SupportNeeds } from '../backend/bindings';
import { parseCount } from './counts';
import { AGE_BANDS } from './words';

export interface CheckInForm {
  /** '' when no session is chosen. */
  session_id: string;
  adults: string;
  children: Record<keyof AgeBands, string>;
  first_time: boolean;
  lead_name: string;
  needs: Omit<SupportNeeds, 'interpreter_language'> & { interpreter: boolean; interpreter_language: string };
  help: HelpGiven;
  /** The family on record this party is, when the desk found them; null otherwise. */
  family_id: string | null;
}

/** The form for the next party: one adult, no children, nothing noticed yet. */
export function emptyCheckIn(session_id: string): CheckInForm {
  return {
    session_id,
    adults: '1',
    children: { age_0_1: '0', age_2: '0', age_3_4: '0', age_5_11: '0', age_12_17: '0' },
    first_time: false,
    lead_name: '',
    needs: {
      induction_loop: false,
      bsl_interpreter: false,
      step_free_access: false,
      distress: false,
      interpreter: false,
      interpreter_language: '',
      other: '',
    },
    help: { information: false, locker: false, walkthrough: false, signposted_to: '' },
    family_id: null,
  };
}

/** Every field the check-in form has an input for (for the error summary's links). */
export const CHECK_IN_FIELDS: readonly string[] = [
  'session_id',
  'adults',
  'children',
  ...AGE_BANDS.map((b) => `children.${b.key}`),
  'first_time',
  'lead_name',
  'needs.interpreter_language',
  'needs.other',
  'help.signposted_to',
];

/** Whether anything in "More about this party" was filled in (to keep it open after an error). */
export function hasMore(f: CheckInForm): boolean {
  const n = f.needs;
  const h = f.help;
  return (
    n.induction_loop ||
    n.bsl_interpreter ||
    n.step_free_access ||
    n.distress ||
    n.interpreter ||
    n.other.trim() !== '' ||
    h.information ||
    h.locker ||
    h.walkthrough ||
    h.signposted_to.trim() !== ''
  );
}

/** The backend's input, or the problems the form found (with what was typed kept in the form). */
export function readCheckIn(f: CheckInForm): CheckInPartyInput | Problem[] {
  const problems: Problem[] = [];
  if (f.session_id === '') {
    problems.push({ field: 'session_id', message: 'Choose the visits session the family has come for' });
  }
  const adults = parseCount(f.adults);
  if (adults === null) {
    problems.push({ field: 'adults', message: 'Enter the number of adults as a whole number, for example 2' });
  }
  const children = {} as AgeBands;
  for (const band of AGE_BANDS) {
    const n = parseCount(f.children[band.key]);
    if (n === null) {
      problems.push({
        field: `children.${band.key}`,
        message: `${band.label}: enter the number of children as a whole number, for example 1`,
      });
    }
    children[band.key] = n ?? 0;
  }
  const language = f.needs.interpreter ? f.needs.interpreter_language.trim() : '';
  if (f.needs.interpreter && language === '') {
    problems.push({
      field: 'needs.interpreter_language',
      message: 'Enter the language the family needs an interpreter for, for example Polish',
    });
  }
  if (problems.length > 0) return problems;
  const { interpreter: _interpreter, ...needs } = f.needs;
  return {
    session_id: f.session_id,
    adults: adults ?? 0,
    children,
    first_time: f.first_time,
    lead_name: f.lead_name,
    needs: { ...needs, interpreter_language: language },
    help: { ...f.help },
    family_id: f.family_id,
  };
}
