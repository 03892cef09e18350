import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { RunDir } from '../../../src/labs/run-dir.ts';
import { ExitCode } from '../../../src/errors.ts';
import { capture } from '../../helpers/capture.ts';

const run = async (...argv: string[]) => {
  const c = capture();
  const code = await main(argv, { out: c.out, handleSignals: false, env: { ...process.env, CI: 'true' } });
  return { code, stdout: c.stdout(), stderr: c.stderr() };
};

describe('cli', () => {
  it('exits 2 on an unknown command and lists the commands', async () => {
    const r = await run('nosuch');
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain("unknown command 'nosuch'");
    for (const c of ['up', 'down', 'status', 'env', 'scenario', 'tutorial', 'doctor', 'bench'])
      expect(r.stderr).toContain(`  ${c}`);
  });

  it('exits 2 with usage when no command is given', async () => {
    const r = await run();
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain('Usage: vault-eso-lab <command>');
  });

  it('prints help on stdout and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Commands:');
  });

  it.each(['up', 'down', 'status', 'env', 'scenario', 'tutorial', 'doctor', 'bench'])(
    '%s --help documents its options',
    async (name) => {
      const r = await run(name, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: vault-eso-lab ${name}`);
      expect(r.stdout).toContain('--json');
    },
  );

  it('exits 2 on an unknown flag, naming it', async () => {
    const r = await run('status', '--bogus');
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toMatch(/status: .*--bogus/);
  });

  it('exits 2 on a bad --provider value', async () => {
    const r = await run('up', '--provider', 'docker-desktop');
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain('--provider must be one of');
  });

  it('prints its version', async () => {
    const r = await run('--version');
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('lab names', () => {
  const inState = async (...argv: string[]) => {
    const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
    const c = capture();
    const code = await main(argv, {
      out: c.out,
      handleSignals: false,
      env: { ...process.env, CI: 'true', VAULT_ESO_LAB_STATE_DIR: state },
    });
    return { code, stdout: c.stdout(), stderr: c.stderr(), state };
  };

  it.each([
    ['up', '../escaped'],
    ['up', 'a/b'],
    ['up', 'Upper'],
    ['up', '-lead'],
    ['up', ''],
    ['down', '../escaped'],
    ['status', '../escaped'],
    ['env', '..'],
  ])('%s --name %j is exit 2 before anything starts', async (cmd, name) => {
    const r = await inState(cmd, `--name=${name}`, ...(cmd === 'up' ? ['--provider', 'local'] : []));
    expect(r.code).toBe(ExitCode.invalidInput);
    expect(r.stderr).toContain('--name must be lowercase letters, digits and');
    expect(existsSync(join(r.state, 'labs')) ? readdirSync(join(r.state, 'labs')) : []).toEqual([]);
    expect(readdirSync(r.state)).toEqual([]);
  });

  it('a run directory is never created outside labs/', () => {
    const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
    expect(() => RunDir.create('../escaped', { VAULT_ESO_LAB_STATE_DIR: state })).toThrow(/lab name must be/);
    expect(readdirSync(state)).toEqual([]);
  });
});

describe('down --json', () => {
  it('prints what it stopped, also when nothing was running', async () => {
    const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
    const c = capture();
    const code = await main(['down', '--json'], {
      out: c.out,
      handleSignals: false,
      env: { ...process.env, CI: 'true', VAULT_ESO_LAB_STATE_DIR: state },
    });
    expect(code).toBe(0);
    expect(JSON.parse(c.stdout())).toEqual({ stopped: [], leftoversCleared: [] });
  });
});

describe('tutorial', () => {
  it('refuses the existing provider (it would overwrite the tutorial names on a shared cluster), exit 2', async () => {
    const c = capture();
    const code = await main(['tutorial', '--yes', '--provider', 'existing'], {
      out: c.out,
      handleSignals: false,
      env: { ...process.env, CI: 'true' },
    });
    expect(code).toBe(2);
    expect(c.stderr()).toContain("tutorial's own names");
  });
});
