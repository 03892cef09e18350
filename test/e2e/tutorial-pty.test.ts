/**
 * The interactive walkthrough, driven through a pseudo-terminal (util-linux `script`): Enter runs the next step,
 * `q` stops, cleans up what was created (last first) and stops the ephemeral lab.
 */
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../src/process/command.ts';
import { cliPath } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const env = isolatedEnv();
const stateDir = env.VAULT_ESO_LAB_STATE_DIR as string;
const hasScript = which('script') !== undefined;

describe.skipIf(!hasScript)('tutorial on a terminal', () => {
  let output = '';
  let exitCode: number | undefined;
  const prompts: string[] = [];

  beforeAll(async () => {
    const child = execa('script', ['-qfec', `node ${cliPath} tutorial --provider local`, '/dev/null'], {
      env,
      extendEnv: false,
      reject: false,
      stdin: 'pipe',
      timeout: 300_000,
    });
    const waitFor = (text: string, from: number) =>
      new Promise<number>((resolve, reject) => {
        const check = () => {
          const i = output.indexOf(text, from);
          if (i >= 0) {
            child.stdout?.off('data', check);
            resolve(i + text.length);
          }
        };
        child.stdout?.on('data', check);
        void child.then(() => reject(new Error(`exited before '${text}' appeared:\n${output}`)));
        check();
      });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString('utf8')));
    let at = await waitFor(': Create the secret in Vault — Enter to run', 0);
    prompts.push('1');
    child.stdin?.write('\r');
    at = await waitFor(': Write the read policy — Enter to run', at);
    prompts.push('2');
    child.stdin?.write('\r');
    await waitFor(': Enable and configure Kubernetes auth — Enter to run', at);
    prompts.push('3');
    child.stdin?.write('q');
    const r = await child;
    exitCode = r.exitCode;
  });

  it('waits for Enter before each step and runs it', () => {
    expect(prompts).toEqual(['1', '2', '3']);
    expect(output).toContain('Success! Uploaded policy: my-app-read');
    expect(output).not.toContain('Success! Enabled kubernetes auth method');
  });

  it('stops on q, cleans up what it created (last first) and exits 0', () => {
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/Step 1\/\d+: Create the secret in Vault/);
    expect(output).toMatch(/Stopped after 2 of \d+ steps, as asked\./);
    const policy = output.indexOf('$ vault policy delete my-app-read');
    const kv = output.indexOf('$ vault kv metadata delete secret/my-app/config');
    expect(policy).toBeGreaterThan(0);
    expect(kv).toBeGreaterThan(policy);
    expect(output).toMatch(/lab '[^']+' stopped/);
  });

  it('leaves nothing running', () => {
    expect(processesMentioning(stateDir)).toEqual([]);
  });
});
