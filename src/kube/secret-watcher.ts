/**
 * A real Kubernetes watch on one Secret. Every event is timestamped on arrival and kept in a history, so an
 * assertion can ask "when did the new value first arrive?" after the fact. Watches end on their own (server
 * timeouts, dropped connections): the watcher resumes from the last resourceVersion it saw, relists on 410 Gone,
 * and stops when its AbortSignal fires.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { formatMasked, secrets } from '../secrets/secret-registry.ts';
import { abortError, errorMessage } from '../errors.ts';
import { systemClock, type Clock } from '../time.ts';
import { statusOf, type KubeClients } from './client.ts';
import { watchStream, type WatchFn } from './watch-stream.ts';

export type { WatchFn };

export type SecretEventType = 'LISTED' | 'ADDED' | 'MODIFIED' | 'DELETED';

export interface SecretEvent {
  /** `LISTED` = state found by a (re)list rather than a watch event; its `at` is an upper bound. */
  type: SecretEventType;
  /** Arrival time (ms since epoch) of the event at this process. */
  at: number;
  resourceVersion: string;
  exists: boolean;
  /** Decoded values (registered as secrets); empty when the Secret does not exist. */
  data: Record<string, string>;
  /** Owner references' kinds/names, for diagnosis. */
  owners: string[];
}

/** Result of listing one Secret by name: its state and the collection's resourceVersion to watch from. */
export interface SecretListResult {
  resourceVersion: string;
  secret: V1Secret | undefined;
}

export type SecretListFn = (
  namespace: string,
  name: string,
  signal: AbortSignal,
) => Promise<SecretListResult>;

export interface SecretWatcherDeps {
  list: SecretListFn;
  watch: WatchFn;
  clock?: Clock;
  /** Server-side watch timeout; the watcher resumes afterwards. */
  watchTimeoutSeconds?: number;
  /** Backoff after a failed watch/list: doubles from `minBackoffMs` up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  historyLimit?: number;
}

export interface WatcherStats {
  watchesStarted: number;
  resumes: number;
  relists: number;
  errors: number;
  lastError?: string;
}

export function decodeSecretData(secret: V1Secret | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret?.data ?? {})) {
    const value = Buffer.from(v, 'base64').toString('utf8');
    secrets.add(value);
    out[k] = value;
  }
  return out;
}

export class SecretWatcher {
  readonly namespace: string;
  readonly name: string;
  readonly stats: WatcherStats = { watchesStarted: 0, resumes: 0, relists: 0, errors: 0 };
  private readonly deps: Required<Omit<SecretWatcherDeps, 'clock'>> & { clock: Clock };
  private readonly events: SecretEvent[] = [];
  private readonly listeners = new Set<(e: SecretEvent) => void>();
  private readonly controller = new AbortController();
  private resourceVersion = '';
  private started: Promise<void> | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(namespace: string, name: string, deps: SecretWatcherDeps, signal?: AbortSignal) {
    this.namespace = namespace;
    this.name = name;
    this.deps = {
      clock: deps.clock ?? systemClock,
      list: deps.list,
      watch: deps.watch,
      watchTimeoutSeconds: deps.watchTimeoutSeconds ?? 300,
      minBackoffMs: deps.minBackoffMs ?? 250,
      maxBackoffMs: deps.maxBackoffMs ?? 5_000,
      historyLimit: deps.historyLimit ?? 2_000,
    };
    if (signal) {
      if (signal.aborted) this.controller.abort(signal.reason);
      else signal.addEventListener('abort', () => this.controller.abort(signal.reason), { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Every event seen, oldest first. */
  get history(): readonly SecretEvent[] {
    return this.events;
  }

  latest(): SecretEvent | undefined {
    return this.events.at(-1);
  }

  /** The last resourceVersion seen (list or watch event or bookmark). */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /**
   * List once (so the current state is in the history and the watch has a starting point), then keep watching in
   * the background. Resolves after the first list: anything written afterwards will be seen as a watch event.
   */
  start(): Promise<void> {
    this.started ??= this.relist().then(() => {
      this.loopDone = this.loop().catch((e: unknown) => {
        if (!this.signal.aborted) this.noteError(e);
      });
    });
    return this.started;
  }

  async stop(): Promise<void> {
    this.controller.abort(new Error('watcher stopped'));
    await this.loopDone;
  }

  subscribe(fn: (e: SecretEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * First event in the history (then in the future) matching `predicate`. Resolves undefined when `timeoutMs`
   * elapses; throws AbortedError when `signal` aborts.
   */
  waitFor(
    predicate: (e: SecretEvent) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<SecretEvent | undefined> {
    const found = this.events.find(predicate);
    if (found) return Promise.resolve(found);
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    return new Promise((resolve, reject) => {
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = (): void => finish(() => reject(abortError(options.signal as AbortSignal)));
      const unsubscribe = this.subscribe((e) => {
        if (predicate(e)) finish(() => resolve(e));
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // A timer can fire a millisecond before Date.now() reaches the deadline; re-arm for
      // the remainder so "nothing happened for timeoutMs" holds by the wall clock events use.
      const deadline = Date.now() + Math.max(0, options.timeoutMs);
      const arm = (): ReturnType<typeof setTimeout> =>
        setTimeout(() => {
          if (Date.now() < deadline) timer = arm();
          else finish(() => resolve(undefined));
        }, deadline - Date.now());
      let timer = arm();
    });
  }

  /** One line for evidence: what was last seen, never values. */
  describeLatest(): string {
    const e = this.latest();
    if (!e) return `Secret ${this.namespace}/${this.name}: nothing seen yet`;
    const when = new Date(e.at).toISOString();
    if (!e.exists) return `Secret ${this.namespace}/${this.name}: absent (${e.type} at ${when})`;
    return `Secret ${this.namespace}/${this.name}: ${formatMasked(e.data)} (${e.type} at ${when}, rv ${e.resourceVersion})`;
  }

  describeStats(): string {
    const s = this.stats;
    return `watcher ${this.namespace}/${this.name}: ${this.events.length} events, ${s.watchesStarted} watches, ${s.resumes} resumes, ${s.relists} relists, ${s.errors} errors${s.lastError ? ` (last: ${s.lastError})` : ''}`;
  }

  private record(type: SecretEventType, secret: V1Secret | undefined, exists: boolean): void {
    const rv = secret?.metadata?.resourceVersion ?? this.resourceVersion;
    const event: SecretEvent = {
      type,
      at: this.deps.clock.now(),
      resourceVersion: rv,
      exists,
      data: exists ? decodeSecretData(secret) : {},
      owners: (secret?.metadata?.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}`),
    };
    this.events.push(event);
    if (this.events.length > this.deps.historyLimit)
      this.events.splice(0, this.events.length - this.deps.historyLimit);
    for (const l of [...this.listeners]) l(event);
  }

  private async relist(): Promise<void> {
    const r = await this.deps.list(this.namespace, this.name, this.signal);
    this.stats.relists++;
    this.resourceVersion = r.resourceVersion;
    const prev = this.latest();
    const exists = r.secret !== undefined;
    const data = exists ? decodeSecretData(r.secret) : {};
    // Record the listed state when it is the first, or differs from what the history last said.
    if (!prev || prev.exists !== exists || !sameData(prev.data, data))
      this.record('LISTED', r.secret, exists);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let first = true;
    while (!this.signal.aborted) {
      if (!first) this.stats.resumes++;
      first = false;
      const outcome = await this.watchOnce();
      if (this.signal.aborted) return;
      if (outcome.kind === 'closed') {
        failures = 0;
        continue;
      }
      if (outcome.kind === 'error') {
        this.noteError(outcome.error);
        failures++;
        await this.backoff(failures);
        if (this.signal.aborted) return;
      }
      // 410 Gone, or a failed watch that may have lost its place: relist (retrying until it works).
      if (outcome.kind === 'gone' || failures > 2) {
        for (;;) {
          try {
            await this.relist();
            break;
          } catch (e) {
            if (this.signal.aborted) return;
            this.noteError(e);
            failures++;
            await this.backoff(failures);
            if (this.signal.aborted) return;
          }
        }
        if (outcome.kind === 'gone') failures = 0;
      }
    }
  }

  private async backoff(failures: number): Promise<void> {
    const ms = Math.min(this.deps.maxBackoffMs, this.deps.minBackoffMs * 2 ** Math.max(0, failures - 1));
    try {
      await this.deps.clock.sleep(ms, this.signal);
    } catch {
      // aborted: the loop checks the signal
    }
  }

  private noteError(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = errorMessage(e);
  }

  private watchOnce(): Promise<{ kind: 'closed' } | { kind: 'gone' } | { kind: 'error'; error: unknown }> {
    this.stats.watchesStarted++;
    return new Promise((resolve) => {
      let settled = false;
      let gone = false;
      let handle: { abort(): void } | undefined;
      const settle = (r: { kind: 'closed' } | { kind: 'gone' } | { kind: 'error'; error: unknown }): void => {
        if (settled) return;
        settled = true;
        this.signal.removeEventListener('abort', onAbort);
        handle?.abort();
        resolve(r);
      };
      const onAbort = (): void => settle({ kind: 'closed' });
      this.signal.addEventListener('abort', onAbort, { once: true });

      const onEvent = (type: string, obj: unknown): void => {
        if (settled) return;
        if (type === 'ERROR') {
          const code = (obj as { code?: number } | undefined)?.code;
          if (code === 410) {
            gone = true;
            settle({ kind: 'gone' });
          } else {
            settle({ kind: 'error', error: new Error(`watch error: ${JSON.stringify(obj).slice(0, 200)}`) });
          }
          return;
        }
        const secret = obj as V1Secret | undefined;
        const rv = secret?.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        if (secret?.metadata?.name !== undefined && secret.metadata.name !== this.name) return;
        if (type === 'ADDED' || type === 'MODIFIED') this.record(type, secret, true);
        else if (type === 'DELETED') this.record('DELETED', secret, false);
      };
      const done = (err: unknown): void => {
        if (gone) return settle({ kind: 'gone' });
        if (err && !this.signal.aborted) {
          if (statusOf(err) === 410) return settle({ kind: 'gone' });
          return settle({ kind: 'error', error: err });
        }
        settle({ kind: 'closed' });
      };
      this.deps
        .watch(
          `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/secrets`,
          {
            fieldSelector: `metadata.name=${this.name}`,
            resourceVersion: this.resourceVersion || undefined,
            allowWatchBookmarks: true,
            timeoutSeconds: this.deps.watchTimeoutSeconds,
          },
          onEvent,
          done,
        )
        .then(
          (h) => {
            handle = h;
            if (settled) h.abort();
          },
          (e: unknown) => settle({ kind: 'error', error: e }),
        );
    });
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** Real list/watch functions over a lab's API server. */
export function kubeSecretWatchDeps(kube: KubeClients): Pick<SecretWatcherDeps, 'list' | 'watch'> {
  const watch = watchStream(kube.kc);
  return {
    list: async (namespace, name) => {
      const list = await kube.core.listNamespacedSecret({
        namespace,
        fieldSelector: `metadata.name=${name}`,
      });
      return { resourceVersion: list.metadata?.resourceVersion ?? '', secret: list.items[0] };
    },
    watch,
  };
}
