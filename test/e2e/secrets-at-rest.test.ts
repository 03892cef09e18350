/**
 * `scenario secrets-at-rest` on the real local lab, both ways: by default the synced password is in etcd as it is;
 * on a lab started with --encrypt-secrets the entry is an aescbc envelope without it. Each half starts its own
 * ephemeral lab (the flag configures the API server at start) and reads etcd itself, not the API.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const out = mkdtempSync(join(tmpdir(), 'vel-e2e-at-rest-'));

interface Report {
  passed: boolean;
  steps: { operations: { operation: string; passed: boolean; facts?: Record<string, unknown> }[] }[];
}

function etcdFacts(file: string): Record<string, unknown> | undefined {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  return report.steps.flatMap((s) => s.operations).find((o) => o.operation === 'assertEtcd')?.facts;
}

describe.each([
  { flag: [] as string[], storedAs: 'plain', inEtcd: true, encryption: 'none' },
  { flag: ['--encrypt-secrets'], storedAs: 'aescbc', inEtcd: false, encryption: 'aescbc' },
])('scenario secrets-at-rest $flag', ({ flag, storedAs, inEtcd, encryption }) => {
  const env = isolatedEnv();
  const report = join(out, `${storedAs}.json`);
  let r: CliResult;
  beforeAll(async () => {
    r = await cli(
      ['scenario', 'secrets-at-rest', '--provider', 'local', ...flag, '--report-json', report],
      env,
    );
  });

  it('passes', () => {
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  });

  it(`finds the password in etcd ${inEtcd ? 'in plain form' : 'nowhere: an aescbc envelope'}`, () => {
    expect(etcdFacts(report)).toMatchObject({
      etcdKey: '/registry/secrets/my-app/my-app-user-password',
      labEncryption: encryption,
      storedAs,
      valueInEtcd: inEtcd,
    });
  });

  it('leaves nothing running', () => {
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR as string)).toEqual([]);
  });
});
