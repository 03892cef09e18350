import { describe, expect, it } from 'vitest';
import { findSettled } from '../../../../src/scenario/operations/eso-settled.ts';

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
