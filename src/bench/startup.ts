/**
 * `bench startup`: what starting costs as a user sees it — `vault-eso-lab --help` and `vault-eso-lab up` timed
 * from exec to exit (median of N), `down` likewise, and the lab's resident memory per process once it settled.
 */
import { sleep } from '../time.ts';
import { componentTimes, timeCli } from './cli-timing.ts';
import { join } from 'node:path';
import { labsRoot } from '../paths.ts';
import { processesMarked } from '../process/command.ts';
import { rssBytes } from './proc.ts';
import { median, round } from './stats.ts';
import { LabError } from '../errors.ts';
import { ensureEtcdSeed, etcdSeedFor } from '../labs/local/etcd-seed.ts';
import { seedBuilt } from '../labs/local/etcd-seed-store.ts';

/** `up` from exec to exit, median, cached components: the speed issue's goals (≤ 4 s without a node, ≤ 5 s with). */
export const STARTUP_GOAL_MS = 4_000;
/** With the node (kubelet, containerd, scheduler, images). */
export const STARTUP_WITH_NODE_GOAL_MS = 5_000;
export const MEMORY_WITH_NODE_GOAL_MIB = 1331;
/** The node's parts of a start, reported as the node's share. */
export const NODE_PARTS = ['containerd', 'node-images', 'kubelet', 'kube-scheduler'];
export const HELP_GOAL_MS = 300;
/** The whole lab fits comfortably next to a developer's editor and browser on a small machine. */
export const MEMORY_GOAL_MIB = 1024;

interface StatusJson {
  components?: { name: string; pid?: number }[];
}

async function startupRun(env: NodeJS.ProcessEnv, signal: AbortSignal, name: string, node: boolean) {
  let downMs = NaN;
  let downExit = 0;
  const up = await timeCli(
    ['up', '--provider', 'local', '--name', name, ...(node ? [] : ['--no-node'])],
    env,
    signal,
  );
  if (up.exitCode !== 0)
    throw new LabError('E_BENCH', `bench startup: 'up' exited ${up.exitCode}`, {
      hint: up.stderr.slice(-2000),
    });
  let measured;
  try {
    // Memory once ESO has settled.
    await sleep(2000, signal);
    const status = await timeCli(['status', '--name', name, '--json'], env, signal);
    const rssMiB: Record<string, number> = {};
    const recorded = new Set<number>();
    for (const c of (JSON.parse(status.stdout) as StatusJson).components ?? [])
      if (c.pid) {
        recorded.add(c.pid);
        rssMiB[c.name] = Math.round(rssBytes(c.pid) / 2 ** 20);
      }
    // The node's other processes: containerd itself (under its namespace's unshare), shims, pods.
    const others = processesMarked(join(labsRoot(env), name)).filter((p) => !recorded.has(p));
    if (others.length)
      rssMiB['node processes (containerd, shims, pods)'] = Math.round(
        others.reduce((a, p) => a + rssBytes(p), 0) / 2 ** 20,
      );
    measured = { upMs: round(up.ms), compiled: up.compiled, components: componentTimes(up.stderr), rssMiB };
  } finally {
    const down = await timeCli(['down', '--name', name], env, signal);
    downMs = down.ms;
    downExit = down.exitCode;
  }
  if (downExit !== 0) throw new LabError('E_BENCH', `bench startup: 'down' exited ${downExit}`);
  return { ...measured, downMs: round(downMs) };
}

export async function benchStartup(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  runs: number,
  progress: (m: string) => void,
  o: { node: boolean } = { node: true },
) {
  const help: number[] = [];
  let helpCompiled = true;
  for (let i = 0; i < Math.max(5, runs); i++) {
    const h = await timeCli(['--help'], env, signal);
    help.push(h.ms);
    helpCompiled &&= h.compiled;
  }
  const helpMedian = round(median(help));
  progress(`--help: ${helpMedian} ms median (exec to exit)`);
  // "Cached components" includes the etcd seed: built here (once) rather than inside the first timed run.
  const seedBuiltBefore = seedBuilt(etcdSeedFor(env));
  const seed = await ensureEtcdSeed({
    env,
    signal,
    emit: (e) => {
      if (e.kind === 'lab.info') progress(e.message);
    },
  });
  const runsOut: Awaited<ReturnType<typeof startupRun>>[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await startupRun(env, signal, `bench-startup-${i + 1}`, o.node);
    progress(`up run ${i + 1}/${runs}: ${r.upMs} ms (exec to exit)`);
    runsOut.push(r);
  }
  const names = Object.keys(runsOut[0]?.components ?? {});
  const medianMs = round(median(runsOut.map((r) => r.upMs)));
  const procs = Object.keys(runsOut[0]?.rssMiB ?? {});
  const rssMedian = Object.fromEntries(
    procs.map((n) => [n, round(median(runsOut.map((r) => r.rssMiB[n] ?? NaN)))]),
  );
  const rssTotal = Object.values(rssMedian).reduce((a, b) => a + b, 0);
  const withNode = names.includes('kubelet');
  const goalMs = withNode ? STARTUP_WITH_NODE_GOAL_MS : STARTUP_GOAL_MS;
  const memoryGoal = withNode ? MEMORY_WITH_NODE_GOAL_MIB : MEMORY_GOAL_MIB;
  const nodeShare = runsOut.map((r) => NODE_PARTS.reduce((a, n) => a + (r.components[n] ?? 0), 0));
  return {
    benchmark: 'startup',
    description:
      "the CLI as a user runs it, timed from exec to exit: 'vault-eso-lab --help', 'up' (local provider, cached components) and 'down'",
    compiled: helpCompiled && runsOut.every((r) => r.compiled),
    help: {
      medianMs: helpMedian,
      samplesMs: help.map((x) => round(x)),
      goalMs: HELP_GOAL_MS,
      met: helpMedian <= HELP_GOAL_MS,
    },
    etcdSeed: seed ? { key: seed.key, builtByThisBench: !seedBuiltBefore } : null,
    runs: runsOut.length,
    medianMs,
    samplesMs: runsOut.map((r) => r.upMs),
    withNode,
    goalMs,
    met: medianMs <= goalMs,
    ...(withNode
      ? {
          node: {
            description:
              "the node's parts of the start (containerd, image import, kubelet registration, scheduler), summed; they run alongside the control plane's",
            shareMedianMs: round(median(nodeShare)),
          },
        }
      : {}),
    perComponentMedianMs: Object.fromEntries(
      names.map((n) => [n, round(median(runsOut.map((r) => r.components[n] ?? NaN)))]),
    ),
    down: { medianMs: round(median(runsOut.map((r) => r.downMs))), samplesMs: runsOut.map((r) => r.downMs) },
    memory: {
      description: 'resident memory (VmRSS) of each lab process 2 s after up returned, median over runs',
      perProcessMiB: rssMedian,
      totalMiB: rssTotal,
      goalTotalMiB: memoryGoal,
      met: rssTotal <= memoryGoal,
    },
  };
}
