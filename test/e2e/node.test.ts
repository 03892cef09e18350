/**
 * The local lab's real node: kubelet + kube-scheduler on containerd/runc with the CNI bridge. Pods run; logs and
 * exec go through the API server to the kubelet; the kubelet and etcd refuse unauthenticated clients; and stopping
 * the lab — or killing its harness — leaves no process, mount, network device or IPAM state behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { binaryPath } from '../../src/components/cache.ts';
import { components, nodeImages } from '../../src/components/versions.ts';
import { nodeLayout } from '../../src/labs/local/node/node-config.ts';
import { gatherNodeFacts, nodeBlocker } from '../../src/labs/local/node/node-support.ts';
import type { StartedLocalLab } from '../../src/labs/local/local-lab.ts';
import { shortHash } from '../../src/secrets/secret-registry.ts';
import { runCommand } from '../../src/process/command.ts';
import { cli, cliProcess, waitForStderr } from './cli.ts';
import { isolatedEnv, processesMentioning, startLab } from './helpers.ts';

const blocker = nodeBlocker({ ...gatherNodeFacts(), missing: [], runcRuns: true });

/** Container and sandbox ids seen per run directory while the lab ran (their cgroups must go too). */
const containerIds = new Map<string, string[]>();
function noteContainers(runDir: string): void {
  const dir = join(nodeLayout(runDir).containerdState, 'io.containerd.runtime.v2.task', 'k8s.io');
  if (existsSync(dir)) containerIds.set(runDir, [...(containerIds.get(runDir) ?? []), ...readdirSync(dir)]);
}

/** What a node could leave behind outside its run directory, for one lab. */
function leftovers(env: NodeJS.ProcessEnv, runDir: string): string[] {
  const found: string[] = [];
  const state = env.VAULT_ESO_LAB_STATE_DIR!;
  for (const pid of processesMentioning(state)) {
    let cmd = '?';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' ');
    } catch {
      /* gone */
    }
    found.push(`process ${pid}: ${cmd}`);
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(state)) found.push(`mount: ${line.split(' ')[4]}`);
  const l = nodeLayout(runDir);
  try {
    execFileSync('ip', ['link', 'show', 'dev', l.bridge], { stdio: 'ignore' });
    found.push(`network device ${l.bridge}`);
  } catch {
    /* gone: good */
  }
  if (existsSync('/var/run/netns'))
    for (const n of readdirSync('/var/run/netns')) found.push(`netns /var/run/netns/${n}`);
  const cniCache = '/var/lib/cni/cache/results';
  if (existsSync(cniCache))
    for (const f of readdirSync(cniCache)) if (f.startsWith(l.network)) found.push(`CNI cache ${f}`);
  if (existsSync(runDir)) found.push(`run directory ${runDir}`);
  for (const id of containerIds.get(runDir) ?? [])
    for (const ctl of readdirSync('/sys/fs/cgroup'))
      if (existsSync(join('/sys/fs/cgroup', ctl, 'k8s.io', id))) found.push(`cgroup ${ctl}/k8s.io/${id}`);
  return found;
}

function kubectl(lab: StartedLocalLab, args: string[], input?: string): string {
  return execFileSync(
    binaryPath(components.kubernetes, 'kubectl'),
    ['--kubeconfig', lab.connection.kubeconfigPath, ...args],
    {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 120_000,
    },
  );
}

const podManifest = `
apiVersion: v1
kind: Namespace
metadata: { name: node-e2e }
---
apiVersion: v1
kind: Secret
metadata: { name: s, namespace: node-e2e }
stringData: { password: node-e2e-value-1 }
---
apiVersion: v1
kind: Pod
metadata: { name: consumer, namespace: node-e2e }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: ${nodeImages.consumer}
      args: ['--env', 'DB_PASSWORD', '--file', '/etc/creds/password']
      env:
        - name: DB_PASSWORD
          valueFrom: { secretKeyRef: { name: s, key: password } }
      volumeMounts: [{ name: creds, mountPath: /etc/creds, readOnly: true }]
  volumes: [{ name: creds, secret: { secretName: s } }]
`;

/** An HTTPS request without any client certificate: what an unauthenticated local user can do. */
function anonymous(port: number, path: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const r = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    r.on('error', (e) => resolve({ error: e.message }));
    r.end();
  });
}

describe.skipIf(blocker !== undefined)(
  `the local lab's node${blocker ? ` (skipped: ${blocker})` : ''}`,
  () => {
    let env: NodeJS.ProcessEnv;
    let lab: StartedLocalLab;

    beforeAll(async () => {
      env = isolatedEnv();
      ({ lab } = await startLab(env, 'node'));
      // Handed over like `up` does, so CLI commands in this file use it (and stop() takes the `down` path).
      lab.detach();
    });

    afterAll(async () => {
      const runDir = lab?.runDir;
      await lab?.stop();
      if (runDir) expect(leftovers(env, runDir)).toEqual([]);
    });

    it('is Ready and schedulable, with InternalIP 127.0.0.1 only and the lab images', async () => {
      expect(lab.connection.node).toMatchObject({ name: 'lab-node', syncFrequency: '2s' });
      const node = JSON.parse(kubectl(lab, ['get', 'node', 'lab-node', '-o', 'json'])) as {
        spec: { taints?: unknown[] };
        status: { addresses: unknown[]; conditions: { type: string; status: string }[] };
      };
      expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node.spec.taints ?? []).toEqual([]);
      expect(node.status.addresses).toEqual([{ type: 'InternalIP', address: '127.0.0.1' }]);
      const images = await lab.listNodeImages();
      expect(images).toEqual(expect.arrayContaining([nodeImages.pause, nodeImages.consumer]));
    });

    it('runs a pod with a Secret volume and an env var; logs and exec work through the API server', async () => {
      kubectl(lab, ['apply', '-f', '-'], podManifest);
      kubectl(lab, ['wait', '--for=condition=Ready', 'pod/consumer', '-n', 'node-e2e', '--timeout=90s']);
      // logs: the consumer's JSON lines, hashes only.
      const want = shortHash('node-e2e-value-1');
      let logs = '';
      for (let i = 0; i < 50 && !logs.includes('file:/etc/creds/password'); i++) {
        logs = kubectl(lab, ['logs', '-n', 'node-e2e', 'consumer']);
        if (!logs.includes('file:')) await new Promise((r) => setTimeout(r, 200));
      }
      expect(logs).toContain(`"source":"env:DB_PASSWORD","sha256":"${want}"`);
      expect(logs).toContain(`"source":"file:/etc/creds/password","sha256":"${want}"`);
      expect(logs).not.toContain('node-e2e-value-1');
      // exec: the consumer image answers `cat` (its multi-call binary).
      const catted = kubectl(lab, ['exec', '-n', 'node-e2e', 'consumer', '--', 'cat', '/etc/creds/password']);
      expect(shortHash(catted)).toBe(want);
      const printed = kubectl(lab, ['exec', '-n', 'node-e2e', 'consumer', '--', 'printenv', 'DB_PASSWORD']);
      expect(shortHash(printed.trimEnd())).toBe(want);
    });

    it('the kubelet refuses anonymous requests; etcd refuses clients without the lab certificate', async () => {
      const kubelet = lab.connection.node ? readKubeletPort(lab) : 0;
      for (const path of ['/pods', '/metrics', '/configz', '/logs/', '/run/node-e2e/consumer/app'])
        expect((await anonymous(kubelet, path)).status, path).toBe(401);
      const etcdPort = JSON.parse(readFileSync(join(lab.runDir, 'lab.json'), 'utf8')).components.find(
        (c: { name: string }) => c.name === 'etcd',
      ).port as number;
      const etcd = await anonymous(etcdPort, '/v3/kv/range');
      expect(etcd.status, 'etcd answered without a client certificate').toBeUndefined();
      expect(etcd.error).toMatch(/certificate|alert|socket hang up|ECONNRESET/i);
    });

    it('a second local user gets nothing from etcd (it cannot even read the run directory)', async () => {
      const etcdPort = JSON.parse(readFileSync(join(lab.runDir, 'lab.json'), 'utf8')).components.find(
        (c: { name: string }) => c.name === 'etcd',
      ).port as number;
      const script = `require('https').request({host:'127.0.0.1',port:${etcdPort},path:'/v3/kv/range',method:'POST',rejectUnauthorized:false},r=>{console.log('STATUS',r.statusCode)}).on('error',e=>console.log('ERROR',e.message)).end(JSON.stringify({key:Buffer.from('/registry/secrets/node-e2e/s').toString('base64')}))`;
      const r = await runCommand(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script],
        {
          reject: false,
          timeoutMs: 20_000,
        },
      );
      expect(r.stdout).toMatch(/^ERROR /m);
      expect(r.stdout).not.toMatch(/STATUS/);
      const ls = await runCommand(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', lab.runDir],
        {
          reject: false,
        },
      );
      expect(ls.exitCode).not.toBe(0);
    });

    it('a pod whose image the lab does not have fails at once, naming the image and how to provide it', async () => {
      const r = await cli(
        ['scenario', join(import.meta.dirname, '../fixtures/scenarios/broken/missing-image.yaml')],
        {
          ...env,
        },
      );
      expect(r.exitCode, r.stderr).toBe(1);
      const all = r.stdout + r.stderr;
      expect(all).toContain('does not have busybox:1.37');
      expect(all).toContain('ctr images import');
      expect(all).not.toMatch(/ImagePullBackOff/);
    });
  },
);

function readKubeletPort(lab: StartedLocalLab): number {
  const rec = JSON.parse(readFileSync(join(lab.runDir, 'lab.json'), 'utf8')) as {
    components: { name: string; port?: number }[];
  };
  return rec.components.find((c) => c.name === 'kubelet')!.port!;
}

describe.skipIf(blocker !== undefined)('a node leaves nothing behind', () => {
  const waitFor = waitForStderr;
  const labDirs = (env: NodeJS.ProcessEnv) => {
    const d = join(env.VAULT_ESO_LAB_STATE_DIR!, 'labs');
    return existsSync(d) ? readdirSync(d).map((n) => join(d, n)) : [];
  };

  it('Ctrl-C during up, after the node started', async () => {
    const env = isolatedEnv();
    const p = cliProcess(['up', '--provider', 'local', '--node'], env);
    await waitFor(p, /kubelet ready/);
    const [runDir] = labDirs(env);
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(130);
    expect(leftovers(env, runDir!)).toEqual([]);
  });

  it('SIGKILL of the harness mid-scenario, then the next command', async () => {
    const env = isolatedEnv();
    const p = cliProcess(['scenario', 'consumers', '--node'], env);
    await waitFor(p, /consumers start with the first password/);
    const [runDir] = labDirs(env);
    noteContainers(runDir!);
    p.kill('SIGKILL');
    await p;
    expect(leftovers(env, runDir!).length).toBeGreaterThan(0);
    const down = await cli(['down', '--all'], env);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(leftovers(env, runDir!)).toEqual([]);
  });
});
