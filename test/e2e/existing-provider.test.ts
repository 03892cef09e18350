/**
 * The existing provider for real: a local lab stands in for "an existing cluster" (KUBECONFIG = the lab's
 * kubeconfig, context `vault-eso-lab`, VAULT_ADDR/VAULT_TOKEN from the lab). `scenario rotate --provider existing`
 * must pass using only suffixed names (namespace, policy, role, auth mount) and a prefixed Vault path, leave the
 * decoys that carry the tutorial's own names untouched, and leave nothing behind in Kubernetes or Vault.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../../src/kube/client.ts';
import type { StartedLocalLab } from '../../src/labs/local/local-lab.ts';
import { cli, type CliResult } from './cli.ts';
import { isolatedEnv, startLab, vaultFetch } from './helpers.ts';

const env = isolatedEnv();
let lab: StartedLocalLab;

interface Snapshot {
  namespaces: string[];
  clusterRoleBindings: string[];
  policies: string[];
  authMounts: string[];
  kvRoot: string[];
}

async function snapshot(): Promise<Snapshot> {
  const kube = createKubeClients(lab.connection.kubeconfigPath);
  const v = lab.connection.vault;
  const ns = await kube.core.listNamespace();
  const crb = await kube.rbac.listClusterRoleBinding();
  const pol = await vaultFetch(v.address, v.token, 'sys/policies/acl?list=true');
  const auth = await vaultFetch(v.address, v.token, 'sys/auth');
  const kv = await vaultFetch(v.address, v.token, 'secret/metadata/?list=true');
  const keys = (j: Record<string, unknown>) =>
    ((j.data as { keys?: string[] } | undefined)?.keys ?? []).sort();
  return {
    namespaces: ns.items
      .filter((n) => n.status?.phase !== 'Terminating')
      .map((n) => n.metadata!.name!)
      .sort(),
    clusterRoleBindings: crb.items.map((b) => b.metadata!.name!).sort(),
    policies: keys(pol.json),
    authMounts: Object.keys((auth.json.data as Record<string, unknown> | undefined) ?? {}).sort(),
    kvRoot: kv.status === 404 ? [] : keys(kv.json),
  };
}

let before: Snapshot;
let r: CliResult;

beforeAll(async () => {
  ({ lab } = await startLab(env, 'existing-host'));
  const v = lab.connection.vault;
  // Decoys with the tutorial's own names: a shared cluster's real tenants.
  const kube = createKubeClients(lab.connection.kubeconfigPath);
  await kube.core.createNamespace({ body: { metadata: { name: 'my-app' } } });
  await vaultFetch(v.address, v.token, 'secret/data/my-app/config', {
    body: { data: { password: 'decoy-value' } },
  });
  await vaultFetch(v.address, v.token, 'sys/policies/acl/my-app-read', {
    method: 'PUT',
    body: { policy: '# decoy\n' },
  });
  before = await snapshot();
  r = await cli(['scenario', 'rotate', '--provider', 'existing', '--context', 'vault-eso-lab'], {
    ...env,
    KUBECONFIG: lab.connection.kubeconfigPath,
    VAULT_ADDR: v.address,
    VAULT_TOKEN: v.token,
  });
}, 900_000);

afterAll(async () => {
  await lab?.stop();
});

describe('scenario rotate on --provider existing (a local lab as the existing cluster)', () => {
  it('passes', () => {
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
  });

  it('works under suffixed names only', () => {
    const text = r.stderr + r.stdout;
    const id = /run isolation id (vel[0-9a-f]{6})/.exec(text)?.[1];
    expect(id, text).toBeDefined();
    expect(text).toContain(`my-app-${id}`);
    expect(text).not.toMatch(/Secret my-app\/my-app-user-password/);
  });

  it('leaves the decoys untouched and nothing of its own behind', async () => {
    const v = lab.connection.vault;
    const decoy = await vaultFetch(v.address, v.token, 'secret/data/my-app/config');
    expect((decoy.json.data as { data: Record<string, string> }).data.password).toBe('decoy-value');
    const pol = await vaultFetch(v.address, v.token, 'sys/policies/acl/my-app-read');
    expect(JSON.stringify(pol.json)).toContain('# decoy');
    // Namespace deletion is asynchronous (the namespace controller finalizes it): wait for it.
    let after = await snapshot();
    for (let i = 0; i < 60 && JSON.stringify(after) !== JSON.stringify(before); i++) {
      await new Promise((res) => setTimeout(res, 1000));
      after = await snapshot();
    }
    expect(after).toEqual(before);
    expect(before.authMounts).not.toContain('kubernetes/');
  });
});
