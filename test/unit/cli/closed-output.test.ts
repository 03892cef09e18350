/**
 * The real CLI in a shell pipeline whose reader goes away: `vault-eso-lab up --provider kind 2>&1 | head -1`,
 * with the kind provider's FAKE docker/kind/helm/kubectl (test/fixtures/fake-tools) and a slow `helm install`, so
 * the pipe closes while the lab is half made: `head` takes the first progress line (the cluster is ready) and
 * exits while Vault's chart installs; the next line hits the closed pipe and
 * the CLI stops (its ESO install is killed or never starts). The CLI must not crash on EPIPE: it stops, its cleanup
 * deletes the (fake) cluster it created, and it exits 141. The same path on the real local lab is in
 * test/e2e/lifecycle.test.ts.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeKindTools } from '../../fixtures/fake-tools/kind-fakes.ts';

const cliPath = new URL('../../../bin/vault-eso-lab.js', import.meta.url).pathname;

describe('a closed output pipe', () => {
  it('`up --provider kind 2>&1 | head -1`: no EPIPE crash, the cluster it created is deleted, exit 141', async () => {
    const fakes = fakeKindTools();
    const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
    const env = fakes.env({ VAULT_ESO_LAB_STATE_DIR: state, CI: 'true', FAKE_SLOW_HELM: '2' });
    const r = await execa(
      'bash',
      ['-c', `node '${cliPath}' up --provider kind --name p1 2>&1 | head -1; exit \${PIPESTATUS[0]}`],
      { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000 },
    );
    expect(String(r.stdout).split('\n')).toHaveLength(1);
    expect(String(r.stderr)).toBe('');
    expect(r.exitCode).toBe(141);
    const calls = fakes.calls();
    expect(calls.some((c) => c.startsWith('kind create cluster --name vault-eso-lab'))).toBe(true);
    expect(calls.at(-1)).toBe('kind delete cluster --name vault-eso-lab');
    expect(readFileSync(fakes.clustersFile, 'utf8').trim()).toBe('');
    // Stopped half-way: the webhook readiness check never ran.
    expect(calls.some((c) => c.includes('--dry-run=server'))).toBe(false);
    expect(readdirSync(join(state, 'labs')).filter((d) => d === 'p1')).toEqual([]);
  }, 70_000);
});
