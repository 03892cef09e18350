/**
 * A harness killed with SIGKILL at any moment of `up` — after each component became ready, and in the window
 * between spawning a process and recording it — leaves nothing once the next command has run; so does a scenario
 * run killed while a scenario has a Vault server of its own.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_MARKER, environOf, isAlive, processesMarked, startDaemon } from '../../src/process/command.ts';
import { PRIVATE_VAULT_OWNER } from '../../src/labs/local/private-vault.ts';
import { waitFor } from '../../src/time.ts';
import { nodeLayout } from '../../src/labs/local/node/node-config.ts';
import { gatherNodeFacts, nodeBlocker } from '../../src/labs/local/node/node-support.ts';
import { cli, cliProcess, waitForStderr } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const withNode = nodeBlocker({ ...gatherNodeFacts(), missing: [], runcRuns: true }) === undefined;
const boundaries = [
  'openbao',
  'etcd',
  'kube-apiserver',
  ...(withNode ? ['containerd', 'kubelet', 'kube-scheduler'] : []),
  'eso-crds',
  'kube-controller-manager',
];

function left(env: NodeJS.ProcessEnv): string[] {
  const state = env.VAULT_ESO_LAB_STATE_DIR!;
  const labs = join(state, 'labs');
  const out = processesMentioning(state).map((p) => `process ${p}`);
  if (existsSync(labs)) {
    for (const d of readdirSync(labs)) {
      out.push(`run dir ${d}`);
      try {
        execFileSync('ip', ['link', 'show', 'dev', nodeLayout(join(labs, d)).bridge], { stdio: 'ignore' });
        out.push(`bridge of ${d}`);
      } catch {
        /* none */
      }
    }
  }
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (l.includes(state)) out.push(`mount ${l.split(' ')[4]}`);
  return out;
}

describe('SIGKILL at every component boundary', () => {
  it.each(boundaries)('after %s is ready, the next down leaves nothing', async (component) => {
    const env = isolatedEnv();
    const p = cliProcess(['up', '--provider', 'local'], env);
    await waitForStderr(p, new RegExp(`· ${component} ready`));
    p.kill('SIGKILL');
    await p;
    const down = await cli(['down'], env);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(left(env)).toEqual([]);
  });

  it('a process spawned but never recorded (killed in between) is found by its run-dir marker', async () => {
    const env = isolatedEnv();
    const run = join(env.VAULT_ESO_LAB_STATE_DIR!, 'labs', 'half');
    mkdirSync(join(run, 'logs'), { recursive: true, mode: 0o700 });
    // A record owned by a harness that is gone, listing no component: the window between spawn and record.
    writeFileSync(
      join(run, 'lab.json'),
      JSON.stringify({
        schema: 1,
        id: 'half',
        name: 'half',
        provider: 'local',
        state: 'starting',
        ownerPid: 2 ** 22 + 1,
        createdAt: new Date().toISOString(),
        components: [],
        versions: {},
      }),
    );
    const d = startDaemon({
      name: 'orphan',
      file: '/bin/sleep',
      args: ['600'],
      env: { PATH: '/usr/bin:/bin', [RUN_MARKER]: run },
      logFile: join(run, 'logs', 'orphan.log'),
    });
    expect(isAlive(d.pid)).toBe(true);
    const down = await cli(['down', '--all'], env);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(isAlive(d.pid)).toBe(false);
    expect(left(env)).toEqual([]);
  });
  it('a scenario run killed while a Vault-fault scenario has its own Vault server: the next status stops that server, and only it', async () => {
    const env = isolatedEnv();
    const up = await cli(['up', '--provider', 'local', '--no-node'], env);
    expect(up.exitCode, up.stderr).toBe(0);
    const run = join(env.VAULT_ESO_LAB_STATE_DIR!, 'labs', 'default');
    const privateServers = () => processesMarked(run).filter((pid) => environOf(pid)?.[PRIVATE_VAULT_OWNER]);
    const labPids = processesMarked(run);
    const p = cliProcess(['scenario', 'vault-down', 'rotate', '--parallel', '2'], env);
    const [pv] = await waitFor(
      async () => {
        const found = privateServers();
        return found.length
          ? { done: true, value: found }
          : { done: false, seen: 'no private Vault server yet' };
      },
      { what: "vault-down's private Vault server", timeoutMs: 60_000, intervalMs: 50 },
    );
    expect(environOf(pv!)?.[PRIVATE_VAULT_OWNER]).toMatch(new RegExp(`^${p.pid}:openbao-p1$`));
    p.kill('SIGKILL');
    await p;
    expect(isAlive(pv!)).toBe(true);
    const status = await cli(['status'], env);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(isAlive(pv!)).toBe(false);
    expect(privateServers()).toEqual([]);
    // The lab itself is untouched by that.
    for (const pid of labPids) expect(isAlive(pid), `lab pid ${pid}`).toBe(true);
    const down = await cli(['down'], env);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(left(env)).toEqual([]);
  });
});
