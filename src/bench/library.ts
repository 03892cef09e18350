/**
 * `bench library`: the whole scenario library as a user runs it on a lab that is already up — `vault-eso-lab up`
 * once, then `vault-eso-lab scenario all --parallel N --report-json F` R times, each timed from exec to exit — and
 * what each run's report says: pass/fail per scenario, the shared phase (concurrent) and the exclusive phase (one at
 * a time), and the scenarios that failed in some runs and passed in others (flakes).
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { LabError } from '../errors.ts';
import { timeCli } from './cli-timing.ts';
import { median, round } from './stats.ts';

/** The speed issue's goal: the whole library within 40 s of wall time from an `up` lab, with no flakes over 5 runs. */
export const LIBRARY_WALL_GOAL_MS = 40_000;

export interface LibraryRunReport {
  passed: boolean;
  durationMs: number;
  scenarios: {
    scenario: string;
    passed: boolean;
    skipped?: string;
    exclusive?: string | boolean;
    privateVault?: string;
    startedAt: string;
    durationMs: number;
  }[];
}

/** One run's figures from its JSON report: where its time went, by phase. */
export function summarizeLibraryRun(r: LibraryRunReport, wallMs: number, exitCode: number) {
  const span = (list: LibraryRunReport['scenarios']) => {
    if (!list.length) return 0;
    const start = Math.min(...list.map((s) => Date.parse(s.startedAt)));
    const end = Math.max(...list.map((s) => Date.parse(s.startedAt) + s.durationMs));
    return end - start;
  };
  const ran = r.scenarios.filter((s) => !s.skipped);
  const shared = ran.filter((s) => !s.exclusive);
  const exclusive = ran.filter((s) => s.exclusive);
  return {
    wallMs: round(wallMs),
    exitCode,
    passed: r.passed,
    sharedPhaseMs: round(span(shared)),
    exclusivePhaseMs: round(span(exclusive)),
    /** The scenarios' own durations added up: what a serial run would at least take. */
    sumOfScenariosMs: round(ran.reduce((a, s) => a + s.durationMs, 0)),
    failed: r.scenarios.filter((s) => !s.passed && !s.skipped).map((s) => s.scenario),
    skipped: r.scenarios.filter((s) => s.skipped).map((s) => s.scenario),
    exclusive: exclusive.map((s) => s.scenario),
    /** Ran in the shared phase on a Vault server of their own (Vault faults). */
    privateVault: ran.filter((s) => s.privateVault).map((s) => s.scenario),
  };
}

export type LibraryRun = ReturnType<typeof summarizeLibraryRun>;

/** Scenarios that failed in some runs and passed in others. */
export function flakes(runs: readonly LibraryRun[]): string[] {
  const failedSomewhere = new Set(runs.flatMap((r) => r.failed));
  return [...failedSomewhere].filter((s) => runs.some((r) => !r.failed.includes(s))).sort();
}

export async function benchLibrary(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  o: { runs: number; parallel?: number; scratch: string; progress: (m: string) => void },
) {
  const up = await timeCli(['up', '--provider', 'local', '--json'], env, signal);
  if (up.exitCode !== 0)
    throw new LabError('E_BENCH', `bench library: 'up' exited ${up.exitCode}`, {
      hint: up.stderr.slice(-2000),
    });
  const runs: LibraryRun[] = [];
  try {
    for (let i = 1; i <= o.runs; i++) {
      const file = join(o.scratch, `library-${i}.json`);
      const args = ['scenario', 'all', '--report-json', file];
      if (o.parallel !== undefined) args.push('--parallel', String(o.parallel));
      const r = await timeCli(args, env, signal, 30 * 60_000);
      let report: LibraryRunReport;
      try {
        report = JSON.parse(readFileSync(file, 'utf8')) as LibraryRunReport;
      } catch {
        throw new LabError('E_BENCH', `bench library: run ${i} wrote no report (exit ${r.exitCode})`, {
          hint: r.stderr.slice(-2000),
        });
      }
      const s = summarizeLibraryRun(report, r.ms, r.exitCode);
      runs.push(s);
      o.progress(
        `library run ${i}/${o.runs}: ${round(s.wallMs / 1000, 1)} s, ${s.failed.length ? `failed: ${s.failed.join(', ')}` : 'all passed'}`,
      );
    }
  } finally {
    await timeCli(['down'], env, AbortSignal.timeout(120_000));
  }
  const wall = median(runs.map((r) => r.wallMs));
  const flaky = flakes(runs);
  return {
    benchmark: 'library',
    description:
      "'vault-eso-lab scenario all' on a lab that is already up, timed from exec to exit; phases from its JSON report",
    parallel: o.parallel ?? 'default (what the machine sustains)',
    runs,
    wallMedianMs: round(wall),
    goalMs: LIBRARY_WALL_GOAL_MS,
    met: wall <= LIBRARY_WALL_GOAL_MS,
    flakes: flaky,
    noFlakes: flaky.length === 0 && runs.every((r) => r.failed.length === 0),
    ...(runs.length < 5
      ? { note: `the goal's "no flakes over 5 runs" needs --runs 5 (ran ${runs.length})` }
      : {}),
  };
}
