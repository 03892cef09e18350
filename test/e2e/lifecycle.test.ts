/**
 * `up` / `status` / `env` / `down` through the real CLI, Ctrl-C during `up`, and a harness killed with SIGKILL.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { binaryPath, componentDir, inspectCache } from '../../src/components/cache.ts';
import { componentOrder, components, nodeComponents } from '../../src/components/versions.ts';
import { join } from 'node:path';
import { execa } from 'execa';
import { cli, cliPath, cliProcess, waitForStderr } from './cli.ts';
import { isAlive } from '../../src/process/command.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';
import { gatherNodeFacts, nodeBlocker } from '../../src/labs/local/node/node-support.ts';

const waitForOutput = (p: ReturnType<typeof cliProcess>, needle: RegExp, timeoutMs = 120_000) =>
  waitForStderr(p, needle, timeoutMs);

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

  it('SIGTERM during up leaves nothing running and exits 143', async () => {
    const env = isolatedEnv();
    const p = cliProcess(['up', '--provider', 'local'], env);
    await waitForOutput(p, /kube-apiserver ready/);
    p.kill('SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(143);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });

  it('`scenario rotate 2>&1 | head -1`: the closed pipe stops the run, cleanup runs, nothing is left, exit 141', async () => {
    const env = isolatedEnv();
    const r = await execa(
      'bash',
      ['-c', `node '${cliPath}' scenario rotate --provider local 2>&1 | head -1; exit \${PIPESTATUS[0]}`],
      { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 300_000 },
    );
    expect(String(r.stdout).split('\n')).toHaveLength(1);
    expect(String(r.stderr)).not.toMatch(/EPIPE|Unhandled|uncaught/i);
    expect(r.exitCode).toBe(141);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });

  it.each(['../escaped', 'a/b', 'UPPER', '-x'])(
    'up --name %s is exit 2 and creates nothing',
    async (name) => {
      const env = isolatedEnv();
      const r = await cli(['up', '--provider', 'local', `--name=${name}`], env);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain('--name must be lowercase letters, digits and');
      expect(readdirSync(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
      expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    },
  );

  it('down --json prints what it stopped', async () => {
    const env = isolatedEnv();
    expect((await cli(['up', '--provider', 'local', '--name', 'j1'], env)).exitCode).toBe(0);
    const down = await cli(['down', '--name', 'j1', '--json'], env);
    expect(down.exitCode, down.stderr).toBe(0);
    const result = JSON.parse(down.stdout) as {
      stopped: { name: string; provider: string; kept: boolean }[];
    };
    expect(result.stopped).toEqual([expect.objectContaining({ name: 'j1', provider: 'local', kept: false })]);
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
    for (const c of inspectCache(undefined, [...componentOrder, ...nodeComponents])) {
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
    // OpenBao starts alongside etcd: etcd was started, and is stopped again.
    expect(up.stderr).toMatch(/stopped etcd/);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    expect(labsIn(env)).toEqual([]);
  });
});
