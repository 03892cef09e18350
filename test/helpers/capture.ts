/** Capture what a command prints: an Output whose stdout/stderr are in-memory. */
import { Writable } from 'node:stream';
import type { Output } from '../../src/terminal/output.ts';
import { createOutput } from '../../src/terminal/output.ts';

export interface Captured {
  out: Output;
  stdout(): string;
  stderr(): string;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export function capture(env: NodeJS.ProcessEnv = { CI: 'true' }): Captured {
  const o = sink();
  const e = sink();
  return { out: createOutput({ stdout: o.stream, stderr: e.stream, env }), stdout: o.text, stderr: e.text };
}
