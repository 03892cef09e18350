/**
 * What the CLI says about a lab must be true: a broken lab is flagged (not "already running"), a killed run's
 * processes are reported by `status`, `down --keep` keeps the directory through the next `up`, and the run
 * directory is the user's alone (0700/0600 as a tree).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliProcess } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const labDirs = (env: NodeJS.ProcessEnv) => {
  const d = join(env.VAULT_ESO_LAB_STATE_DIR!, 'labs');
  return existsSync(d) ? readdirSync(d) : [];
};

/**
 * Paths under the run dir whose mode lets anyone but the owner in. The node's own trees are exempt by design and
 * checked to sit below 0700 directories: containers need their files world-readable (image layers, Secret volumes
 * read by the container's user), and nobody else can reach them through the 0700 run dir.
 */
function openToOthers(root: string): string[] {
  const exempt = [
    'node/containerd/root',
    'node/containerd/state',
    'node/containerd/runc',
    'node/kubelet',
    'node/pod-logs',
  ].map((p) => join(root, p));
  const bad: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink() || st.isSocket()) return;
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) bad.push(`${p} ${mode.toString(8)}`);
      if (exempt.includes(p)) return;
      for (const e of readdirSync(p)) walk(join(p, e));
    } else if (mode & 0o077) bad.push(`${p} ${mode.toString(8)}`);
  };
  walk(root);
  return bad;
}

describe('lab state, as the CLI reports it', () => {
  it('flags a broken lab, keeps a kept directory, and the run dir is 0700/0600 throughout', async () => {
    const env = isolatedEnv();
    const up = await cli(['up', '--provider', 'local'], env);
    expect(up.exitCode, up.stderr).toBe(0);
    const runDir = join(env.VAULT_ESO_LAB_STATE_DIR!, 'labs', 'default');
    expect(openToOthers(runDir)).toEqual([]);

    // Kill OpenBao by hand: `up` must not call this lab "already running", nor may a scenario start on it.
    const rec = JSON.parse(readFileSync(join(runDir, 'lab.json'), 'utf8')) as {
      components: { name: string; pid: number }[];
    };
    process.kill(rec.components.find((c) => c.name === 'openbao')!.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const again = await cli(['up'], env);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/lab 'default' is broken: openbao \(pid \d+\) is not running/);
    const scen = await cli(['scenario', 'initial-sync'], env);
    expect(scen.exitCode).toBe(1);
    expect(scen.stderr).toMatch(/is broken: openbao/);
    const status = await cli(['status'], env);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toMatch(/openbao .*unhealthy/);

    const down = await cli(['down', '--keep'], env);
    expect(down.exitCode, down.stderr).toBe(0);
    const kept = /run directory kept at (\S+)/.exec(down.stderr)?.[1];
    expect(kept).toMatch(/default-kept-/);
    expect(existsSync(join(kept!, 'logs', 'openbao.log'))).toBe(true);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);

    // The next up neither deletes the kept directory nor trips over it.
    const up2 = await cli(['up', '--no-node'], env);
    expect(up2.exitCode, up2.stderr).toBe(0);
    expect(existsSync(kept!)).toBe(true);
    expect(await cli(['down', '--all'], env)).toMatchObject({ exitCode: 0 });
    expect(existsSync(kept!)).toBe(true);
    expect(labDirs(env)).toEqual([kept!.split('/').at(-1)]);
  });

  it("status names a killed run's processes that still hold ports", async () => {
    const env = isolatedEnv();
    const p = cliProcess(['scenario', 'initial-sync', '--no-node'], env);
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const t = setTimeout(() => reject(new Error(`no lab start in: ${seen}`)), 180_000);
      p.stderr?.on('data', (c: Buffer) => {
        seen += c.toString();
        if (/eso ready/.test(seen)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    p.kill('SIGKILL');
    await p;
    const status = await cli(['status'], env);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toMatch(
      /no lab is usable, but lab 'run-[0-9a-f]+' .*still runs: .*etcd \(pid \d+, 127\.0\.0\.1:\d+\)/,
    );
    expect(await cli(['down', '--all'], env)).toMatchObject({ exitCode: 0 });
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
  });
});
