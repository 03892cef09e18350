/** Run the real CLI as a child process, as a user would. */
import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../../bin/vault-eso-lab.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<CliResult> {
  const r = await execa('node', [cliPath, ...args], {
    env,
    extendEnv: false,
    reject: false,
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function cliProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): ResultPromise<{ reject: false; stdin: 'ignore'; extendEnv: false; env: NodeJS.ProcessEnv }> {
  return execa('node', [cliPath, ...args], { env, extendEnv: false, reject: false, stdin: 'ignore' });
}

/** Resolve once a running CLI's stderr has shown `needle` (a progress line); reject with what it showed by then. */
export function waitForStderr(
  p: ReturnType<typeof cliProcess>,
  needle: RegExp,
  timeoutMs = 180_000,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`did not see ${needle} in: ${seen}`)), timeoutMs);
    p.stderr?.on('data', (c: Buffer) => {
      seen += c.toString();
      if (needle.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}
