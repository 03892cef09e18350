/**
 * Can this machine run the lab's node? A node needs Linux, root (containerd, runc and the kubelet mount, create
 * namespaces and cgroups), cgroups, util-linux's `unshare`/`nsenter`/`mount`, the built node components, and a
 * runc that starts (it links libseccomp). The decision is a pure function of gathered facts, so every message is
 * unit-tested; `--node` forces a node (exit 3 with the reason when it cannot run), `--no-node` never starts one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { binaryPath } from '../../../components/cache.ts';
import { components, nodeComponents } from '../../../components/versions.ts';
import { stateRoot } from '../../../paths.ts';

export type NodeChoice = 'auto' | 'on' | 'off';

export interface NodeFacts {
  platform: string;
  uid: number;
  /** cgroup v1 controllers mounted under /sys/fs/cgroup, or 'unified' for cgroup v2. */
  cgroups: { v2: boolean; v1Controllers: string[] };
  tools: Record<'unshare' | 'nsenter' | 'mount' | 'ip', boolean>;
  /** Components (or their binaries) not in the cache. */
  missing: string[];
  /** `runc --version` ran (it links libseccomp.so.2 dynamically). */
  runcRuns: boolean | undefined;
  runcError?: string;
  /** The lab state dir lies under /run, which the node replaces with its own tmpfs. */
  stateUnderRun: boolean;
}

export interface NodeDecision {
  run: boolean;
  /** Why not (or, when it runs, what it is). */
  reason: string;
}

const REQUIRED_V1 = ['cpu', 'memory', 'pids', 'devices', 'freezer'];

/** Why this machine cannot run a node, or undefined when it can. */
export function nodeBlocker(f: NodeFacts): string | undefined {
  if (f.platform !== 'linux') return `the node needs Linux (this is ${f.platform})`;
  if (f.uid !== 0)
    return `the node needs root (uid ${f.uid}): containerd, runc and the kubelet create namespaces, mounts and cgroups`;
  if (!f.cgroups.v2) {
    const missing = REQUIRED_V1.filter((c) => !f.cgroups.v1Controllers.includes(c));
    if (f.cgroups.v1Controllers.length === 0) return 'no cgroup hierarchy is mounted under /sys/fs/cgroup';
    if (missing.length) return `cgroup v1 controllers missing under /sys/fs/cgroup: ${missing.join(', ')}`;
  }
  const tools = (Object.keys(f.tools) as (keyof NodeFacts['tools'])[]).filter((t) => !f.tools[t]);
  if (tools.length) return `missing tools: ${tools.join(', ')} (Debian: apt-get install util-linux iproute2)`;
  if (f.missing.length)
    return `node components not built: ${f.missing.join(', ')} (run: vault-eso-lab build ${f.missing.join(' ')})`;
  if (f.runcRuns === false)
    return `runc does not start${f.runcError ? ` (${f.runcError})` : ''}: it needs libseccomp.so.2 (Debian: apt-get install libseccomp2)`;
  if (f.stateUnderRun) return 'the lab state dir is under /run, which the node replaces with its own tmpfs';
  return undefined;
}

export function decideNode(f: NodeFacts, choice: NodeChoice): NodeDecision {
  if (choice === 'off') return { run: false, reason: 'no node (--no-node)' };
  const blocker = nodeBlocker(f);
  if (blocker) return { run: false, reason: `no node: ${blocker}` };
  return {
    run: true,
    reason: 'a node: kubelet + kube-scheduler, containerd + runc, CNI bridge (pods run here)',
  };
}

function cgroupFacts(): NodeFacts['cgroups'] {
  try {
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
    const v2 = mounts.some((l) => l.split(' ')[1] === '/sys/fs/cgroup' && l.split(' ')[2] === 'cgroup2');
    const v1Controllers = mounts
      .filter((l) => l.split(' ')[2] === 'cgroup')
      .flatMap((l) => (l.split(' ')[3] ?? '').split(','))
      .filter((o) => REQUIRED_V1.includes(o) || ['cpuacct', 'cpuset', 'blkio', 'hugetlb'].includes(o));
    return { v2, v1Controllers: [...new Set(v1Controllers)] };
  } catch {
    return { v2: false, v1Controllers: [] };
  }
}

const TOOL_PATHS = {
  unshare: ['/usr/bin/unshare', '/bin/unshare'],
  nsenter: ['/usr/bin/nsenter', '/bin/nsenter'],
  mount: ['/usr/bin/mount', '/bin/mount'],
  ip: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'],
} as const;

/** Absolute path of a system tool the node uses (undefined when missing). */
export function systemTool(name: keyof typeof TOOL_PATHS): string | undefined {
  return TOOL_PATHS[name].find((p) => existsSync(p));
}

export function gatherNodeFacts(env: NodeJS.ProcessEnv = process.env): NodeFacts {
  const missing = nodeComponents
    .map((n) => components[n])
    .filter((pin) => pin.binaries.some((b) => !existsSync(binaryPath(pin, b.name, env))))
    .map((pin) => pin.name);
  const k8s = components.kubernetes;
  for (const b of ['kubelet', 'kube-scheduler'])
    if (!existsSync(binaryPath(k8s, b, env)) && !missing.includes('kubernetes')) missing.push('kubernetes');
  let runcRuns: boolean | undefined;
  let runcError: string | undefined;
  const runc = binaryPath(components.runc, 'runc', env);
  if (existsSync(runc)) {
    try {
      execFileSync(runc, ['--version'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
      runcRuns = true;
    } catch (e) {
      runcRuns = false;
      runcError = String((e as { stderr?: Buffer }).stderr ?? e)
        .trim()
        .split('\n')[0];
    }
  }
  const root = stateRoot(env);
  return {
    platform: process.platform,
    uid: typeof process.getuid === 'function' ? process.getuid() : -1,
    cgroups: cgroupFacts(),
    tools: {
      unshare: !!systemTool('unshare'),
      nsenter: !!systemTool('nsenter'),
      mount: !!systemTool('mount'),
      ip: !!systemTool('ip'),
    },
    missing,
    runcRuns,
    ...(runcError ? { runcError } : {}),
    stateUnderRun: root === '/run' || root.startsWith('/run/') || root.startsWith('/var/run/'),
  };
}
