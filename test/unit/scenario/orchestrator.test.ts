import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../../src/report/events.ts';
import { parseScenario } from '../../../src/scenario/loader.ts';
import type { OperationHandler } from '../../../src/scenario/operation.ts';
import {
  effectiveParallel,
  isolatedBuiltins,
  knownWaitMs,
  placementOf,
  runScenarios,
  type OrchestrateOptions,
} from '../../../src/scenario/orchestrator.ts';
import { sleep } from '../../../src/time.ts';

/** What ran when, per scenario: a real clock, real concurrency. */
interface Log {
  spans: { scenario: string; start: number; end: number; names: string }[];
}

const work: OperationHandler<{ log: Log; scenario: string }, { ms: number; names: string; hang?: boolean }> =
  {
    name: 'work',
    description: 'Wait a while under some names.',
    timeoutKind: 'apply',
    schema: z.strictObject({ ms: z.number(), names: z.string(), hang: z.boolean().optional() }),
    summarize: (a) => a.names,
    async run(ctx, a) {
      const start = Date.now();
      await sleep(a.hang ? 60_000 : a.ms, ctx.signal);
      ctx.runtime.log.spans.push({ scenario: ctx.runtime.scenario, start, end: Date.now(), names: a.names });
    },
  };

/** A fault by name only: it shares what every scenario depends on. */
const sealVault: OperationHandler<{ log: Log; scenario: string }, Record<string, never>> = {
  name: 'sealVault',
  description: 'Seal.',
  timeoutKind: 'vault',
  schema: z.strictObject({}),
  summarize: () => 'seal',
  async run(ctx) {
    const start = Date.now();
    await sleep(30, ctx.signal);
    ctx.runtime.log.spans.push({ scenario: ctx.runtime.scenario, start, end: Date.now(), names: 'fault' });
  },
};

/** A hold with a literal `for:` (what knownWaitMs reads). */
const hold: OperationHandler<{ log: Log; scenario: string }, { for: string; names: string }> = {
  name: 'hold',
  description: 'Hold for a while.',
  timeoutKind: 'apply',
  schema: z.strictObject({ for: z.string(), names: z.string() }),
  summarize: (a) => a.names,
  async run(ctx, a) {
    const start = Date.now();
    await sleep(Number(/\d+/.exec(a.for)![0]), ctx.signal);
    ctx.runtime.log.spans.push({ scenario: ctx.runtime.scenario, start, end: Date.now(), names: a.names });
  },
};

const handlers = [work, sealVault];
const isolated = (name: string, ms = 40) =>
  parseScenario(
    `name: ${name}\ndescription: d\nsteps:\n  - try: [{ work: { ms: ${ms}, names: 'ns-x\${namespaceSuffix} \${vaultPathPrefix}p' } }]\n`,
    { file: `${name}.yaml`, baseDir: '/tmp' },
    handlers,
  );
const fixed = (name: string) =>
  parseScenario(
    `name: ${name}\ndescription: d\nsteps:\n  - try: [{ work: { ms: 20, names: ns-fixed } }]\n`,
    { file: `${name}.yaml`, baseDir: '/tmp' },
    handlers,
  );
const fault = (name: string) =>
  parseScenario(
    `name: ${name}\ndescription: d\nsteps:\n  - try: [{ work: { ms: 5, names: 'a\${namespaceSuffix}' } }, { sealVault: {} }]\n`,
    { file: `${name}.yaml`, baseDir: '/tmp' },
    handlers,
  );

function options(log: Log, o: Partial<OrchestrateOptions<{ log: Log; scenario: string }>> = {}) {
  const events: RunEvent[] = [];
  const opts: OrchestrateOptions<{ log: Log; scenario: string }> = {
    handlers,
    runtime: { open: (s) => ({ log, scenario: s.name }) },
    provider: 'local',
    vars: { runId: 'lab1', namespaceSuffix: '', nameSuffix: '', vaultPathPrefix: '' },
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    timeoutGraceMs: 20,
    ...o,
  };
  return { opts, events };
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) =>
  a.start < b.end && b.start < a.end;

describe('placement', () => {
  it('puts faults, exclusive: true and fixed names in the exclusive phase, with the reason', () => {
    expect(placementOf(isolated('a'))).toEqual({ exclusive: false });
    expect(placementOf(fault('f'))).toEqual({ exclusive: true, reason: 'injects sealVault' });
    expect(placementOf(fixed('x')).reason).toMatch(/fixed names/);
    const marked = parseScenario(
      "name: m\ndescription: d\nexclusive: true\nsteps:\n  - try: [{ work: { ms: 1, names: 'a${namespaceSuffix}' } }]\n",
      { file: 'm.yaml', baseDir: '/tmp' },
      handlers,
    );
    expect(marked.exclusive).toBe(true);
    expect(placementOf(marked)).toEqual({ exclusive: true, reason: 'marked exclusive: true' });
  });

  it("tags the lab's isolation built-ins per scenario", () => {
    const base = {
      runId: 'vel3fa9c1',
      namespaceSuffix: '-vel3fa9c1',
      nameSuffix: '-vel3fa9c1',
      vaultPathPrefix: 'vel-3fa9c1/',
    };
    expect(isolatedBuiltins({ ...base, kvMount: 'secret' }, 'p2')).toEqual({
      runId: 'vel3fa9c1-p2',
      namespaceSuffix: '-p2-vel3fa9c1',
      nameSuffix: '-p2-vel3fa9c1',
      vaultPathPrefix: 'vel-3fa9c1/p2/',
      kvMount: 'secret',
    });
    expect(
      isolatedBuiltins({ runId: 'lab', namespaceSuffix: '', nameSuffix: '', vaultPathPrefix: '' }, 'p1'),
    ).toMatchObject({
      namespaceSuffix: '-p1',
      vaultPathPrefix: 'p1/',
    });
  });
});

describe('runScenarios', () => {
  it('parallel 1: one after another, in order, under the lab names', async () => {
    const log: Log = { spans: [] };
    const { opts } = options(log);
    const run = await runScenarios([isolated('a'), isolated('b'), fixed('c')], { ...opts, parallel: 1 });
    expect(run.passed).toBe(true);
    expect(log.spans.map((s) => s.scenario)).toEqual(['a', 'b', 'c']);
    for (let i = 1; i < log.spans.length; i++)
      expect(log.spans[i]!.start).toBeGreaterThanOrEqual(log.spans[i - 1]!.end);
    expect(log.spans[0]!.names).toBe('ns-x p');
    expect(run.scenarios.map((s) => s.exclusive)).toEqual([
      undefined,
      undefined,
      expect.stringMatching(/fixed/),
    ]);
  });

  it('parallel N: independent scenarios overlap under names of their own; exclusive ones run alone', async () => {
    const log: Log = { spans: [] };
    const { opts } = options(log);
    const list = [isolated('a', 120), fault('f'), isolated('b', 120), fixed('x'), isolated('c', 120)];
    const run = await runScenarios(list, { ...opts, parallel: 3 });
    expect(run.passed).toBe(true);
    // Reports in the listed order, whatever the schedule.
    expect(run.scenarios.map((s) => s.scenario)).toEqual(['a', 'f', 'b', 'x', 'c']);
    const by = (n: string) => log.spans.filter((s) => s.scenario === n);
    expect(overlaps(by('a')[0]!, by('b')[0]!)).toBe(true);
    const names = ['a', 'b', 'c'].map((n) => by(n)[0]!.names);
    expect(new Set(names).size).toBe(3);
    expect(names).toEqual(['ns-x-p1 p1/p', 'ns-x-p3 p3/p', 'ns-x-p5 p5/p']);
    for (const alone of ['f', 'x']) {
      const mine = {
        start: Math.min(...by(alone).map((s) => s.start)),
        end: Math.max(...by(alone).map((s) => s.end)),
      };
      for (const other of log.spans.filter((s) => s.scenario !== alone))
        expect(overlaps(mine, other), `${alone} vs ${other.scenario}`).toBe(false);
    }
    // The exclusive one keeps the lab's own names.
    expect(by('f')[0]!.names).toBe('a');
  });

  it('with a private Vault: a Vault-fault scenario runs beside the others, on a runtime opened for its tag', async () => {
    expect(placementOf(fault('f'), { privateVault: true })).toEqual({ exclusive: false, privateVault: true });
    // Fixed names still run alone: no Vault server of its own separates namespaces.
    const fixedFault = parseScenario(
      'name: ff\ndescription: d\nsteps:\n  - try: [{ work: { ms: 5, names: a } }, { sealVault: {} }]\n',
      { file: 'ff.yaml', baseDir: '/tmp' },
      handlers,
    );
    expect(placementOf(fixedFault, { privateVault: true }).exclusive).toBe(true);
    const log: Log = { spans: [] };
    const opened: { scenario: string; privateVault?: string }[] = [];
    const stopped: string[] = [];
    const { opts } = options(log, {
      runtime: {
        open: (s, o) => {
          opened.push({ scenario: s.name, ...(o?.privateVault ? { privateVault: o.privateVault } : {}) });
          return { log, scenario: s.name };
        },
        close: async (r) => void stopped.push(r.scenario),
        builtins: (r): Record<string, string> =>
          r.scenario === 'f' ? { vaultServer: 'http://127.0.0.1:1/private' } : {},
        privateVaultName: (r) => (r.scenario === 'f' ? 'openbao-p2' : undefined),
      },
    });
    const run = await runScenarios([isolated('a', 120), fault('f'), isolated('b', 120)], {
      ...opts,
      parallel: 3,
      privateVault: true,
    });
    expect(run.passed).toBe(true);
    expect(opened).toContainEqual({ scenario: 'f', privateVault: 'p2' });
    expect(opened.filter((o) => o.privateVault)).toHaveLength(1);
    expect(stopped.sort()).toEqual(['a', 'b', 'f']);
    const by = (n: string) => log.spans.filter((x) => x.scenario === n);
    const f = {
      start: Math.min(...by('f').map((x) => x.start)),
      end: Math.max(...by('f').map((x) => x.end)),
    };
    expect(overlaps(f, by('a')[0]!)).toBe(true);
    expect(run.scenarios[1]).toMatchObject({ scenario: 'f', privateVault: 'openbao-p2' });
    expect(run.scenarios[1]!.exclusive).toBeUndefined();
    // A serial run is today's: the lab's Vault, run alone.
    opened.length = 0;
    const serial = await runScenarios([isolated('a'), fault('f')], {
      ...opts,
      parallel: 1,
      privateVault: true,
    });
    expect(opened.every((o) => !o.privateVault)).toBe(true);
    expect(serial.scenarios[1]!.privateVault).toBe('openbao-p2'); // from the runtime source, as told
  });

  it('a private Vault server that cannot start fails that scenario with the reason; the others run', async () => {
    const log: Log = { spans: [] };
    const { opts } = options(log, {
      runtime: {
        open: (s, o) => {
          if (o?.privateVault)
            throw new Error('openbao-p2 exited with code 1 before it was ready: bind: address in use');
          return { log, scenario: s.name };
        },
      },
    });
    const run = await runScenarios([isolated('a', 20), fault('f'), isolated('b', 20)], {
      ...opts,
      parallel: 3,
      privateVault: true,
    });
    expect(run.passed).toBe(false);
    expect(run.scenarios.map((x) => [x.scenario, x.passed])).toEqual([
      ['a', true],
      ['f', false],
      ['b', true],
    ]);
    const op = run.scenarios[1]!.steps[0]!.operations[0]!;
    expect(op).toMatchObject({ operation: 'privateVault', passed: false });
    expect(op.error).toMatch(/bind: address in use/);
  });

  it('starts the longest known waits first; reports keep the listed order', async () => {
    const waits = (name: string, ms: string) =>
      parseScenario(
        `name: ${name}\ndescription: d\nsteps:\n  - try: [{ hold: { for: ${ms}, names: 'n\${namespaceSuffix}' } }]\n`,
        { file: `${name}.yaml`, baseDir: '/tmp' },
        [...handlers, hold],
      );
    const list = [waits('short', '10ms'), waits('long', '200ms'), waits('mid', '50ms')];
    expect(list.map(knownWaitMs)).toEqual([10, 200, 50]);
    const log: Log = { spans: [] };
    const { opts } = options(log, { handlers: [...handlers, hold] });
    const run = await runScenarios(list, { ...opts, parallel: 2 });
    expect(log.spans.map((x) => x.scenario).slice(-1)).toEqual(['long']);
    const start = (n: string) => log.spans.find((x) => x.scenario === n)!.start;
    expect(start('long')).toBeLessThanOrEqual(start('short'));
    expect(start('mid')).toBeLessThanOrEqual(start('short'));
    expect(run.scenarios.map((x) => x.scenario)).toEqual(['short', 'long', 'mid']);
  });

  it('runs a single scenario (or only exclusive ones) as a serial run would', async () => {
    expect(effectiveParallel([isolated('a')], 4)).toBe(1);
    expect(effectiveParallel([isolated('a'), fault('f'), fixed('x')], 4)).toBe(1);
    expect(effectiveParallel([isolated('a'), isolated('b'), isolated('c')], 2)).toBe(2);
    expect(effectiveParallel([isolated('a'), isolated('b')], 8)).toBe(2);
    const log: Log = { spans: [] };
    const { opts } = options(log);
    await runScenarios([isolated('a')], { ...opts, parallel: 4 });
    expect(log.spans[0]!.names).toBe('ns-x p');
  });

  it('gives each scenario its own sink and ends it when the scenario ends', async () => {
    const log: Log = { spans: [] };
    const { opts } = options(log);
    const seen: Record<string, string[]> = {};
    const order: string[] = [];
    await runScenarios([isolated('slow', 150), isolated('fast', 10)], {
      ...opts,
      parallel: 2,
      sink: (s) => ({
        emit: (e) => (seen[s.name] ??= []).push(e.kind),
        done: (r) => order.push(r.scenario),
      }),
    });
    expect(order).toEqual(['fast', 'slow']);
    expect(seen.fast?.[0]).toBe('scenario.start');
    expect(seen.fast?.at(-1)).toBe('scenario.end');
  });

  it('records a timeline per scenario: steps and operations with their times, in order', async () => {
    const log: Log = { spans: [] };
    const { opts } = options(log);
    const run = await runScenarios([fault('f')], opts);
    const tl = run.scenarios[0]!.timeline!;
    expect(tl.map((e) => e.kind)).toEqual(['step', 'operation', 'fault']);
    const times = tl.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const f = tl.find((e) => e.kind === 'fault')!;
    expect(Date.parse(f.endAt!) - Date.parse(f.at)).toBeGreaterThanOrEqual(25);
  });

  it('after Ctrl-C starts nothing new and reports the rest as not run (parallel and serial)', async () => {
    for (const parallel of [1, 2]) {
      const controller = new AbortController();
      const log: Log = { spans: [] };
      const { opts } = options(log, { signal: controller.signal });
      const hang = parseScenario(
        "name: hang\ndescription: d\nsteps:\n  - try: [{ work: { ms: 1, hang: true, names: 'a${namespaceSuffix}' } }]\n",
        { file: 'hang.yaml', baseDir: '/tmp' },
        handlers,
      );
      setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 50);
      const run = await runScenarios([hang, isolated('b', 200), isolated('c'), fault('f')], {
        ...opts,
        parallel,
      });
      expect(run.interrupted, `parallel ${parallel}`).toBe(true);
      const notRun = run.scenarios.filter((s) => s.notRun).map((s) => s.scenario);
      expect(notRun, `parallel ${parallel}`).toContain('f');
      expect(notRun).toContain('c');
      for (const s of run.scenarios.filter((x) => x.notRun))
        expect(s.skipped).toBe('not run: the run was interrupted');
      expect(run.scenarios[0]!.interrupted).toBe(true);
    }
  });
});
