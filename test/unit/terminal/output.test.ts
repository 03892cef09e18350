import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputClosedError, createOutput } from '../../../src/terminal/output.ts';

const closedPipe = () => {
  let writes = 0;
  const stream = new Writable({
    write(_chunk, _enc, cb) {
      writes += 1;
      cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  return { stream, writes: () => writes };
};

const sink = () => {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    }),
    text: () => chunks.join(''),
  };
};

describe('Output', () => {
  it('a reader that went away aborts `closed` (no uncaught EPIPE) and later writes to it are dropped', async () => {
    const pipe = closedPipe();
    const err = sink();
    const out = createOutput({ stdout: pipe.stream, stderr: err.stream, env: {} });
    out.result('one');
    await new Promise<void>((resolve) => out.closed.addEventListener('abort', () => resolve()));
    expect(out.closed.reason).toBeInstanceOf(OutputClosedError);
    expect((out.closed.reason as OutputClosedError).stream).toBe('stdout');
    out.result('two');
    out.result('three');
    expect(pipe.writes()).toBe(1);
    out.info('stderr still works');
    expect(err.text()).toBe('stderr still works\n');
  });

  it('a closed stderr aborts `closed` too', async () => {
    const pipe = closedPipe();
    const out = createOutput({ stdout: sink().stream, stderr: pipe.stream, env: {} });
    out.info('progress');
    await new Promise<void>((resolve) => out.closed.addEventListener('abort', () => resolve()));
    expect((out.closed.reason as OutputClosedError).stream).toBe('stderr');
  });
});
