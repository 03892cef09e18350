import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.ts';
import { repoRoot } from '../../../src/paths.ts';

describe('command index', () => {
  it("lists each command under its own name with the command's own summary", async () => {
    for (const entry of commands) {
      const cmd = await entry.load();
      expect(cmd.name).toBe(entry.name);
      expect(entry.summary).toBe(cmd.summary);
    }
  });

  it('bin/vault-eso-lab.js prints the help and exits 0 (from dist/ when current, else from the sources)', () => {
    const stdout = execFileSync(process.execPath, ['bin/vault-eso-lab.js', '--help'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(stdout).toContain('Usage: vault-eso-lab <command>');
    for (const c of commands) expect(stdout).toContain(`  ${c.name}`);
  });
});
