import { describe, expect, it } from 'vitest';
import { esoLimits, whyLate, type MachineLoad } from '../../../src/bench/why-late.ts';
import { parseEsoArgs } from '../../../src/cli/commands/bench.ts';

// Measured on the local lab (2026-12-01, 2 cores): N=500 with the poller running beside the watch.
const saturated: MachineLoad = {
  cores: 2,
  busyShare: 0.97,
  cpuSecondsByProcess: {
    'kube-apiserver': 14.2,
    'poller harness': 11.7,
    etcd: 5.3,
    openbao: 4.8,
    eso: 3.3,
    'watch harness': 0.26,
  },
};

/** 500 ExternalSecrets that ESO synced at 22/s where 50/s were needed. */
const behind = { refreshIntervalS: 10, n: 500, synced: 593, overS: 26.8, within: 243, seen: 500 };

describe('bench scale: why rotations came late', () => {
  it("names ESO's throughput and a saturated machine, with the processes that used it", () => {
    const why = whyLate({ ...behind, machine: saturated });
    expect(why).toMatch(
      /^257 of 500 came after the window: ESO synced 22\.1 ExternalSecrets\/s \(593 in 26\.8 s, --concurrent=4\), below the 50\/s/,
    );
    expect(why).toMatch(
      /2 cores were 97% busy over the run \(kube-apiserver 14\.2 s, poller harness 11\.7 s, etcd 5\.3 s, openbao 4\.8 s, eso 3\.3 s\): the machine is CPU-bound/,
    );
  });
  it('near saturation (80–90% busy) says CPU may be part of the bound and that it cannot tell', () => {
    // Measured here (2026-12-02): N=1000 with ESO's token cache, 31 syncs/s, the machine 89% busy.
    const why = whyLate({
      refreshIntervalS: 10,
      n: 1000,
      synced: 1130,
      overS: 36.4,
      within: 568,
      seen: 983,
      machine: {
        cores: 2,
        busyShare: 0.894,
        cpuSecondsByProcess: { openbao: 31, 'kube-apiserver': 17.6, eso: 6.6 },
      },
      esoArgs: ['--client-qps=500', '--concurrent=8', '--experimental-enable-vault-token-cache'],
    });
    expect(why).toMatch(/89% busy \(openbao 31 s, kube-apiserver 17\.6 s, eso 6\.6 s\): near saturation/);
    expect(why).toMatch(/CPU may be part of the bound/);
    expect(why).toMatch(/cannot say which step/);
    expect(why).not.toMatch(/not CPU|CPU-bound/);
  });

  it('does not blame the CPU when the machine had idle time: the bound is in ESO, and it says it cannot tell which step', () => {
    const why = whyLate({ ...behind, machine: { ...saturated, busyShare: 0.55 } });
    expect(why).toMatch(/only 55% busy/);
    expect(why).toMatch(/not CPU/);
    expect(why).toMatch(/cannot say which step/);
    expect(why).not.toMatch(/CPU-bound/);
  });
  it('says the load was not measured when it was not', () => {
    expect(whyLate(behind)).toMatch(/CPU load was not measured$/);
  });
  it('says the figures do not explain it when ESO kept up', () => {
    expect(
      whyLate({
        refreshIntervalS: 10,
        n: 50,
        synced: 60,
        overS: 10,
        within: 49,
        seen: 50,
        machine: saturated,
      }),
    ).toMatch(/does not explain it/);
  });
});

describe('bench scale: missed rotations', () => {
  it('counts the ones never seen apart from the late ones (N=1000, measured 2026-12-01)', () => {
    expect(
      whyLate({ refreshIntervalS: 10, n: 1000, synced: 421, overS: 45.1, within: 82, seen: 332 }),
    ).toMatch(
      /^250 of 1000 came after the window and 668 not before the observation ended: ESO synced 9\.3 ExternalSecrets\/s/,
    );
  });
});

describe("bench scale: ESO's client rate limit", () => {
  // Measured here (2026-12-01): the watch alone, 70% busy, 505 syncs in 20.2 s at ESO's default --client-qps=50.
  const idle: MachineLoad = { cores: 2, busyShare: 0.7, cpuSecondsByProcess: { 'kube-apiserver': 10.1 } };
  it('names the client rate limit when the sync rate sits at half of it and the CPU had room', () => {
    const why = whyLate({
      refreshIntervalS: 10,
      n: 500,
      synced: 505,
      overS: 20.2,
      within: 328,
      seen: 500,
      machine: idle,
    });
    expect(why).toMatch(/ESO synced 25 ExternalSecrets\/s/);
    expect(why).toMatch(/half of ESO's own API client limit \(--client-qps=50, ESO's default\)/);
    expect(why).toMatch(/most likely that client rate limit/);
    expect(why).not.toMatch(/cannot say which step/);
  });
  it('does not name it when the limit was raised and the rate is nowhere near half of it', () => {
    const why = whyLate({
      refreshIntervalS: 10,
      n: 500,
      synced: 512,
      overS: 15,
      within: 418,
      seen: 500,
      machine: { ...idle, busyShare: 0.83 },
      esoArgs: ['--client-qps=500', '--client-burst=1000'],
    });
    expect(why).not.toMatch(/client rate limit/);
    expect(why).toMatch(/cannot say which step/);
  });
  it('reads the limits from the flags, the last one winning', () => {
    expect(esoLimits([])).toEqual({ clientQps: 50, workers: 4, tokenCache: false });
    expect(
      esoLimits([
        '--concurrent=2',
        '--concurrent=8',
        '--client-qps=500',
        '--experimental-enable-vault-token-cache',
      ]),
    ).toEqual({ clientQps: 500, workers: 8, tokenCache: true });
  });
  it('--eso-args takes flags only, before anything starts', () => {
    expect(parseEsoArgs(' --client-qps=500  --concurrent=8 ')).toEqual([
      '--client-qps=500',
      '--concurrent=8',
    ]);
    expect(parseEsoArgs(undefined)).toEqual([]);
    expect(() => parseEsoArgs('--client-qps=500 rm -rf')).toThrow(/'rm' is not a flag/);
    expect(parseEsoArgs('--client-qps=$(id)')).toEqual(['--client-qps=$(id)']); // one argv word, no shell
    // Nothing that opens a port or changes what the lab reads from ESO.
    expect(() => parseEsoArgs('--metrics-addr=:8080')).toThrow(/--metrics-addr is not one of the flags/);
    expect(() => parseEsoArgs('--loglevel=info')).toThrow(/--loglevel is not one of the flags/);
  });
});
