/**
 * The diagnosis rules against messages observed on the local lab (ESO v0.20.4, OpenBao 2.4.0): ExternalSecret and
 * SecretStore conditions, their Events (as the evidence gatherer formats them: one line), and ESO log lines.
 */
import { describe, expect, it } from 'vitest';
import { clip, diagnose, vaultWords, type DiagnosisEvidence } from '../../../src/scenario/diagnosis.ts';
import { formatEsoLogLine, parseEsoLogLine, relevantEsoLines } from '../../../src/kube/eso-log.ts';

const T0 = Date.parse('2026-11-27T21:37:00Z');
const URL = 'http://127.0.0.1:44721';

// ExternalSecret condition: always this generic text, whatever the cause.
const ES_FAILED = {
  type: 'Ready',
  status: 'False',
  reason: 'SecretSyncedError',
  message: 'could not get secret data from provider',
};
const STORE_OK = { type: 'Ready', status: 'True', reason: 'Valid', message: 'store validated' };

// Events, one line each.
const EV_DENIED = `Warning UpdateFailed (x5): error processing spec.data[0] (key: my-app/config), err: cannot read secret data from Vault: Error making API request. URL: GET ${URL}/v1/secret/data/my-app/config Code: 403. Errors: * 1 error occurred: * permission denied`;
const EV_SEALED = `Warning UpdateFailed: error processing spec.data[0] (key: my-app/config), err: unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request. URL: PUT ${URL}/v1/auth/kubernetes/login Code: 503. Errors: * Vault is sealed`;
const EV_STORE_NOT_READY =
  'Warning UpdateFailed: error processing spec.data[0] (key: my-app/config), err: SecretStore "borrowed-role" is not ready';
const EV_LOGIN_REFUSED = `Warning InvalidProviderConfig: unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request. URL: PUT ${URL}/v1/auth/kubernetes/login Code: 403. Errors: * service account name not authorized`;
const EV_INVALID_ROLE = `Warning InvalidProviderConfig: unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request. URL: PUT ${URL}/v1/auth/kubernetes/login Code: 400. Errors: * invalid role name "other-app-role"`;
const EV_NO_STORE =
  'Warning UpdateFailed: error processing spec.data[0] (key: my-app/config), err: could not get SecretStore "missing-store", SecretStore.external-secrets.io "missing-store" not found';
const EV_NO_KEY =
  'Warning UpdateFailed: error processing spec.data[0] (key: my-app/config), err: cannot find secret data for key: "nope"';
const EV_WRONG_PATH = `Warning UpdateFailed: error processing spec.data[0] (key: my-app/nope), err: cannot read secret data from Vault: Error making API request. URL: GET ${URL}/v1/secret/data/my-app/nope Code: 403. Errors: * 1 error occurred: * permission denied`;
const EV_V1 = `Warning UpdateFailed: error processing spec.data[0] (key: my-app/config), err: cannot read secret data from Vault: Error making API request. URL: GET ${URL}/v1/secret/my-app/config Code: 403. Errors: * 1 error occurred: * permission denied`;

// A raw ESO log line (zap JSON), as written to the lab's eso.log.
const LOG_DENIED = JSON.stringify({
  level: 'error',
  ts: 1795815012.5635915,
  msg: 'Reconciler error',
  controller: 'externalsecret',
  ExternalSecret: { name: 'my-app-secrets', namespace: 'my-app' },
  namespace: 'my-app',
  name: 'my-app-secrets',
  reconcileID: '6be1644d-7387-4c28-9b53-fc4e9fe5e21a',
  error: `error processing spec.data[0] (key: my-app/config), err: cannot read secret data from Vault: Error making API request.\n\nURL: GET ${URL}/v1/secret/data/my-app/config\nCode: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied\n\n`,
  stacktrace:
    'sigs.k8s.io/controller-runtime/pkg/internal/controller.(*Controller[...]).reconcileHandler\n\t...',
});
const LOG_RECONCILED =
  '{"level":"info","ts":1795815001.6116242,"logger":"controllers.ExternalSecret","msg":"reconciled secret","ExternalSecret":{"name":"my-app-secrets","namespace":"my-app"}}';

function ev(over: Partial<DiagnosisEvidence> = {}): DiagnosisEvidence {
  return {
    now: T0 + 10_000,
    vault: { address: URL, health: { sealed: false, initialized: true } },
    externalSecret: {
      name: 'my-app-secrets',
      exists: true,
      ready: ES_FAILED,
      refreshIntervalMs: 3_000,
      refreshPolicy: 'Periodic',
      remoteKeys: ['my-app/config'],
    },
    store: {
      kind: 'SecretStore',
      name: 'vault-backend',
      exists: true,
      ready: STORE_OK,
      version: 'v2',
      mount: 'secret',
      role: 'my-app-role',
      serviceAccount: 'my-app-sa',
    },
    mount: { path: 'secret', exists: true, type: 'kv', kvVersion: 2 },
    events: [],
    esoLog: '',
    ackAt: T0,
    paths: [{ path: 'my-app/config', existsInVault: true }],
    secretExists: true,
    ...over,
  };
}

describe('diagnose with messages observed on the lab', () => {
  it('policy without read: the ESO Event says 403 permission denied', () => {
    expect(diagnose(ev({ events: [EV_DENIED] }))).toBe(
      "permission denied: Vault refused ESO's read of my-app/config (check the role's policies)",
    );
  });

  it('policy without read: only the ESO log says it', () => {
    const log = relevantEsoLines(LOG_DENIED, ['my-app/my-app-secrets']).map((l) => formatEsoLogLine(l, 1000));
    expect(diagnose(ev({ esoLog: log.join('\n') }))).toMatch(/^permission denied: Vault refused ESO's read/);
  });

  it("policy without read: Vault's own answer to the role wins", () => {
    expect(
      diagnose(
        ev({
          events: [EV_DENIED],
          roleRead: { outcome: 'denied', message: 'permission denied', apiPath: 'secret/data/my-app/config' },
        }),
      ),
    ).toBe(
      "permission denied: the store's Vault role my-app-role cannot read secret/data/my-app/config (its policies lack read on secret/data/my-app/config)",
    );
  });

  it('sealed Vault (live) comes first; sealed in the Event after unsealing means backoff', () => {
    expect(
      diagnose(
        ev({ vault: { address: URL, health: { sealed: true, initialized: true } }, events: [EV_SEALED] }),
      ),
    ).toMatch(/^Vault is sealed/);
    expect(diagnose(ev({ events: [EV_SEALED] }))).toBe(
      'Vault was sealed when ESO last tried (HTTP 503: Vault is sealed); it is unsealed now and ESO backs off before retrying',
    );
  });

  it("another namespace borrowing my-app's role: Vault refuses the login", () => {
    const d = diagnose(
      ev({
        store: {
          kind: 'SecretStore',
          name: 'borrowed-role',
          exists: true,
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'InvalidProviderConfig',
            message: 'unable to create client',
          },
          role: 'my-app-role',
          serviceAccount: 'other-app-sa',
        },
        events: [EV_STORE_NOT_READY, EV_LOGIN_REFUSED],
      }),
    );
    expect(d).toBe(
      'Vault refused the login as other-app-sa to role my-app-role (HTTP 403: service account name not authorized): the role is not bound to this ServiceAccount and namespace, or does not exist; SecretStore borrowed-role is not ready',
    );
  });

  it('a role that does not exist: the login is refused with 400 invalid role name', () => {
    expect(diagnose(ev({ events: [EV_INVALID_ROLE] }))).toMatch(
      /^Vault refused the login as my-app-sa to role my-app-role \(HTTP 400: invalid role name "other-app-role"\)/,
    );
  });

  it('the ExternalSecret names a store that does not exist', () => {
    expect(diagnose(ev({ store: undefined, events: [EV_NO_STORE] }))).toBe(
      'missing-store does not exist: the ExternalSecret has no store to read from',
    );
  });

  it('the store was not ready when ESO last tried, and is Ready now: said so', () => {
    expect(diagnose(ev({ events: [EV_STORE_NOT_READY] }))).toBe(
      'SecretStore borrowed-role was not ready when ESO last tried (SecretStore "borrowed-role" is not ready); it is Ready now and ESO retries after its backoff',
    );
  });

  it("wrong property: ESO cannot find the key; without Vault's answer it names the property only", () => {
    expect(diagnose(ev({ events: [EV_NO_KEY] }))).toBe(
      'wrong property: ESO finds no key "nope" in my-app/config (cannot find secret data for key: "nope")',
    );
  });

  it('wrong path: Vault answers 403 for a path no policy covers, but the path does not exist at all', () => {
    const d = diagnose(
      ev({
        externalSecret: { name: 'wrong-path', exists: true, ready: ES_FAILED, remoteKeys: ['my-app/nope'] },
        paths: [{ path: 'my-app/nope', existsInVault: false }],
        events: [EV_WRONG_PATH],
      }),
    );
    expect(d).toBe('wrong path: my-app/nope does not exist in Vault');
  });

  it('KV v1 store on the v2 mount: a 403 on secret/<path> is the version, not the policy', () => {
    const d = diagnose(
      ev({
        store: {
          kind: 'SecretStore',
          name: 'kv-v1',
          exists: true,
          ready: STORE_OK,
          version: 'v1',
          mount: 'secret',
        },
        mount: { path: 'secret', exists: true, type: 'kv', kvVersion: 2 },
        events: [EV_V1],
      }),
    );
    expect(d).toMatch(/^wrong KV version: SecretStore kv-v1 uses version v1 but secret\/ is a KV v2 mount/);
  });

  it('Vault stopped: unreachable now', () => {
    expect(
      diagnose(
        ev({
          vault: { address: URL, unreachableError: 'fetch failed: connect ECONNREFUSED 127.0.0.1:44721' },
        }),
      ),
    ).toMatch(/^Vault unreachable at http:\/\/127\.0\.0\.1:44721 \(fetch failed: connect ECONNREFUSED/);
  });
});

describe('vaultWords', () => {
  it("keeps Vault's answer and drops the request URL", () => {
    expect(vaultWords(EV_DENIED)).toBe('HTTP 403: permission denied');
    expect(vaultWords(EV_LOGIN_REFUSED)).toBe('HTTP 403: service account name not authorized');
    expect(vaultWords(EV_NO_KEY)).toBe('cannot find secret data for key: "nope"');
  });
});

describe('ESO log lines', () => {
  it('parses a zap JSON line: time, level, object, error', () => {
    const l = parseEsoLogLine(LOG_DENIED);
    expect(l).toMatchObject({ level: 'error', msg: 'Reconciler error', object: 'my-app/my-app-secrets' });
    expect(l?.at).toBe(1795815012564);
    expect(formatEsoLogLine(l!, 1000)).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} error Reconciler error my-app\/my-app-secrets: error processing spec\.data\[0\] .* Code: 403\. Errors: \* 1 error occurred: \* permission denied$/,
    );
    expect(formatEsoLogLine(l!)).not.toContain('stacktrace');
  });

  it('keeps only lines about the given objects, since a time', () => {
    const other = LOG_RECONCILED.replace('my-app-secrets', 'other');
    const tail = [LOG_RECONCILED, other, 'not json', LOG_DENIED].join('\n');
    expect(relevantEsoLines(tail, ['my-app/my-app-secrets']).map((l) => l.msg)).toEqual([
      'reconciled secret',
      'Reconciler error',
    ]);
    expect(relevantEsoLines(tail, ['my-app/my-app-secrets'], 1795815010000).map((l) => l.msg)).toEqual([
      'Reconciler error',
    ]);
  });
});

describe('diagnose: the newest evidence wins', () => {
  it('an early "store not found" (the store applied after the ExternalSecret) does not hide a later 403', () => {
    const d = diagnose(ev({ events: [EV_NO_STORE, EV_DENIED] }));
    expect(d).toBe(
      "permission denied: Vault refused ESO's read of my-app/config (check the role's policies)",
    );
  });

  it("Vault's answer to the role comes before ESO's texts", () => {
    const d = diagnose(
      ev({
        events: [EV_NO_STORE, EV_DENIED],
        roleRead: { outcome: 'denied', message: 'permission denied', apiPath: 'secret/data/my-app/config' },
      }),
    );
    expect(d).toMatch(
      /^permission denied: the store's Vault role my-app-role cannot read secret\/data\/my-app\/config/,
    );
  });
});

describe('diagnose: every rule holds now, and says which', () => {
  const reads = (over: Partial<NonNullable<DiagnosisEvidence['reads']>[number]> = {}) => [
    {
      key: 'my-app/config',
      apiPath: 'secret/data/my-app/config',
      exists: true,
      keys: ['username', 'password'],
      ...over,
    },
  ];
  const refs = [{ key: 'my-app/config', property: 'nope' }];
  const es = { name: 'my-app-secrets', exists: true, ready: ES_FAILED, remoteKeys: ['my-app/config'], refs };

  it('a missing property on a Ready store: named, with the keys that exist — not "store was not ready"', () => {
    const d = diagnose(
      ev({
        externalSecret: es,
        reads: reads(),
        events: [EV_STORE_NOT_READY, EV_NO_KEY, EV_NO_KEY, EV_NO_KEY],
      }),
    );
    expect(d).toBe(
      'wrong property: remoteRef.property "nope" does not exist in secret/data/my-app/config; the keys there are username, password',
    );
  });

  it('a missing property that exists now: said so', () => {
    const d = diagnose(
      ev({ externalSecret: es, reads: reads({ keys: ['username', 'nope'] }), events: [EV_NO_KEY] }),
    );
    expect(d).toMatch(
      /^remoteRef\.property "nope" was missing when ESO last tried, and secret\/data\/my-app\/config has it now/,
    );
  });

  it('a nested property: the keys at the level where it stopped', () => {
    const nested = { ...es, refs: [{ key: 'my-app/config', property: 'db.hots' }] };
    const d = diagnose(
      ev({
        externalSecret: nested,
        reads: reads({ keys: ['db'], nested: { db: ['host', 'port'] } }),
        events: [EV_NO_KEY.replace('"nope"', '"db.hots"')],
      }),
    );
    expect(d).toBe(
      'wrong property: remoteRef.property "db.hots" does not exist in secret/data/my-app/config; the keys there are host, port (under db)',
    );
  });

  it("a path that has no data at all, where the store reads: the store's path and version are named", () => {
    const d = diagnose(
      ev({ externalSecret: es, reads: reads({ exists: false, keys: undefined }), events: [EV_WRONG_PATH] }),
    );
    expect(d).toBe(
      'wrong path: ESO reads secret/data/my-app/config (remoteRef key my-app/config through SecretStore vault-backend: path secret, version v2), which does not exist in Vault',
    );
  });

  it('ESO was denied, but the role reads the path now: the policy changed since', () => {
    const d = diagnose(
      ev({
        externalSecret: es,
        reads: reads(),
        events: [EV_DENIED],
        roleRead: { outcome: 'ok', apiPath: 'secret/data/my-app/config' },
      }),
    );
    expect(d).toMatch(
      /^Vault refused ESO's read when it last tried \(HTTP 403: permission denied\), but the store's role can read secret\/data\/my-app\/config now/,
    );
  });

  it('a refused login that works now: said so', () => {
    const d = diagnose(
      ev({ events: [EV_LOGIN_REFUSED], roleRead: { outcome: 'ok', apiPath: 'secret/data/my-app/config' } }),
    );
    expect(d).toMatch(
      /^Vault refused ESO's login as my-app-sa to role my-app-role when it last tried .*; the login works now/,
    );
  });

  it('ESO found no data, and Vault has data there now', () => {
    const d = diagnose(
      ev({
        externalSecret: es,
        reads: reads(),
        events: ['Warning UpdateFailed: err: Secret does not exist'],
      }),
    );
    expect(d).toMatch(/^ESO found no data at secret\/data\/my-app\/config when it last tried/);
  });

  it('clip shortens the middle, never the decisive end', () => {
    const long = `${'x'.repeat(300)} dial tcp: lookup hashicorp-vault.hashicorp-vault.svc.cluster.local on 10.0.0.10:53: no such host`;
    expect(clip(long)).toMatch(/no such host$/);
    expect(clip(long)).toHaveLength(160);
  });
});

/*
 * Observed on the local lab (ESO v0.20.4, OpenBao 2.4.0) by test/e2e/diagnosis.test.ts, 2026-12-01: the events and
 * evidence of each case in test/fixtures/scenarios/diagnosis/.
 */
describe('diagnose: the cases of test/fixtures/scenarios/diagnosis, with their real messages', () => {
  const LAB = 'http://127.0.0.1:41779';
  const VALID = 'Normal Valid (x2): store validated';
  const store = (over: Partial<NonNullable<DiagnosisEvidence['store']>> = {}) => ({
    kind: 'SecretStore',
    name: 'vault-backend',
    exists: true,
    ready: STORE_OK,
    version: 'v2',
    mount: 'secret',
    server: LAB,
    role: 'diag-role',
    serviceAccount: 'app-sa',
    ...over,
  });
  const es = (key: string, property: string) => ({
    name: 'app',
    exists: true,
    ready: ES_FAILED,
    refreshIntervalMs: 5_000,
    remoteKeys: [key],
    refs: [{ key, property }],
  });
  const base = (over: Partial<DiagnosisEvidence>) =>
    ev({ vault: { address: LAB, serverForEso: LAB, health: { sealed: false, initialized: true } }, ...over });

  it('missing property, the store applied after the ExternalSecret: the early "not found" does not decide', () => {
    const d = diagnose(
      base({
        externalSecret: es('diag/missing-property', 'passwrd'),
        store: store(),
        paths: [{ path: 'diag/missing-property' }],
        reads: [
          {
            key: 'diag/missing-property',
            apiPath: 'secret/data/diag/missing-property',
            exists: true,
            keys: ['password', 'username'],
          },
        ],
        roleRead: { outcome: 'ok', apiPath: 'secret/data/diag/missing-property' },
        events: [
          'Warning UpdateFailed (x2): error processing spec.data[0] (key: diag/missing-property), err: could not get SecretStore "vault-backend", SecretStore.external-secrets.io "vault-backend" not found',
          VALID,
          'Warning UpdateFailed (x2): error processing spec.data[0] (key: diag/missing-property), err: cannot find secret data for key: "passwrd"',
        ],
      }),
    );
    expect(d).toBe(
      'wrong property: remoteRef.property "passwrd" does not exist in secret/data/diag/missing-property; the keys there are password, username',
    );
  });

  it('a correct KV v1 store on a real KV v1 mount with a typo: the property at the v1 path, not "permission denied"', () => {
    const d = diagnose(
      base({
        externalSecret: es('diag/kv1-property', 'usernme'),
        store: store({ version: 'v1', mount: 'diag-kv1' }),
        mount: { path: 'diag-kv1', exists: true, type: 'kv', kvVersion: 1 },
        paths: [{ path: 'diag/kv1-property' }],
        reads: [
          {
            key: 'diag/kv1-property',
            apiPath: 'diag-kv1/diag/kv1-property',
            exists: true,
            keys: ['password', 'username'],
          },
        ],
        roleRead: { outcome: 'ok', apiPath: 'diag-kv1/diag/kv1-property' },
        events: [
          'Warning UpdateFailed: error processing spec.data[0] (key: diag/kv1-property), err: SecretStore "vault-backend" is not ready',
          VALID,
          'Warning UpdateFailed (x4): error processing spec.data[0] (key: diag/kv1-property), err: cannot find secret data for key: "usernme"',
        ],
      }),
    );
    expect(d).toBe(
      'wrong property: remoteRef.property "usernme" does not exist in diag-kv1/diag/kv1-property; the keys there are password, username',
    );
  });

  it("a KV v1 store on the lab's KV v2 mount: the 403 on secret/<path> is the version (sys/mounts says v2)", () => {
    const d = diagnose(
      base({
        externalSecret: es('diag/kv-version', 'username'),
        store: store({ version: 'v1' }),
        paths: [{ path: 'diag/kv-version' }],
        reads: [{ key: 'diag/kv-version', apiPath: 'secret/diag/kv-version', exists: false }],
        roleRead: {
          outcome: 'denied',
          message: 'vault GET secret/diag/kv-version: HTTP 403: 1 error occurred: * permission denied',
          apiPath: 'secret/diag/kv-version',
        },
        events: [
          VALID,
          `Warning UpdateFailed (x4): error processing spec.data[0] (key: diag/kv-version), err: cannot read secret data from Vault: Error making API request. URL: GET ${LAB}/v1/secret/diag/kv-version Code: 403. Errors: * 1 error occurred: * permission denied`,
        ],
      }),
    );
    expect(d).toBe(
      'wrong KV version: SecretStore vault-backend uses version v1 but secret/ is a KV v2 mount (ESO reads secret/<path> instead of secret/data/<path>)',
    );
  });

  it("a host that does not resolve where ESO runs: ESO's decisive words kept, the lab's Vault named", () => {
    const host = 'hashicorp-vault.hashicorp-vault.svc.cluster.onion';
    const d = diagnose(
      base({
        externalSecret: es('diag/no-such-host', 'username'),
        store: store({
          server: `http://${host}:8200`,
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'InvalidProviderConfig',
            message: 'unable to create client',
          },
        }),
        paths: [{ path: 'diag/no-such-host' }],
        reads: [
          {
            key: 'diag/no-such-host',
            apiPath: 'secret/data/diag/no-such-host',
            exists: true,
            keys: ['password', 'username'],
          },
        ],
        roleRead: { outcome: 'ok', apiPath: 'secret/data/diag/no-such-host' },
        events: [
          'Warning UpdateFailed (x4): error processing spec.data[0] (key: diag/no-such-host), err: SecretStore "vault-backend" is not ready',
          `Warning InvalidProviderConfig (x3): unable to log in to auth method: unable to log in with Kubernetes auth: Put "http://${host}:8200/v1/auth/kubernetes/login": dial tcp: address ${host}: no suitable address found`,
        ],
      }),
    );
    expect(d).toBe(
      `ESO cannot resolve Vault's host ${host} (unable to log in to auth method: unable to log in with Kubernet…: dial tcp: address ${host}: no suitable address found): that name does not resolve from where ESO runs; SecretStore vault-backend has server http://${host}:8200; the Vault this scenario uses is at ${LAB} (\${vaultServer} in a manifest)`,
    );
  });

  it('the same for the resolver\'s "no such host" (Go net: "lookup HOST on SERVER:53: no such host")', () => {
    // Not observed here: a real lookup of the tutorial's .svc.cluster.local name would send a DNS query off the
    // machine. ESO's wrapping is the observed one above; the tail is Go's own text (net/dnsclient_unix.go).
    const host = 'hashicorp-vault.hashicorp-vault.svc.cluster.local';
    const d = diagnose(
      base({
        store: store({
          server: `http://${host}:8200`,
          ready: { type: 'Ready', status: 'False', reason: 'InvalidProviderConfig' },
        }),
        events: [
          `Warning InvalidProviderConfig (x3): unable to log in to auth method: unable to log in with Kubernetes auth: Put "http://${host}:8200/v1/auth/kubernetes/login": dial tcp: lookup ${host} on 10.96.0.10:53: no such host`,
        ],
      }),
    );
    expect(d).toMatch(
      new RegExp(
        `^ESO cannot resolve Vault's host ${host.replace(/\./g, '\\.')} \\(.*no such host\\): that name does not resolve from where ESO runs`,
      ),
    );
  });

  it('a nested property into a JSON value: the keys where the walk stopped', () => {
    const d = diagnose(
      base({
        externalSecret: es('diag/nested-property', 'db.hots'),
        store: store(),
        paths: [{ path: 'diag/nested-property' }],
        reads: [
          {
            key: 'diag/nested-property',
            apiPath: 'secret/data/diag/nested-property',
            exists: true,
            keys: ['db'],
            nested: { db: ['host', 'port'] },
          },
        ],
        roleRead: { outcome: 'ok', apiPath: 'secret/data/diag/nested-property' },
        events: [
          VALID,
          'Warning UpdateFailed (x4): error processing spec.data[0] (key: diag/nested-property), err: cannot find secret data for key: "db.hots"',
        ],
      }),
    );
    expect(d).toBe(
      'wrong property: remoteRef.property "db.hots" does not exist in secret/data/diag/nested-property; the keys there are host, port (under db)',
    );
  });
});

/**
 * The same rules on HashiCorp Vault v1.21.0 (`--vault-server hashicorp`): the messages below were observed on the
 * local lab on 2026-12-01 (ESO v0.20.4; Events as the evidence gatherer formats them, an ESO log line as written).
 * They match OpenBao's word for word apart from the address: ESO words the request, and both servers answer with
 * the same error texts. Each rule is checked against them, so a change in either server's wording shows here.
 */
describe('diagnose with messages observed on HashiCorp Vault v1.21.0', () => {
  const HV = 'http://127.0.0.1:45689';
  const hv = (over: Partial<DiagnosisEvidence> = {}) =>
    ev({ vault: { address: HV, health: { sealed: false, initialized: true } }, ...over });
  const HV_DENIED = `Warning UpdateFailed (x6): error processing spec.data[0] (key: my-app/config), err: cannot read secret data from Vault: Error making API request. URL: GET ${HV}/v1/secret/data/my-app/config Code: 403. Errors: * 1 error occurred: * permission denied`;
  const HV_SEALED = `Warning UpdateFailed (x2): error processing spec.data[0] (key: my-app/config), err: unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request. URL: PUT ${HV}/v1/auth/kubernetes/login Code: 503. Errors: * Vault is sealed`;
  const HV_INVALID_ROLE = `Warning InvalidProviderConfig (x6): unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request. URL: PUT ${HV}/v1/auth/kubernetes/login Code: 400. Errors: * invalid role name "nosuch-role"`;
  const HV_LOGIN_REFUSED = `Warning InvalidProviderConfig (x6): unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request. URL: PUT ${HV}/v1/auth/kubernetes/login Code: 403. Errors: * service account name not authorized`;
  const HV_NO_DATA =
    'Warning UpdateFailed (x6): error processing spec.data[0] (key: my-app/nope), err: Secret does not exist';
  const HV_NO_KEY =
    'Warning UpdateFailed (x6): error processing spec.data[0] (key: my-app/config), err: cannot find secret data for key: "nope"';
  const HV_V1 = `Warning UpdateFailed (x6): error processing spec.data[0] (key: my-app/config), err: cannot read secret data from Vault: Error making API request. URL: GET ${HV}/v1/secret/my-app/config Code: 403. Errors: * 1 error occurred: * permission denied`;
  const HV_LOG_DENIED = JSON.stringify({
    level: 'error',
    ts: 1796125748.0108309,
    msg: 'Reconciler error',
    controller: 'externalsecret',
    ExternalSecret: { name: 'my-app-secrets', namespace: 'my-app' },
    namespace: 'my-app',
    name: 'my-app-secrets',
    error: `error processing spec.data[0] (key: my-app/config), err: cannot read secret data from Vault: Error making API request.\n\nURL: GET ${HV}/v1/secret/data/my-app/config\nCode: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied\n\n`,
  });

  it('policy without read: 403 permission denied, from the Event or from the ESO log alone', () => {
    expect(diagnose(hv({ events: [HV_DENIED] }))).toBe(
      "permission denied: Vault refused ESO's read of my-app/config (check the role's policies)",
    );
    const log = relevantEsoLines(HV_LOG_DENIED, ['my-app/my-app-secrets']).map((l) =>
      formatEsoLogLine(l, 1000),
    );
    expect(diagnose(hv({ esoLog: log.join('\n') }))).toMatch(/^permission denied: Vault refused ESO's read/);
  });

  it('sealed: live health first; the Event alone after unsealing means backoff', () => {
    expect(
      diagnose(
        hv({ vault: { address: HV, health: { sealed: true, initialized: true } }, events: [HV_SEALED] }),
      ),
    ).toMatch(/^Vault is sealed/);
    expect(diagnose(hv({ events: [HV_SEALED] }))).toBe(
      'Vault was sealed when ESO last tried (HTTP 503: Vault is sealed); it is unsealed now and ESO backs off before retrying',
    );
  });

  it('login refused: a role bound elsewhere (403) and a role that does not exist (400)', () => {
    expect(diagnose(hv({ events: [HV_LOGIN_REFUSED] }))).toMatch(
      /^Vault refused the login as my-app-sa to role my-app-role \(HTTP 403: service account name not authorized\)/,
    );
    expect(diagnose(hv({ events: [HV_INVALID_ROLE] }))).toMatch(
      /^Vault refused the login as my-app-sa to role my-app-role \(HTTP 400: invalid role name "nosuch-role"\)/,
    );
  });

  it('a readable path with no data, a wrong property, and a KV v1 store on the v2 mount', () => {
    expect(
      diagnose(
        hv({
          externalSecret: { name: 'es-404', exists: true, ready: ES_FAILED, remoteKeys: ['my-app/nope'] },
          paths: [{ path: 'my-app/nope', existsInVault: false }],
          events: [HV_NO_DATA],
        }),
      ),
    ).toBe('wrong path: my-app/nope does not exist in Vault');
    expect(diagnose(hv({ events: [HV_NO_KEY] }))).toBe(
      'wrong property: ESO finds no key "nope" in my-app/config (cannot find secret data for key: "nope")',
    );
    expect(
      diagnose(
        hv({
          store: {
            kind: 'SecretStore',
            name: 'kv-v1',
            exists: true,
            ready: STORE_OK,
            version: 'v1',
            mount: 'secret',
          },
          events: [HV_V1],
        }),
      ),
    ).toMatch(/^wrong KV version: SecretStore kv-v1 uses version v1 but secret\/ is a KV v2 mount/);
  });
});
