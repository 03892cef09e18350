/**
 * `--report-json FILE`. One scenario: `{scenario, provider, passed, durationMs, steps, rotations, versions, …}`.
 * Several (`scenario all`): `{provider, passed, durationMs, versions, scenarios: [those objects]}`.
 */
import type { SecretRegistry } from '../secrets/secret-registry.ts';
import type { ScenarioReport, RunReport } from './report-model.ts';
import { redactDeep, writeReportFile } from './report-file.ts';
import type { Reporter } from './reporter.ts';

export function scenarioJson(s: ScenarioReport, versions: Record<string, string>) {
  return {
    scenario: s.scenario,
    description: s.description,
    file: s.file,
    provider: s.provider,
    passed: s.passed,
    ...(s.skipped === undefined ? {} : { skipped: s.skipped }),
    ...(s.interrupted ? { interrupted: true } : {}),
    ...(s.notRun ? { notRun: true } : {}),
    ...(s.exclusive === undefined ? {} : { exclusive: s.exclusive }),
    ...(s.privateVault === undefined ? {} : { privateVault: s.privateVault }),
    startedAt: s.startedAt,
    durationMs: s.durationMs,
    steps: s.steps,
    cleanups: s.cleanups,
    cleanupErrors: s.cleanupErrors,
    ...(s.keptCleanups ? { keptCleanups: s.keptCleanups } : {}),
    rotations: s.rotations,
    ...(s.timeline ? { timeline: s.timeline } : {}),
    versions,
  };
}

/** The JSON report document (not yet redacted). */
export function jsonReport(run: RunReport): object {
  const [only] = run.scenarios;
  if (run.scenarios.length === 1 && only) return scenarioJson(only, run.versions);
  return {
    provider: run.provider,
    passed: run.passed,
    ...(run.interrupted ? { interrupted: true } : {}),
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    versions: run.versions,
    scenarios: run.scenarios.map((s) => {
      const { versions: _v, ...rest } = scenarioJson(s, run.versions);
      return rest;
    }),
  };
}

/** Serialised, redacted JSON report. */
export function renderJsonReport(run: RunReport, registry: SecretRegistry): string {
  return JSON.stringify(redactDeep(jsonReport(run), registry), null, 2) + '\n';
}

export class JsonReporter implements Reporter {
  readonly name = 'json';
  constructor(
    readonly file: string,
    private readonly registry: SecretRegistry,
  ) {}

  async onRunEnd(run: RunReport): Promise<void> {
    await writeReportFile(this.file, renderJsonReport(run, this.registry));
  }
}
