/**
 * Reporters, vitest-style: objects with optional hooks, chosen by name. `onEvent` sees every run event as it
 * happens; `onRunEnd` gets the finished report model. Report files are written with mode 0600.
 */
import type { Emit, RunEvent } from './events.ts';
import type { RunReport } from './report-model.ts';

export interface Reporter {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  onRunEnd?(run: RunReport): Promise<void> | void;
}

/** One emit for the runner, one end for the command: every reporter sees both. */
export function combineReporters(reporters: readonly Reporter[]): {
  emit: Emit;
  end(run: RunReport): Promise<void>;
} {
  return {
    emit: (event) => {
      for (const r of reporters) r.onEvent?.(event);
    },
    async end(run) {
      const errors: unknown[] = [];
      for (const r of reporters) {
        try {
          await r.onRunEnd?.(run);
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'several reporters failed');
    },
  };
}
