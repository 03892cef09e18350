/** The reporters a command asked for, by option: the console always, a file reporter per requested file. */
import type { Output } from '../terminal/output.ts';
import { secrets, type SecretRegistry } from '../secrets/secret-registry.ts';
import { ConsoleReporter } from './console-reporter.ts';
import { HtmlReporter } from './html-reporter.ts';
import { JsonReporter } from './json-reporter.ts';
import { JunitReporter } from './junit-reporter.ts';
import type { Reporter } from './reporter.ts';

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
