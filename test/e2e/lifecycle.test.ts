/**
 * `up` / `status` / `env` / `down` through the real CLI, Ctrl-C during `up`, and a harness killed with SIGKILL.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { binaryPath, componentDir, inspectCache } from '../../src/components/cache.ts';
import { components } from '../../src/components/versions.ts';
import { join } from 'node:path';
import { cli, cliProcess } from './cli.ts';
import { isAlive } from '../../src/process/command.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';
import { gatherNodeFacts, nodeBlocker } from '../../src/labs/local/node/node-support.ts';

const waitForOutput = (p: ReturnType<typeof cliProcess>, needle: RegExp, timeoutMs = 120_000) =>
  new Promise<void>((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`did not see ${needle} in: ${seen}`)), timeoutMs);
    p.stderr?.on('data', (c: Buffer) => {
      seen += c.toString();
      if (needle.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    });
  });

const labsIn = (env: NodeJS.ProcessEnv) => {
  const d = join(env.VAULT_ESO_LAB_STATE_DIR!, 'labs');
  return existsSync(d) ? readdirSync(d) : [];
};

describe('lab lifecycle through the CLI', () => {
  it('up, status, env, down', async () => {
    const env = isolatedEnv();
    const up = await cli(['up', '--provider', 'local'], env);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain('kubeconfig:');
    expect(up.stdout).toContain('Vault address:  http://127.0.0.1:');
    // `up` handed the processes off: they outlive it.
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!).length).toBeGreaterThanOrEqual(5);
    expect(up.stdout).toMatch(/^node: {11}(lab-node|none)/m);

    const again = await cli(['up'], env);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('already running');

    const status = await cli(['status', '--json'], env);
    expect(status.exitCode, status.stdout).toBe(0);
    const s = JSON.parse(status.stdout) as {
      healthy: boolean;
      components: { name: string; healthy: boolean; pid: number }[];
    };
    expect(s.healthy).toBe(true);
    // Independent components start at the same time: the record's order is not the start order.
    const withNode = nodeBlocker({ ...gatherNodeFacts(env), missing: [], runcRuns: true }) === undefined;
    expect(s.components.map((c) => c.name).sort()).toEqual(
      [
        'etcd',
        'kube-apiserver',
        'kube-controller-manager',
        'openbao',
        'eso',
        ...(withNode ? ['containerd', 'kubelet', 'kube-scheduler'] : []),
      ].sort(),
    );

    const e = await cli(['env'], env);
    expect(e.stdout).toMatch(/^export KUBECONFIG=/m);
    expect(e.stdout).toMatch(/^export VAULT_ADDR=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(e.stdout).toMatch(/^export VAULT_TOKEN=/m);
    expect(e.stdout).toMatch(/^export PATH=.*\/bin:/m);

    const down = await cli(['down'], env);
    expect(down.exitCode).toBe(0);
    for (const c of s.components) expect(isAlive(c.pid), c.name).toBe(false);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
    const after = await cli(['status'], env);
    expect(after.exitCode).toBe(1);
  });

  it('Ctrl-C during up leaves nothing running and exits 130', async () => {
    const env = isolatedEnv();
    const p = cliProcess(['up', '--provider', 'local'], env);
    await waitForOutput(p, /kube-apiserver ready/);
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(130);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });

  it('the leftovers of a harness killed with SIGKILL are stopped by the next down', async () => {
    const env = isolatedEnv();
    const p = cliProcess(['up', '--provider', 'local'], env);
    await waitForOutput(p, /openbao ready/);
    p.kill('SIGKILL');
    await p;
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!).length).toBeGreaterThan(0);
    const down = await cli(['down'], env);
    expect(down.exitCode).toBe(0);
    expect(down.stderr).toContain('leftovers');
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });

  it('Ctrl-C during a scenario on an ephemeral lab cleans up, stops the lab and exits 130', async () => {
    const env = isolatedEnv();
    const p = cliProcess(['scenario', 'rotate', '--provider', 'local'], env);
    await waitForOutput(p, /rotation 1/, 180_000);
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(130);
    expect(String(r.stderr)).toMatch(/cleanup/);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });

  it('a lab whose processes all died (a reboot) is cleared by the next up instead of being used', async () => {
    const env = isolatedEnv();
    expect((await cli(['up', '--provider', 'local'], env)).exitCode).toBe(0);
    const s = JSON.parse((await cli(['status', '--json'], env)).stdout) as { components: { pid: number }[] };
    for (const c of s.components) process.kill(-c.pid, 'SIGKILL');
    const again = await cli(['up', '--provider', 'local'], env);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain("clearing lab 'default': none of its processes runs any more");
    expect(again.stderr).not.toContain('already running');
    expect((await cli(['status'], env)).exitCode).toBe(0);
    expect((await cli(['down'], env)).exitCode).toBe(0);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
  });

  it('a component that fails to start: what started is stopped, its log tail is shown, exit 1', async () => {
    // A cache where every component is the real binary except OpenBao, which is a script that fails like a
    // misconfigured server would.
    const env = isolatedEnv();
    const cache = mkdtempSync(join(tmpdir(), 'vel-cache-'));
    for (const c of inspectCache()) {
      const dir = componentDir(c.pin, { XDG_CACHE_HOME: cache });
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(c.dir)) symlinkSync(join(c.dir, f), join(dir, f));
    }
    const bao = binaryPath(components.openbao, 'bao', { XDG_CACHE_HOME: cache });
    rmSync(bao);
    writeFileSync(
      bao,
      '#!/bin/sh\necho "Error initializing listener: simulated failure for the test" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const up = await cli(['up', '--provider', 'local'], { ...env, XDG_CACHE_HOME: cache });
    expect(up.exitCode).toBe(1);
    expect(up.stderr).toMatch(/openbao: exited with code 1 before it was ready/);
    expect(up.stderr).toContain('simulated failure for the test');
    expect(up.stderr).toMatch(/stopped kube-apiserver/);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });
});
