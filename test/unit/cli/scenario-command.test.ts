import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';
import {
  defaultParallel,
  parseParallel,
  parseVarFlags,
  resolveScenarioArg,
} from '../../../src/cli/commands/scenario.ts';
import { median } from '../../../src/cli/commands/bench.ts';
import { capture } from '../../helpers/capture.ts';

const run = async (argv: string[], env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' }) => {
  const c = capture();
  const code = await main(argv, { out: c.out, handleSignals: false, env });
  return { code, stdout: c.stdout(), stderr: c.stderr() };
};

describe('scenario command (no lab needed)', () => {
  it('lists the built-in scenarios with descriptions', async () => {
    const r = await run(['scenario', '--list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rotate\s+Rotate a password/m);
  });

  it('validate accepts the built-in rotate scenario', async () => {
    const r = await run(['scenario', 'validate', 'scenarios/rotate.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scenarios/rotate.yaml: ok');
  });

  it('validate names file, line and field for a bad duration, exit 2', async () => {
    const r = await run(['scenario', 'validate', 'test/fixtures/scenarios/cli/bad-duration.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /test\/fixtures\/scenarios\/cli\/bad-duration\.yaml:6:\d+: steps\[0\]\.try\[0\]\.sleep\.for: /,
    );
  });

  it('validate names the unknown operation and suggests the closest, exit 2', async () => {
    const r = await run([
      'scenario',
      'validate',
      'test/fixtures/scenarios/cli/unknown-operation.yaml',
      '--json',
    ]);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout) as {
      valid: boolean;
      issues: { location: { line: number }; field: string; message: string }[];
    };
    expect(j.valid).toBe(false);
    expect(j.issues[0]?.location.line).toBe(7);
    expect(j.issues[0]?.message).toMatch(/rotat/);
    expect(j.issues[0]?.message).toMatch(/rotate/);
  });

  it('running an invalid file exits 2 before creating anything', async () => {
    const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
    const r = await run(['scenario', 'test/fixtures/scenarios/cli/bad-duration.yaml'], {
      ...process.env,
      CI: 'true',
      VAULT_ESO_LAB_STATE_DIR: state,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-duration.yaml:6');
    expect(existsSync(join(state, 'labs')) ? readdirSync(join(state, 'labs')) : []).toEqual([]);
  });

  it('a broken or missing manifest is invalid input (exit 2) before any lab starts', async () => {
    const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
    const r = await run(['scenario', 'test/fixtures/scenarios/cli/bad-manifest.yaml'], {
      ...process.env,
      CI: 'true',
      VAULT_ESO_LAB_STATE_DIR: state,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/manifests\/broken\.yaml:10:\d+: document 2: YAML syntax error/);
    expect(r.stderr).toMatch(
      /bad-manifest\.yaml:7:\d+: steps\[0\]\.try\[1\]\.apply\.file: manifest file not found/,
    );
    expect(existsSync(join(state, 'labs')) ? readdirSync(join(state, 'labs')) : []).toEqual([]);
  });

  it('an unknown built-in scenario is a usage error', async () => {
    const r = await run(['scenario', 'no-such-scenario']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no built-in scenario named 'no-such-scenario'");
  });

  it('resolves names and paths', () => {
    expect(resolveScenarioArg('rotate', process.cwd())).toMatch(/scenarios\/rotate\.yaml$/);
    expect(() => resolveScenarioArg('./nope.yaml', process.cwd())).toThrow(/not found/);
  });

  it('parses --var NAME=value', () => {
    expect(parseVarFlags(['refreshInterval=2s', 'x=a=b'])).toEqual({ refreshInterval: '2s', x: 'a=b' });
    expect(() => parseVarFlags(['novalue'])).toThrow(/NAME=value/);
  });

  it('bench median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('--parallel: a whole number 1–32; the default is four per core, at most 8', () => {
    expect(parseParallel('1')).toBe(1);
    expect(parseParallel('4')).toBe(4);
    expect(() => parseParallel('0')).toThrow(/whole number from 1 to 32/);
    expect(() => parseParallel('two')).toThrow(/whole number/);
    expect(defaultParallel(2)).toBe(8);
    expect(defaultParallel(1)).toBe(4);
    expect(defaultParallel(16)).toBe(8);
    expect(parseParallel(undefined)).toBe(defaultParallel());
  });
});
