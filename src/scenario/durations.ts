/**
 * Each scenario's last measured duration, kept in the user state dir (`scenario-durations.json`, 0600), so a
 * parallel run starts the longest scenarios first — as test runners order files by their last run. A scenario
 * never measured (or an unreadable file) falls back to the waits it declares (knownWaitMs). Only durations: no
 * names of namespaces, paths or values.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateRoot } from '../paths.ts';
import type { RunReport } from '../report/report-model.ts';
import type { Scenario } from './model.ts';
import { SETUP_OPERATIONS, knownWaitMs } from './orchestrator.ts';

interface DurationsFile {
  schema: 1;
  durations: Record<string, { ms: number; at: string }>;
}

export class DurationHistory {
  private constructor(
    private readonly file: string,
    private readonly data: DurationsFile,
  ) {}

  static load(env: NodeJS.ProcessEnv = process.env): DurationHistory {
    const file = join(stateRoot(env), 'scenario-durations.json');
    let data: DurationsFile = { schema: 1, durations: {} };
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DurationsFile>;
      if (parsed.schema === 1 && parsed.durations && typeof parsed.durations === 'object') {
        const durations: DurationsFile['durations'] = {};
        for (const [name, d] of Object.entries(parsed.durations))
          if (typeof d?.ms === 'number' && Number.isFinite(d.ms) && d.ms >= 0) durations[name] = d;
        data = { schema: 1, durations };
      }
    } catch {
      /* none yet, or unreadable: estimates come from the scenarios themselves */
    }
    return new DurationHistory(file, data);
  }

  /** The last measured duration, else the waits the scenario declares. */
  estimateMs(s: Scenario): number {
    return this.data.durations[s.name]?.ms ?? knownWaitMs(s);
  }

  /** Keep the durations of the scenarios that ran to the end (passed or failed; not skipped, interrupted, or failed before their first step). */
  record(run: RunReport): void {
    const setupFailed = (s: RunReport['scenarios'][number]) =>
      !s.passed &&
      (Object.values(SETUP_OPERATIONS) as string[]).includes(s.steps?.[0]?.operations[0]?.operation ?? '');
    for (const s of run.scenarios)
      if (s.skipped === undefined && !s.notRun && !s.interrupted && !setupFailed(s))
        this.data.durations[s.scenario] = { ms: Math.round(s.durationMs), at: s.startedAt };
  }

  save(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      /* an ordering hint only: a read-only state dir costs nothing but the order */
    }
  }
}
