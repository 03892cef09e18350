import { describe, expect, it } from 'vitest';
import { findSettled } from '../../../../src/scenario/operations/eso-settled.ts';
import { countEsoReconciles } from '../../../../src/kube/eso-log.ts';

const line = (o: Record<string, unknown>) => JSON.stringify(o);
const es = (name: string, namespace = 'my-app') => ({ ExternalSecret: { name, namespace } });

describe('findSettled (ESO debug log)', () => {
  const created = 1_795_815_010_000;
  it('finds the first "skipping refresh" of this ExternalSecret at or after the Secret was created', () => {
    const tail = [
      line({ level: 'info', ts: 1_795_815_010.2, msg: 'reconciled secret', ...es('my-app-secrets') }),
      line({
        level: 'debug',
        ts: 1_795_815_010.3,
        msg: 'conflict while updating status, will requeue',
        ...es('my-app-secrets'),
      }),
      line({ level: 'debug', ts: 1_795_815_010.4, msg: 'skipping refresh', ...es('other') }),
      line({ level: 'debug', ts: 1_795_815_010.5, msg: 'skipping refresh', ...es('my-app-secrets') }),
      line({ level: 'debug', ts: 1_795_815_011.5, msg: 'skipping refresh', ...es('my-app-secrets') }),
    ].join('\n');
    expect(findSettled(tail, 'my-app/my-app-secrets', created)).toEqual({
      settledAt: 1_795_815_010_500,
      debugSeen: true,
    });
  });

  it('ignores a skip from before the Secret existed (an earlier scenario with the same names) and other namespaces', () => {
    const tail = [
      line({ level: 'debug', ts: 1_795_815_001, msg: 'skipping refresh', ...es('my-app-secrets') }),
      line({
        level: 'debug',
        ts: 1_795_815_012,
        msg: 'skipping refresh',
        ...es('my-app-secrets', 'my-app-x1'),
      }),
      line({ level: 'debug', ts: 1_795_815_012, msg: 'reconciled secret', ...es('my-app-secrets') }),
    ].join('\n');
    expect(findSettled(tail, 'my-app/my-app-secrets', created)).toEqual({ debugSeen: true });
  });

  it('says when the log has no debug lines at all (ESO at info: not observable)', () => {
    const tail = [
      line({ level: 'info', ts: 1_795_815_012, msg: 'reconciled secret', ...es('my-app-secrets') }),
      'not json',
    ].join('\n');
    expect(findSettled(tail, 'my-app/my-app-secrets', created)).toEqual({ debugSeen: false });
  });
});

describe('countEsoReconciles', () => {
  it('counts one namespace inside the window by what each reconcile did', () => {
    const at = (s: number) => 1_795_815_000 + s;
    const tail = [
      line({ level: 'debug', ts: at(1), msg: 'reconciled secret', ...es('a', 'bench') }),
      line({ level: 'debug', ts: at(2), msg: 'reconciled secret', ...es('b', 'bench') }),
      line({ level: 'debug', ts: at(2), msg: 'skipping refresh', ...es('a', 'bench') }),
      line({
        level: 'debug',
        ts: at(3),
        msg: 'conflict while updating status, will requeue',
        ...es('a', 'bench'),
      }),
      line({ level: 'error', ts: at(4), msg: 'Reconciler error', ...es('b', 'bench') }),
      line({ level: 'debug', ts: at(4), msg: 'reconciled secret', ...es('a', 'other') }),
      line({ level: 'debug', ts: at(9), msg: 'reconciled secret', ...es('a', 'bench') }),
    ].join('\n');
    expect(countEsoReconciles(tail, 'bench', at(0) * 1000, at(5) * 1000)).toEqual({
      synced: 2,
      skipped: 1,
      conflicts: 1,
      errors: 1,
      objects: 2,
    });
  });
});
