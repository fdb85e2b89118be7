// The error every backend command may answer, as the UI holds it. No Tauri here, so it can be tested.
import type { ErrorBody, ErrorKind, Problem } from './bindings';

/** Every kind the backend may answer; a kind added in Rust without a line here fails `npm run check`. */
const KIND_SET: Record<ErrorKind, true> = {
  invalid: true,
  not_found: true,
  conflict: true,
  forbidden: true,
  signed_out: true,
  locked: true,
  wrong_credentials: true,
  throttled: true,
  storage: true,
  unavailable: true,
  internal: true,
};
const KINDS = Object.keys(KIND_SET) as readonly ErrorKind[];

function isProblem(p: unknown): p is Problem {
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof (p as Problem).field === 'string' &&
    typeof (p as Problem).message === 'string'
  );
}

/** Whether `e` is shaped like the backend's `ErrorBody`. */
export function isErrorBody(e: unknown): e is ErrorBody {
  if (typeof e !== 'object' || e === null) return false;
  const b = e as Partial<ErrorBody>;
  return (
    typeof b.kind === 'string' &&
    (KINDS as readonly string[]).includes(b.kind) &&
    typeof b.message === 'string' &&
    Array.isArray(b.problems) &&
    b.problems.every(isProblem)
  );
}

/** A failed command: the backend's `ErrorBody`, or anything else turned into kind `internal`. */
export class CommandError extends Error {
  readonly kind: ErrorKind;
  readonly problems: Problem[];

  constructor(kind: ErrorKind, message: string, problems: Problem[] = []) {
    super(message);
    this.name = 'CommandError';
    this.kind = kind;
    this.problems = problems;
  }

  /** Wraps whatever a failed `invoke` rejected with. */
  static from(e: unknown): CommandError {
    if (e instanceof CommandError) return e;
    if (isErrorBody(e)) return new CommandError(e.kind, e.message, [...e.problems]);
    let detail = '';
    if (e instanceof Error) detail = e.message;
    else if (typeof e === 'string') detail = e;
    const message = detail
      ? `Something went wrong in the app: ${detail}`
      : 'Something went wrong in the app. Try again, and if it keeps happening tell your manager.';
    return new CommandError('internal', message);
  }

  /** A problem found in the form before anything was sent (for example a count that is not a number). */
  static invalid(problems: Problem[]): CommandError {
    return new CommandError('invalid', 'There is a problem with what was typed', problems);
  }

  /** The plain body, as the backend would send it. */
  toBody(): ErrorBody {
    return { kind: this.kind, message: this.message, problems: [...this.problems] };
  }
}
