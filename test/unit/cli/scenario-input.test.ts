/**
 * Bad input to `scenario` is exit 2 with file:line:col: field: message, and nothing starts: no lab directory is
 * created in the (isolated) state dir.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { capture } from '../../helpers/capture.ts';

const F = 'test/fixtures/scenarios/input';

async function run(argv: string[]) {
  const state = mkdtempSync(join(tmpdir(), 'vel-state-'));
  const c = capture();
  const code = await main(argv, {
    out: c.out,
    handleSignals: false,
    env: { ...process.env, CI: 'true', VAULT_ESO_LAB_STATE_DIR: state },
  });
  const labs = existsSync(join(state, 'labs')) ? readdirSync(join(state, 'labs')) : [];
  return { code, stdout: c.stdout(), stderr: c.stderr(), labs };
}

describe('scenario: input checked before any lab starts', () => {
  it('${...} in a manifest file: an undeclared var and an unknown built-in listing the valid names', async () => {
    const r = await run(['scenario', `${F}/manifest-vars.yaml`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${F}/manifests/bad-refs.yaml:7:20: document 1 spec.refreshInterval: \${vars.refreshIntervl} refers to an undeclared var "refreshIntervl" (declared: refreshInterval)`,
    );
    expect(r.stderr).toMatch(
      /bad-refs\.yaml:11:69: document 1 spec\.data\[0\]\.remoteRef\.version: unknown template reference \$\{vaultToken\}: use \$\{vars\.NAME\} or a built-in \(runId, provider, vaultServer, /,
    );
    expect(r.labs).toEqual([]);
  });

  it('names and namespaces the API server rejects, and a refreshInterval ESO cannot parse', async () => {
    const r = await run(['scenario', `${F}/k8s-names.yaml`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${F}/k8s-names.yaml:9:31: steps[0].try[0].apply.manifest.metadata.name: Namespace name "My_App" is not a DNS-1123 label`,
    );
    expect(r.stderr).toContain(
      `${F}/k8s-names.yaml:14:46: steps[0].try[1].apply.manifest.metadata.namespace: namespace "team.a" is not a DNS-1123 label`,
    );
    expect(r.stderr).toContain(
      `${F}/manifests/es-interval.yaml:7:20: document 1 spec.refreshInterval: a duration needs a unit`,
    );
    expect(r.labs).toEqual([]);
  });

  it('--var refreshInterval=5 reaching a manifest is caught with the var named', async () => {
    const r = await run(['scenario', `${F}/var-interval.yaml`, '--var', 'refreshInterval=5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${F}/manifests/es-var.yaml:7:20: document 1 spec.refreshInterval: a duration needs a unit: "5" (from \${vars.refreshInterval}) is not a duration ESO can parse (Go's time.ParseDuration); write "5s"`,
    );
    expect(r.labs).toEqual([]);
  });

  it('an unknown --var name, with the closest declared one', async () => {
    const r = await run(['scenario', `${F}/var-interval.yaml`, '--var', 'refreshIntervl=5s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--var refreshIntervl: .*var-interval\.yaml does not declare a var "refreshIntervl"; did you mean "refreshInterval"\?/,
    );
    expect(r.labs).toEqual([]);
  });

  it('a report path that cannot be written is refused before the run', async () => {
    const r = await run(['scenario', `${F}/var-interval.yaml`, '--report-json', '/proc/nope/r.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--report-json /proc/nope/r.json: cannot write the report: directory /proc/nope does not exist',
    );
    const dir = mkdtempSync(join(tmpdir(), 'vel-report-'));
    const j = await run(['scenario', `${F}/var-interval.yaml`, '--report-junit', dir]);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain(`--report-junit ${dir}: cannot write the report: ${dir} is a directory`);
    expect([...r.labs, ...j.labs]).toEqual([]);
  });

  it('durations: a bare number needs a unit, and 999999h is longer than a timer holds', async () => {
    const r = await run(['scenario', 'validate', `${F}/durations.yaml`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${F}/durations.yaml:5:23: steps[0].try[0].sleep.for: is longer than a timer can hold: at most 596h31m23s (2^31 - 1 ms)`,
    );
    expect(r.stderr).toContain(
      `${F}/durations.yaml:6:85: steps[0].try[1].assertSecret.within: a duration needs a unit: write "5s" (or ms, m, h), not 5`,
    );
  });

  it('a manifest outside the scenario directory needs --allow-outside; its errors point at the scenario line', async () => {
    const r = await run(['scenario', `${F}/outside.yaml`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${F}/outside.yaml:5:24: steps[0].try[0].apply.file: manifest file ../outside/broken.yaml is outside the scenario's directory (${F}): pass --allow-outside to use it`,
    );
    const allowed = await run(['scenario', `${F}/outside.yaml`, '--allow-outside']);
    expect(allowed.code).toBe(2);
    expect(allowed.stderr).toContain(
      `${F}/outside.yaml:5:24: steps[0].try[0].apply.file: test/fixtures/scenarios/outside/broken.yaml:4:9: document 1 metadata.name: ConfigMap name "Bad_Name" is not a DNS-1123 subdomain`,
    );
    expect([...r.labs, ...allowed.labs]).toEqual([]);
  });

  it('scenario --help lists the built-in variables', async () => {
    const r = await run(['scenario', '--help']);
    expect(r.code).toBe(0);
    for (const name of ['runId', 'vaultServer', 'namespaceSuffix', 'kubernetesHost'])
      expect(r.stdout).toContain(`\${${name}}`);
  });
});

describe('scenario: --var values in operation arguments', () => {
  it('within/for from a var are parsed with the --var value before the run', async () => {
    const r = await run(['scenario', `${F}/var-argument.yaml`, '--var', 'refreshInterval=5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${F}/var-argument.yaml:7:23: steps[0].try[0].sleep.for: a duration needs a unit: write "5s" (or ms, m, h), not "5" (from \${vars.refreshInterval})`,
    );
    expect(r.labs).toEqual([]);
  });
});
