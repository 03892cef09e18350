/**
 * A harness in a process of its own, so its CPU and memory can be told apart from everything else `bench scale`
 * runs: it observes N Secrets (`s0`…`s<N-1>` in one namespace) and reports when each first changed.
 *
 *   mode `watch`: one list, then one watch on the namespace's Secrets (what assertSecret does, for many objects),
 *                 over a connection of its own that is read at most every `--resolution-ms` (kube/watch-socket.ts:
 *                 a burst of events costs one wake-up per interval; each change is stamped when read, so a latency
 *                 from it is an upper bound, late by at most the resolution), each event read for its name,
 *                 resourceVersion and data without a full JSON parse (secret-event.ts);
 *   mode `poll`:  one GET per object per second, Chainsaw/KUTTL-style.
 *
 * Protocol (stdout, one JSON object a line): `{"ready":true}` once every Secret's current state is known (the
 * parent rotates only then); at the end `{"changedAt":{name:ms},"cpuSeconds","rssBytes","requests","events",
 * "wakes","cpuByThread":{main,others},"gc":{kind:{count,ms}}}`, CPU, reads and collections counted from ready to
 * the end. The API server's endpoint (server, TLS material, headers: credentials) comes as one JSON line on stdin,
 * never in argv; this process loads no client-node (29 MiB of heap, see watch-stream.ts), and the poller's GETs
 * share one keep-alive agent. It ends when all N changed, or `--settle-ms` after the first change, or at
 * `--timeout-ms`. Values never leave this process: it compares the Secrets' base64 data with what it saw first.
 */
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import type { V1Secret, V1SecretList } from '@kubernetes/client-node';
import { watchSocket, type SocketWatch } from '../kube/watch-socket.ts';
import { endpointTarget, getJson, type ApiEndpoint } from '../kube/watch-stream.ts';
import { threadCpuSeconds, threadCpuSince } from './proc.ts';
import { dataFingerprint as fingerprint, readSecretEvent, type SecretEvent } from './secret-event.ts';

interface Args {
  mode: 'watch' | 'poll';
  namespace: string;
  count: number;
  settleMs: number;
  timeoutMs: number;
  resolutionMs: number;
}

function parse(argv: string[]): Args {
  const get = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const mode = get('mode');
  if (mode !== 'watch' && mode !== 'poll') throw new Error('--mode watch|poll');
  return {
    mode,
    namespace: get('namespace') ?? '',
    count: Number(get('count')),
    settleMs: Number(get('settle-ms') ?? 30_000),
    timeoutMs: Number(get('timeout-ms') ?? 600_000),
    resolutionMs: Number(get('resolution-ms') ?? 0),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readEndpoint(): Promise<ApiEndpoint> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return JSON.parse(text) as ApiEndpoint;
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const endpoint = await readEndpoint();
  const target = endpointTarget(endpoint);
  const ns = encodeURIComponent(a.namespace);
  const readSecret = (name: string) =>
    getJson(target, `/api/v1/namespaces/${ns}/secrets/${encodeURIComponent(name)}`) as Promise<V1Secret>;
  const names = Array.from({ length: a.count }, (_, i) => `s${i}`);
  const initial = new Map<string, string>();
  const changedAt: Record<string, number> = {};
  let requests = 0;
  /** Watch events received (every Secret event, bookmarks included); polls count as requests. */
  let events = 0;
  /** Socket reads that woke the watch (watch-socket.ts counts them), over the watches so far and the current one. */
  let pastReads = 0;
  let current: SocketWatch | undefined;
  const reads = () => pastReads + (current?.reads() ?? 0);
  let firstChange = 0;
  let stopping = false;
  const started = Date.now();
  // The end comes from events and two timers, never from a polling loop: an idle wake-up every 50 ms cost this
  // process more CPU than the watch itself (0.06 s per 15 s here).
  let changed = 0;
  let finish = (): void => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let ended = false;
  /** Why the watch could not go on (an ERROR event, a failed watch): the harness then fails, saying so. */
  let failure: string | undefined;
  const end = (): void => {
    ended = true;
    finish();
  };
  const timeout = setTimeout(end, Math.max(0, a.timeoutMs - (Date.now() - started)));
  let settle: ReturnType<typeof setTimeout> | undefined;
  /** A Secret's data as `fingerprint` gives it, seen at `at`. */
  const seen = (name: string, data: string, at: number) => {
    if (!initial.has(name) || changedAt[name] !== undefined) return;
    if (data !== initial.get(name)) {
      changedAt[name] = at;
      changed += 1;
      if (!firstChange) {
        firstChange = at;
        settle = setTimeout(end, a.settleMs);
      }
      if (changed >= a.count) end();
    }
  };
  const done = () => ended;

  let cpu0 = process.cpuUsage();
  let abortWatch: (() => void) | undefined;
  if (a.mode === 'watch') {
    const list = (await getJson(target, `/api/v1/namespaces/${ns}/secrets`)) as V1SecretList;
    requests += 1;
    for (const s of list.items) if (s.metadata?.name) initial.set(s.metadata.name, fingerprint(s));
    let rv = list.metadata?.resourceVersion ?? '';
    const watch = watchSocket(endpoint, {
      coalesceMs: a.resolutionMs,
      decode: (line) => {
        const e = readSecretEvent(line);
        return { type: e.type, object: e };
      },
    });
    const start = async (): Promise<void> => {
      requests += 1;
      const req = await watch(
        `/api/v1/namespaces/${ns}/secrets`,
        { resourceVersion: rv, allowWatchBookmarks: true },
        (type, o) => {
          const at = Date.now();
          const e = o as SecretEvent;
          events += 1;
          if (e.resourceVersion) rv = e.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED') seen(e.name, e.data, at);
          // An ERROR (410 Gone: the resourceVersion expired) would need a relist, which a measurement cannot
          // make without missing changes: the run fails instead of resuming into the same error.
          else if (type === 'ERROR') {
            failure ??= `the watch got an ERROR event at resourceVersion ${rv}`;
            end();
          }
        },
        (err) => {
          pastReads += current?.reads() ?? 0;
          current = undefined;
          if (stopping || ended) return;
          if (err) {
            failure ??= `the watch failed: ${err instanceof Error ? err.message : String(err)}`;
            end();
            return;
          }
          // A watch ends on its own (server timeout): resume from the last resourceVersion.
          void start();
        },
      );
      current = req;
      abortWatch = () => req.abort();
    };
    await start();
  } else {
    for (const name of names) {
      const s = await readSecret(name);
      requests += 1;
      initial.set(name, fingerprint(s));
    }
  }
  for (const name of names)
    if (!initial.has(name)) throw new Error(`Secret ${a.namespace}/${name} does not exist`);
  // The list's garbage (N Secrets, read before ready) is collected now, not in the middle of the rotation it does
  // not belong to; the parent starts this process with --expose-gc.
  (globalThis as { gc?: () => void }).gc?.();
  cpu0 = process.cpuUsage();
  const threads0 = threadCpuSeconds();
  const reads0 = reads();
  /** Garbage collections from ready to the end: how many and how long, by kind. */
  const gc: Record<string, { count: number; ms: number }> = {};
  const kinds: Record<number, string> = {
    [perf.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [perf.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[(e as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const g = (gc[kind] ??= { count: 0, ms: 0 });
      g.count += 1;
      g.ms = Math.round((g.ms + e.duration) * 100) / 100;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

  if (a.mode === 'poll') {
    // One GET per object per second, each object on its own phase within the second.
    await Promise.all(
      names.map(async (name, i) => {
        await sleep((i / names.length) * 1000);
        while (!done() && changedAt[name] === undefined) {
          const t = Date.now();
          try {
            const s = await readSecret(name);
            seen(name, fingerprint(s), Date.now());
          } catch {
            /* keep polling */
          }
          requests += 1;
          await sleep(Math.max(0, 1000 - (Date.now() - t)));
        }
      }),
    );
  }
  await finished;
  clearTimeout(timeout);
  clearTimeout(settle);
  stopping = true;
  abortWatch?.();
  if (failure) throw new Error(failure);
  const cpu = process.cpuUsage(cpu0);
  gcObserver.disconnect();
  process.stdout.write(
    `${JSON.stringify({
      changedAt,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage().rss,
      requests,
      events,
      wakes: reads() - reads0,
      cpuByThread: threadCpuSince(threads0),
      gc,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`observer: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
