/**
 * `bench startup`: what starting costs as a user sees it — `vault-eso-lab --help` and `vault-eso-lab up` timed
 * from exec to exit (median of N), `down` likewise, and the lab's resident memory per process once it settled.
 */
import { sleep } from '../time.ts';
import { componentTimes, timeCli } from './cli-timing.ts';
import { rssBytes } from './proc.ts';
import { median, round } from './stats.ts';
import { LabError } from '../errors.ts';

export const STARTUP_GOAL_MS = 8_000;
export const HELP_GOAL_MS = 300;
/** The whole lab fits comfortably next to a developer's editor and browser on a small machine. */
export const MEMORY_GOAL_MIB = 1024;

interface StatusJson {
  components?: { name: string; pid?: number }[];
}

async function startupRun(env: NodeJS.ProcessEnv, signal: AbortSignal, name: string) {
  let downMs = NaN;
  let downExit = 0;
  const up = await timeCli(['up', '--provider', 'local', '--name', name], env, signal);
  if (up.exitCode !== 0)
    throw new LabError('E_BENCH', `bench startup: 'up' exited ${up.exitCode}`, {
      hint: up.stderr.slice(-2000),
    });
  let measured;
  try {
    // Memory once ESO has settled.
    await sleep(2000, signal);
    const status = await timeCli(['status', '--name', name, '--json'], env, signal);
    const rssMiB: Record<string, number> = {};
    for (const c of (JSON.parse(status.stdout) as StatusJson).components ?? [])
      if (c.pid) rssMiB[c.name] = Math.round(rssBytes(c.pid) / 2 ** 20);
    measured = { upMs: round(up.ms), compiled: up.compiled, components: componentTimes(up.stderr), rssMiB };
  } finally {
    const down = await timeCli(['down', '--name', name], env, signal);
    downMs = down.ms;
    downExit = down.exitCode;
  }
  if (downExit !== 0) throw new LabError('E_BENCH', `bench startup: 'down' exited ${downExit}`);
  return { ...measured, downMs: round(downMs) };
}

export async function benchStartup(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  runs: number,
  progress: (m: string) => void,
) {
  const help: number[] = [];
  let helpCompiled = true;
  for (let i = 0; i < Math.max(5, runs); i++) {
    const h = await timeCli(['--help'], env, signal);
    help.push(h.ms);
    helpCompiled &&= h.compiled;
  }
  const helpMedian = round(median(help));
  progress(`--help: ${helpMedian} ms median (exec to exit)`);
  const runsOut: Awaited<ReturnType<typeof startupRun>>[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await startupRun(env, signal, `bench-startup-${i + 1}`);
    progress(`up run ${i + 1}/${runs}: ${r.upMs} ms (exec to exit)`);
    runsOut.push(r);
  }
  const names = Object.keys(runsOut[0]?.components ?? {});
  const medianMs = round(median(runsOut.map((r) => r.upMs)));
  const procs = Object.keys(runsOut[0]?.rssMiB ?? {});
  const rssMedian = Object.fromEntries(
    procs.map((n) => [n, round(median(runsOut.map((r) => r.rssMiB[n] ?? NaN)))]),
  );
  const rssTotal = Object.values(rssMedian).reduce((a, b) => a + b, 0);
  return {
    benchmark: 'startup',
    description:
      "the CLI as a user runs it, timed from exec to exit: 'vault-eso-lab --help', 'up' (local provider, cached components) and 'down'",
    compiled: helpCompiled && runsOut.every((r) => r.compiled),
    help: {
      medianMs: helpMedian,
      samplesMs: help.map((x) => round(x)),
      goalMs: HELP_GOAL_MS,
      met: helpMedian <= HELP_GOAL_MS,
    },
    runs: runsOut.length,
    medianMs,
    samplesMs: runsOut.map((r) => r.upMs),
    goalMs: STARTUP_GOAL_MS,
    met: medianMs <= STARTUP_GOAL_MS,
    perComponentMedianMs: Object.fromEntries(
      names.map((n) => [n, round(median(runsOut.map((r) => r.components[n] ?? NaN)))]),
    ),
    down: { medianMs: round(median(runsOut.map((r) => r.downMs))), samplesMs: runsOut.map((r) => r.downMs) },
    memory: {
      description: 'resident memory (VmRSS) of each lab process 2 s after up returned, median over runs',
      perProcessMiB: rssMedian,
      totalMiB: rssTotal,
      goalTotalMiB: MEMORY_GOAL_MIB,
      met: rssTotal <= MEMORY_GOAL_MIB,
    },
  };
}
