import { describe, expect, it } from 'vitest';
import { secrets } from '../../../../src/secrets/secret-registry.ts';
import { VaultState } from '../../../../src/scenario/runtime.ts';
import type { VaultClient } from '../../../../src/vault/client.ts';
import {
  generateSecretValue,
  involvedPaths,
  matchData,
  parseVaultRef,
  resolveData,
  resolveExpectations,
} from '../../../../src/scenario/operations/values.ts';
import { changedKeys } from '../../../../src/scenario/operations/secret-stability.ts';
import { conditionMatches } from '../../../../src/scenario/operations/assert-condition.ts';
import { latestAck } from '../../../../src/scenario/operations/assert-secret.ts';
import { fileTemplateValues } from '../../../../src/scenario/operations/file-template.ts';
import type { LabConnection } from '../../../../src/labs/lab-provider.ts';

const noVault = {
  kvGet: () => Promise.reject(new Error('should not read Vault')),
} as unknown as VaultClient;

describe('values', () => {
  it('generated values are random, of the asked length, and registered as secrets', () => {
    const a = generateSecretValue();
    const b = generateSecretValue(40);
    expect(a).toHaveLength(24);
    expect(b).toHaveLength(40);
    expect(a).not.toBe(b);
    expect(secrets.has(a)).toBe(true);
    const data = resolveData({ username: 'my-app-user', password: { random: true } });
    expect(data.username).toBe('my-app-user');
    expect(secrets.redact(`x ${data.password} y`)).not.toContain(data.password);
  });

  it('parses vault refs at the last #', () => {
    expect(parseVaultRef('my-app/config#password')).toEqual({ path: 'my-app/config', key: 'password' });
    expect(() => parseVaultRef('nohash')).toThrow();
    expect(involvedPaths({ a: 'p/1#x', b: 'p/1#y', c: { value: 'lit' }, d: 'p/2#z' })).toEqual([
      'p/1',
      'p/2',
    ]);
  });

  it('resolves expectations from the model, literals as-is', async () => {
    const state = new VaultState('secret');
    state.recordWrite(
      'my-app/config',
      'put',
      { username: 'u-1', password: 'p-old' },
      { version: 1, ackAt: 10 },
    );
    state.recordWrite('secret/my-app/config', 'patch', { password: 'p-new' }, { version: 2, ackAt: 20 });
    const r = await resolveExpectations(
      {
        username: 'my-app/config#username',
        password: 'my-app/config#password',
        other: { value: 'lit-value' },
      },
      state,
      noVault,
    );
    expect(r.map((e) => [e.k8sKey, e.value])).toEqual([
      ['username', 'u-1'],
      ['password', 'p-new'],
      ['other', 'lit-value'],
    ]);
    expect(latestAck({ vaultState: state }, ['my-app/config'])).toEqual({
      ackAt: 20,
      path: 'my-app/config',
      keys: ['password'],
    });
  });

  it('falls back to reading Vault for paths the scenario did not write', async () => {
    const vault = {
      kvGet: () => Promise.resolve({ data: { k: 'from-vault-1' }, version: 7, createdTime: '' }),
    } as unknown as VaultClient;
    const r = await resolveExpectations({ x: 'seeded/path#k' }, new VaultState('secret'), vault);
    expect(r[0]?.value).toBe('from-vault-1');
    await expect(
      resolveExpectations({ x: 'seeded/path#nokey' }, new VaultState('secret'), vault),
    ).rejects.toThrow(/has no key nokey/);
  });

  it('matches data: missing, different (hashes only), absent and exact keys', () => {
    const expected = [
      { k8sKey: 'username', value: 'u-1', source: 'p#username' },
      { k8sKey: 'password', value: 'p-new-value', source: 'p#password' },
    ];
    expect(matchData({ username: 'u-1', password: 'p-new-value' }, expected).ok).toBe(true);
    const bad = matchData({ username: 'u-1', password: 'p-old-value', api_key: 'k' }, expected, {
      absentKeys: ['api_key'],
      exactKeys: true,
    });
    expect(bad.ok).toBe(false);
    expect(bad.problems).toHaveLength(3);
    expect(bad.problems.join('\n')).not.toContain('p-old-value');
    expect(bad.problems.join('\n')).not.toContain('p-new-value');
    expect(bad.problems[0]).toMatch(/^key password has sha256:[0-9a-f]{8}, expected sha256:[0-9a-f]{8}/);
    expect(matchData({}, expected).problems[0]).toBe('key username missing (expected p#username)');
  });

  it('changedKeys and conditionMatches', () => {
    expect(changedKeys({ a: '1', b: '2' }, { a: '1', b: '3', c: '4' })).toEqual(['b', 'c']);
    const c = {
      type: 'Ready',
      status: 'False',
      reason: 'SecretSyncedError',
      message: 'Permission Denied on read',
    };
    expect(
      conditionMatches(c, {
        status: 'False',
        reason: 'SecretSyncedError',
        messageContains: 'permission denied',
      }),
    ).toBe(true);
    expect(conditionMatches(c, { status: 'True' })).toBe(false);
    expect(conditionMatches(undefined, { status: 'False' })).toBe(false);
  });

  it('file template values accept bare and vars.-prefixed names and include built-ins', () => {
    const conn = {
      provider: 'local',
      vault: {
        serverUrlForEso: 'http://127.0.0.1:8200',
        address: 'http://127.0.0.1:8200',
        kvMount: 'secret',
        kubernetesHostForVault: 'https://127.0.0.1:6443',
      },
      isolation: { runId: 'r1', namespaceSuffix: '', nameSuffix: '', vaultPathPrefix: '' },
    } as unknown as LabConnection;
    const v = fileTemplateValues({ refreshInterval: '5s', 'vars.other': 'x' }, conn);
    expect(v['vars.refreshInterval']).toBe('5s');
    expect(v['vars.other']).toBe('x');
    expect(v.vaultServer).toBe('http://127.0.0.1:8200');
    expect(v.runId).toBe('r1');
  });
});
