/** An Output that records what was written, as a TTY or not. */
import { Writable } from 'node:stream';
import type { Output } from '../../../src/terminal/output.ts';

export function captureOutput(interactive = false): Output & { stdoutText(): string; stderrText(): string } {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (into: string[]) =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        into.push(String(chunk));
        cb();
      },
    });
  const stdout = sink(chunks.out);
  const stderr = sink(chunks.err);
  return {
    result: (line) => void stdout.write(line + '\n'),
    info: (line) => void stderr.write(line + '\n'),
    interactive,
    color: false,
    stdout,
    stderr,
    closed: new AbortController().signal,
    stdoutText: () => chunks.out.join(''),
    stderrText: () => chunks.err.join(''),
  };
}
