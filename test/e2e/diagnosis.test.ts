/**
 * The diagnosis, end to end on ONE real local lab: each case under test/fixtures/scenarios/diagnosis/ is a
 * scenario whose ExternalSecret cannot sync for a known reason; `vault-eso-lab scenario` runs them all on a lab
 * started with `up`, and the printed diagnosis line must name the real cause. A passing scenario checks the format
 * the cases rely on (JSON values, nested properties, measureFrom: apply).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const env = isolatedEnv();
const out = mkdtempSync(join(tmpdir(), 'vel-e2e-diagnosis-'));
const dir = join(import.meta.dirname, '../fixtures/scenarios/diagnosis');
const CASES = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(dir, f))
  .sort();
const FORMAT = join(import.meta.dirname, '../fixtures/scenarios/format/json-values.yaml');

interface OperationJson {
  operation: string;
  passed: boolean;
  diagnosis?: string;
  evidence?: string[];
  facts?: Record<string, string | number | boolean>;
}
interface RunJson {
  scenarios: { scenario: string; passed: boolean; steps: { operations: OperationJson[] }[] }[];
}

let r: CliResult;
let report: RunJson;
let vaultServer = '';

const failed = (name: string): OperationJson => {
  const s = report.scenarios.find((x) => x.scenario === `diag-${name}`);
  const op = s?.steps.flatMap((st) => st.operations).find((o) => !o.passed);
  if (!op) throw new Error(`diag-${name}: no failed operation\n${r.stderr.slice(-4000)}`);
  return op;
};

beforeAll(async () => {
  const up = await cli(['up', '--provider', 'local'], env);
  if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`);
  vaultServer =
    /VAULT_ADDR=['"]?(http:\/\/127\.0\.0\.1:\d+)/.exec((await cli(['env'], env)).stdout)?.[1] ?? '';
  r = await cli(
    ['scenario', ...CASES, FORMAT, '--report-json', join(out, 'diagnosis.json')],
    env,
    6 * 60_000,
  );
  report = JSON.parse(readFileSync(join(out, 'diagnosis.json'), 'utf8')) as RunJson;
  // The real texts, for the unit tests built from them (test/unit/scenario/diagnosis-real-messages.test.ts).
  for (const s of report.scenarios)
    for (const op of s.steps.flatMap((st) => st.operations).filter((o) => !o.passed))
      process.stderr.write(
        `[diagnosis] ${s.scenario}: ${op.diagnosis}\n  ${(op.evidence ?? []).join('\n  ')}\n`,
      );
}, 8 * 60_000);

afterAll(async () => {
  await cli(['down'], env);
  expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
});

describe('diagnosis on the local lab', () => {
  it('every case fails (exit 1) and prints its diagnosis line', () => {
    expect(r.exitCode).toBe(1);
    for (const file of CASES) {
      const name = file.replace(/^.*\//, '').replace(/\.yaml$/, '');
      expect(r.stderr).toContain(`diagnosis: ${failed(name).diagnosis}`);
    }
  });

  it('a missing property on a Ready store is named, with the keys that exist (not "store not ready")', () => {
    expect(failed('missing-property').diagnosis).toBe(
      'wrong property: remoteRef.property "passwrd" does not exist in secret/data/diag/missing-property; the keys there are password, username',
    );
  });

  it('a correct KV v1 store on a real KV v1 mount with a typo in the property: the property, at the v1 path', () => {
    expect(failed('kv1-property').diagnosis).toBe(
      'wrong property: remoteRef.property "usernme" does not exist in diag-kv1/diag/kv1-property; the keys there are password, username',
    );
  });

  it("a KV v1 store on the lab's KV v2 mount: wrong KV version, checked against sys/mounts", () => {
    expect(failed('kv-version').diagnosis).toMatch(
      /^wrong KV version: SecretStore vault-backend uses version v1 but secret\/ is a KV v2 mount \(ESO reads secret\/<path> instead of secret\/data\/<path>\)$/,
    );
  });

  it("a Vault host that does not resolve where ESO runs: keeps ESO's decisive words and names the lab's Vault", () => {
    const d = failed('no-such-host').diagnosis ?? '';
    expect(d).toMatch(
      /^ESO cannot resolve Vault's host hashicorp-vault\.hashicorp-vault\.svc\.cluster\.onion \(/,
    );
    expect(d).toMatch(/no suitable address found\): that name does not resolve from where ESO runs;/);
    expect(d).toContain(`the Vault this scenario uses is at ${vaultServer} (\${vaultServer} in a manifest)`);
  });

  it('a nested property into a JSON value: names the keys at the level where it stopped', () => {
    expect(failed('nested-property').diagnosis).toBe(
      'wrong property: remoteRef.property "db.hots" does not exist in secret/data/diag/nested-property; the keys there are host, port (under db)',
    );
  });

  it('JSON values with nested properties sync, and a spec change is timed from the apply', () => {
    const s = report.scenarios.find((x) => x.scenario === 'format-json-values');
    expect(s?.passed, r.stderr.slice(-4000)).toBe(true);
    const last = s?.steps.at(-1)?.operations.find((o) => o.operation === 'assertSecret');
    expect(last?.facts?.applyToSecretMs).toBeTypeOf('number');
    expect(last?.facts?.windowFrom).toBe('apply');
  });
});
