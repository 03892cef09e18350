import { describe, expect, it } from 'vitest';
import { diagnose, type DiagnosisEvidence } from '../../../../src/scenario/diagnosis.ts';

const T0 = Date.parse('2026-05-01T10:00:00Z');

function ev(over: Partial<DiagnosisEvidence> = {}): DiagnosisEvidence {
  return {
    now: T0 + 10_000,
    vault: { address: 'http://127.0.0.1:8200', health: { sealed: false, initialized: true } },
    externalSecret: {
      name: 'my-app-secrets',
      exists: true,
      ready: { type: 'Ready', status: 'True', reason: 'SecretSynced', message: 'secret synced' },
      refreshIntervalMs: 5_000,
      refreshPolicy: 'Periodic',
      refreshTime: T0 + 8_000,
      remoteKeys: ['my-app/config'],
    },
    store: {
      kind: 'SecretStore',
      name: 'vault-backend',
      exists: true,
      ready: { type: 'Ready', status: 'True', reason: 'Valid' },
      version: 'v2',
      mount: 'secret',
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

describe('diagnose', () => {
  it('Vault unreachable comes first', () => {
    expect(
      diagnose(ev({ vault: { address: 'http://127.0.0.1:8200', unreachableError: 'ECONNREFUSED' } })),
    ).toMatch(/^Vault unreachable at http:\/\/127\.0\.0\.1:8200 \(ECONNREFUSED\)/);
  });

  it('Vault sealed', () => {
    expect(diagnose(ev({ vault: { address: 'x', health: { sealed: true, initialized: true } } }))).toMatch(
      /^Vault is sealed/,
    );
  });

  it("permission denied from Vault's own answer to the role", () => {
    const d = diagnose(
      ev({
        externalSecret: {
          name: 'my-app-secrets',
          exists: true,
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'SecretSyncedError',
            message: 'could not get secret data',
          },
        },
        roleRead: { outcome: 'denied', message: 'HTTP 403' },
      }),
    );
    expect(d).toMatch(/^permission denied: .*secret\/data\/my-app\/config/);
  });

  it('permission denied from ESO Events and log', () => {
    const d = diagnose(
      ev({
        events: [
          'Warning UpdateFailed: error processing spec.data[0]: Code: 403. Errors: * permission denied',
        ],
      }),
    );
    expect(d).toMatch(/^permission denied: Vault refused ESO's read of my-app\/config/);
  });

  it('permission denied at login when the store is not ready', () => {
    const d = diagnose(
      ev({
        store: {
          kind: 'SecretStore',
          name: 'vault-backend',
          exists: true,
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'InvalidProviderConfig',
            message: 'permission denied',
          },
        },
      }),
    );
    expect(d).toMatch(/^permission denied at login: SecretStore vault-backend/);
  });

  it('store not ready', () => {
    const d = diagnose(
      ev({
        store: {
          kind: 'SecretStore',
          name: 'vault-backend',
          exists: true,
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'InvalidProviderConfig',
            message: 'unable to log in',
          },
        },
      }),
    );
    expect(d).toBe('SecretStore vault-backend not ready: InvalidProviderConfig unable to log in');
  });

  it('wrong KV version: only when the mount really has the other version', () => {
    const store = {
      kind: 'SecretStore',
      name: 'vault-backend',
      exists: true,
      version: 'v1',
      mount: 'secret',
    };
    expect(diagnose(ev({ store, mount: { path: 'secret', exists: true, type: 'kv', kvVersion: 2 } }))).toBe(
      'wrong KV version: SecretStore vault-backend uses version v1 but secret/ is a KV v2 mount (ESO reads secret/<path> instead of secret/data/<path>)',
    );
    expect(
      diagnose(ev({ store, mount: { path: 'secret', exists: true, type: 'kv', kvVersion: 1 } })),
    ).not.toMatch(/KV version/);
    // Without Vault's word on the mount (sys/mounts not readable), no "wrong KV version".
    const { mount: _unknown, ...unchecked } = ev({ store });
    expect(diagnose(unchecked)).not.toMatch(/KV version/);
  });

  it('wrong path: the ExternalSecret reads another key', () => {
    const d = diagnose(
      ev({
        externalSecret: { name: 'my-app-secrets', exists: true, remoteKeys: ['my-app/confg'] },
      }),
    );
    expect(d).toBe(
      'wrong path: ExternalSecret my-app-secrets reads my-app/confg, the scenario wrote my-app/config',
    );
  });

  it('wrong path or KV version from ESO saying the secret does not exist', () => {
    const d = diagnose(
      ev({
        externalSecret: {
          name: 'my-app-secrets',
          exists: true,
          ready: {
            type: 'Ready',
            status: 'False',
            reason: 'SecretSyncedError',
            message: 'Secret does not exist',
          },
          remoteKeys: ['my-app/config'],
        },
      }),
    );
    expect(d).toMatch(/^wrong path: ESO's read of my-app\/config finds no data \(Secret does not exist\)/);
  });

  it('ESO error backoff for other errors', () => {
    const d = diagnose(
      ev({
        externalSecret: {
          name: 'my-app-secrets',
          exists: true,
          ready: { type: 'Ready', status: 'False', reason: 'SecretSyncedError', message: 'template error' },
        },
      }),
    );
    expect(d).toMatch(/^ESO error backoff: SecretSyncedError — template error/);
  });

  it('interval not yet elapsed', () => {
    const d = diagnose(
      ev({
        now: T0 + 5_000,
        externalSecret: {
          name: 'my-app-secrets',
          exists: true,
          ready: { type: 'Ready', status: 'True', reason: 'SecretSynced' },
          refreshIntervalMs: 60_000,
          refreshTime: T0 - 1_000,
        },
      }),
    );
    expect(d).toMatch(
      /^refresh interval not yet elapsed: last refresh 2026-05-01T09:59:59.000Z, next due 2026-05-01T10:00:59.000Z/,
    );
  });

  it('refreshInterval 0 never refreshes', () => {
    const d = diagnose(
      ev({
        externalSecret: { name: 'my-app-secrets', exists: true, refreshIntervalMs: 0, refreshTime: T0 - 1 },
      }),
    );
    expect(d).toMatch(/^refreshInterval is 0/);
  });

  it('refreshed after the write but values differ', () => {
    expect(diagnose(ev())).toMatch(/^ESO refreshed at .* after the write, but the Secret does not hold/);
  });

  it('ESO is late when the next refresh was due long ago', () => {
    const d = diagnose(
      ev({
        now: T0 + 60_000,
        externalSecret: {
          name: 'my-app-secrets',
          exists: true,
          ready: { type: 'Ready', status: 'True' },
          refreshIntervalMs: 5_000,
          refreshTime: T0 - 1_000,
        },
      }),
    );
    expect(d).toMatch(/^ESO is late/);
  });

  it('sealed in ESO log when Vault is back', () => {
    const d = diagnose(
      ev({ esoLog: 'error: Error making API request. Code: 503. Errors: * Vault is sealed' }),
    );
    expect(d).toMatch(/^Vault was sealed when ESO last tried/);
  });
});
