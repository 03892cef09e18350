/** The judgements the walkthrough prints under real output: they must be able to say "not shown". */
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../../src/process/command.ts';
import { CONSUMER_IMAGE, consumersYaml } from '../../../src/tutorial/steps-consumers.ts';
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

describe('the consumer pods', () => {
  it('are two Pods of the consumer image, one reading an env var, one a mounted Secret volume', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a parsed manifest
    const docs = parseAllDocuments(consumersYaml()).map((d) => d.toJS() as Record<string, any>);
    expect(docs.map((d) => [d.kind, d.metadata.name])).toEqual([
      ['Pod', 'consumer-env'],
      ['Pod', 'consumer-file'],
    ]);
    const [env, file] = docs.map((d) => d.spec.containers[0]);
    expect(env.image).toBe(CONSUMER_IMAGE);
    expect(env.args).toEqual(['--env', 'PASSWORD']);
    expect(env.env[0].valueFrom.secretKeyRef).toEqual({ name: 'my-app-user-password', key: 'password' });
    expect(file.args).toEqual(['--file', '/etc/app/password']);
    expect(docs[1]?.spec.volumes[0].secret).toEqual({ secretName: 'my-app-user-password' });
  });
});
