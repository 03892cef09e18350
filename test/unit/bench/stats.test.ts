import { describe, expect, it } from 'vitest';
import { componentTimes } from '../../../src/bench/cli-timing.ts';
import { cpuSeconds, rssBytes, selfCpuSeconds } from '../../../src/bench/proc.ts';
import { growth, median, percentile } from '../../../src/bench/stats.ts';
import { parseCurve } from '../../../src/cli/commands/bench.ts';

describe('bench statistics', () => {
  it('median and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('tells linear from worse-than-linear growth', () => {
    expect(
      growth([
        [100, 10],
        [250, 25],
        [500, 50],
        [1000, 100],
      ]),
    ).toMatchObject({ slope: 0.1, shape: 'about linear' });
    expect(
      growth([
        [100, 1],
        [200, 4],
        [400, 16],
      ]).exponent,
    ).toBeCloseTo(2, 5);
    expect(
      growth([
        [100, 1],
        [200, 4],
        [400, 16],
      ]).shape,
    ).toBe('worse than linear');
    expect(
      growth([
        [100, 50],
        [1000, 55],
      ]).shape,
    ).toMatch(/sublinear/);
    expect(growth([[100, 5]]).shape).toBe('one size only');
  });

  it('reads CPU and memory of a live process from /proc', () => {
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(rssBytes(process.pid)).toBeGreaterThan(10 * 2 ** 20);
    expect(cpuSeconds(2 ** 30)).toBeNaN();
    expect(selfCpuSeconds()).toBeGreaterThan(0);
  });

  it("parses up's progress lines into per-component times", () => {
    const stderr =
      "· etcd ready in 812 ms (pid 1, 127.0.0.1:2379)\n· kube-apiserver ready in 2.20 s (pid 2)\n· lab 'default' (local) ready in 7.31 s\n";
    expect(componentTimes(stderr)).toEqual({ etcd: 812, 'kube-apiserver': 2200 });
  });

  it('--curve takes two or more sizes', () => {
    expect(parseCurve('100,250, 500,1000')).toEqual([100, 250, 500, 1000]);
    expect(() => parseCurve('100')).toThrow(/at least two/);
    expect(() => parseCurve('100,x')).toThrow(/whole number/);
  });
});
