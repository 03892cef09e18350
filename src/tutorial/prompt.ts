/**
 * The interactive pause between steps: Enter runs the next step, `q` stops (and cleans up), Ctrl-C interrupts.
 * Keys are read in raw mode, so `q` needs no Enter; raw mode also swallows Ctrl-C's signal, hence `\x03` here.
 */
import { abortError } from '../errors.ts';

export type Answer = 'next' | 'quit' | 'interrupt';

export interface Prompter {
  ask(question: string, signal: AbortSignal): Promise<Answer>;
}

/** What a chunk of keyboard input means, if anything. */
export function decodeKeys(chunk: string): Answer | undefined {
  for (const c of chunk) {
    if (c === '\r' || c === '\n') return 'next';
    if (c === 'q' || c === 'Q' || c === '\u0004') return 'quit';
    if (c === '\u0003') return 'interrupt';
  }
  return undefined;
}

export interface KeyInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export function keyPrompter(input: KeyInput, write: (text: string) => void): Prompter {
  return {
    ask(question, signal) {
      if (signal.aborted) return Promise.reject(abortError(signal));
      write(question);
      return new Promise((resolve) => {
        const raw = Boolean(input.isTTY && input.setRawMode);
        const finish = (a: Answer) => {
          input.off('data', onData);
          signal.removeEventListener('abort', onAbort);
          if (raw) input.setRawMode?.(false);
          input.pause();
          write(a === 'next' ? '\n' : a === 'quit' ? ' q\n' : ' ^C\n');
          resolve(a);
        };
        const onData = (chunk: Buffer | string) => {
          const a = decodeKeys(String(chunk));
          if (a) finish(a);
        };
        const onAbort = () => finish('interrupt');
        if (raw) input.setRawMode?.(true);
        input.on('data', onData);
        signal.addEventListener('abort', onAbort, { once: true });
        input.resume();
      });
    },
  };
}
