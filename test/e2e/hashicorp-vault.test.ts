/**
 * The second lab server, HashiCorp Vault (`--vault-server hashicorp`), on the real local lab: `scenario rotate`
 * from nothing (an ephemeral lab), then a lab started by `up --vault-server hashicorp` — its status, its `vault`
 * CLI — and the whole scenario library on it with `scenario all`; then the tutorial walkthrough (`tutorial --yes`),
 * whose commands run HashiCorp Vault's own `vault` CLI.
 *
 * Needs the optional component (`vault-eso-lab build hashicorp-vault`; .ci/run builds it): without it the file
 * is skipped, visibly, with that reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { binaryPath } from '../../src/components/cache.ts';
import { components } from '../../src/components/versions.ts';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const pin = components['hashicorp-vault'];
const built = existsSync(binaryPath(pin, 'vault'));
const SKIP_REASON = `HashiCorp Vault is not built (run: vault-eso-lab build hashicorp-vault; .ci/run does)`;
if (!built) process.stderr.write(`[hashicorp-vault] skipped: ${SKIP_REASON}\n`);

const env = isolatedEnv();
const out = mkdtempSync(join(tmpdir(), 'vel-e2e-hashicorp-'));

interface ScenarioJson {
  scenario: string;
  provider: string;
  passed: boolean;
  skipped?: string;
  versions?: Record<string, string>;
  cleanupErrors: unknown[];
  rotations: { latencyMs?: number; windowMs: number; withinWindow?: boolean }[];
}
interface RunJson {
  provider: string;
  passed: boolean;
  versions: Record<string, string>;
  scenarios: ScenarioJson[];
}

const LIBRARY = readdirSync(join(import.meta.dirname, '../../scenarios'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

describe.skipIf(!built)(`--vault-server hashicorp (${built ? 'HashiCorp Vault built' : SKIP_REASON})`, () => {
  describe('scenario rotate on an ephemeral lab', () => {
    let r: CliResult;
    let report: ScenarioJson;
    beforeAll(async () => {
      r = await cli(
        ['scenario', 'rotate', '--vault-server', 'hashicorp', '--report-json', join(out, 'rotate.json')],
        env,
      );
      report = JSON.parse(readFileSync(join(out, 'rotate.json'), 'utf8')) as ScenarioJson;
    }, 10 * 60_000);

    it('passes with exit 0 on HashiCorp Vault, and the report names it', () => {
      expect(r.exitCode, `${r.stdout}\n${r.stderr.slice(-4000)}`).toBe(0);
      expect(r.stderr).toContain('starting an ephemeral lab');
      expect(report).toMatchObject({ scenario: 'rotate', provider: 'local', passed: true });
      expect(report.versions).toMatchObject({ 'hashicorp-vault': pin.version });
      expect(report.versions).not.toHaveProperty('openbao');
    });

    it('measures three rotations within the refresh window', () => {
      expect(report.rotations).toHaveLength(3);
      for (const rot of report.rotations) expect(rot.withinWindow).toBe(true);
    });

    it('stops the ephemeral lab: nothing is left running', () => {
      expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    });
  });

  describe('a lab started with up --vault-server hashicorp', () => {
    let runDir: string;
    let library: CliResult;
    let report: RunJson;
    beforeAll(async () => {
      const up = await cli(['up', '--provider', 'local', '--vault-server', 'hashicorp', '--json'], env);
      if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`);
      runDir = (JSON.parse(up.stdout) as { runDir: string }).runDir;
      const t0 = Date.now();
      library = await cli(
        ['scenario', 'all', '--vault-server', 'hashicorp', '--report-json', join(out, 'all.json')],
        env,
        12 * 60_000,
      );
      process.stderr.write(
        `[hashicorp-vault] scenario all: exit ${library.exitCode} in ${Math.round((Date.now() - t0) / 1000)} s\n`,
      );
      report = JSON.parse(readFileSync(join(out, 'all.json'), 'utf8')) as RunJson;
    }, 14 * 60_000);

    afterAll(async () => {
      await cli(['down'], env);
      expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    });

    it('status names the real server, healthy', async () => {
      const s = await cli(['status', '--json'], env);
      expect(s.exitCode, s.stderr).toBe(0);
      const components = (JSON.parse(s.stdout) as { components: { name: string; version: string }[] })
        .components;
      expect(components).toContainEqual(
        expect.objectContaining({ name: 'hashicorp-vault', version: pin.version, healthy: true }),
      );
      expect(components.map((c) => c.name)).not.toContain('openbao');
    });

    it("the lab's `vault` is HashiCorp Vault's CLI and talks to the lab's server", async () => {
      const e = await cli(['env', '--json'], env);
      const vars = JSON.parse(e.stdout) as Record<string, string>;
      const vault = join(runDir, 'bin', 'vault');
      const version = await execa(vault, ['version'], { env: { PATH: vars.PATH! }, extendEnv: false });
      expect(version.stdout).toMatch(/^Vault v1\.21\.0 \(818ca8b3575ea937ca48b640baf35e1b2ede1833\)/);
      const status = await execa(vault, ['status', '-format=json'], {
        env: { ...vars, HOME: runDir },
        extendEnv: false,
        reject: false,
      });
      expect(status.exitCode, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({
        sealed: false,
        version: pin.version.slice(1),
        storage_type: 'inmem',
      });
      expect(existsSync(join(runDir, 'bin', 'bao'))).toBe(false);
    });

    it('scenario all attaches to it and passes: every scenario passed or was skipped', () => {
      expect(library.stderr).toContain("using the running local lab 'default'");
      const failed = report.scenarios.filter((s) => !s.passed).map((s) => s.scenario);
      expect(failed, `${library.stdout}\n${library.stderr.slice(-6000)}`).toEqual([]);
      expect(library.exitCode).toBe(0);
      expect(report.versions).toMatchObject({ 'hashicorp-vault': pin.version });
      expect(report.scenarios.map((s) => s.scenario).sort()).toEqual(LIBRARY);
      for (const s of report.scenarios) if (!s.skipped) expect(s.cleanupErrors, s.scenario).toEqual([]);
    });

    it('measures rotations within their refresh windows', () => {
      for (const name of ['rotate', 'datafrom-template', 'token-expiry']) {
        const rot = report.scenarios.find((s) => s.scenario === name)?.rotations ?? [];
        expect(rot.length, name).toBeGreaterThan(0);
        for (const x of rot) expect(x.withinWindow, name).toBe(true);
      }
    });
  });

  describe('tutorial --yes --vault-server hashicorp', () => {
    const tutorialEnv = isolatedEnv();
    let r: CliResult;
    let steps: { id: string; status: string }[];
    beforeAll(async () => {
      r = await cli(
        ['tutorial', '--yes', '--provider', 'local', '--vault-server', 'hashicorp', '--json'],
        tutorialEnv,
      );
      steps = JSON.parse(r.stdout) as { id: string; status: string }[];
    }, 10 * 60_000);

    it('runs every step of the walkthrough on HashiCorp Vault and exits 0', () => {
      expect(r.exitCode, r.stderr.slice(-6000)).toBe(0);
      expect(steps.length).toBeGreaterThanOrEqual(9);
      for (const s of steps) expect(s.status, s.id).toBe('passed');
      expect(r.stderr).toContain(`All ${steps.length} steps ran.`);
    });

    it("shows what HashiCorp Vault's CLI does with the tutorial's broken continuations", () => {
      expect(r.stderr).toContain('[write][auth/kubernetes/config][ ]');
      expect(r.stderr).toContain('line 1 alone: exit status');
      expect(r.stderr).toContain('lines 2-5 alone: exit status');
    });

    it('stops its lab: nothing is left running', () => {
      expect(processesMentioning(tutorialEnv.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    });
  });
});
