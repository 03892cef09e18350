/**
 * One operation (or cleanup) under its timeout and the run's signal: the handler is told its timeout, its signal
 * aborts a grace period later if it did not end, and the runner stops waiting for it a grace period after that.
 * The outcome is settled, never thrown: passed with a value, or failed — timed out, interrupted, or an error.
 */
import { AbortedError, WaitTimeoutError, formatMs } from '../errors.ts';
import type { ResolvedTimeout } from './timeouts.ts';

export type Settled<T> =
  | { ok: true; value: T }
  | { ok: false; error: unknown; timedOut: boolean; interrupted: boolean; timeoutMessage?: string };

/**
 * Run `fn` under `timeout` and `runSignal`. The handler is told `timeout.ms` (its own waits should end then,
 * naming what they last saw); its signal aborts `grace` ms later in case it did not, and after a further
 * `grace` ms the runner stops waiting for it. An abort of `runSignal` reaches the handler at once.
 */
export async function execute<T>(
  what: string,
  timeout: ResolvedTimeout,
  runSignal: AbortSignal,
  grace: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<Settled<T>> {
  if (runSignal.aborted)
    return { ok: false, error: abortedFrom(runSignal), timedOut: false, interrupted: true };
  const timeoutMessage = `${what} timed out after ${formatMs(timeout.ms)} (${timeout.source})`;
  const child = new AbortController();
  const timer = setTimeout(
    () => child.abort(new WaitTimeoutError(what, timeout.ms, undefined, {})),
    timeout.ms + grace,
  );
  const signal = AbortSignal.any([runSignal, child.signal]);
  let graceTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    onAbort = () => (graceTimer = setTimeout(() => resolve('abandoned'), grace));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const run = Promise.resolve()
    .then(() => fn(signal))
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  try {
    const outcome = await Promise.race([run, abandoned]);
    const interrupted = runSignal.aborted;
    const timedOut = !interrupted && child.signal.aborted;
    if (outcome === 'abandoned' || interrupted || timedOut) {
      const error = outcome !== 'abandoned' && !outcome.ok ? outcome.error : undefined;
      if (interrupted)
        return { ok: false, error: abortedFrom(runSignal), timedOut: false, interrupted: true };
      return { ok: false, error, timedOut: true, interrupted: false, timeoutMessage };
    }
    if (outcome.ok) return { ok: true, value: outcome.value };
    if (outcome.error instanceof WaitTimeoutError)
      // The handler's own wait ran out: its message says for how long and what it last saw.
      return { ok: false, error: outcome.error, timedOut: true, interrupted: false, timeoutMessage: what };
    return { ok: false, error: outcome.error, timedOut: false, interrupted: false };
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

export function abortedFrom(signal: AbortSignal): AbortedError {
  const reason: unknown = signal.reason;
  return reason instanceof AbortedError ? reason : new AbortedError(abortReason(signal), { cause: reason });
}

export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : reason === undefined ? 'interrupted' : String(reason);
}
