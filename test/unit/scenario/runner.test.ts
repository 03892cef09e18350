import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AssertionFailedError } from '../../../src/errors.ts';
import type { RunEvent } from '../../../src/report/events.ts';
import { parseScenario } from '../../../src/scenario/loader.ts';
import type { OperationHandler } from '../../../src/scenario/operation.ts';
import { runScenario, type RunScenarioOptions } from '../../../src/scenario/runner.ts';
import { duration, templated } from '../../../src/scenario/schema.ts';
import { sleep, waitFor } from '../../../src/time.ts';

interface World {
  log: string[];
}

interface ActArgs {
  id: string;
  fail?: boolean;
  hang?: boolean;
  assertion?: boolean;
  cleanup?: boolean;
  cleanupFails?: boolean;
  cleanupHangs?: boolean;
}

/** Records what runs; fails, hangs or registers cleanups on request. */
const act: OperationHandler<World, ActArgs> = {
  name: 'act',
  description: 'Do something recordable.',
  timeoutKind: 'apply',
  schema: z.strictObject({
    id: z.string(),
    fail: z.boolean().optional(),
    hang: z.boolean().optional(),
    assertion: z.boolean().optional(),
    cleanup: z.boolean().optional(),
    cleanupFails: z.boolean().optional(),
    cleanupHangs: z.boolean().optional(),
  }),
  summarize: (a) => `act ${a.id}`,
  async run(ctx, a) {
    ctx.runtime.log.push(a.id);
    if (a.cleanup || a.cleanupFails || a.cleanupHangs)
      ctx.addCleanup(`undo ${a.id}`, async (signal) => {
        ctx.runtime.log.push(`undo ${a.id}`);
        if (a.cleanupHangs) await sleep(60_000, signal);
        if (a.cleanupFails) throw new Error(`cannot undo ${a.id}`);
      });
    if (a.hang) await sleep(60_000, ctx.signal);
    if (a.assertion)
      throw new AssertionFailedError(`${a.id} did not hold`, {
        diagnosis: 'ESO never synced',
        evidence: ['ExternalSecret Ready=False', 'last sync 10s ago'],
      });
    if (a.fail) throw new Error(`${a.id} failed`);
    return { facts: { timeoutMs: ctx.timeoutMs } };
  },
};

/** Waits with waitFor until its own timeout, so the error names what it last saw. */
const poll: OperationHandler<World, { within: number }> = {
  name: 'poll',
  description: 'Poll something that never becomes ready.',
  timeoutKind: 'assert',
  schema: z.strictObject({ within: templated(duration()) }),
  summarize: (a) => `poll within ${a.within} ms`,
  async run(ctx, a) {
    ctx.runtime.log.push(`poll ${a.within}`);
    await waitFor(async () => ({ done: false, seen: 'version 3' }), {
      what: 'the Secret to change',
      timeoutMs: ctx.timeoutMs,
      intervalMs: 5,
      signal: ctx.signal,
    });
  },
};

const rotate: OperationHandler<World, { path: string }> = {
  name: 'rotate',
  description: 'Emit a rotation.',
  timeoutKind: 'vault',
  schema: z.strictObject({ path: z.string() }),
  summarize: (a) => a.path,
  async run(ctx, a) {
    ctx.emit({
      kind: 'rotation',
      path: a.path,
      keys: ['password'],
      ackAt: 'now',
      latencyMs: 1200,
      windowMs: 7000,
      withinWindow: true,
    });
  },
};

const handlers = [act, poll, rotate];

function scenario(yaml: string) {
  return parseScenario(yaml, { file: 's.yaml', baseDir: '/tmp' }, handlers);
}

function options(overrides: Partial<RunScenarioOptions<World>> = {}) {
  const events: RunEvent[] = [];
  const world: World = { log: [] };
  const opts: RunScenarioOptions<World> = {
    handlers,
    runtime: world,
    provider: 'local',
    vars: { runId: 'r1', vaultServer: 'http://vault' },
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    timeoutGraceMs: 20,
    ...overrides,
  };
  return { opts, events, log: world.log };
}

const header = 'name: s\ndescription: d\n';

describe('runScenario: steps and phases', () => {
  const yaml =
    header +
    `steps:
  - name: one
    try:
      - act: { id: a }
      - act: { id: b, fail: true }
      - act: { id: c }
    catch:
      - act: { id: d }
      - act: { id: d2, fail: true }
      - act: { id: d3 }
    finally:
      - act: { id: e }
  - name: two
    try:
      - act: { id: f }
`;

  it('runs try until a failure, then catch, then finally; later steps are skipped', async () => {
    const { opts, events, log } = options();
    const report = await runScenario(scenario(yaml), opts);
    expect(log).toEqual(['a', 'b', 'd', 'd2', 'd3', 'e']);
    expect(report.passed).toBe(false);
    expect(report.steps[0]?.operations.map((o) => `${o.phase}:${o.summary}:${o.passed}`)).toEqual([
      'try:act a:true',
      'try:act b:false',
      'catch:act d:true',
      'catch:act d2:false',
      'catch:act d3:true',
      'finally:act e:true',
    ]);
    expect(report.steps[0]?.operations[1]?.error).toBe('b failed');
    expect(report.steps[1]).toMatchObject({ name: 'two', passed: false, skipped: 'an earlier step failed' });
    expect(events.map((e) => e.kind)).toEqual([
      'scenario.start',
      'step.start',
      ...Array<string>(6).fill('operation.start,operation.end').join(',').split(','),
      'step.end',
      'step.skipped',
      'scenario.end',
    ]);
    expect(events.find((e) => e.kind === 'step.end')).toMatchObject({ passed: false, error: 'b failed' });
  });

  it('skips catch when try passes, and passes', async () => {
    const { opts, log } = options();
    const report = await runScenario(
      scenario(
        header +
          'steps:\n  - try: [{ act: { id: a } }]\n    catch: [{ act: { id: c } }]\n    finally: [{ act: { id: f } }]\n',
      ),
      opts,
    );
    expect(log).toEqual(['a', 'f']);
    expect(report.passed).toBe(true);
    expect(report.steps[0]?.operations[0]?.facts).toEqual({ timeoutMs: 30_000 });
  });

  it('puts diagnosis and evidence of an AssertionFailedError on the event and the report', async () => {
    const { opts, events } = options();
    const report = await runScenario(
      scenario(header + 'steps:\n  - try: [{ act: { id: a, assertion: true } }]\n'),
      opts,
    );
    const op = report.steps[0]?.operations[0];
    expect(op).toMatchObject({
      passed: false,
      error: 'a did not hold',
      diagnosis: 'ESO never synced',
      evidence: ['ExternalSecret Ready=False', 'last sync 10s ago'],
    });
    expect(events.find((e) => e.kind === 'operation.end')).toMatchObject({
      diagnosis: 'ESO never synced',
      evidence: ['ExternalSecret Ready=False', 'last sync 10s ago'],
    });
  });

  it('skips a scenario whose requires: excludes the provider', async () => {
    const { opts, events, log } = options({ provider: 'existing' });
    const report = await runScenario(
      scenario(header + 'requires: [local, kind]\nsteps:\n  - try: [{ act: { id: a } }]\n'),
      opts,
    );
    expect(log).toEqual([]);
    expect(report).toMatchObject({ passed: true, skipped: 'requires local or kind; this lab is existing' });
    expect(events.at(-1)).toMatchObject({ kind: 'scenario.end', skipped: report.skipped });
  });

  it('collects rotation events into the report', async () => {
    const { opts } = options();
    const report = await runScenario(
      scenario(header + 'steps:\n  - try: [{ rotate: { path: my-app/config } }]\n'),
      opts,
    );
    expect(report.rotations).toEqual([
      {
        path: 'my-app/config',
        keys: ['password'],
        ackAt: 'now',
        latencyMs: 1200,
        windowMs: 7000,
        withinWindow: true,
      },
    ]);
  });
});

describe('runScenario: templating at run time', () => {
  const yaml =
    header +
    `vars:
  refreshInterval: 5s
  id: "op-\${runId}"
steps:
  - try:
      - poll: { within: '\${vars.refreshInterval}' }
        timeout: 30ms
      - act: { id: '\${vars.id} at \${vaultServer}' }
`;

  it('substitutes vars and built-ins, then validates with the handler schema', async () => {
    const { opts, log } = options({ overrides: { refreshInterval: '2s' } });
    await runScenario(scenario(yaml), opts);
    expect(log).toEqual(['poll 2000']);
  });

  it('reports a value that is invalid after substitution with file:line and field', async () => {
    const { opts, log } = options({ overrides: { refreshInterval: 'soon' } });
    const report = await runScenario(scenario(yaml), opts);
    expect(log).toEqual([]);
    expect(report.steps[0]?.operations[0]?.error).toBe(
      's.yaml:8:25: steps[0].try[0].poll.within: expected a duration like "30s", "1m30s" or "250ms", got "soon"',
    );
  });

  it('substitutes built-ins inside var values', async () => {
    const { opts, log } = options();
    await runScenario(scenario(yaml.replace(/\n {6}- poll.*\n.*\n/, '\n')), opts);
    expect(log).toEqual(['op-r1 at http://vault']);
  });
});

describe('runScenario: timeouts', () => {
  it('applies operation > step > scenario > caller defaults > built-in defaults', async () => {
    const yaml =
      header +
      `timeouts: { apply: 3s }
steps:
  - timeouts: { apply: 2s }
    try:
      - act: { id: op }
        timeout: 1s
      - act: { id: step }
  - try:
      - act: { id: scenario }
`;
    const facts = async (o: Partial<RunScenarioOptions<World>>, text: string) => {
      const { opts } = options(o);
      const r = await runScenario(scenario(text), opts);
      return r.steps.flatMap((s) => s.operations.map((op) => op.facts?.timeoutMs));
    };
    expect(await facts({}, yaml)).toEqual([1000, 2000, 3000]);
    const noScenario = yaml.replace('timeouts: { apply: 3s }\n', '');
    expect(await facts({ defaults: { apply: 4000 } }, noScenario)).toEqual([1000, 2000, 4000]);
    expect(await facts({}, noScenario)).toEqual([1000, 2000, 30_000]);
  });

  it('fails an operation that outlives its timeout, saying which and after how long', async () => {
    const { opts, events, log } = options();
    const report = await runScenario(
      scenario(
        header +
          'steps:\n  - name: slow\n    try:\n      - act: { id: a, hang: true }\n        timeout: 40ms\n      - act: { id: b }\n    finally:\n      - act: { id: f }\n',
      ),
      opts,
    );
    expect(log).toEqual(['a', 'f']);
    const op = report.steps[0]?.operations[0];
    expect(op).toMatchObject({ passed: false, timedOut: true, timeoutMs: 40 });
    expect(op?.error).toBe('act (act a) in step "slow" timed out after 40 ms (operation timeout)');
    expect(op?.durationMs).toBeGreaterThanOrEqual(35);
    expect(report.interrupted).toBeUndefined();
    expect(events.filter((e) => e.kind === 'operation.end').map((e) => 'error' in e && e.error)).toContain(
      op?.error,
    );
  });

  it("keeps the handler's own timeout error, which names what it last saw", async () => {
    const { opts } = options();
    const report = await runScenario(
      scenario(
        header +
          'steps:\n  - name: s\n    timeouts: { assert: 50ms }\n    try:\n      - poll: { within: 1s }\n',
      ),
      opts,
    );
    expect(report.steps[0]?.operations[0]).toMatchObject({
      timedOut: true,
      error:
        'poll (poll within 1000 ms) in step "s": timed out after 50 ms waiting for the Secret to change (last seen: version 3)',
    });
  });

  it('moves on when a handler ignores its signal', async () => {
    const stubborn: OperationHandler<World, Record<string, never>> = {
      name: 'stubborn',
      description: 'Ignores the signal.',
      timeoutKind: 'default',
      schema: z.strictObject({}),
      summarize: () => 'stubborn',
      run: () => sleep(1000),
    };
    const { opts } = options({ handlers: [...handlers, stubborn] });
    const s = parseScenario(
      header + 'steps:\n  - try:\n      - stubborn: {}\n        timeout: 20ms\n',
      { file: 's.yaml', baseDir: '/' },
      [stubborn],
    );
    const t0 = Date.now();
    const report = await runScenario(s, opts);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(report.steps[0]?.operations[0]?.timedOut).toBe(true);
  });
});

describe('runScenario: cleanup', () => {
  const yaml =
    header +
    `steps:
  - try:
      - act: { id: a, cleanup: true }
      - act: { id: b, cleanupFails: true }
      - act: { id: c, cleanup: true }
  - try:
      - act: { id: d, cleanup: true, fail: true }
  - try:
      - act: { id: e, cleanup: true }
`;

  it('runs cleanups last-in-first-out after a failure, collecting errors', async () => {
    const { opts, events, log } = options();
    const report = await runScenario(scenario(yaml), opts);
    expect(log).toEqual(['a', 'b', 'c', 'd', 'undo d', 'undo c', 'undo b', 'undo a']);
    expect(report.cleanups.map((c) => `${c.summary}:${c.passed}`)).toEqual([
      'undo d:true',
      'undo c:true',
      'undo b:false',
      'undo a:true',
    ]);
    expect(report.cleanupErrors).toEqual([{ what: 'undo b', error: 'cannot undo b' }]);
    expect(events.filter((e) => e.kind === 'cleanup.error')).toEqual([
      { kind: 'cleanup.error', what: 'undo b', error: 'cannot undo b' },
    ]);
    expect(events.at(-1)?.kind).toBe('scenario.end');
  });

  it('gives each cleanup its own timeout', async () => {
    const { opts, log } = options({ defaults: { cleanup: 30 } });
    const report = await runScenario(
      scenario(
        header +
          'steps:\n  - try:\n      - act: { id: a, cleanup: true }\n      - act: { id: b, cleanupHangs: true }\n',
      ),
      opts,
    );
    expect(log).toEqual(['a', 'b', 'undo b', 'undo a']);
    expect(report.cleanupErrors).toEqual([
      { what: 'undo b', error: 'cleanup "undo b" timed out after 30 ms (default cleanup timeout)' },
    ]);
    expect(report.passed).toBe(true);
  });

  it('leaves everything in place with keep', async () => {
    const { opts, log } = options({ keep: true });
    const report = await runScenario(scenario(yaml), opts);
    expect(log).toEqual(['a', 'b', 'c', 'd']);
    expect(report.keptCleanups).toEqual(['undo d', 'undo c', 'undo b', 'undo a']);
  });

  it('on abort: stops at once, skips catch/finally and later steps, still cleans up LIFO', async () => {
    const controller = new AbortController();
    const { opts, events, log } = options({ signal: controller.signal });
    const s = scenario(
      header +
        `steps:
  - try:
      - act: { id: a, cleanup: true }
  - try:
      - act: { id: b, cleanup: true, hang: true }
      - act: { id: c }
    catch: [{ act: { id: x } }]
    finally: [{ act: { id: y } }]
  - try:
      - act: { id: d }
`,
    );
    const emit = opts.emit;
    opts.emit = (e) => {
      emit(e);
      // Interrupt while `b` hangs.
      if (e.kind === 'operation.start' && e.summary === 'act b')
        setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 10);
    };
    const report = await runScenario(s, opts);
    expect(log).toEqual(['a', 'b', 'undo b', 'undo a']);
    expect(report).toMatchObject({ passed: false, interrupted: true });
    expect(report.steps[1]?.operations.map((o) => o.error)).toEqual(['interrupted']);
    expect(report.steps[2]?.skipped).toBe('the run was interrupted');
    expect(report.cleanups.every((c) => c.passed)).toBe(true);
    expect(events.find((e) => e.kind === 'scenario.interrupted')).toEqual({
      kind: 'scenario.interrupted',
      scenario: 's',
      reason: 'interrupted by SIGINT',
    });
  });
});

describe('runScenario: wiring errors', () => {
  it('refuses to start when a built-in used by vars has no value', async () => {
    const { opts, events } = options({ vars: {} });
    await expect(
      runScenario(
        scenario(header + 'vars: { a: "x${runId}" }\nsteps:\n  - try: [{ act: { id: a } }]\n'),
        opts,
      ),
    ).rejects.toThrow('s.yaml: vars: no value for ${runId}');
    expect(events).toEqual([]);
  });
});
