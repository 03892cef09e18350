import { describe, expect, it } from 'vitest';
import { isStale } from '../../../src/labs/local/stale.ts';
import { processExecutable } from '../../../src/process/command.ts';
import type { LabRecord } from '../../../src/labs/run-dir.ts';

const base = (over: Partial<LabRecord>): LabRecord => ({
  schema: 1,
  id: 'x',
  name: 'x',
  provider: 'local',
  state: 'running',
  ownerPid: null,
  createdAt: new Date().toISOString(),
  components: [],
  versions: {},
  ...over,
});
const me = { name: 'etcd', version: 'v', pid: process.pid, exe: processExecutable(process.pid) };
const gone = { name: 'etcd', version: 'v', pid: 2 ** 22 + 12345, exe: '/nowhere/etcd' };

describe('isStale', () => {
  it('an owned lab is stale exactly when its owner is gone', () => {
    expect(isStale(base({ ownerPid: process.pid, components: [gone] }))).toBe(false);
    expect(isStale(base({ ownerPid: 2 ** 22 + 12345 }))).toBe(true);
  });

  it('a lab handed off by up is stale when none of its processes runs any more', () => {
    expect(isStale(base({ components: [me, gone] }))).toBe(false);
    expect(isStale(base({ components: [gone] }))).toBe(true);
  });

  it('a pid that now runs another executable does not count as the component', () => {
    expect(isStale(base({ components: [{ ...me, exe: '/nowhere/kube-apiserver' }] }))).toBe(true);
  });

  it('kind and existing labs (no local processes) are never judged by pids', () => {
    expect(isStale(base({ provider: 'kind' }))).toBe(false);
    expect(isStale(base({ provider: 'existing' }))).toBe(false);
  });

  it('a directory without a record is stale', () => {
    expect(isStale(undefined)).toBe(true);
  });
});
