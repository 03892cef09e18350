/**
 * `tutorial --yes` on an ephemeral local lab that the tutorial starts and stops itself: every step passes, the
 * rotation is measured, nothing is left running, and no generated value reaches the output (the values are
 * derived from a seed here, so the test knows what to look for).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateValue, SEED_ENV } from '../../src/tutorial/values.ts';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const seed = `e2e-${process.pid}-${Date.now()}`;
const env: NodeJS.ProcessEnv = { ...isolatedEnv(), [SEED_ENV]: seed };
const stateDir = env.VAULT_ESO_LAB_STATE_DIR as string;

interface StepJson {
  id: string;
  status: string;
  facts?: Record<string, number>;
}

describe('tutorial --yes on an ephemeral local lab', () => {
  let r: CliResult;
  let steps: StepJson[];
  beforeAll(async () => {
    r = await cli(['tutorial', '--yes', '--provider', 'local', '--json'], env);
    steps = JSON.parse(r.stdout) as StepJson[];
  });

  it('runs every step of the tutorial and exits 0', () => {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(steps.map((s) => [s.id, s.status])).toEqual(
      [
        'secret',
        'policy',
        'auth',
        'role',
        'namespace',
        'secretstore',
        'externalsecret',
        'secret-synced',
        'rotate',
      ].map((id) => [id, 'passed']),
    );
    expect(r.stderr).toContain('All 9 steps ran.');
  });

  it('runs the real CLIs and shows the pitfall for real', () => {
    expect(r.stderr).toContain('Success! Uploaded policy: my-app-read');
    expect(r.stderr).toContain('Success! Enabled kubernetes auth method at: kubernetes/');
    expect(r.stderr).toContain('sh -n: no syntax error');
    expect(r.stderr).toMatch(/invalid key\/value pair " "[\s\S]*exit status: 0/);
    expect(r.stderr).toContain('clusterrolebinding.rbac.authorization.k8s.io/my-app-sa-tokenreview created');
    expect(r.stderr).toContain('secretstore.external-secrets.io/vault-backend condition met');
    expect(r.stderr).toMatch(/→ the password written in step 1 \(sha256:[0-9a-f]{8}\)/);
  });

  it('measures the rotation: within the demo refreshInterval, and faster with force-sync', () => {
    const facts = steps.find((s) => s.id === 'rotate')?.facts ?? {};
    expect(facts.latencyMs).toBeGreaterThanOrEqual(0);
    expect(facts.latencyMs).toBeLessThan(10_000 + 5_000);
    expect(facts.forceSyncLatencyMs).toBeLessThan(5_000);
  });

  it('cleans up last-in-first-out', () => {
    const order = [
      'kubectl delete externalsecret my-app-secrets',
      'kubectl delete namespace my-app',
      'kubectl delete clusterrolebinding my-app-sa-tokenreview',
      'vault auth disable kubernetes',
      'vault policy delete my-app-read',
      'vault kv metadata delete secret/my-app/config',
    ].map((c) => r.stderr.lastIndexOf(c));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('never prints a generated value', () => {
    for (const label of ['password-1', 'api_key-1', 'password-2', 'password-3']) {
      const value = generateValue(label, seed);
      expect(r.stdout).not.toContain(value);
      expect(r.stderr).not.toContain(value);
    }
  });

  it('stops its lab and leaves nothing running', () => {
    expect(processesMentioning(stateDir)).toEqual([]);
    const labs = join(stateDir, 'labs');
    expect(existsSync(labs) ? readdirSync(labs) : []).toEqual([]);
  });
});
