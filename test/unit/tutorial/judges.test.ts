/** The judgements the walkthrough prints under real output: they must be able to say "not shown". */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../../src/process/command.ts';
import { judgeBrokenContinuation } from '../../../src/tutorial/steps-vault.ts';

const run = (stdout: string, exitCode = 0): RunResult => ({
  command: 'sh',
  exitCode,
  stdout,
  stderr: '',
  durationMs: 1,
});

describe('the broken-continuation verdict', () => {
  it('says what happened when vault refused its arguments and the script still exited 0', () => {
    const r = judgeBrokenContinuation(
      run(
        '+ vault write auth/kubernetes/config  \nFailed to parse K=V data: invalid key/value pair " ": format must be key=value\n+ kubernetes_host=https://kubernetes.default.svc:443\nexit status: 0\n',
      ),
    );
    expect(r.facts?.brokenContinuationShown).toBe(true);
    expect(r.output).toMatch(/→ vault refused its arguments/);
  });

  it('says so when the shell did something else', () => {
    const r = judgeBrokenContinuation(
      run('Success! Data written to: auth/kubernetes/config\nexit status: 0\n'),
    );
    expect(r.facts?.brokenContinuationShown).toBe(false);
    expect(r.output).toMatch(/did not behave as described/);
  });
});
