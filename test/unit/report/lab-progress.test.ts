import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createOutput } from '../../../src/terminal/output.ts';
import { labProgress } from '../../../src/report/lab-progress.ts';

function output(tty: boolean) {
  let err = '';
  const stderr = Object.assign(
    new Writable({
      write(c: Buffer, _e, cb) {
        err += c.toString();
        cb();
      },
    }),
    { isTTY: tty },
  );
  const stdout = new Writable({ write: (_c, _e, cb) => cb() });
  return { out: createOutput({ stdout, stderr, env: {} }), text: () => err };
}

const building = (elapsedMs: number) =>
  ({
    kind: 'lab.component.building',
    component: 'eso',
    step: 'compiling external-secrets',
    elapsedMs,
  }) as const;

describe('lab progress', () => {
  it('prints every build update as its own line when not on a terminal', () => {
    const o = output(false);
    const p = labProgress(o.out);
    p(building(5000));
    p(building(10000));
    p({ kind: 'lab.component.built', component: 'eso', durationMs: 12000, cached: false });
    expect(o.text().split('\n').filter(Boolean)).toEqual([
      '· building eso: compiling external-secrets (5.00 s)',
      '· building eso: compiling external-secrets (10.0 s)',
      '· built eso in 12.0 s',
    ]);
  });

  it('rewrites one line for build updates on a terminal, then moves on', () => {
    const o = output(true);
    const p = labProgress(o.out);
    p(building(5000));
    p(building(10000));
    p({ kind: 'lab.component.built', component: 'eso', durationMs: 12000, cached: false });
    // eslint-disable-next-line no-control-regex
    const plain = o.text().replace(/\u001b\[\d+m/g, '');
    expect(plain.split('\n').filter(Boolean)).toHaveLength(1);
    expect(plain.endsWith('(10.0 s)\r\u001b[2K· built eso in 12.0 s\n')).toBe(true);
  });
});
