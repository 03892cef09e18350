import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AssertionFailedError } from '../../../src/errors.ts';
import { SecretRegistry } from '../../../src/report/redact.ts';
import { combineReporters, createReporters } from '../../../src/report/reporter.ts';
import { jsonReport } from '../../../src/report/json-reporter.ts';
import { renderJunit, xmlEscape } from '../../../src/report/junit-reporter.ts';
import { exitCodeFor, type RunReport } from '../../../src/report/report-model.ts';
import { parseScenario } from '../../../src/scenario/loader.ts';
import type { OperationHandler } from '../../../src/scenario/operation.ts';
import { runScenarios } from '../../../src/scenario/orchestrator.ts';
import { captureOutput } from './capture-output.ts';

const SECRET = 'hunter2-very-secret';

/** Emits a rotation, and fails (leaking a secret value in every field) on request. */
const check: OperationHandler<unknown, { path: string; fail?: boolean }> = {
  name: 'check',
  description: 'Check a path.',
  timeoutKind: 'assert',
  schema: z.strictObject({ path: z.string(), fail: z.boolean().optional() }),
  summarize: (a) => a.path,
  async run(ctx, a) {
    ctx.emit({
      kind: 'rotation',
      path: a.path,
      keys: ['password'],
      ackAt: '2026-01-01T00:00:00.000Z',
      latencyMs: 5123.4,
      windowMs: 7000,
      withinWindow: !a.fail,
    });
    if (a.fail)
      throw new AssertionFailedError(`value ${SECRET} <did not> match "expected" & more\u0007`, {
        diagnosis: `ESO read ${SECRET} from the wrong path`,
        evidence: [`data.password=${SECRET}`, 'ExternalSecret Ready=False'],
      });
    return { facts: { latencyMs: 5123 } };
  },
};

const scenarioText = (name: string, fail: boolean, requires = '') =>
  `name: ${name}\ndescription: d\n${requires}steps:\n  - name: sync\n    try:\n      - check: { path: my-app/config, fail: ${fail} }\n`;

let dir: string;
let run: RunReport;
let console_: ReturnType<typeof captureOutput>;
const registry = new SecretRegistry();

beforeAll(async () => {
  registry.add(SECRET);
  dir = await mkdtemp(join(tmpdir(), 'reporters-'));
  const parse = (text: string) => parseScenario(text, { file: 'scenarios/x.yaml', baseDir: dir }, [check]);
  console_ = captureOutput();
  const reporters = combineReporters(
    createReporters({
      out: console_,
      json: join(dir, 'out/report.json'),
      junit: join(dir, 'out/junit.xml'),
      registry,
    }),
  );
  // A pre-existing, world-readable report file must end up 0600 too.
  await writeFile(join(dir, 'single.json'), '{}', { mode: 0o644 });
  run = await runScenarios(
    [
      parse(scenarioText('good', false)),
      parse(scenarioText('bad<&>', true)),
      parse(scenarioText('elsewhere', false, 'requires: [kind]\n')),
    ],
    {
      handlers: [check],
      runtime: { open: () => undefined },
      provider: 'local',
      vars: {},
      emit: reporters.emit,
      signal: new AbortController().signal,
      versions: { openbao: 'v2.4.1', eso: 'v0.16.2' },
    },
  );
  await reporters.end(run);
});

// eslint-disable-next-line no-control-regex
const COLOURS = /\u001b\[\d+m/g;

describe('console reporter', () => {
  it('prints one progress line per operation on stderr, failures with diagnosis and evidence', () => {
    const err = console_.stderrText();
    expect(err).toMatch(/ {4}✓ check my-app\/config \d+ ms latencyMs=5123\n/);
    expect(err).toMatch(
      / {4}✗ check my-app\/config \d+ ms\n {6}value <redacted sha256:[0-9a-f]{8}> <did not> match/,
    );
    expect(err).toContain('      diagnosis: ESO read <redacted');
    expect(err).toMatch(
      / {6}evidence:\n {8}data\.password=<redacted sha256:[0-9a-f]{8}>\n {8}ExternalSecret Ready=False\n/,
    );
    expect(err).toContain('elsewhere skipped: requires kind; this lab is local');
    expect(err).not.toContain('\u0007');
  });

  it('prints the summary and the rotations table on stdout', () => {
    const out = console_.stdoutText();
    expect(out).toMatch(/good\s+PASS\s+\d+ ms/);
    expect(out).toMatch(/bad<&>\s+FAIL\s+\d+ ms\s+sync: check: value <redacted/);
    expect(out).toMatch(/elsewhere\s+SKIP/);
    expect(out).toMatch(/scenario\s+path\s+keys\s+latency ms\s+window ms\s+within\?/);
    expect(out).toMatch(/good\s+my-app\/config\s+password\s+5123\s+7000\s+yes/);
    expect(out).toMatch(/bad<&>\s+my-app\/config\s+password\s+5123\s+7000\s+no/);
    expect(out).toMatch(/FAIL 1 passed, 1 failed, 1 skipped in \S+ \S+ \(local\)\n$/);
  });

  it('on a TTY replaces the pending operation line with its result', async () => {
    const tty = captureOutput(true);
    const { emit } = combineReporters(createReporters({ out: tty, registry }));
    emit({ kind: 'operation.start', step: 's', operation: 'check', summary: 'p', phase: 'try' });
    emit({
      kind: 'operation.end',
      step: 's',
      operation: 'check',
      summary: 'p',
      phase: 'try',
      passed: true,
      durationMs: 5,
    });
    emit({ kind: 'operation.start', step: 's', operation: 'check', summary: 'q', phase: 'finally' });
    emit({ kind: 'lab.info', message: 'something else' });
    const text = tty.stderrText().replace(COLOURS, ''); // colours aside
    expect(text).toBe(
      '\r\u001b[2K    ⠋ check p\r\u001b[2K    ✓ check p 5 ms\n\r\u001b[2K    ⠋ [finally] check q\nsomething else\n',
    );
  });

  it('on a TTY the pending line spins and shows the elapsed time', () => {
    vi.useFakeTimers();
    try {
      const tty = captureOutput(true);
      const { emit } = combineReporters(createReporters({ out: tty, registry }));
      emit({ kind: 'operation.start', step: 's', operation: 'wait', summary: 'long', phase: 'try' });
      vi.advanceTimersByTime(1500);
      const text = tty.stderrText().replace(COLOURS, '');
      expect(text).toContain('⠙ wait long');
      expect(text).toMatch(/⠴ wait long 1\.50 s$/);
      emit({
        kind: 'operation.end',
        step: 's',
        operation: 'wait',
        summary: 'long',
        phase: 'try',
        passed: true,
        durationMs: 1500,
      });
      const before = tty.stderrText().length;
      vi.advanceTimersByTime(1000);
      expect(tty.stderrText().length).toBe(before); // the spinner stopped with the result
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('JSON report', () => {
  it('has the documented shape for several scenarios', async () => {
    const text = await readFile(join(dir, 'out/report.json'), 'utf8');
    const doc = JSON.parse(text) as Record<string, unknown> & { scenarios: Record<string, unknown>[] };
    expect(doc).toMatchObject({
      provider: 'local',
      passed: false,
      versions: { openbao: 'v2.4.1', eso: 'v0.16.2' },
    });
    expect(doc.scenarios.map((s) => s.scenario)).toEqual(['good', 'bad<&>', 'elsewhere']);
    expect(doc.scenarios[1]).toMatchObject({
      passed: false,
      rotations: [{ path: 'my-app/config', latencyMs: 5123.4, windowMs: 7000, withinWindow: false }],
      steps: [
        { name: 'sync', passed: false, operations: [{ operation: 'check', phase: 'try', passed: false }] },
      ],
    });
    expect(text).not.toContain(SECRET);
    expect(text).toContain('<redacted sha256:');
    expect((await stat(join(dir, 'out/report.json'))).mode & 0o777).toBe(0o600);
  });

  it('is the scenario object itself (with versions) for a single scenario', () => {
    const single = { ...run, scenarios: run.scenarios.slice(0, 1) };
    expect(jsonReport(single)).toMatchObject({
      scenario: 'good',
      provider: 'local',
      passed: true,
      durationMs: expect.any(Number) as number,
      steps: [{ name: 'sync', passed: true }],
      rotations: [{ latencyMs: 5123.4, windowMs: 7000 }],
      versions: { openbao: 'v2.4.1' },
    });
  });

  it('maps the run to an exit code', () => {
    expect(exitCodeFor(run)).toBe(1);
    expect(exitCodeFor({ passed: true, interrupted: false })).toBe(0);
    expect(exitCodeFor({ passed: false, interrupted: true })).toBe(130);
  });
});

describe('JUnit report', () => {
  it('is well-formed, escaped and redacted, one testcase per scenario', async () => {
    const xml = await readFile(join(dir, 'out/junit.xml'), 'utf8');
    assertWellFormed(xml);
    expect(xml).not.toContain(SECRET);
    expect(xml).not.toContain('\u0007');
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('tests="3" failures="1" errors="0" skipped="1"');
    expect(xml).toContain('<testcase name="bad&lt;&amp;&gt;" classname="vault-eso-lab.local"');
    expect(xml).toMatch(
      /<failure message="step &quot;sync&quot;: check my-app\/config: value &lt;redacted sha256:[0-9a-f]{8}&gt; &lt;did not&gt; match &quot;expected&quot; &amp; more\uFFFD" type="check">/,
    );
    expect(xml).toContain('  diagnosis: ESO read &lt;redacted sha256:');
    expect(xml).toContain('<skipped message="requires kind; this lab is local"/>');
    expect(xml).toContain('<property name="version.openbao" value="v2.4.1"/>');
    expect((await stat(join(dir, 'out/junit.xml'))).mode & 0o777).toBe(0o600);
  });

  it('writes an interrupted scenario as an error', () => {
    const interrupted: RunReport = {
      ...run,
      interrupted: true,
      scenarios: [{ ...run.scenarios[0]!, passed: false, interrupted: true }],
    };
    const xml = renderJunit(interrupted, registry);
    assertWellFormed(xml);
    expect(xml).toContain('errors="1"');
    expect(xml).toContain('<error message="interrupted" type="interrupted">');
  });

  it('escapes the five XML specials and drops invalid characters', () => {
    expect(xmlEscape(`<a href="x">'&'</a>\u0000\u001b[31m`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\uFFFD\uFFFD[31m',
    );
  });

  it('re-applies 0600 to an existing report file', async () => {
    const file = join(dir, 'single.json');
    const { emit: _e, end } = combineReporters(
      createReporters({ out: captureOutput(), json: file, summary: false, registry }),
    );
    await end(run);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});

/** A small XML well-formedness check: balanced tags, quoted attributes, no raw `<` or stray `&` in text. */
function assertWellFormed(xml: string): void {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  const body = xml.slice(xml.indexOf('\n') + 1);
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, close, name, attrs, selfClose, text] = m;
    if (text !== undefined) {
      expect(text).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
      continue;
    }
    for (const a of (attrs ?? '').matchAll(/="([^"]*)"/g))
      expect(a[1]).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    if (close) expect(stack.pop()).toBe(name);
    else if (!selfClose) stack.push(name as string);
  }
  expect(consumed).toBe(body.length);
  expect(stack).toEqual([]);
}
