import { describe, expect, it } from 'vitest';
import { keyTimings } from '../../../src/report/console-reporter.ts';
import type { ScenarioReport } from '../../../src/report/report-model.ts';

function scenario(over: Partial<ScenarioReport>): ScenarioReport {
  return {
    scenario: 's',
    file: 's.yaml',
    provider: 'local',
    passed: true,
    startedAt: '2026-12-01T08:00:00.000Z',
    durationMs: 1000,
    steps: [],
    cleanups: [],
    cleanupErrors: [],
    rotations: [],
    ...over,
  };
}

const rotation = (secret: string, ackAt: string, latencyMs: number) => ({
  path: 'my-app/config',
  keys: ['password'],
  ackAt,
  latencyMs,
  windowMs: 7000,
  withinWindow: true,
  secret,
});

describe('keyTimings: what was measured against what', () => {
  it('one rotation checked against two Secrets is one rotation, two checks', () => {
    const s = scenario({
      rotations: [
        rotation('a/app-secret', '2026-12-01T08:00:01.000Z', 1200),
        rotation('b/app-secret', '2026-12-01T08:00:01.000Z', 1400),
      ],
    });
    expect(keyTimings(s)).toBe('1 rotation (2 Secret checks) 1.20 s–1.40 s');
  });

  it('two rotations of one Secret are two rotations', () => {
    const s = scenario({
      rotations: [
        rotation('a/app-secret', '2026-12-01T08:00:01.000Z', 1200),
        rotation('a/app-secret', '2026-12-01T08:00:09.000Z', 900),
      ],
    });
    expect(keyTimings(s)).toBe('2 rotations 900 ms–1.20 s');
  });

  it('a force-synced Secret reports the time from forceSync, not from the write', () => {
    const s = scenario({
      steps: [
        {
          name: 'force',
          index: 0,
          passed: true,
          durationMs: 1,
          operations: [
            {
              operation: 'assertSecret',
              name: 'assertSecret',
              phase: 'try',
              summary: '',
              passed: true,
              durationMs: 1,
              timeoutMs: 1,
              facts: {
                forceSyncToSecretMs: 120,
                windowMs: 5000,
                windowFrom: 'forceSync',
                sinceWriteMs: 15041,
              },
            },
          ],
        },
      ],
    });
    expect(keyTimings(s)).toBe('forceSync→Secret 120 ms');
  });
});
