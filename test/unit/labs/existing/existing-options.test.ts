/** The existing provider's inputs: an explicit --context, VAULT_ADDR/VAULT_TOKEN, and the isolation names. */
import { describe, expect, it } from 'vitest';
import { existingOptions, isolationFor } from '../../../../src/labs/existing/existing-lab.ts';
import { UsageError } from '../../../../src/errors.ts';

const env = { VAULT_ADDR: 'http://127.0.0.1:8200/', VAULT_TOKEN: 't0ken-value', KUBECONFIG: '/nonexistent' };

describe('existing provider options', () => {
  it('refuses to start without an explicit --context (exit 2)', () => {
    expect(() => existingOptions({}, env)).toThrow(UsageError);
    expect(() => existingOptions({ context: '' }, env)).toThrow(/explicit --context/);
  });
  it('needs VAULT_ADDR and VAULT_TOKEN', () => {
    expect(() => existingOptions({ context: 'c' }, { VAULT_ADDR: 'http://x' })).toThrow(/VAULT_TOKEN/);
    expect(() => existingOptions({ context: 'c' }, { ...env, VAULT_ADDR: 'x' })).toThrow(/http/);
  });
  it('defaults: ESO reaches Vault at VAULT_ADDR; Vault outside the cluster', () => {
    const o = existingOptions({ context: 'c' }, env);
    expect(o).toMatchObject({
      context: 'c',
      vaultAddr: 'http://127.0.0.1:8200',
      serverUrlForEso: 'http://127.0.0.1:8200',
      vaultInCluster: false,
    });
    const i = existingOptions(
      { context: 'c' },
      {
        ...env,
        VAULT_ESO_LAB_VAULT_IN_CLUSTER: 'true',
        VAULT_ESO_LAB_VAULT_SERVER: 'http://vault.vault:8200',
      },
    );
    expect(i).toMatchObject({ vaultInCluster: true, serverUrlForEso: 'http://vault.vault:8200' });
  });
  it('isolation: suffixes for namespaces and names, a prefix for Vault paths', () => {
    expect(isolationFor('3fa9c1')).toEqual({
      runId: 'vel3fa9c1',
      namespaceSuffix: '-vel3fa9c1',
      nameSuffix: '-vel3fa9c1',
      vaultPathPrefix: 'vel-3fa9c1/',
    });
  });
});
