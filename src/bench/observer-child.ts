/**
 * A harness in a process of its own, so its CPU and memory can be told apart from everything else `bench scale`
 * runs: it observes N Secrets (`s0`…`s<N-1>` in one namespace) and reports when each first changed.
 *
 *   mode `watch`: one list, then one watch on the namespace's Secrets (what assertSecret does, for many objects),
 *                 over a connection of its own that is read at most every `--resolution-ms` (kube/watch-socket.ts:
 *                 a burst of events costs one wake-up per interval; each change is stamped when read, so a latency
 *                 from it is an upper bound, late by at most the resolution);
 *   mode `poll`:  one GET per object per second, Chainsaw/KUTTL-style.
 *
 * Protocol (stdout, one JSON object a line): `{"ready":true}` once every Secret's current state is known (the
 * parent rotates only then); at the end `{"changedAt":{name:ms},"cpuSeconds":…,"rssBytes":…,"requests":…,"events":…,"wakes":…}` with
 * CPU counted from ready to the end. The API server's endpoint (server, TLS material, headers: credentials) comes as
 * one JSON line on stdin, never in argv; this process loads no client-node (29 MiB of heap, see watch-stream.ts),
 * and both modes share one keep-alive agent. It ends when all N changed, or `--settle-ms` after the first change, or at
 * `--timeout-ms`. Values never leave this process: it compares the Secrets' base64 data with what it saw first.
 */
import type { V1Secret, V1SecretList } from '@kubernetes/client-node';
import { watchSocket } from '../kube/watch-socket.ts';
import { endpointTarget, getJson, type ApiEndpoint } from '../kube/watch-stream.ts';

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

const fingerprint = (s: V1Secret | undefined) => JSON.stringify(s?.data ?? null);
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
  /** Event-loop turns in which the watch delivered events: how often this process was woken for them. */
  let wakes = 0;
  let inTurn = false;
  let firstChange = 0;
  let stopping = false;
  const started = Date.now();
  // The end comes from events and two timers, never from a polling loop: an idle wake-up every 50 ms cost this
  // process more CPU than the watch itself (0.06 s per 15 s here).
  let changed = 0;
  let finish = (): void => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let ended = false;
  const end = (): void => {
    ended = true;
    finish();
  };
  const timeout = setTimeout(end, Math.max(0, a.timeoutMs - (Date.now() - started)));
  let settle: ReturnType<typeof setTimeout> | undefined;
  const seen = (name: string, s: V1Secret | undefined, at: number) => {
    if (!initial.has(name) || changedAt[name] !== undefined) return;
    if (fingerprint(s) !== initial.get(name)) {
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
    const watch = watchSocket(endpoint, { coalesceMs: a.resolutionMs });
    const start = async (): Promise<void> => {
      requests += 1;
      const req = await watch(
        `/api/v1/namespaces/${ns}/secrets`,
        { resourceVersion: rv, allowWatchBookmarks: true },
        (type, o) => {
          const at = Date.now();
          const obj = o as V1Secret;
          events += 1;
          if (!inTurn) {
            inTurn = true;
            wakes += 1;
            setImmediate(() => (inTurn = false));
          }
          rv = obj.metadata?.resourceVersion ?? rv;
          if (type === 'ADDED' || type === 'MODIFIED') seen(obj.metadata?.name ?? '', obj, at);
        },
        () => {
          // A watch ends on its own (server timeout): resume from the last resourceVersion.
          if (!stopping) void start();
        },
      );
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
            seen(name, s, Date.now());
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
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({
      changedAt,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage().rss,
      requests,
      events,
      wakes,
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
