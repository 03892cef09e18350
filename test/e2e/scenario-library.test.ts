/**
 * The scenario library on ONE real local lab: `vault-eso-lab scenario all --parallel 1` (one after another) and
 * the whole library plus a fixture that restarts ESO at `--parallel 4`, each with JSON and JUnit reports (and HTML
 * for the parallel run, opened in a real browser). Every scenario passes (`consumers` needs a node: where the lab has
 * none it is reported as skipped with the reason); the parallel run gives the same pass/fail set and report entries;
 * the Vault-fault scenarios run beside the others on Vault servers of their own, and the ESO restart (exclusive)
 * overlaps no other scenario.
 *
 * The lab is started with `vault-eso-lab up` and the scenarios attach to it — so the fault steps (stopVault,
 * startVault, restartEso) are proven to work from a process other than the one that started the lab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath, checkReportInBrowser } from '../helpers/browser.ts';
import { repoRoot } from '../../src/paths.ts';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const env = isolatedEnv();
const out = mkdtempSync(join(tmpdir(), 'vel-e2e-library-'));

interface OperationJson {
  operation: string;
  name: string;
  phase: string;
  passed: boolean;
  facts?: Record<string, string | number | boolean>;
}
interface ScenarioJson {
  scenario: string;
  passed: boolean;
  skipped?: string;
  exclusive?: string;
  privateVault?: string;
  startedAt: string;
  durationMs: number;
  cleanups: unknown[];
  timeline?: { at: string; endAt?: string; kind: string }[];
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

/** A fixture that restarts ESO: shared state no private server separates, so it runs alone. */
const ESO_RESTART = join(import.meta.dirname, 'fixtures', 'eso-restart.yaml');

let r: CliResult;
let report: RunJson;
let par: CliResult;
let parReport: RunJson;
let serialWallS = 0;
let parallelWallS = 0;
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
  let t0 = Date.now();
  r = await cli(
    [
      'scenario',
      'all',
      '--parallel',
      '1',
      '--report-json',
      join(out, 'all.json'),
      '--report-junit',
      join(out, 'all.xml'),
    ],
    env,
    9 * 60_000,
  );
  serialWallS = Math.round((Date.now() - t0) / 1000);
  process.stderr.write(`[library] scenario all --parallel 1: exit ${r.exitCode} in ${serialWallS} s\n`);
  report = JSON.parse(readFileSync(join(out, 'all.json'), 'utf8')) as RunJson;
  t0 = Date.now();
  par = await cli(
    [
      'scenario',
      ...LIBRARY,
      ESO_RESTART,
      '--allow-outside',
      '--parallel',
      '4',
      '--report-json',
      join(out, 'par.json'),
      '--report-junit',
      join(out, 'par.xml'),
      '--report-html',
      join(out, 'par.html'),
    ],
    env,
    9 * 60_000,
  );
  parallelWallS = Math.round((Date.now() - t0) / 1000);
  process.stderr.write(`[library] scenario all --parallel 4: exit ${par.exitCode} in ${parallelWallS} s\n`);
  parReport = JSON.parse(readFileSync(join(out, 'par.json'), 'utf8')) as RunJson;
}, 19 * 60_000);

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

  it('runs everything (consumers only where the lab has a node; skipped with the reason elsewhere)', () => {
    const consumers = byName('consumers');
    if (consumers.skipped !== undefined) expect(consumers.skipped).toMatch(/node/);
    else expect(consumers.passed).toBe(true);
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
  });
});

/** What must be the same in a serial and a parallel run (names differ by the per-scenario suffix; times differ). */
function entries(run: RunJson) {
  return run.scenarios
    .filter((s) => LIBRARY.includes(s.scenario))
    .map((s) => ({
      scenario: s.scenario,
      passed: s.passed,
      skipped: s.skipped,
      steps: s.steps.map((st) => ({
        name: st.name,
        passed: st.passed,
        operations: st.operations.map((o) => `${o.phase}:${o.name}:${o.passed}`),
      })),
      cleanups: s.cleanups.length,
      cleanupErrors: s.cleanupErrors.length,
      rotations: s.rotations.map((x) => x.withinWindow),
    }));
}

describe('scenario all --parallel 4 on the same lab', () => {
  it('gives the same pass/fail set and report entries as --parallel 1', () => {
    expect(par.exitCode, par.stderr.slice(-6000)).toBe(0);
    expect(entries(parReport)).toEqual(entries(report));
    const xml = (f: string) =>
      readFileSync(join(out, f), 'utf8')
        .replace(/ (time|timestamp)="[^"]*"/g, '')
        .match(/<testcase [^>]*>(\s*<skipped[^>]*>)?/g);
    expect(xml('par.xml')?.filter((t) => !t.includes('name="eso-restart"'))).toEqual(xml('all.xml'));
    const esoRestart = parReport.scenarios.find((s) => s.scenario === 'eso-restart');
    expect(esoRestart?.passed, JSON.stringify(esoRestart?.steps)).toBe(true);
    process.stderr.write(`[library] wall: serial ${serialWallS} s, parallel ${parallelWallS} s\n`);
  });

  it('runs an exclusive scenario alone: its time span overlaps no other scenario (from the JSON report)', () => {
    // What a scenario did: its run and every event on its timeline. A refresh window's end is a deadline drawn
    // on the timeline, not something that happened: a rotation seen in 1 s ends its scenario before its 7 s
    // window does, and the exclusive phase may start then.
    const span = (s: ScenarioJson) => {
      const times = [Date.parse(s.startedAt), Date.parse(s.startedAt) + s.durationMs];
      for (const e of s.timeline ?? [])
        times.push(Date.parse(e.at), Date.parse(e.kind === 'refresh.window' ? e.at : (e.endAt ?? e.at)));
      return { start: Math.min(...times), end: Math.max(...times) };
    };
    const alone = parReport.scenarios.filter((s) => s.exclusive && s.skipped === undefined);
    expect(alone.map((s) => s.scenario)).toEqual(['eso-restart']);
    for (const a of alone)
      for (const o of parReport.scenarios.filter((x) => x !== a && x.skipped === undefined)) {
        const [x, y] = [span(a), span(o)];
        expect(x.start < y.end && y.start < x.end, `${a.scenario} overlaps ${o.scenario}`).toBe(false);
      }
    // And the others really ran side by side.
    const shared = parReport.scenarios.filter((s) => !s.exclusive && s.skipped === undefined).map(span);
    expect(shared.some((a, i) => shared.some((b, j) => i !== j && a.start < b.end && b.start < a.end))).toBe(
      true,
    );
  });

  it("runs the Vault-fault scenarios beside the others, each on a Vault server of its own (serially: the lab's)", () => {
    const span = (s: ScenarioJson) => ({
      start: Date.parse(s.startedAt),
      end: Date.parse(s.startedAt) + s.durationMs,
    });
    for (const name of ['vault-down', 'vault-sealed']) {
      const p = parReport.scenarios.find((s) => s.scenario === name)!;
      expect(p.privateVault, name).toMatch(/^openbao-p\d+$/);
      expect(p.exclusive, name).toBeUndefined();
      // It overlapped scenarios on the lab's Vault, and they passed: stopping or sealing its own server
      // disturbed none of them.
      const beside = parReport.scenarios.filter(
        (o) => o !== p && !o.privateVault && !o.exclusive && o.skipped === undefined,
      );
      const overlapping = beside.filter((o) => span(o).start < span(p).end && span(p).start < span(o).end);
      expect(overlapping.length, name).toBeGreaterThan(0);
      for (const o of overlapping) expect(o.passed, `${o.scenario} beside ${name}`).toBe(true);
      const serial = report.scenarios.find((s) => s.scenario === name)!;
      expect(serial.privateVault, name).toBeUndefined();
    }
  });

  it('prints each scenario as one block: no line of one scenario inside another block', () => {
    const lines = par.stderr.split('\n');
    const starts = LIBRARY.map((n) => lines.findIndex((l) => l.startsWith(`${n} (`)));
    const ends = LIBRARY.map((n) =>
      lines.findIndex((l) => new RegExp(`^${n} (passed|failed|skipped)`).test(l)),
    );
    for (const [i, n] of LIBRARY.entries()) {
      expect(starts[i], n).toBeGreaterThanOrEqual(0);
      for (const [j, m] of LIBRARY.entries())
        if (i !== j)
          expect(starts[j]! > starts[i]! && starts[j]! < ends[i]!, `${m} inside ${n}'s block`).toBe(false);
    }
  });

  it.skipIf(!chromiumPath())(
    'HTML report: loads in chromium with no console error, every scenario timeline in time order (screenshot kept)',
    async () => {
      const shot = join(repoRoot, 'reports', 'html-report-library.png');
      const page = await checkReportInBrowser(join(out, 'par.html'), shot);
      expect(page.consoleErrors).toEqual([]);
      expect(page.pageErrors).toEqual([]);
      expect(page.externalRequests).toEqual([]);
      expect(page.scenarios.map((s) => s.name)).toEqual(parReport.scenarios.map((s) => s.scenario));
      for (const s of page.scenarios.filter((x) => x.outcome !== 'skipped')) {
        const json = parReport.scenarios.find((x) => x.scenario === s.name)!;
        const times = s.rows.map((row) => Date.parse(row.at));
        expect(times, s.name).toEqual([...times].sort((a, b) => a - b));
        // Every timeline entry of the JSON report is a row (plus ESO refresh marks drawn from rotations).
        expect(s.rows.filter((row) => row.kind !== 'eso.refresh').length, s.name).toBe(json.timeline?.length);
        expect(
          s.rows.some((row) => row.kind === 'operation'),
          s.name,
        ).toBe(true);
        expect(s.marks, s.name).toBeGreaterThan(0);
      }
    },
  );
});
