/**
 * `tutorial --yes` on an ephemeral local lab that the tutorial starts and stops itself: every step passes with the
 * tutorial's own text, each place where that text cannot work is shown with the real error, the force-sync is
 * proven to come from the annotation, nothing is left running (nor any work directory), and no generated value or
 * token reaches the output (values are derived from a seed here, so the test knows what to look for).
 * A second run is killed with SIGKILL mid-walkthrough: its work directory goes with its lab at the next command.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/time.ts';
import { generateValue, SEED_ENV } from '../../src/tutorial/values.ts';
import { cli, cliProcess, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const seed = `e2e-${process.pid}-${Date.now()}`;
const env: NodeJS.ProcessEnv = { ...isolatedEnv(), [SEED_ENV]: seed };
const stateDir = env.VAULT_ESO_LAB_STATE_DIR as string;
const tmpTutorialDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('vault-eso-lab-tutorial-'));

interface StepJson {
  id: string;
  status: string;
  facts?: Record<string, number | string | boolean>;
}

describe('tutorial --yes on an ephemeral local lab', () => {
  let r: CliResult;
  let steps: StepJson[];
  let output: string;
  let tmpBefore: string[];
  beforeAll(async () => {
    tmpBefore = tmpTutorialDirs();
    r = await cli(['tutorial', '--yes', '--provider', 'local', '--json'], env);
    steps = JSON.parse(r.stdout) as StepJson[];
    output = r.stderr;
  });
  const facts = () => Object.assign({}, ...steps.map((s) => s.facts ?? {})) as Record<string, unknown>;

  it('runs every step and exits 0', () => {
    expect(r.exitCode, r.stderr).toBe(0);
    expect(steps.map((s) => [s.id, s.status])).toEqual(
      [
        'secret',
        'policy',
        'auth',
        'role',
        'secretstore',
        'externalsecret',
        'claims',
        'stolen-token',
        'rotate',
      ].map((id) => [id, 'passed']),
    );
    expect(output).toContain(`All ${steps.length} steps ran.`);
  });

  it("shows what the shell and vault really do with the tutorial's broken continuations", () => {
    expect(output).toContain(
      'Failed to parse K=V data: invalid key/value pair " ": format must be key=value',
    );
    expect(output).toContain(
      'Failed to parse K=V data: invalid key/value pair " #": format must be key=value',
    );
    expect(output).toContain('[write][auth/kubernetes/config][ ]');
    expect(output).toContain('[write][auth/kubernetes/role/my-app-role][ #][do][this][for][each][secret]');
    expect(output).toContain('line 1 alone: exit status 1');
    expect(output).toContain('line 2 alone: exit status 0');
    expect(output).toContain('lines 2-5 alone: exit status 0');
    expect(output).toContain('No value found at auth/kubernetes/role/my-app-role');
    expect(facts().brokenContinuationShown).toBe(true);
  });

  it('shows the real errors for what the tutorial leaves out or assumes', () => {
    expect(output).toContain('serviceaccount/ca.crt: no such file or directory');
    expect(output).toMatch(/lookup kubernetes\.default\.svc[^\n]*network is unreachable/);
    expect(output).toMatch(
      /lookup hashicorp-vault\.hashicorp-vault\.svc\.cluster\.local[^\n]*network is unreachable/,
    );
    expect(output).toContain('namespaces "my-app" not found');
    expect(output).toMatch(/permission denied[\s\S]*my-app-sa-tokenreview created/);
    expect(output).toContain('secretstore.external-secrets.io/vault-backend condition met');
    expect(facts().inClusterNameResolves).toBe(false);
  });

  it("shows the opening claims: base64, and the password in etcd's own bytes", () => {
    expect(output).toContain('cGxhY2Vob2xkZXI=');
    expect(output).toMatch(/is in the stored bytes as it is, at byte \d+/);
    expect(facts()).toMatchObject({ etcdStoredAs: 'plain', valueInEtcd: true });
  });

  it("shows what my-app-sa's token reads in Vault, and what it cannot", () => {
    expect(output).toMatch(
      /vault token capabilities secret\/data\/my-app\/config[\s\S]*│ read\n[\s\S]*│ deny/,
    );
    expect(output).toMatch(/vault kv get secret\/other-app\/config[\s\S]*Code: 403/);
  });

  it('holds the old password under refreshInterval "1h", and the force-sync is caused by the annotation', () => {
    const f = facts();
    expect(f.changedDuringHold).toBe(false);
    expect(f.causedByAnnotation).toBe(true);
    expect(f.forceSyncLatencyMs).toBeGreaterThanOrEqual(0);
    expect(f.forceSyncLatencyMs).toBeLessThan(10_000);
    expect(output).toContain('✓ no periodic refresh was due');
  });

  it('cleans up last-in-first-out', () => {
    const order = [
      'vault kv metadata delete secret/other-app/config',
      'kubectl delete externalsecret my-app-secrets',
      'kubectl delete clusterrolebinding my-app-sa-tokenreview',
      'kubectl delete secretstore vault-backend',
      'kubectl delete namespace my-app',
      'vault delete auth/kubernetes/role/my-app-role',
      'vault auth disable kubernetes',
      'vault policy delete my-app-read',
      'vault kv metadata delete secret/my-app/config',
    ].map((c) => output.lastIndexOf(c));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('never prints a generated value or a token', () => {
    for (const label of ['password-1', 'other-app-password']) {
      const value = generateValue(label, seed);
      expect(r.stdout).not.toContain(value);
      expect(r.stderr).not.toContain(value);
    }
    // ServiceAccount JWTs start with a base64url JSON header; OpenBao service tokens with s. or hvs.
    expect(r.stderr + r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    expect(r.stderr + r.stdout).not.toMatch(/\b(hvs|s)\.[A-Za-z0-9]{20,}/);
  });

  it('stops its lab and leaves nothing running, nor any work directory', () => {
    expect(processesMentioning(stateDir)).toEqual([]);
    const labs = join(stateDir, 'labs');
    expect(existsSync(labs) ? readdirSync(labs) : []).toEqual([]);
    expect(tmpTutorialDirs()).toEqual(tmpBefore);
  });
});

describe('a walkthrough killed with SIGKILL', () => {
  const killEnv: NodeJS.ProcessEnv = { ...isolatedEnv(), [SEED_ENV]: seed };
  const killState = killEnv.VAULT_ESO_LAB_STATE_DIR as string;
  const workDirs = () => {
    const labs = join(killState, 'labs');
    if (!existsSync(labs)) return [];
    return readdirSync(labs).flatMap((l) =>
      readdirSync(join(labs, l))
        .filter((d) => d.startsWith('tutorial-'))
        .map((d) => join(labs, l, d)),
    );
  };
  let during: string[] = [];
  let after: CliResult;
  beforeAll(async () => {
    const child = cliProcess(['tutorial', '--yes', '--provider', 'local'], killEnv);
    during = await waitFor(
      async () => {
        const w = workDirs();
        return w.length ? { done: true, value: w } : { done: false, seen: 'no work directory yet' };
      },
      { what: "the tutorial's work directory", timeoutMs: 240_000, intervalMs: 200 },
    );
    child.kill('SIGKILL');
    await child;
    after = await cli(['down', '--all'], killEnv);
  });

  it("had its work directory (with the generated values) inside the lab's run directory", () => {
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(new RegExp(`^${killState}/labs/[^/]+/tutorial-`));
  });

  it('leaves nothing after the next command: no processes, no run directory, no work directory', () => {
    expect(after.exitCode, after.stderr).toBe(0);
    expect(existsSync(during[0] ?? '/nonexistent')).toBe(false);
    expect(workDirs()).toEqual([]);
    expect(processesMentioning(killState)).toEqual([]);
  });
});
