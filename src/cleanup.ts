/**
 * Cleanup registered where a thing is created, run in reverse. (Node 20 has no AsyncDisposableStack.)
 * Each cleanup gets its own timeout; errors are collected, never stop the others.
 */
import { errorMessage } from './errors.ts';

export interface CleanupError {
  what: string;
  error: string;
}

type CleanupFn = (signal: AbortSignal) => Promise<void> | void;

export class CleanupStack {
  private readonly items: { what: string; fn: CleanupFn }[] = [];

  defer(what: string, fn: CleanupFn): void {
    this.items.push({ what, fn });
  }

  get size(): number {
    return this.items.length;
  }

  /** Forget everything (ownership handed to someone else). */
  release(): void {
    this.items.length = 0;
  }

  /** Run all cleanups last-in-first-out. */
  async run(timeoutMs = 30_000, onError?: (e: CleanupError) => void): Promise<CleanupError[]> {
    const errors: CleanupError[] = [];
    while (this.items.length) {
      const item = this.items.pop();
      if (!item) break;
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await Promise.race([
          item.fn(signal),
          new Promise<never>((_, reject) =>
            signal.addEventListener(
              'abort',
              () => reject(new Error(`cleanup timed out after ${timeoutMs} ms`)),
              { once: true },
            ),
          ),
        ]);
      } catch (e) {
        const err = { what: item.what, error: errorMessage(e) };
        errors.push(err);
        onError?.(err);
      }
    }
    return errors;
  }
}
