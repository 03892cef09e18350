/**
 * The headline: `vault-eso-lab scenario rotate` on the real local lab, its reports, the deliberately broken
 * variant, and the promise that no generated secret value reaches any output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedLocalLab } from '../../src/labs/local/local-lab.ts';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, startLab, vaultFetch } from './helpers.ts';

const env = isolatedEnv();
const out = mkdtempSync(join(tmpdir(), 'vel-e2e-reports-'));
let lab: StartedLocalLab;

beforeAll(async () => {
  // A lab that `up` would leave running: the CLI attaches to it instead of starting its own.
  ({ lab } = await startLab(env, 'default'));
  lab.detach();
});

afterAll(async () => {
  await lab?.stop();
});

interface JsonReport {
  scenario: string;
  provider: string;
  passed: boolean;
  durationMs: number;
  steps: { name: string; passed: boolean }[];
  rotations: { latencyMs: number; windowMs: number; withinWindow: boolean }[];
}

describe('scenario rotate-policy-denied (deliberately broken)', () => {
  let r: CliResult;
  beforeAll(async () => {
    r = await cli(
      [
        'scenario',
        'test/fixtures/scenarios/broken/rotate-policy-denied.yaml',
        // It applies the library's own manifests (../../../../scenarios/manifests): outside its directory.
        '--allow-outside',
        '--report-json',
        join(out, 'denied.json'),
      ],
      env,
    );
  });

  it('fails with exit 1', () => {
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toContain('using the running local lab');
  });

  it('diagnoses permission denied', () => {
    expect(r.stderr + r.stdout).toMatch(/diagnosis: permission denied/i);
    const report = JSON.parse(readFileSync(join(out, 'denied.json'), 'utf8')) as JsonReport;
    expect(report.passed).toBe(false);
  });
});

describe('scenario rotate', () => {
  let r: CliResult;
  let report: JsonReport;
  beforeAll(async () => {
    r = await cli(
      [
        'scenario',
        'rotate',
        '--keep',
        '--report-json',
        join(out, 'rotate.json'),
        '--report-junit',
        join(out, 'rotate.xml'),
      ],
      env,
    );
    report = JSON.parse(readFileSync(join(out, 'rotate.json'), 'utf8')) as JsonReport;
  });

  it('passes with exit 0', () => {
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(report).toMatchObject({ scenario: 'rotate', provider: 'local', passed: true });
  });

  it('measures three rotations, each within the refresh window', () => {
    expect(report.rotations).toHaveLength(3);
    for (const rot of report.rotations) {
      expect(rot.latencyMs).toBeGreaterThanOrEqual(0);
      expect(rot.latencyMs).toBeLessThanOrEqual(rot.windowMs);
      expect(rot.withinWindow).toBe(true);
    }
    expect(r.stdout).toMatch(/latency/i);
  });

  it('writes a JUnit report with one testcase, and report files with mode 0600', () => {
    const xml = readFileSync(join(out, 'rotate.xml'), 'utf8');
    expect(xml).toMatch(/<testcase [^>]*name="rotate"/);
    expect(xml).not.toContain('<failure');
    expect(statSync(join(out, 'rotate.xml')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'rotate.json')).mode & 0o777).toBe(0o600);
  });

  it('never prints a secret value: not on stdout, stderr, or in the report files', async () => {
    // --keep left the Vault secret in place: read every version the run wrote.
    const { address, token } = lab.connection.vault;
    const meta = await vaultFetch(address, token, 'secret/metadata/my-app/config');
    const versions = Object.keys((meta.json.data as { versions: Record<string, unknown> }).versions);
    expect(versions.length).toBe(4); // initial write + three rotations
    const values = new Set<string>();
    for (const v of versions) {
      const got = await vaultFetch(address, token, `secret/data/my-app/config?version=${v}`);
      for (const value of Object.values((got.json.data as { data: Record<string, string> }).data))
        values.add(value);
    }
    const generated = [...values].filter((v) => v !== 'my-app-user'); // the username is a literal in the scenario
    expect(generated.length).toBeGreaterThanOrEqual(5); // password x4 + api_key
    const everything = [
      r.stdout,
      r.stderr,
      readFileSync(join(out, 'rotate.json'), 'utf8'),
      readFileSync(join(out, 'rotate.xml'), 'utf8'),
    ].join('\n');
    for (const v of generated) expect(everything.includes(v), 'a generated secret value leaked').toBe(false);
  });
});
