/**
 * Runs the real CLI as a user does (`node bin/vault-eso-lab.js …`) and times it from exec to exit, so startup
 * figures include Node's own start, module loading and the command's work.
 */
import { join } from 'node:path';
import { repoRoot } from '../paths.ts';
import { runCommand } from '../process/command.ts';

export const cliPath = join(repoRoot, 'bin', 'vault-eso-lab.js');

export interface TimedCli {
  ms: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** False when the bin fell back to the TypeScript sources (dist/ missing or stale). */
  compiled: boolean;
}

export async function timeCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  timeoutMs = 300_000,
): Promise<TimedCli> {
  const t0 = performance.now();
  const r = await runCommand(process.execPath, [cliPath, ...args], {
    env: { ...env, CI: 'true' },
    extendEnv: false,
    reject: false,
    signal,
    timeoutMs,
  });
  return {
    ms: performance.now() - t0,
    exitCode: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    compiled: !r.stderr.includes('note: dist/ is missing or older'),
  };
}

/** `<component> ready in 1.23 s` lines of `up`'s progress, as milliseconds per component. */
export function componentTimes(stderr: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of stderr.matchAll(/^\W*(\S+) ready in ([\d.]+) (ms|s|min)\b/gm)) {
    const v = Number(m[2]) * (m[3] === 'ms' ? 1 : m[3] === 's' ? 1000 : 60_000);
    if (m[1] !== 'lab' && !m[1]!.startsWith("'")) out[m[1]!] = Math.round(v);
  }
  return out;
}
