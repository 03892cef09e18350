import { describe, expect, it } from 'vitest';
import { decideNode, nodeBlocker, type NodeFacts } from '../../../../../src/labs/local/node/node-support.ts';

const ok: NodeFacts = {
  platform: 'linux',
  uid: 0,
  cgroups: { v2: false, v1Controllers: ['cpu', 'cpuacct', 'memory', 'pids', 'devices', 'freezer'] },
  tools: { unshare: true, nsenter: true, mount: true, ip: true },
  missing: [],
  runcRuns: true,
  stateUnderRun: false,
};

describe('can this machine run the node?', () => {
  it('yes on Linux as root with cgroups, tools, components and a working runc', () => {
    expect(nodeBlocker(ok)).toBeUndefined();
    expect(decideNode(ok, 'auto')).toMatchObject({ run: true });
    expect(decideNode(ok, 'on')).toMatchObject({ run: true });
  });
  it('--no-node always means no node', () => {
    expect(decideNode(ok, 'off')).toEqual({ run: false, reason: 'no node (--no-node)' });
  });
  it.each<[string, Partial<NodeFacts>, RegExp]>([
    ['not Linux', { platform: 'darwin' }, /needs Linux \(this is darwin\)/],
    ['not root', { uid: 1000 }, /needs root \(uid 1000\)/],
    ['no cgroups', { cgroups: { v2: false, v1Controllers: [] } }, /no cgroup hierarchy/],
    [
      'a controller missing',
      { cgroups: { v2: false, v1Controllers: ['cpu', 'memory', 'pids', 'devices'] } },
      /missing under \/sys\/fs\/cgroup: freezer/,
    ],
    [
      'tools missing',
      { tools: { unshare: false, nsenter: true, mount: true, ip: false } },
      /missing tools: unshare, ip/,
    ],
    [
      'not built',
      { missing: ['containerd', 'runc'] },
      /not built: containerd, runc \(run: vault-eso-lab build containerd runc\)/,
    ],
    [
      'runc broken',
      { runcRuns: false, runcError: 'libseccomp.so.2: cannot open' },
      /runc does not start \(libseccomp\.so\.2: cannot open\)/,
    ],
    ['state under /run', { stateUnderRun: true }, /under \/run/],
  ])('no when %s, saying why', (_what, change, reason) => {
    const f = { ...ok, ...change };
    expect(nodeBlocker(f)).toMatch(reason);
    const d = decideNode(f, 'auto');
    expect(d.run).toBe(false);
    expect(d.reason).toMatch(/^no node: /);
    expect(d.reason).toMatch(reason);
  });
  it('cgroup v2 needs no v1 controllers', () => {
    expect(nodeBlocker({ ...ok, cgroups: { v2: true, v1Controllers: [] } })).toBeUndefined();
  });
});
