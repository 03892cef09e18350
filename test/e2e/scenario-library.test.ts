/**
 * The scenario library on ONE real local lab: `vault-eso-lab scenario all` once, with JSON and JUnit reports.
 * Every scenario passes, except `consumers`, which needs a kubelet and is reported as skipped with the reason.
 *
 * The lab is started with `vault-eso-lab up` and the scenarios attach to it — so the fault steps (stopVault,
 * startVault, restartEso) are proven to work from a process other than the one that started the lab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const env = isolatedEnv();
const out = mkdtempSync(join(tmpdir(), 'vel-e2e-library-'));

interface OperationJson {
  operation: string;
  passed: boolean;
  facts?: Record<string, string | number | boolean>;
}
interface ScenarioJson {
  scenario: string;
  passed: boolean;
  skipped?: string;
  durationMs: number;
  steps: { name: string; passed: boolean; operations: OperationJson[] }[];
  cleanupErrors: unknown[];
  rotations: { latencyMs?: number; windowMs: number; withinWindow?: boolean }[];
}
interface RunJson {
  provider: string;
  passed: boolean;
  scenarios: ScenarioJson[];
}

const LIBRARY = readdirSync(join(import.meta.dirname, '../../scenarios'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

let r: CliResult;
let report: RunJson;
const byName = (name: string): ScenarioJson => {
  const s = report.scenarios.find((x) => x.scenario === name);
  if (!s) throw new Error(`no report for scenario ${name}`);
  return s;
};
const facts = (name: string, operation: string): Record<string, string | number | boolean>[] =>
  byName(name)
    .steps.flatMap((st) => st.operations)
    .filter((o) => o.operation === operation && o.facts)
    .map((o) => o.facts as Record<string, string | number | boolean>);

beforeAll(async () => {
  const up = await cli(['up', '--provider', 'local'], env);
  if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`);
  const t0 = Date.now();
  r = await cli(
    ['scenario', 'all', '--report-json', join(out, 'all.json'), '--report-junit', join(out, 'all.xml')],
    env,
    9 * 60_000,
  );
  process.stderr.write(
    `[library] scenario all: exit ${r.exitCode} in ${Math.round((Date.now() - t0) / 1000)} s\n`,
  );
  report = JSON.parse(readFileSync(join(out, 'all.json'), 'utf8')) as RunJson;
}, 10 * 60_000);

afterAll(async () => {
  await cli(['down'], env);
  expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
});

describe('scenario all on the local lab', () => {
  it('passes with exit 0: every scenario passed or was skipped', () => {
    const failed = report.scenarios.filter((s) => !s.passed).map((s) => s.scenario);
    expect(failed, `${r.stdout}\n${r.stderr.slice(-6000)}`).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(report.provider).toBe('local');
    expect(report.scenarios.map((s) => s.scenario).sort()).toEqual(LIBRARY);
  });

  it('skips consumers with the reason, runs everything else', () => {
    expect(byName('consumers').skipped).toMatch(/requires kind; this lab is local/);
    for (const s of report.scenarios.filter((x) => x.scenario !== 'consumers')) {
      expect(s.skipped, s.scenario).toBeUndefined();
      expect(s.cleanupErrors, s.scenario).toEqual([]);
    }
  });

  it('reports the key timings: force-sync, recovery after sealing and after an outage', () => {
    expect(facts('force-sync', 'expectUnchanged')[0]?.watchedMs).toBeGreaterThanOrEqual(10_000);
    expect(facts('force-sync', 'assertSecret').some((f) => typeof f.forceSyncToSecretMs === 'number')).toBe(
      true,
    );
    const sealed = facts('vault-sealed', 'assertSecret').find((f) => 'unsealVaultToSecretMs' in f);
    expect(sealed?.unsealVaultToSecretMs).toBeTypeOf('number');
    expect(sealed?.backoffDelayed).toBeTypeOf('boolean');
    const down = facts('vault-down', 'assertSecret').find((f) => 'vaultSetupToSecretMs' in f);
    expect(down?.vaultSetupToSecretMs).toBeTypeOf('number');
    expect(down?.backoffDelayed).toBeTypeOf('boolean');
    for (const name of ['created-once', 'refresh-interval-zero'])
      expect(facts(name, 'expectUnchanged')[0]?.watchedMs, name).toBeGreaterThanOrEqual(8_000);
  });

  it('measures rotations within their refresh windows', () => {
    for (const name of ['rotate', 'datafrom-template', 'token-expiry']) {
      const rot = byName(name).rotations;
      expect(rot.length, name).toBeGreaterThan(0);
      for (const x of rot) expect(x.withinWindow, name).toBe(true);
    }
  });

  it('prints one summary table with every scenario, and writes one JUnit testcase per scenario', () => {
    const table = r.stdout.slice(r.stdout.indexOf('scenario '));
    for (const name of LIBRARY) expect(table).toMatch(new RegExp(`^${name}\\s+(PASS|SKIP)`, 'm'));
    expect(r.stdout).toMatch(/unsealVault→Secret/);
    const xml = readFileSync(join(out, 'all.xml'), 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(LIBRARY.length);
    expect(xml).not.toContain('<failure');
    expect(xml).toMatch(/<testcase [^>]*name="consumers"[^>]*>\s*<skipped/);
  });
});
