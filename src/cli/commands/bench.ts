/**
 * `bench startup` and `bench rotate`: the speed targets, measured on the real local lab, printed as JSON.
 * Timing goals live here, not in tests.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, UsageError, WaitTimeoutError } from '../../errors.ts';
import { ensureComponents } from '../../components/build.ts';
import { LocalLab, ephemeralLabName, type StartedLocalLab } from '../../labs/local/local-lab.ts';
import { labProgress } from '../../report/lab-progress.ts';
import type { LabEvent, RunEvent } from '../../report/events.ts';
import { loadScenario } from '../../scenario/loader.ts';
import { operations } from '../../scenario/operations/index.ts';
import { createRuntime } from '../../scenario/runtime.ts';
import { runScenario } from '../../scenario/runner.ts';
import { builtinValues } from '../../scenario/template.ts';
import { createKubeClients } from '../../kube/client.ts';
import { SecretWatcher, kubeSecretWatchDeps } from '../../kube/secret-watcher.ts';
import { sleep } from '../../time.ts';
import { stringOption, type Command } from '../command.ts';
import { parseVaultServer, vaultServer, type VaultServerName } from '../../labs/vault-server.ts';
import { vaultServerOption } from './lab-commands.ts';
import { scenariosDir } from './scenario.ts';

export const STARTUP_GOAL_MS = 8_000;
export const ROTATE_WALL_GOAL_MS = 25_000;
export const WATCH_DETECTION_GOAL_MS = 50;
/** The whole lab fits comfortably next to a developer's editor and browser on a small machine. */
export const MEMORY_GOAL_MIB = 1024;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (n: number) => Math.round(n);

/** An isolated state dir, so a benchmark never touches the user's running lab. */
function benchEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vel-bench-'));
  return {
    env: { ...env, VAULT_ESO_LAB_STATE_DIR: dir },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function startupRun(env: NodeJS.ProcessEnv, signal: AbortSignal, server: VaultServerName) {
  const events: LabEvent[] = [];
  const t0 = performance.now();
  const lab = await new LocalLab().start({
    signal,
    emit: (e) => events.push(e),
    env,
    name: ephemeralLabName(),
    vaultServer: server,
  });
  const totalMs = performance.now() - t0;
  // Memory right after ready, then again once ESO has settled.
  await sleep(2000, signal);
  const rssMiB: Record<string, number> = {};
  for (const c of await lab.status(signal)) if (c.pid) rssMiB[c.name] = Math.round(rssBytes(c.pid) / 2 ** 20);
  await lab.stop();
  const components: Record<string, number> = {};
  for (const e of events) if (e.kind === 'lab.component.ready') components[e.component] = round(e.durationMs);
  return { totalMs: round(totalMs), components, rssMiB };
}

/** Resident memory of a process (VmRSS), 0 when unreadable. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function benchStartup(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  runs: number,
  progress: (m: string) => void,
  server: VaultServerName,
) {
  const runsOut: { totalMs: number; components: Record<string, number>; rssMiB: Record<string, number> }[] =
    [];
  for (let i = 0; i < runs; i++) {
    const r = await startupRun(env, signal, server);
    progress(`startup run ${i + 1}/${runs}: ${r.totalMs} ms`);
    runsOut.push(r);
  }
  const names = Object.keys(runsOut[0]?.components ?? {});
  const medianMs = round(median(runsOut.map((r) => r.totalMs)));
  const procs = Object.keys(runsOut[0]?.rssMiB ?? {});
  const rssMedian = Object.fromEntries(
    procs.map((n) => [n, round(median(runsOut.map((r) => r.rssMiB[n] ?? NaN)))]),
  );
  const rssTotal = Object.values(rssMedian).reduce((a, b) => a + b, 0);
  return {
    benchmark: 'startup',
    description: 'time from up to all-ready with cached binaries (local provider)',
    vaultServer: server,
    runs: runsOut.length,
    medianMs,
    perComponentMedianMs: Object.fromEntries(
      names.map((n) => [n, round(median(runsOut.map((r) => r.components[n] ?? NaN)))]),
    ),
    samplesMs: runsOut.map((r) => r.totalMs),
    goalMs: STARTUP_GOAL_MS,
    met: medianMs <= STARTUP_GOAL_MS,
    memory: {
      description: 'resident memory (VmRSS) of each lab process 2 s after ready, median over runs',
      perProcessMiB: rssMedian,
      totalMiB: rssTotal,
      goalTotalMiB: MEMORY_GOAL_MIB,
      met: rssTotal <= MEMORY_GOAL_MIB,
    },
  };
}

/**
 * Detection delay after a Secret is written: the watch (what assertSecret uses) against a 1 s poller (what many
 * harnesses use), on the same writes. The write's acknowledgement by the API server is the reference.
 */
async function detectionDelays(lab: StartedLocalLab, signal: AbortSignal, samples: number) {
  const kube = createKubeClients(lab.connection.kubeconfigPath, lab.connection.context);
  const ns = 'bench-detection';
  await kube.core.createNamespace({ body: { metadata: { name: ns } } });
  await kube.core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 's' }, stringData: { n: '0' } },
  });
  const watcher = new SecretWatcher(ns, 's', kubeSecretWatchDeps(kube), signal);
  await watcher.start();
  const polled: { at: number; n: string }[] = [];
  const pollCtl = new AbortController();
  const poller = (async () => {
    while (!pollCtl.signal.aborted) {
      try {
        const s = await kube.core.readNamespacedSecret({ name: 's', namespace: ns });
        polled.push({ at: Date.now(), n: Buffer.from(s.data?.n ?? '', 'base64').toString() });
      } catch {
        /* keep polling */
      }
      await sleep(1000, pollCtl.signal).catch(() => undefined);
    }
  })();
  const watchMs: number[] = [];
  const pollMs: number[] = [];
  try {
    for (let i = 1; i <= samples; i++) {
      await sleep(700 + Math.random() * 600, signal); // desynchronise from the poller's phase
      const value = String(i);
      await kube.core.replaceNamespacedSecret({
        name: 's',
        namespace: ns,
        body: { metadata: { name: 's' }, stringData: { n: value } },
      });
      const ack = Date.now();
      const seen = await watcher.waitFor((e) => e.data.n === value, { timeoutMs: 10_000, signal });
      if (!seen) throw new WaitTimeoutError(`the watch to see Secret ${ns}/s change`, 10_000);
      watchMs.push(Math.max(0, seen.at - ack));
      const deadline = Date.now() + 3000;
      while (!polled.some((p) => p.n === value && p.at >= ack) && Date.now() < deadline)
        await sleep(20, signal);
      const p = polled.find((x) => x.n === value && x.at >= ack);
      if (p) pollMs.push(p.at - ack);
    }
  } finally {
    pollCtl.abort();
    await poller;
    await watcher.stop();
    await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
  return { watchMs, pollMs };
}

async function benchRotate(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  progress: (m: string) => void,
  server: VaultServerName,
) {
  const scenario = await loadScenario(join(scenariosDir, 'rotate.yaml'), operations);
  const t0 = performance.now();
  const lab = await new LocalLab().start({
    signal,
    emit: () => {},
    env,
    name: ephemeralLabName(),
    vaultServer: server,
  });
  const labReadyMs = performance.now() - t0;
  let detection: { watchMs: number[]; pollMs: number[] };
  const rotations: { latencyMs?: number; windowMs: number }[] = [];
  let passed = false;
  let scenarioMs = 0;
  let stopMs = 0;
  try {
    const runtime = createRuntime(lab, signal);
    const t1 = performance.now();
    try {
      const report = await runScenario(scenario, {
        handlers: operations,
        runtime,
        provider: 'local',
        vars: builtinValues(lab.connection),
        emit: (e: RunEvent) => {
          if (e.kind === 'rotation') rotations.push({ latencyMs: e.latencyMs, windowMs: e.windowMs });
        },
        signal,
      });
      passed = report.passed;
    } finally {
      await runtime.close();
    }
    scenarioMs = performance.now() - t1;
    progress(
      `rotate scenario ${passed ? 'passed' : 'FAILED'} in ${round(scenarioMs)} ms; measuring detection delays`,
    );
    detection = await detectionDelays(lab, signal, 8);
  } finally {
    const t2 = performance.now();
    await lab.stop();
    stopMs = performance.now() - t2;
  }
  // From nothing to nothing: lab start + scenario + lab stop (the detection probe is not part of it).
  const wallMs = round(labReadyMs + scenarioMs + stopMs);
  const watchMedian = round(median(detection.watchMs));
  return {
    benchmark: 'rotate',
    description:
      'rotate scenario from nothing (components cached), and Secret-change detection: watch vs a 1 s poller',
    vaultServer: server,
    passed,
    wallMs,
    labStartMs: round(labReadyMs),
    scenarioMs: round(scenarioMs),
    labStopMs: round(stopMs),
    rotations,
    goalWallMs: ROTATE_WALL_GOAL_MS,
    wallMet: wallMs <= ROTATE_WALL_GOAL_MS,
    detection: {
      reference: 'API server acknowledgement of the Secret write',
      watch: { medianMs: watchMedian, samplesMs: detection.watchMs },
      poller1s: { medianMs: round(median(detection.pollMs)), samplesMs: detection.pollMs },
      goalMs: WATCH_DETECTION_GOAL_MS,
      met: watchMedian <= WATCH_DETECTION_GOAL_MS,
    },
  };
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure startup and rotation latency on the local lab (JSON output)',
  usage: 'bench <startup|rotate> [--runs N] [--vault-server openbao|hashicorp] [--json]',
  details: `startup: median of N (default 5) local lab starts with cached components; goal <= ${STARTUP_GOAL_MS} ms;
  and the lab's resident memory per process; goal <= ${MEMORY_GOAL_MIB} MiB in all.
rotate: the rotate scenario from nothing (goal <= ${ROTATE_WALL_GOAL_MS} ms) and the watch's detection delay vs a 1 s poller (goal <= ${WATCH_DETECTION_GOAL_MS} ms).`,
  options: {
    runs: { type: 'string', description: 'startup: number of runs (default 5)', valueName: 'n' },
    ...vaultServerOption,
  },
  allowPositionals: true,
  async run({ positionals, values, out, env, signal }) {
    const which = positionals[0];
    if (which !== 'startup' && which !== 'rotate')
      throw new UsageError("bench: name a benchmark: 'startup' or 'rotate'");
    const runs = Number(stringOption(values, 'runs') ?? 5);
    if (!Number.isInteger(runs) || runs < 1 || runs > 50)
      throw new UsageError('--runs takes a whole number from 1 to 50');
    const server = parseVaultServer(stringOption(values, 'vault-server')) ?? 'openbao';
    await ensureComponents({ signal, emit: labProgress(out), env });
    await ensureComponents({ signal, emit: labProgress(out), env, only: [vaultServer(server).component] });
    const b = benchEnv(env);
    try {
      const result =
        which === 'startup'
          ? await benchStartup(b.env, signal, runs, out.info, server)
          : await benchRotate(b.env, signal, out.info, server);
      out.result(JSON.stringify(result, null, 2));
      return ExitCode.passed;
    } finally {
      b.dispose();
    }
  },
};
