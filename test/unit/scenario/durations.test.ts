import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunReport } from '../../../src/report/report-model.ts';
import { DurationHistory } from '../../../src/scenario/durations.ts';
import { parseScenario } from '../../../src/scenario/loader.ts';
import type { OperationHandler } from '../../../src/scenario/operation.ts';

const hold: OperationHandler<unknown, { for: string }> = {
  name: 'hold',
  description: 'Hold.',
  timeoutKind: 'apply',
  schema: z.strictObject({ for: z.string() }),
  summarize: () => 'hold',
  async run() {},
};
const scenario = (name: string, hold_ = '3s') =>
  parseScenario(
    `name: ${name}\ndescription: d\nsteps:\n  - try: [{ hold: { for: ${hold_} } }]\n`,
    {
      file: `${name}.yaml`,
      baseDir: '/tmp',
    },
    [hold],
  );

const run = (entries: { scenario: string; durationMs: number; skipped?: string; notRun?: boolean }[]) =>
  ({
    scenarios: entries.map((e) => ({ startedAt: '2026-12-01T15:00:00.000Z', passed: true, ...e })),
  }) as unknown as RunReport;

describe('DurationHistory', () => {
  it('estimates from declared waits until a run measured the scenario, then from that run (0600 file)', () => {
    const env = { VAULT_ESO_LAB_STATE_DIR: mkdtempSync(join(tmpdir(), 'vel-durations-')) };
    const a = scenario('a');
    const h = DurationHistory.load(env);
    expect(h.estimateMs(a)).toBe(3000);
    h.record(
      run([
        { scenario: 'a', durationMs: 20_400 },
        { scenario: 'b', durationMs: 1, skipped: 'needs a node' },
      ]),
    );
    h.save();
    const file = join(env.VAULT_ESO_LAB_STATE_DIR, 'scenario-durations.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = DurationHistory.load(env);
    expect(again.estimateMs(a)).toBe(20_400);
    // A skipped one was not measured: its declared waits still count.
    expect(again.estimateMs(scenario('b', '7s'))).toBe(7000);
    expect(readFileSync(file, 'utf8')).not.toContain('"b"');
  });

  it('a broken file costs only the order: estimates fall back to the declared waits', () => {
    const env = { VAULT_ESO_LAB_STATE_DIR: mkdtempSync(join(tmpdir(), 'vel-durations-')) };
    writeFileSync(
      join(env.VAULT_ESO_LAB_STATE_DIR, 'scenario-durations.json'),
      '{"schema":1,"durations":{"a":{"ms":"x"}}',
    );
    expect(DurationHistory.load(env).estimateMs(scenario('a'))).toBe(3000);
  });
});
