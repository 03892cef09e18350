/**
 * What a consuming pod sees, observed as a stream: the lab's consumer image prints one JSON line per reading of
 * an environment variable or a mounted file (a short SHA-256, the time it read it, the file's mtime as the kubelet
 * wrote it). A ConsumerStreams follows those lines through the Kubernetes log API — the same path as `kubectl
 * logs -f` — so the harness never polls with exec, and each report keeps the pod's own timestamps: the last two hops
 * of a rotation (the kubelet wrote the file; the application read it). Values never travel: only hashes.
 */
import { Writable } from 'node:stream';
import { Log } from '@kubernetes/client-node';
import { errorMessage } from '../errors.ts';
import type { KubeClients } from './client.ts';

/** One line of the consumer's stream (see src/components/go/node-images/cmd/consumer). */
export interface ConsumerReport {
  event: 'initial' | 'changed' | 'same';
  /** `env:NAME` or `file:PATH`. */
  source: string;
  /** Short SHA-256 (8 hex) of the value; null when missing (see `error`). */
  sha256: string | null;
  /** When the application read it (ms since epoch, the pod's clock = this machine's). */
  readAt: number;
  /** The file's mtime: when the kubelet wrote this content (files only). */
  writtenAt?: number;
  error?: string;
  seq: number;
  /** When the harness received the line. */
  receivedAt: number;
}

/** Parse one log line; undefined for anything that is not a consumer report. */
export function parseConsumerLine(line: string, receivedAt = Date.now()): ConsumerReport | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    if (o.consumer !== 1 || typeof o.source !== 'string' || typeof o.readAt !== 'string') return undefined;
    const readAt = Date.parse(o.readAt);
    if (Number.isNaN(readAt)) return undefined;
    const writtenAt = typeof o.writtenAt === 'string' ? Date.parse(o.writtenAt) : NaN;
    return {
      event: o.event === 'changed' || o.event === 'same' ? o.event : 'initial',
      source: o.source,
      sha256: typeof o.sha256 === 'string' ? o.sha256 : null,
      readAt,
      ...(Number.isNaN(writtenAt) ? {} : { writtenAt }),
      ...(typeof o.error === 'string' ? { error: o.error } : {}),
      seq: typeof o.seq === 'number' ? o.seq : 0,
      receivedAt,
    };
  } catch {
    return undefined;
  }
}

/** Follows one container's log; `reports` grows as lines arrive (the stream is resumed if it drops). */
export class ContainerStream {
  readonly reports: ConsumerReport[] = [];
  /** Lines that were not consumer reports (the first few, for error messages). */
  readonly otherLines: string[] = [];
  lastError: string | undefined;
  private readonly listeners = new Set<() => void>();
  private abort: AbortController | undefined;
  private stopped = false;
  private seen = new Set<string>();

  constructor(
    private readonly kube: KubeClients,
    readonly namespace: string,
    readonly pod: string,
    readonly container: string,
  ) {}

  start(): void {
    void this.follow();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.notify();
  }

  /** Called on every new report (and on stop). Returns an unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The newest report for a source. */
  latest(source: string): ConsumerReport | undefined {
    for (let i = this.reports.length - 1; i >= 0; i--)
      if (this.reports[i]!.source === source) return this.reports[i];
    return undefined;
  }

  private notify(): void {
    for (const fn of this.listeners) fn();
  }

  private async follow(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let buffer = '';
      const sink = new Writable({
        write: (chunk: Buffer, _enc, cb) => {
          buffer += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            this.line(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
          }
          cb();
        },
      });
      const ended = new Promise<void>((resolve) => {
        sink.on('finish', resolve);
        sink.on('close', resolve);
        sink.on('error', () => resolve());
      });
      try {
        this.abort = await new Log(this.kube.kc).log(this.namespace, this.pod, this.container, sink, {
          follow: true,
        });
        failures = 0;
        await ended;
      } catch (e) {
        this.lastError = errorMessage(e);
        failures++;
      }
      if (this.stopped) return;
      // The stream ended (container restarted, connection dropped): resume after a short pause.
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(failures, 4))));
    }
  }

  private line(l: string): void {
    const r = parseConsumerLine(l);
    if (!r) {
      if (l.trim() && this.otherLines.length < 5) this.otherLines.push(l.slice(0, 200));
      return;
    }
    // A resumed stream replays from the start: keep each report once.
    const key = `${r.seq}/${r.readAt}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.reports.push(r);
    this.notify();
  }
}

/** One stream per pod container, started on first use and kept for the scenario run. */
export class ConsumerStreams {
  private readonly streams = new Map<string, ContainerStream>();
  constructor(private readonly kube: KubeClients) {}

  for(namespace: string, pod: string, container: string): ContainerStream {
    const key = `${namespace}/${pod}/${container}`;
    let s = this.streams.get(key);
    if (!s) {
      s = new ContainerStream(this.kube, namespace, pod, container);
      s.start();
      this.streams.set(key, s);
    }
    return s;
  }

  close(): void {
    for (const s of this.streams.values()) s.stop();
    this.streams.clear();
  }
}
