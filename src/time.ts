/** Time, sleeping and waiting — every wait takes the run's AbortSignal and reports what it last saw. */
import { setTimeout as delay } from 'node:timers/promises';
import { WaitTimeoutError, abortError, throwIfAborted } from './errors.ts';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};

export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    throw e;
  }
}

export interface WaitOptions {
  /** What is awaited, for the error message ("etcd /health to answer"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * Call `probe` until it returns `{ done: true, value }`, or throw WaitTimeoutError naming what was awaited and
 * the last thing `probe` reported. A probe that throws counts as "not yet" (its message becomes the last seen).
 */
export async function waitFor<T>(
  probe: () => Promise<{ done: true; value: T } | { done: false; seen?: string }>,
  options: WaitOptions,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const interval = options.intervalMs ?? 100;
  const deadline = clock.now() + options.timeoutMs;
  let lastSeen: string | undefined;
  for (;;) {
    throwIfAborted(options.signal);
    try {
      const r = await probe();
      if (r.done) return r.value;
      lastSeen = r.seen ?? lastSeen;
    } catch (e) {
      if (options.signal?.aborted) throw abortError(options.signal);
      lastSeen = e instanceof Error ? e.message : String(e);
    }
    if (clock.now() >= deadline) throw new WaitTimeoutError(options.what, options.timeoutMs, lastSeen);
    await clock.sleep(Math.min(interval, Math.max(0, deadline - clock.now())), options.signal);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a Go-style duration ("5s", "1m30s", "250ms", "1h", "0"). Returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] as string] ?? 0);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length) return undefined;
  return total;
}
