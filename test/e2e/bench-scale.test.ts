/**
 * `bench scale --count 50 --json` on a real local lab (the quick size for CI; the big sizes are run by hand and
 * recorded in the README): every figure is there and sane, every ExternalSecret is checked, and the HTML page is
 * written. No timing goal is asserted here — goals live in the bench output.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';
import { SCALE_WATCH_RESOLUTION_MS } from '../../src/bench/scale.ts';

const env = isolatedEnv();
const out = mkdtempSync(join(tmpdir(), 'vel-e2e-bench-scale-'));

describe('bench scale --count 50', () => {
  it(
    'reports every figure with sane values',
    async () => {
      const html = join(out, 'scale.html');
      const r = await cli(
        ['bench', 'scale', '--count', '50', '--json', '--report-html', html],
        env,
        12 * 60_000,
      );
      expect(r.exitCode, r.stderr.slice(-4000)).toBe(0);
      const b = JSON.parse(r.stdout) as {
        benchmark: string;
        runs: {
          count: number;
          windowMs: number;
          checked: number;
          withinWindow: number;
          missed: number;
          late: number;
          latencyMs: {
            p50: number;
            p95: number;
            p99: number;
            max: number;
            samples: number;
            sortedMs: number[];
          };
          eso: {
            pid: number;
            cpuSeconds: number;
            reconciles: { synced: number; skipped: number; errors: number; objects: number };
          };
          vault: { requests: number; requestsPerSecond: number };
          lab: { rssMiB: number };
          machine: { cores: number; busyShare: number; cpuSecondsByProcess: Record<string, number> };
          harness: {
            watch: {
              cpuSeconds: number;
              rssMiB: number;
              requests: number;
              events: number;
              cpuMsPerEvent: number;
              resolutionMs: number;
              wakes: number;
              cpuSecondsByThread: { main: number; others: number };
              gc: Record<string, { count: number; ms: number }>;
            };
            wakeFloor: {
              cpuSeconds: number;
              reads: number;
              cpuMsPerRead: number;
              shareOfEso: number;
              watchToFloor: number;
            };
            poller: { cpuSeconds: number; rssMiB: number; requests: number };
            pollerToWatchCpuRatio: number;
            watchCpuShareOfEso: number;
            sameRotation: { watchCpuSeconds: number; pollerCpuSeconds: number; watchLatencyP95Ms: number };
          };
        }[];
        esoMetrics: { available: boolean; reason?: string };
      };
      expect(b.benchmark).toBe('scale');
      const [run] = b.runs;
      expect(run).toBeDefined();
      expect(run!.count).toBe(50);
      expect(run!.checked).toBe(50);
      expect(run!.withinWindow + run!.late + run!.missed).toBe(50);
      expect(run!.missed).toBe(0);
      const l = run!.latencyMs;
      expect(l.samples).toBe(50);
      expect(l.sortedMs).toHaveLength(50);
      expect(0).toBeLessThan(l.p50);
      expect(l.p50).toBeLessThanOrEqual(l.p95);
      expect(l.p95).toBeLessThanOrEqual(l.p99);
      expect(l.p99).toBeLessThanOrEqual(l.max);
      // ESO refreshes every 10 s: no rotation can take much longer than two windows.
      expect(l.max).toBeLessThan(2 * run!.windowMs);
      // Where the CPU went: the machine's busy share, and every lab process and the watch by name (the poller
      // observes only the second rotation, so it does not load the lab the figures are measured on).
      expect(run!.machine.cores).toBeGreaterThan(0);
      expect(run!.machine.busyShare).toBeGreaterThan(0);
      expect(run!.machine.busyShare).toBeLessThanOrEqual(1);
      for (const p of ['kube-apiserver', 'etcd', 'eso', 'watch harness'])
        expect(run!.machine.cpuSecondsByProcess[p], p).toBeGreaterThanOrEqual(0);
      expect(run!.machine.cpuSecondsByProcess['poller harness']).toBeUndefined();
      expect(run!.machine.cpuSecondsByProcess.eso).toBeCloseTo(run!.eso.cpuSeconds, 1);
      expect(run!.eso.pid).toBeGreaterThan(0);
      expect(run!.eso.cpuSeconds).toBeGreaterThan(0);
      // ESO's own log: every one of the 50 synced the rotated value at least once, without errors.
      expect(run!.eso.reconciles.synced).toBeGreaterThanOrEqual(50);
      expect(run!.eso.reconciles.objects).toBe(50);
      expect(run!.eso.reconciles.errors).toBe(0);
      // At least the 50 writes and ESO's 50 reads went through Vault.
      expect(run!.vault.requests).toBeGreaterThanOrEqual(100);
      expect(run!.vault.requestsPerSecond).toBeGreaterThan(0);
      expect(run!.lab.rssMiB).toBeGreaterThan(100);
      const h = run!.harness;
      expect(h.watch.cpuSeconds).toBeGreaterThan(0);
      expect(h.watch.rssMiB).toBeGreaterThan(10);
      // One list and one watch (resumed rarely) against one GET per object per second.
      expect(h.watch.requests).toBeLessThan(5);
      expect(h.poller.requests).toBeGreaterThanOrEqual(2 * 50);
      expect(h.pollerToWatchCpuRatio).toBeGreaterThan(0);
      // The second rotation, which both harnesses observed: the watch saw every Secret change there too.
      expect(h.sameRotation.watchCpuSeconds).toBeGreaterThan(0);
      expect(h.sameRotation.watchLatencyP95Ms).toBeGreaterThan(0);
      expect(h.sameRotation.watchLatencyP95Ms).toBeLessThan(2 * run!.windowMs);
      expect(h.watchCpuShareOfEso).toBeGreaterThan(0);
      // Every Secret's change came as a watch event (bookmarks may add a few), and its CPU per event follows.
      expect(h.watch.events).toBeGreaterThanOrEqual(50);
      // cpuSeconds is reported to the millisecond, so recomputing from it may differ by up to 0.5 ms / events.
      const perEvent = (h.watch.cpuSeconds * 1000) / h.watch.events;
      expect(Math.abs(h.watch.cpuMsPerEvent - perEvent)).toBeLessThanOrEqual(0.5 / h.watch.events + 0.0005);
      // The watch reads its socket at most every resolutionMs: woken fewer times than events came, at least once.
      expect(h.watch.resolutionMs).toBe(SCALE_WATCH_RESOLUTION_MS);
      expect(h.watch.wakes).toBeGreaterThan(0);
      expect(h.watch.wakes).toBeLessThanOrEqual(h.watch.events);
      // Its CPU split by thread (in 10 ms ticks) adds up to no more than its whole CPU; its collections are counted.
      const t = h.watch.cpuSecondsByThread;
      expect(t.main).toBeGreaterThanOrEqual(0);
      expect(t.main + t.others).toBeLessThanOrEqual(h.watch.cpuSeconds + 0.02);
      for (const g of Object.values(h.watch.gc)) expect(g.count).toBeGreaterThan(0);
      // The floor: a bare socket read at the watch's own event times (reads coalesce, never multiply).
      expect(h.wakeFloor.reads).toBeGreaterThan(0);
      expect(h.wakeFloor.reads).toBeLessThanOrEqual(50);
      expect(h.wakeFloor.cpuSeconds).toBeGreaterThan(0);
      expect(h.wakeFloor.shareOfEso).toBeCloseTo(h.wakeFloor.cpuSeconds / run!.eso.cpuSeconds, 1);
      expect(b.esoMetrics.available || typeof b.esoMetrics.reason === 'string').toBe(true);
      expect(statSync(html).mode & 0o777).toBe(0o600);
      const page = readFileSync(html, 'utf8');
      expect(page).toContain('data-count="50"');
      expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
      expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
    },
    13 * 60_000,
  );
});
