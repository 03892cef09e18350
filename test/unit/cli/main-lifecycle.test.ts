/**
 * How the CLI ends when it is stopped from outside: SIGINT 130, SIGTERM 143, a reader that went away (`| head -1`)
 * 141 — each after the command's own cleanup ran. Signals come from an EventEmitter, the command is a tiny one
 * that waits for its AbortSignal.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../src/cli/command.ts';
import { main } from '../../../src/cli/main.ts';
import { ExitCode, abortError } from '../../../src/errors.ts';
import { createOutput } from '../../../src/terminal/output.ts';
import { capture } from '../../helpers/capture.ts';

/** A command as the lazily loaded table lists it. */
const entry = (c: Command) => ({ name: c.name, summary: c.summary, load: () => Promise.resolve(c) });

function waitingCommand(started: () => void) {
  const state = { cleanedUp: false };
  const command: Command = {
    name: 'wait',
    summary: 'print a line, then wait until stopped',
    usage: 'wait',
    options: {},
    async run({ signal, out }) {
      out.result('first line');
      try {
        started();
        await new Promise((_resolve, reject) => {
          if (signal.aborted) reject(abortError(signal));
          signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
        });
      } finally {
        state.cleanedUp = true;
      }
      return ExitCode.passed;
    },
  };
  return { command, state };
}

describe('the CLI stopped from outside', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: cleanup runs, exit %i', async (sig, code) => {
    const signals = new EventEmitter();
    const c = capture();
    const { command, state } = waitingCommand(() => setImmediate(() => signals.emit(sig, sig)));
    const exit = await main(['wait'], { out: c.out, signals, commands: [entry(command)] });
    expect(exit).toBe(code);
    expect(state.cleanedUp).toBe(true);
    expect(signals.listenerCount(sig)).toBe(0);
  });

  it('a closed stdout (EPIPE) stops the command cleanly: no crash, cleanup runs, exit 141', async () => {
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }));
      },
    });
    const errText: string[] = [];
    const stderr = new Writable({
      write(chunk: Buffer, _enc, cb) {
        errText.push(chunk.toString());
        cb();
      },
    });
    const out = createOutput({ stdout, stderr, env: { CI: 'true' } });
    const { command, state } = waitingCommand(() => {});
    const exit = await main(['wait'], { out, signals: new EventEmitter(), commands: [entry(command)] });
    expect(exit).toBe(ExitCode.outputClosed);
    expect(state.cleanedUp).toBe(true);
    expect(errText.join('')).toContain('stdout was closed by its reader (EPIPE): stopping and cleaning up');
    out.result('after the end'); // a write after close is dropped, not a second error
  });
});
