/**
 * Reporters, vitest-style: objects with optional hooks, chosen by name. `onEvent` sees every run event as it
 * happens; `onRunEnd` gets the finished report model. Report files are written with mode 0600.
 */
import type { Output } from '../cli/output.ts';
import { ConsoleReporter } from './console-reporter.ts';
import type { Emit, RunEvent } from './events.ts';
import { JsonReporter } from './json-reporter.ts';
import { HtmlReporter } from './html-reporter.ts';
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
  /** `--report-html FILE`. */
  html?: string;
  /**
   * `live` (default): the console prints every event as it happens. `summary`: only the final summary (a parallel
   * run prints each scenario's lines as a block of its own, see scenario-blocks.ts).
   */
  console?: 'live' | 'summary';
  /** Print the final summary on stdout (off when the command prints `--json` itself). Default true. */
  summary?: boolean;
  registry?: SecretRegistry;
}

/** The console reporter plus one file reporter per requested file. */
export function createReporters(options: ReporterOptions): Reporter[] {
  const registry = options.registry ?? secrets;
  const console = new ConsoleReporter(options.out, { summary: options.summary ?? true, registry });
  const list: Reporter[] = [
    options.console === 'summary' ? { name: 'console', onRunEnd: (run) => console.onRunEnd(run) } : console,
  ];
  if (options.json) list.push(new JsonReporter(options.json, registry));
  if (options.junit) list.push(new JunitReporter(options.junit, registry));
  if (options.html) list.push(new HtmlReporter(options.html, registry));
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
