import { describe, expect, it } from 'vitest';
import { flakes, summarizeLibraryRun, type LibraryRunReport } from '../../../src/bench/library.ts';

const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s)).toISOString();

const report: LibraryRunReport = {
  passed: false,
  durationMs: 61_000,
  scenarios: [
    { scenario: 'rotate', passed: true, startedAt: at(0), durationMs: 20_000 },
    { scenario: 'force-sync', passed: false, startedAt: at(1), durationMs: 25_000 },
    {
      scenario: 'vault-down',
      passed: true,
      privateVault: 'openbao-p4',
      startedAt: at(2),
      durationMs: 21_000,
    },
    { scenario: 'consumers', passed: true, skipped: 'needs a node', startedAt: at(0), durationMs: 0 },
    {
      scenario: 'vault-sealed',
      passed: true,
      exclusive: 'injects sealVault',
      startedAt: at(30),
      durationMs: 15_000,
    },
    {
      scenario: 'eso-restart',
      passed: true,
      exclusive: 'injects restartEso',
      startedAt: at(46),
      durationMs: 14_000,
    },
  ],
};

describe('bench library', () => {
  it("takes the phases from the report's own timestamps, apart from the wall time of the command", () => {
    expect(summarizeLibraryRun(report, 63_400, 1)).toEqual({
      wallMs: 63_400,
      exitCode: 1,
      passed: false,
      sharedPhaseMs: 26_000,
      exclusivePhaseMs: 30_000,
      sumOfScenariosMs: 95_000,
      failed: ['force-sync'],
      skipped: ['consumers'],
      exclusive: ['vault-sealed', 'eso-restart'],
      privateVault: ['vault-down'],
    });
  });

  it('a flake failed in some runs and passed in others; one that always fails is not a flake', () => {
    const run = (failed: string[]) => ({ ...summarizeLibraryRun(report, 1, 0), failed });
    expect(flakes([run(['force-sync', 'rotate']), run(['force-sync']), run([])])).toEqual([
      'force-sync',
      'rotate',
    ]);
    expect(flakes([run(['force-sync']), run(['force-sync'])])).toEqual([]);
  });
});
