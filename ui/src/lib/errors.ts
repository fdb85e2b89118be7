// Turning a failed command into the GOV.UK error pattern: a summary linking to fields, and the
// message again above each field.
import type { Problem } from '../backend/bindings';
import type { CommandError } from '../backend/error';

/** The id of the input for a problem's field: `children.age_2` → `field-children-age_2`. */
export function fieldId(field: string): string {
  return `field-${field.replaceAll('.', '-')}`;
}

/** The id of the error message shown above a field. */
export const fieldErrorId = (field: string): string => `${fieldId(field)}-error`;

/** The id of the hint shown under a field's label. */
export const fieldHintId = (field: string): string => `${fieldId(field)}-hint`;

/** The messages to show above one field (none when the error is not about that field). */
export function messagesFor(error: Pick<CommandError, 'kind' | 'problems'> | null, field: string): string[] {
  if (!error || error.kind !== 'invalid') return [];
  return error.problems.filter((p) => p.field === field).map((p) => p.message);
}

export interface SummaryItem {
  message: string;
  /** `#field-…` when the form has an input for the field; null when it has none (the text is shown without a link). */
  href: string | null;
}

/**
 * The lines of the error summary. For `invalid`, one per problem, linked to its field when the form
 * has it; for any other kind, the message alone.
 */
export function summaryItems(
  error: Pick<CommandError, 'kind' | 'message' | 'problems'>,
  formFields: readonly string[],
): SummaryItem[] {
  if (error.kind === 'invalid' && error.problems.length > 0) {
    return error.problems.map((p: Problem) => ({
      message: p.message,
      href: formFields.includes(p.field) ? `#${fieldId(p.field)}` : null,
    }));
  }
  return [{ message: error.message, href: null }];
}

/** `aria-describedby` for a field: its hint and its error, when it has them. */
export function describedBy(field: string, hasHint: boolean, hasError: boolean): string | undefined {
  const ids = [hasHint ? fieldHintId(field) : null, hasError ? fieldErrorId(field) : null].filter(
    (x): x is string => x !== null,
  );
  return ids.length > 0 ? ids.join(' ') : undefined;
}
