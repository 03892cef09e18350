import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.ts';
import { loadScenario, loadScenarios, parseScenario } from '../../../src/scenario/loader.ts';
import { fakeHandlers } from './fake-handlers.ts';

const dir = join(import.meta.dirname, '../../fixtures/scenarios');
const cwd = join(import.meta.dirname, '../../..');

async function loadError(name: string): Promise<InvalidInputError> {
  try {
    await loadScenario(join(dir, 'invalid', name), fakeHandlers, { cwd });
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error(`${name} loaded without error`);
}

describe('loadScenario: valid files', () => {
  it('loads every part of a full scenario', async () => {
    const s = await loadScenario(join(dir, 'valid/rotate.yaml'), fakeHandlers, { cwd });
    expect(s.name).toBe('rotate');
    expect(s.file).toBe('test/fixtures/scenarios/valid/rotate.yaml');
    expect(s.baseDir).toBe(join(dir, 'valid'));
    expect(s.requires).toEqual(['local', 'kind']);
    expect(s.vars).toEqual({ refreshInterval: '5s', namespace: 'my-app${namespaceSuffix}' });
    expect(s.timeouts).toEqual({ assert: 60_000, apply: 30_000 });
    const [first, second] = s.steps;
    expect(first?.timeouts).toEqual({ assert: 30_000 });
    expect(first?.try.map((o) => o.operation)).toEqual(['apply', 'assertSecret']);
    expect(first?.try[1]).toMatchObject({ label: 'secret appears', timeoutMs: 45_000, phase: 'try' });
    expect(first?.try[1]?.location.line).toBe(15);
    expect(first?.catch.map((o) => o.phase)).toEqual(['catch']);
    expect(first?.finally).toHaveLength(1);
    // Templated values stay raw until run time.
    expect(second?.try[0]?.args).toMatchObject({ within: '${vars.refreshInterval}' });
    expect(second?.name).toBe('rotate');
  });

  it('names unnamed steps by position', async () => {
    const s = await loadScenario(join(dir, 'valid/minimal.yml'), fakeHandlers, { cwd });
    expect(s.steps[0]?.name).toBe('step 1');
    expect(s.vars).toEqual({});
  });
});

describe('loadScenario: invalid files', () => {
  const f = (name: string) => `test/fixtures/scenarios/invalid/${name}`;

  it('unknown operation: names the known ones and the closest', async () => {
    const e = await loadError('unknown-operation.yaml');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      `${f('unknown-operation.yaml')}:6:9: steps[0].try[0].asertSecret: unknown operation "asertSecret"; ` +
        'did you mean "assertSecret"? (known: apply, assertSecret, note)',
    );
  });

  it('wrong field type', async () => {
    const e = await loadError('wrong-type.yaml');
    expect(e.describe()).toBe(
      `${f('wrong-type.yaml')}:9:17: steps[0].try[1].assertSecret.name: expected string, received array`,
    );
  });

  it('extra fields at every level, with hints', async () => {
    const e = await loadError('extra-field.yaml');
    expect(e.issues.map((i) => `${i.location.line}:${i.location.column} ${i.field}`)).toEqual([
      '3:1 colour',
      '6:5 steps[0].retries',
      '8:60 steps[0].try[0].assertSecret.extra',
    ]);
    expect(e.issues[0]?.message).toMatch(/^unknown field "colour" \(allowed: name, description, .*steps\)$/);
    expect(e.issues[2]?.message).toContain('(allowed: namespace, name, within)');
  });

  it('bad durations, with what was given', async () => {
    const e = await loadError('bad-duration.yaml');
    expect(e.describe().split('\n')).toEqual([
      `${f('bad-duration.yaml')}:4:11: timeouts.assert: expected a duration like "30s", "1m30s" or "250ms", got "5 seconds"`,
      `${f('bad-duration.yaml')}:8:56: steps[0].try[0].assertSecret.within: expected a duration like "30s", "1m30s" or "250ms", got "5x"`,
      `${f('bad-duration.yaml')}:9:18: steps[0].try[0].timeout: a duration needs a unit: write "10s" (or ms, m, h), not 10`,
    ]);
  });

  it('two operation keys in one item', async () => {
    const e = await loadError('two-operations.yaml');
    expect(e.message).toBe(
      `${f('two-operations.yaml')}:7:9: steps[0].try[0]: one operation per item, found "note" and "assertSecret": make each its own list item`,
    );
  });

  it('undeclared ${vars.x} and unknown roots', async () => {
    const e = await loadError('undeclared-var.yaml');
    expect(e.describe().split('\n')).toEqual([
      `${f('undeclared-var.yaml')}:8:23: steps[0].try[0].note.text: \${vars.missing} refers to an undeclared var "missing" (declared: declared)`,
      expect.stringMatching(
        new RegExp(
          `^${f('undeclared-var.yaml')}:9:23: steps\\[0\\]\\.try\\[1\\]\\.note\\.text: unknown template reference \\$\\{vaultToken\\}: use`,
        ),
      ),
    ]);
  });

  it('YAML syntax errors get file:line', async () => {
    const e = await loadError('syntax-error.yaml');
    expect(e.message).toBe(
      `${f('syntax-error.yaml')}:6:23: YAML syntax error: Block collections are not allowed within flow collections`,
    );
  });

  it('missing required fields point at the enclosing key', async () => {
    const e = await loadError('missing-field.yaml');
    expect(e.describe().split('\n')).toEqual([
      `${f('missing-field.yaml')}:1:1: description: is required`,
      `${f('missing-field.yaml')}:5:9: steps[0].try[0].assertSecret.name: is required`,
    ]);
  });

  it('collects the issues of several files and duplicate names into one error', async () => {
    const files = ['unknown-operation.yaml', 'two-operations.yaml'].map((n) => join(dir, 'invalid', n));
    const e = await loadScenarios(
      [...files, join(dir, 'valid/minimal.yml'), join(dir, 'valid/minimal.yml')],
      fakeHandlers,
      { cwd },
    ).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidInputError);
    const issues = (e as InvalidInputError).issues;
    expect(issues.map((i) => i.location.file)).toEqual([
      f('unknown-operation.yaml'),
      f('two-operations.yaml'),
      'test/fixtures/scenarios/valid/minimal.yml',
    ]);
    expect(issues[2]?.message).toContain('scenario name "minimal" is also used by');
  });
});

describe('parseScenario edge cases', () => {
  const where = { file: 'x.yaml', baseDir: '/tmp' };
  const parse = (text: string) => () => parseScenario(text, where, fakeHandlers);

  it('an empty file', () => {
    expect(parse('')).toThrow('x.yaml:1:1: the scenario file is empty');
  });

  it('a list item that has no operation', () => {
    expect(parse('name: a\ndescription: b\nsteps:\n  - try:\n      - timeout: 5s\n')).toThrow(
      'x.yaml:5:9: steps[0].try[0]: no operation in this item (one of: apply, assertSecret, note)',
    );
  });

  it('vars may use built-ins only', () => {
    expect(
      parse(
        'name: a\ndescription: b\nvars:\n  x: "${vars.y}"\n  y: z\nsteps:\n  - try:\n      - note: { text: t }\n',
      ),
    ).toThrow(/x.yaml:4:6: vars.x: vars may only use built-ins/);
  });

  it('an unterminated ${', () => {
    expect(parse('name: a\ndescription: b\nsteps:\n  - try:\n      - note: { text: "${runId" }\n')).toThrow(
      /steps\[0\]\.try\[0\]\.note\.text: unterminated "\$\{"/,
    );
  });

  it('$${ is a literal and needs no declaration', () => {
    const s = parseScenario(
      'name: a\ndescription: b\nsteps:\n  - try:\n      - note: { text: "$${HOME}" }\n',
      where,
      fakeHandlers,
    );
    expect(s.steps[0]?.try[0]?.args).toEqual({ text: '$${HOME}' });
  });
});

describe('listScenarios', () => {
  it('lists valid scenarios and marks invalid ones', async () => {
    const { listScenarios } = await import('../../../src/scenario/loader.ts');
    const valid = await listScenarios(join(dir, 'valid'), fakeHandlers, { cwd });
    expect(valid.map((s) => [s.name, s.description, s.requires])).toEqual([
      ['minimal', 'The smallest valid scenario.', undefined],
      ['rotate', 'Rotate a password in Vault and watch the Secret follow.', ['local', 'kind']],
    ]);
    const invalid = await listScenarios(join(dir, 'invalid'), fakeHandlers, { cwd });
    expect(invalid.every((s) => s.error instanceof InvalidInputError)).toBe(true);
    expect(invalid.map((s) => s.name)).toContain('syntax-error');
  });
});
