/**
 * The lab's one real node: containerd (with runc and the CNI bridge), the kubelet and kube-scheduler, started by
 * `startNode()` after the control plane, each through the lab's `launch()`.
 *
 * containerd runs as PID 1 of a private PID + mount namespace (`unshare --pid --mount --fork --kill-child`), and
 * the kubelet joins it (`nsenter`). Every mount the node makes (Secret volumes, image snapshots, network-namespace
 * files, its own tmpfs over /run, /var/log and /var/lib/cni) exists only in that namespace, and every process in it
 * (shims, pods) is killed by the kernel when containerd goes — whether it was stopped, or the harness was killed
 * and the next command stops it. What is left outside — the bridge device, empty cgroups — `cleanupNodeLeftovers()`
 * removes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LabError } from '../../../errors.ts';
import { runCommand } from '../../../process/command.ts';
import { binaryPath, componentDir } from '../../../components/cache.ts';
import { components, nodeImages } from '../../../components/versions.ts';
import { waitFor } from '../../../time.ts';
import type { LabEvent } from '../../../report/events.ts';
import type { LabRecord, RunDir } from '../../run-dir.ts';
import { httpCall } from '../../http-call.ts';
import { baseEnv } from '../component-specs.ts';
import { launch, type ComponentSpec } from '../launch.ts';
import { NODE_NAME, type LabPki } from '../pki.ts';
import {
  cniConflist,
  containerdConfigToml,
  kubeletConfigYaml,
  nodeLayout,
  podResolvConf,
  registryHostsToml,
  type NodeLayout,
} from './node-config.ts';
import { ensureNodeImageArchives } from './node-images.ts';
import { systemTool } from './node-support.ts';

const TIMEOUT_MS = { containerd: 20_000, kubelet: 60_000, scheduler: 30_000, ready: 60_000 };

/** What the rest of the lab knows about its node (recorded in lab.json's connection). */
export interface NodeInfo {
  name: string;
  kubeletPort: number;
  containerdSocket: string;
  /** The kubelet's syncFrequency: how often a pod's Secret volumes are refreshed (plus jitter). */
  syncFrequency: string;
  images: string[];
  bridge: string;
}

export interface NodeStartInput {
  run: RunDir;
  record: LabRecord;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
  pki: LabPki;
  caFile: string;
  apiserverUrl: string;
  adminToken: string;
  schedulerToken: string;
  ports: { kubelet: number; scheduler: number };
  syncFrequency: string;
  /** Called before each component starts, so the lab's cleanup stops it (in reverse). */
  onStart: (name: string) => void;
  /** Resolves once kube-controller-manager runs (its node-lifecycle controller removes the registration taint). */
  controllersReady: Promise<void>;
  /**
   * Resolves once the API server is ready (the kubelet registers, the scheduler needs its bootstrap roles) and the
   * kubelet's and scheduler's ports may be bound. containerd and the image import go ahead before it.
   */
  apiReady: Promise<void>;
}

function nodeEnv(run: RunDir, l: NodeLayout, env: NodeJS.ProcessEnv): Record<string, string> {
  const base = baseEnv(run);
  // containerd finds its shim on PATH; the shim finds runc by the configured BinaryName.
  return {
    ...base,
    PATH: `${componentDir(components.containerd, env)}:/usr/sbin:/sbin:${base.PATH}`,
  };
}

/**
 * Inside the new namespaces, before containerd: private tmpfs over the host paths the node would otherwise write
 * (containerd's shim sockets under /run/containerd, the kubelet's /var/log/containers links, libcni's result cache
 * under /var/lib/cni). /var/lib/cni is created empty on the host if missing (a mount point needs a directory).
 */
const NAMESPACE_SETUP = [
  'set -e',
  // Containers need world-readable files (their rootfs mount points, Secret volumes): the harness's umask 077
  // applies to the rest of the run dir, which stays 0700 itself.
  'umask 022',
  'mount -t tmpfs -o mode=0700,size=16m vault-eso-lab-run /run',
  'mount -t tmpfs -o mode=0700,size=64m vault-eso-lab-log /var/log',
  'mkdir -p /var/lib/cni',
  'mount -t tmpfs -o mode=0700,size=16m vault-eso-lab-cni /var/lib/cni',
  'exec "$@"',
].join('\n');

function writeNodeFiles(i: NodeStartInput, l: NodeLayout): { kubeletKubeconfig: string } {
  for (const d of [
    l.dir,
    join(l.dir, 'containerd'),
    l.containerdRoot,
    l.containerdState,
    l.runcRoot,
    join(l.dir, 'cni'),
    l.cniConfDir,
    l.cniIpamDir,
    l.kubeletRoot,
    l.kubeletCertDir,
    l.podLogsDir,
    l.registryHostsDir,
    join(l.registryHostsDir, '_default'),
  ])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  const write = (p: string, content: string) => writeFileSync(p, content, { mode: 0o600 });
  write(
    l.containerdConfig,
    containerdConfigToml({
      layout: l,
      runcBinary: binaryPath(components.runc, 'runc', i.env),
      cniBinDir: componentDir(components['cni-plugins'], i.env),
      sandboxImage: nodeImages.pause,
    }),
  );
  write(join(l.registryHostsDir, '_default', 'hosts.toml'), registryHostsToml());
  write(join(l.cniConfDir, '10-vault-eso-lab.conflist'), cniConflist(l));
  write(l.resolvConf, podResolvConf());
  const tlsCert = join(l.kubeletCertDir, 'kubelet.crt');
  const tlsKey = join(l.kubeletCertDir, 'kubelet.key');
  write(tlsCert, i.pki.kubeletServing.certPem);
  write(tlsKey, i.pki.kubeletServing.keyPem);
  write(
    l.kubeletConfig,
    kubeletConfigYaml({
      layout: l,
      port: i.ports.kubelet,
      caFile: i.caFile,
      tlsCertFile: tlsCert,
      tlsKeyFile: tlsKey,
      syncFrequency: i.syncFrequency,
    }),
  );
  const kubeletKubeconfig = join(l.dir, 'kubelet.kubeconfig');
  write(
    kubeletKubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'lab',
          cluster: {
            server: i.apiserverUrl,
            'certificate-authority-data': Buffer.from(i.pki.caCertPem).toString('base64'),
          },
        },
      ],
      users: [
        {
          name: `system:node:${NODE_NAME}`,
          user: {
            'client-certificate-data': Buffer.from(i.pki.kubeletClient.certPem).toString('base64'),
            'client-key-data': Buffer.from(i.pki.kubeletClient.keyPem).toString('base64'),
          },
        },
      ],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: `system:node:${NODE_NAME}` } }],
      'current-context': 'lab',
    }),
  );
  return { kubeletKubeconfig };
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The first child of a process (containerd under `unshare --fork`). */
export function childOf(pid: number): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) return Number(e);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

function ctr(l: NodeLayout, env: NodeJS.ProcessEnv): { file: string; base: string[] } {
  return {
    file: binaryPath(components.containerd, 'ctr', env),
    base: ['--address', l.containerdSocket, '--namespace', 'k8s.io'],
  };
}

/** The images the node's runtime holds (what pods can use: nothing is ever pulled). */
export async function nodeImageList(
  containerdSocket: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string[]> {
  const r = await runCommand(
    binaryPath(components.containerd, 'ctr', env),
    ['--address', containerdSocket, '--namespace', 'k8s.io', 'images', 'list', '--quiet'],
    { signal, timeoutMs: 10_000, extendEnv: false, env: { PATH: '/usr/bin:/bin' } },
  );
  return r.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('sha256:'));
}

async function kubeGet(i: NodeStartInput, path: string, signal: AbortSignal) {
  return httpCall(`${i.apiserverUrl}${path}`, {
    ca: i.pki.caCertPem,
    headers: { authorization: `Bearer ${i.adminToken}` },
    signal,
  });
}

interface NodeObject {
  spec?: { taints?: { key: string; effect: string }[] };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export async function startNode(i: NodeStartInput): Promise<NodeInfo> {
  const l = nodeLayout(i.run.path);
  const { kubeletKubeconfig } = writeNodeFiles(i, l);
  const env = nodeEnv(i.run, l, i.env);
  const unshare = systemTool('unshare');
  const nsenter = systemTool('nsenter');
  if (!unshare || !nsenter) throw new LabError('E_NODE', 'the node needs unshare and nsenter (util-linux)');
  const archives = ensureNodeImageArchives(i.env);

  // containerd, as PID 1 of the node's own PID + mount namespaces.
  const containerd: ComponentSpec = {
    name: 'containerd',
    version: components.containerd.version,
    file: unshare,
    args: [
      '--pid',
      '--mount',
      '--fork',
      '--kill-child',
      '--propagation',
      'private',
      '--mount-proc',
      '--',
      '/bin/sh',
      '-c',
      NAMESPACE_SETUP,
      'sh',
      binaryPath(components.containerd, 'containerd', i.env),
      '--config',
      l.containerdConfig,
      '--log-level',
      'warn',
    ],
    env,
    what: 'containerd to answer on its socket',
    timeoutMs: TIMEOUT_MS.containerd,
    probe: async () => ({ done: await socketAnswers(l.containerdSocket), seen: 'socket not answering' }),
  };
  i.onStart('containerd');
  const cd = await launch(i.run, i.record, containerd, i.signal, i.emit);

  // The images, from archives: nothing is pulled.
  const t0 = performance.now();
  i.emit({ kind: 'lab.component.starting', component: 'node-images' });
  const c = ctr(l, i.env);
  await Promise.all(
    archives.map((a) =>
      runCommand(c.file, [...c.base, 'images', 'import', '--no-unpack=false', a.archive], {
        signal: i.signal,
        timeoutMs: 60_000,
        extendEnv: false,
        env,
      }),
    ),
  );
  i.emit({ kind: 'lab.component.ready', component: 'node-images', durationMs: performance.now() - t0 });

  const nsPid = childOf(cd.pid);
  if (!nsPid) throw new LabError('E_NODE', 'containerd started but its namespace process was not found');
  await i.apiReady;

  const kubelet: ComponentSpec = {
    name: 'kubelet',
    version: components.kubernetes.version,
    // umask 022 for the Secret volumes' files (read by the containers' users); sh execs nsenter at once.
    file: '/bin/sh',
    exe: nsenter,
    args: [
      '-c',
      'umask 022; exec "$@"',
      'sh',
      nsenter,
      `--target=${nsPid}`,
      '--mount',
      '--pid',
      '--',
      binaryPath(components.kubernetes, 'kubelet', i.env),
      `--config=${l.kubeletConfig}`,
      `--kubeconfig=${kubeletKubeconfig}`,
      `--hostname-override=${NODE_NAME}`,
      // Always loopback: the kubelet then publishes no address (it refuses a loopback node IP) and the lab
      // patches InternalIP 127.0.0.1, so the API server never dials the machine's own network address.
      '--node-ip=127.0.0.1',
      `--root-dir=${l.kubeletRoot}`,
      `--cert-dir=${l.kubeletCertDir}`,
      '--v=0',
    ],
    env,
    port: i.ports.kubelet,
    what: `the kubelet to register Node ${NODE_NAME}`,
    timeoutMs: TIMEOUT_MS.kubelet,
    probe: async (s) => {
      const r = await kubeGet(i, `/api/v1/nodes/${NODE_NAME}`, s);
      return { done: r.status === 200, seen: `Node ${NODE_NAME}: HTTP ${r.status}` };
    },
  };
  // The kubelet registers and the scheduler starts at the same time: neither needs the other to be up.
  i.onStart('kubelet');
  const kubeletUp = (async () => {
    await launch(i.run, i.record, kubelet, i.signal, i.emit);
    await patchNodeAddress(i);
  })();

  const scheduler: ComponentSpec = {
    name: 'kube-scheduler',
    version: components.kubernetes.version,
    file: binaryPath(components.kubernetes, 'kube-scheduler', i.env),
    args: [
      `--kubeconfig=${i.run.file('scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${i.run.file('scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${i.run.file('scheduler.kubeconfig')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${i.ports.scheduler}`,
      `--tls-cert-file=${i.run.writePrivate('scheduler-serving.crt', i.pki.schedulerServing.certPem)}`,
      `--tls-private-key-file=${i.run.writePrivate('scheduler-serving.key', i.pki.schedulerServing.keyPem)}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=0',
    ],
    env: baseEnv(i.run),
    port: i.ports.scheduler,
    what: 'kube-scheduler /healthz',
    timeoutMs: TIMEOUT_MS.scheduler,
    probe: async (s) => {
      const r = await httpCall(`https://127.0.0.1:${i.ports.scheduler}/healthz`, {
        ca: i.pki.caCertPem,
        signal: s,
      });
      return { done: r.status === 200, seen: `healthz ${r.status}` };
    },
  };
  i.onStart('kube-scheduler');
  await Promise.all([kubeletUp, launch(i.run, i.record, scheduler, i.signal, i.emit)]);

  await i.controllersReady;
  await waitNodeSchedulable(i);
  return {
    name: NODE_NAME,
    kubeletPort: i.ports.kubelet,
    containerdSocket: l.containerdSocket,
    syncFrequency: i.syncFrequency,
    images: archives.map((a) => a.ref),
    bridge: l.bridge,
  };
}

/**
 * The kubelet publishes no address for a loopback --node-ip; give the Node `InternalIP 127.0.0.1` (and no
 * Hostname entry: the API server would prefer it and resolve it), so logs and exec reach the kubelet on loopback.
 */
async function patchNodeAddress(i: NodeStartInput): Promise<void> {
  const r = await httpCall(`${i.apiserverUrl}/api/v1/nodes/${NODE_NAME}/status`, {
    method: 'PATCH',
    ca: i.pki.caCertPem,
    headers: {
      authorization: `Bearer ${i.adminToken}`,
      'content-type': 'application/merge-patch+json',
    },
    body: JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } }),
    signal: i.signal,
  });
  if (r.status !== 200)
    throw new LabError(
      'E_NODE',
      `could not set the node's address: HTTP ${r.status} ${r.body.slice(0, 200)}`,
    );
}

/** Ready, its registration taint removed by the node-lifecycle controller, and its address still loopback. */
async function waitNodeSchedulable(i: NodeStartInput): Promise<void> {
  await waitFor(
    async () => {
      const r = await kubeGet(i, `/api/v1/nodes/${NODE_NAME}`, i.signal);
      if (r.status !== 200) return { done: false, seen: `HTTP ${r.status}` };
      const n = JSON.parse(r.body) as NodeObject;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      const taints = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
      const addresses = (n.status?.addresses ?? []).map((a) => `${a.type}=${a.address}`);
      if (ready?.status === 'True' && taints.length === 0 && addresses.join() === 'InternalIP=127.0.0.1')
        return { done: true, value: undefined };
      if (addresses.join() !== 'InternalIP=127.0.0.1') await patchNodeAddress(i);
      return {
        done: false,
        seen: `Ready=${ready?.status ?? '?'} (${ready?.reason ?? ''}: ${ready?.message ?? ''}), taints [${taints.join(', ')}], addresses [${addresses.join(', ')}]`,
      };
    },
    {
      what: `Node ${NODE_NAME} to be Ready and schedulable`,
      timeoutMs: TIMEOUT_MS.ready,
      intervalMs: 100,
      signal: i.signal,
    },
  );
}

/**
 * What a node leaves outside its namespaces once its processes are gone: the bridge device in the host's network
 * namespace and the empty cgroups of its containers. Safe to call when there is nothing (or no node) at all.
 */
export async function cleanupNodeLeftovers(runDir: string): Promise<string[]> {
  const l = nodeLayout(runDir);
  const removed: string[] = [];
  const ip = systemTool('ip');
  if (ip) {
    const show = await runCommand(ip, ['link', 'show', 'dev', l.bridge], { reject: false, timeoutMs: 5000 });
    if (show.exitCode === 0) {
      await runCommand(ip, ['link', 'delete', 'dev', l.bridge], { reject: false, timeoutMs: 5000 });
      removed.push(`bridge ${l.bridge}`);
    }
  }
  for (const dir of [...containerCgroups(l), ...cgroupParents()]) {
    try {
      rmdirSync(dir);
      removed.push(`cgroup ${dir}`);
    } catch {
      /* busy (another lab's containers), or gone */
    }
  }
  return removed;
}

/**
 * With `cgroupsPerQOS: false` and cgroupfs, containerd puts pods under `/k8s.io/<id>` in every controller; the parent
 * is removed once empty (rmdir fails while another lab's containers still use it).
 */
function cgroupParents(): string[] {
  try {
    return readdirSync('/sys/fs/cgroup')
      .map((ctl) => join('/sys/fs/cgroup', ctl, 'k8s.io'))
      .filter((p) => existsSync(p));
  } catch {
    return [];
  }
}

/** cgroup directories named after this node's containers and sandboxes (their ids are in containerd's state). */
function containerCgroups(l: NodeLayout): string[] {
  let ids: string[];
  try {
    ids = readdirSync(join(l.containerdState, 'io.containerd.runtime.v2.task', 'k8s.io'));
  } catch {
    return [];
  }
  if (ids.length === 0) return [];
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (ids.some((id) => e.name === id || e.name.endsWith(id))) found.push(p);
      else if (depth < 3) walk(p, depth + 1);
    }
  };
  for (const ctl of readdirSync('/sys/fs/cgroup')) walk(join('/sys/fs/cgroup', ctl), 0);
  // Deepest first.
  return found.sort((a, b) => b.length - a.length);
}
