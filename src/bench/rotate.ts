/**
 * `bench rotate`: the rotate scenario from nothing as a user runs it (`vault-eso-lab scenario rotate` on an
 * ephemeral lab, timed from exec to exit), and the Secret-change detection delay of a watch (what assertSecret uses)
 * against a 1 s poller (what many harnesses use), on the same writes.
 *
 * Detection delays are signed, measured from the moment this process got the API server's reply to the write:
 * a negative value means the watch event arrived before that reply (the server sends both at about the same time);
 * it is not clamped, so the distribution shows how close the two are.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { LabError, WaitTimeoutError } from '../errors.ts';
import { createKubeClients } from '../kube/client.ts';
import { SecretWatcher, kubeSecretWatchDeps } from '../kube/secret-watcher.ts';
import { LocalLab, ephemeralLabName, type StartedLocalLab } from '../labs/local/local-lab.ts';
import { sleep } from '../time.ts';
import { timeCli } from './cli-timing.ts';
import { median, round } from './stats.ts';

export const ROTATE_WALL_GOAL_MS = 25_000;
export const WATCH_DETECTION_GOAL_MS = 50;

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
      watchMs.push(seen.at - ack); // signed: < 0 when the event beat the HTTP reply
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

interface RotationJson {
  latencyMs?: number;
  windowMs: number;
  withinWindow?: boolean;
}

export async function benchRotate(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  progress: (m: string) => void,
  reportDir: string,
) {
  const reportFile = join(reportDir, 'bench-rotate.json');
  const cli = await timeCli(
    ['scenario', 'rotate', '--provider', 'local', '--report-json', reportFile],
    env,
    signal,
  );
  let rotations: RotationJson[] = [];
  try {
    rotations =
      (JSON.parse(readFileSync(reportFile, 'utf8')) as { rotations?: RotationJson[] }).rotations ?? [];
  } catch (e) {
    throw new LabError('E_BENCH', `bench rotate: 'scenario rotate' wrote no report (exit ${cli.exitCode})`, {
      cause: e,
      hint: cli.stderr.slice(-2000),
    });
  }
  const passed = cli.exitCode === 0;
  progress(
    `rotate scenario ${passed ? 'passed' : 'FAILED'} in ${round(cli.ms)} ms (exec to exit); measuring detection delays`,
  );
  const lab = await new LocalLab().start({ signal, emit: () => {}, env, name: ephemeralLabName() });
  let detection: { watchMs: number[]; pollMs: number[] };
  try {
    detection = await detectionDelays(lab, signal, 8);
  } finally {
    await lab.stop();
  }
  const wallMs = round(cli.ms);
  const watchMedian = round(median(detection.watchMs));
  return {
    benchmark: 'rotate',
    description:
      "'vault-eso-lab scenario rotate' from nothing (ephemeral local lab, components cached), exec to exit; and Secret-change detection: watch vs a 1 s poller",
    passed,
    compiled: cli.compiled,
    wallMs,
    rotations: rotations.map((r) => ({
      ...(r.latencyMs === undefined ? {} : { latencyMs: round(r.latencyMs) }),
      windowMs: r.windowMs,
      ...(r.withinWindow === undefined ? {} : { withinWindow: r.withinWindow }),
    })),
    goalWallMs: ROTATE_WALL_GOAL_MS,
    wallMet: wallMs <= ROTATE_WALL_GOAL_MS,
    detection: {
      reference: "this process receiving the API server's reply to the Secret write",
      signs:
        'signed milliseconds: negative = the watch event arrived before the reply to the write (both leave the server at about the same time); positive = after it',
      watch: {
        medianMs: watchMedian,
        minMs: Math.min(...detection.watchMs),
        maxMs: Math.max(...detection.watchMs),
        samplesMs: detection.watchMs,
      },
      poller1s: { medianMs: round(median(detection.pollMs)), samplesMs: detection.pollMs },
      goalMs: WATCH_DETECTION_GOAL_MS,
      met: watchMedian <= WATCH_DETECTION_GOAL_MS,
    },
  };
}
