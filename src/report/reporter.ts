/**
 * Reporters, vitest-style: objects with optional hooks, chosen by name. `onEvent` sees every run event as it
 * happens; `onRunEnd` gets the finished report model. Report files are written with mode 0600.
 */
import type { Output } from '../cli/output.ts';
import { ConsoleReporter } from './console-reporter.ts';
import type { Emit, RunEvent } from './events.ts';
import { JsonReporter } from './json-reporter.ts';
import { JunitReporter } from './junit-reporter.ts';
import { secrets, type SecretRegistry } from './redact.ts';
import type { RunReport } from './report-model.ts';

export interface Reporter {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  onRunEnd?(run: RunReport): Promise<void> | void;
}

export interface ReporterOptions {
  out: Output;
  /** `--report-json FILE`. */
  json?: string;
  /** `--report-junit FILE`. */
  junit?: string;
  /** Print the final summary on stdout (off when the command prints `--json` itself). Default true. */
  summary?: boolean;
  registry?: SecretRegistry;
}

/** The console reporter plus one file reporter per requested file. */
export function createReporters(options: ReporterOptions): Reporter[] {
  const registry = options.registry ?? secrets;
  const list: Reporter[] = [new ConsoleReporter(options.out, { summary: options.summary ?? true, registry })];
  if (options.json) list.push(new JsonReporter(options.json, registry));
  if (options.junit) list.push(new JunitReporter(options.junit, registry));
  return list;
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
