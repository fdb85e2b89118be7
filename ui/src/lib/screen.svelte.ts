// What a screen tells the person after a command: the error (for the summary and the fields it
// names) or a short confirmation. One per screen, shared by its forms.
import { CommandError } from '../backend/error';
import type { Problem } from '../backend/bindings';

export class ScreenMessages {
  error = $state<CommandError | null>(null);
  /** The fields the failed form has inputs for (the summary links to these). */
  fields = $state<readonly string[]>([]);
  flash = $state('');
  /** A command is running: the screen's buttons wait. */
  busy = $state(false);

  /** `onauthlost` runs when a command found the screen locked or nobody signed in. */
  constructor(private readonly onauthlost: () => void) {}

  /** Shows a failed command's error against the form with `fields`. */
  fail(err: unknown, fields: readonly string[]): void {
    const e = CommandError.from(err);
    this.fields = fields;
    this.error = e;
    this.flash = '';
    if (e.kind === 'locked' || e.kind === 'signed_out') this.onauthlost();
  }

  /** Shows problems the screen found itself, before asking the backend. */
  invalid(problems: Problem[], fields: readonly string[]): void {
    this.fail(CommandError.invalid(problems), fields);
  }

  succeed(message: string): void {
    this.error = null;
    this.flash = message;
  }

  /**
   * Runs `action` unless another is running; a failure is shown against the form with `fields`.
   * Answers whether it ran and succeeded.
   */
  async run(fields: readonly string[], action: () => Promise<void>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      await action();
      return true;
    } catch (err) {
      this.fail(err, fields);
      return false;
    } finally {
      this.busy = false;
    }
  }

  clearError(): void {
    this.error = null;
  }
}
