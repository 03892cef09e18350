/**
 * `bench startup|rotate|scale`: the speed and scale targets, measured on the real local lab, printed as JSON
 * (`--report-html FILE` draws them). Timing goals live here, not in tests. The benchmarks themselves are in
 * src/bench/.
 */
import { resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, UsageError } from '../../errors.ts';
import { ensureComponents } from '../../components/build.ts';
import { benchEnv } from '../../bench/bench-env.ts';
import {
  HELP_GOAL_MS,
  MEMORY_GOAL_MIB,
  STARTUP_GOAL_MS,
  STARTUP_WITH_NODE_GOAL_MS,
  benchStartup,
} from '../../bench/startup.ts';
import { ROTATE_WALL_GOAL_MS, WATCH_DETECTION_GOAL_MS, benchRotate } from '../../bench/rotate.ts';
import { SCALE_REFRESH_INTERVAL_S, SCALE_WATCH_RESOLUTION_MS, benchScale } from '../../bench/scale.ts';
import { LIBRARY_WALL_GOAL_MS, benchLibrary } from '../../bench/library.ts';
import { labProgress } from '../../report/lab-progress.ts';
import { writeBenchHtml } from '../../report/html-bench.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { boolOption, stringOption, type Command } from '../command.ts';

export { median } from '../../bench/stats.ts';

function wholeNumber(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max} (got '${v}')`);
  return n;
}

/** `--curve 100,250,500,1000`: sizes, each 1–5000. */
export function parseCurve(v: string): number[] {
  const sizes = v.split(',').map((x) => wholeNumber(x.trim(), 'curve', NaN, 1, 5000));
  if (sizes.length < 2)
    throw new UsageError('--curve takes at least two sizes, e.g. --curve 100,250,500,1000');
  return sizes;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure startup, rotation latency and scale on the local lab (JSON output)',
  usage:
    'bench <startup|rotate|scale|library> [--runs N] [--no-node] [--count N] [--curve N,N,…] [--eso-args FLAGS] [--watch-resolution-ms MS] [--parallel N] [--report-html FILE]',
  details: `startup: 'vault-eso-lab --help' (goal <= ${HELP_GOAL_MS} ms) and 'up' (goal <= ${STARTUP_GOAL_MS} ms, ${STARTUP_WITH_NODE_GOAL_MS} ms with a node) timed from exec to exit,
  median of N runs (default 5), and the lab's resident memory per process (goal <= ${MEMORY_GOAL_MIB} MiB in all).
rotate: 'scenario rotate' from nothing, exec to exit (goal <= ${ROTATE_WALL_GOAL_MS} ms), and the watch's signed detection
  delay vs a 1 s poller (goal <= ${WATCH_DETECTION_GOAL_MS} ms).
scale: N ExternalSecrets (default 500, refreshInterval ${SCALE_REFRESH_INTERVAL_S}s) rotated at once: latency p50/p95/p99/max vs the
  window, ESO's CPU, Vault requests/s, lab memory, harness CPU and memory (watch vs 1 GET/object/s poller);
  --curve 100,250,500,1000 runs several sizes on one lab and reports how each figure grows. The watch reads its socket
  at most every --watch-resolution-ms (default ${SCALE_WATCH_RESOLUTION_MS}; 0: per event): latencies are upper bounds by that much.
library: 'scenario all' (--parallel N) on a lab that is up, exec to exit, N runs (default 5; goal <= ${LIBRARY_WALL_GOAL_MS} ms
  median and no flakes): each run's shared and exclusive phases, failures, and the flakes across runs.`,
  options: {
    runs: { type: 'string', description: 'startup, library: number of runs (default 5)', valueName: 'n' },
    parallel: {
      type: 'string',
      description: "library: scenario all's --parallel (default: its own)",
      valueName: 'n',
    },
    'no-node': {
      type: 'boolean',
      description: "startup: time 'up --no-node' (the goal without a node)",
    },
    count: { type: 'string', description: 'scale: ExternalSecrets (default 500)', valueName: 'n' },
    'eso-args': {
      type: 'string',
      description:
        "scale: flags added to the lab's ESO controller, e.g. '--client-qps=500 --client-burst=1000'",
      valueName: 'flags',
    },
    curve: { type: 'string', description: 'scale: several sizes, e.g. 100,250,500,1000', valueName: 'sizes' },
    'watch-resolution-ms': {
      type: 'string',
      description: `scale: the watch harness reads its socket at most this often (default ${SCALE_WATCH_RESOLUTION_MS}; 0: per event)`,
      valueName: 'ms',
    },
    'report-html': {
      type: 'string',
      description: 'also write the result as a self-contained HTML page (mode 0600)',
      valueName: 'file',
    },
  },
  allowPositionals: true,
  async run({ positionals, values, out, env, signal, cwd }) {
    const which = positionals[0];
    if (which !== 'startup' && which !== 'rotate' && which !== 'scale' && which !== 'library')
      throw new UsageError("bench: name a benchmark: 'startup', 'rotate', 'scale' or 'library'");
    const runs = wholeNumber(stringOption(values, 'runs'), 'runs', 5, 1, 50);
    const count = wholeNumber(stringOption(values, 'count'), 'count', 500, 1, 5000);
    const curve = stringOption(values, 'curve');
    const sizes = curve === undefined ? [count] : parseCurve(curve);
    const parallelText = stringOption(values, 'parallel');
    const parallel = parallelText === undefined ? undefined : wholeNumber(parallelText, 'parallel', 1, 1, 32);
    const html = stringOption(values, 'report-html');
    const esoArgs = parseEsoArgs(stringOption(values, 'eso-args'));
    if (esoArgs.length && which !== 'scale')
      throw new UsageError(`--eso-args is for 'bench scale' (not ${which})`);
    const resolutionText = stringOption(values, 'watch-resolution-ms');
    if (resolutionText !== undefined && which !== 'scale')
      throw new UsageError(`--watch-resolution-ms is for 'bench scale' (not ${which})`);
    const watchResolutionMs = wholeNumber(
      resolutionText,
      'watch-resolution-ms',
      SCALE_WATCH_RESOLUTION_MS,
      0,
      SCALE_REFRESH_INTERVAL_S * 100,
    );
    if (boolOption(values, 'no-node') && which !== 'startup')
      throw new UsageError(`--no-node is for 'bench startup' (not ${which})`);
    await ensureComponents({ signal, emit: labProgress(out), env });
    const b = benchEnv(env);
    const scratch = mkdtempSync(join(tmpdir(), 'vel-bench-reports-'));
    try {
      const result =
        which === 'startup'
          ? await benchStartup(b.env, signal, runs, out.info, { node: !boolOption(values, 'no-node') })
          : which === 'rotate'
            ? await benchRotate(b.env, signal, out.info, scratch)
            : which === 'scale'
              ? await benchScale(b.env, signal, { sizes, progress: out.info, esoArgs, watchResolutionMs })
              : await benchLibrary(b.env, signal, {
                  runs,
                  ...(parallel ? { parallel } : {}),
                  scratch,
                  progress: out.info,
                });
      if (html) await writeBenchHtml(resolve(cwd, html), result as Record<string, unknown>, secrets);
      out.result(secrets.redact(JSON.stringify(result, null, 2)));
      return ExitCode.passed;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      b.dispose();
    }
  },
};

/**
 * The ESO flags `--eso-args` may add: throughput and caching only. Addresses (`--metrics-addr` would open ESO's
 * unauthenticated metrics port), the log level (the lab reads ESO's debug lines) and the rest stay the lab's.
 */
export const ESO_TUNING_FLAGS = [
  'client-qps',
  'client-burst',
  'concurrent',
  'experimental-enable-vault-token-cache',
  'experimental-vault-token-cache-size',
  'enable-secrets-caching',
  'enable-configmaps-caching',
  'enable-managed-secrets-caching',
] as const;

/** `--eso-args`: whitespace-separated `--flag` or `--flag=value` words (argv, never a shell), checked before anything starts. */
export function parseEsoArgs(text: string | undefined): string[] {
  if (text === undefined) return [];
  const words = text.trim().split(/\s+/).filter(Boolean);
  for (const w of words) {
    const m = /^--([a-z0-9][a-z0-9-]*)(=\S*)?$/.exec(w);
    if (!m)
      throw new UsageError(`--eso-args: '${w}' is not a flag (each word must be --name or --name=value)`);
    if (!(ESO_TUNING_FLAGS as readonly string[]).includes(m[1]!))
      throw new UsageError(
        `--eso-args: --${m[1]} is not one of the flags it may set (${ESO_TUNING_FLAGS.map((f) => `--${f}`).join(', ')})`,
      );
  }
  return words;
}
