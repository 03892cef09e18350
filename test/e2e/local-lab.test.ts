/**
 * The local lab, for real: etcd, kube-apiserver, kube-controller-manager, OpenBao and ESO as local processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { statSync, existsSync, readFileSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import type { LabRecord } from '../../src/labs/run-dir.ts';
import { cacheRoot } from '../../src/paths.ts';
import type { StartedLocalLab } from '../../src/labs/local/local-lab.ts';
import { isListening } from '../../src/labs/local/ports.ts';
import { httpCall } from '../../src/labs/http-call.ts';
import { isAlive, which } from '../../src/process/command.ts';
import { isolatedEnv, processesMentioning, startLab, vaultFetch } from './helpers.ts';

const env = isolatedEnv();
let lab: StartedLocalLab;
let kc: KubeConfig;
let core: CoreV1Api;

beforeAll(async () => {
  ({ lab } = await startLab(env));
  kc = new KubeConfig();
  kc.loadFromFile(lab.connection.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await lab?.stop();
});

/** A namespace with a ServiceAccount that Vault (outside the cluster) may review tokens for. */
const serviceAccountWithTokenReview = async (ns: string, sa: string) => {
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });
  await kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
    body: {
      metadata: { name: `${ns}-auth-delegator` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    },
  });
};

const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('local lab', () => {
  it('writes a private run directory with credentials 0600', () => {
    expect(statSync(lab.runDir).mode & 0o777).toBe(0o700);
    for (const f of [
      'kubeconfig',
      'eso.kubeconfig',
      'vault-token',
      'vault-unseal-key',
      'sa.key',
      'apiserver.key',
      'tokens.csv',
      'lab.json',
    ])
      expect(statSync(`${lab.runDir}/${f}`).mode & 0o777, f).toBe(0o600);
    expect(readFileSync(`${lab.runDir}/vault-token`, 'utf8').trim()).not.toBe('root');
  });

  it("starts etcd from the cached seed, which carries no other API server's lease or CA", async () => {
    const record = JSON.parse(readFileSync(`${lab.runDir}/lab.json`, 'utf8')) as LabRecord;
    const key = record.extra?.etcdSeed ?? '';
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    const seedDir = `${cacheRoot(env)}/etcd-seeds/${key}`;
    expect(statSync(seedDir).mode & 0o777).toBe(0o700);
    expect(existsSync(`${seedDir}/seed.json`)).toBe(true);
    // This lab's API server wrote its own client-CA ConfigMap: the lab's CA, not the seed build's.
    const cm = await core.readNamespacedConfigMap({
      namespace: 'kube-system',
      name: 'extension-apiserver-authentication',
    });
    expect(cm.data?.['client-ca-file']?.trim()).toBe(lab.connection.vault.kubernetesCaPem?.trim());
    // One API server identity lease, made by this lab's API server (none carried over from the seed build).
    const leases = await kc
      .makeApiClient(CoordinationV1Api)
      .listNamespacedLease({ namespace: 'kube-system', labelSelector: 'apiserver.kubernetes.io/identity' });
    expect(leases.items).toHaveLength(1);
    const made = new Date(leases.items[0]!.metadata!.creationTimestamp!).getTime();
    expect(made).toBeGreaterThanOrEqual(Date.parse(record.createdAt) - 1000);
    // ESO's CRDs came with the seed: Established, not applied by this start.
    const crd = await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'externalsecrets.external-secrets.io' });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
  });

  it('the API server answers the admin kubeconfig and reports its stamped version', async () => {
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toContain('kube-system');
    const r = await execa(`${lab.runDir}/bin/kubectl`, [
      '--kubeconfig',
      lab.connection.kubeconfigPath,
      'version',
      '-o',
      'json',
    ]);
    const server = (JSON.parse(r.stdout) as { serverVersion: { gitVersion: string } }).serverVersion
      .gitVersion;
    expect(server).toBe(lab.versions.kubernetes);
  });

  it("runs ESO as the chart's ServiceAccount, not as the lab admin", async () => {
    const esoKc = new KubeConfig();
    esoKc.loadFromFile(`${lab.runDir}/eso.kubeconfig`);
    const user = esoKc.getCurrentUser();
    const r = await httpCall(
      `${esoKc.getCurrentCluster()!.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
      {
        method: 'POST',
        ca: readFileSync(`${lab.runDir}/ca.crt`, 'utf8'),
        headers: { authorization: `Bearer ${user?.token ?? ''}` },
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      },
    );
    expect(r.status).toBe(201);
    const review = JSON.parse(r.body) as { status: { userInfo: { username: string } } };
    expect(review.status.userInfo.username).toBe('system:serviceaccount:external-secrets:external-secrets');
    // And the chart's RBAC is all it has: no cluster-admin powers.
    const listNodes = await httpCall(`${esoKc.getCurrentCluster()!.server}/api/v1/nodes`, {
      ca: readFileSync(`${lab.runDir}/ca.crt`, 'utf8'),
      headers: { authorization: `Bearer ${user?.token ?? ''}` },
    });
    expect(listNodes.status).toBe(403);
  });

  it('refuses an anonymous request for a protected resource', async () => {
    const server = kc.getCurrentCluster()!.server;
    const r = await httpCall(`${server}/api/v1/secrets`, {
      ca: readFileSync(`${lab.runDir}/ca.crt`, 'utf8'),
    });
    expect([401, 403]).toContain(r.status);
  });

  it.skipIf(!which('ss'))('binds every component to 127.0.0.1 only (needs ss)', async () => {
    const r = await execa('ss', ['-ltnp']);
    const status = await lab.status();
    for (const c of status) {
      if (!c.port) continue;
      const lines = r.stdout.split('\n').filter((l) => l.includes(`:${c.port} `));
      expect(lines.length, `${c.name} listens on ${c.port}`).toBeGreaterThan(0);
      for (const l of lines) expect(l, c.name).toContain(`127.0.0.1:${c.port}`);
    }
  });

  it('status reports every component healthy', async () => {
    const status = await lab.status();
    // Independent components start at the same time (the record is not in start order); a node adds three.
    const node = lab.connection.node ? ['containerd', 'kubelet', 'kube-scheduler'] : [];
    expect(status.map((s) => s.name).sort()).toEqual(
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'openbao', 'eso', ...node].sort(),
    );
    for (const s of status) expect(s, s.name).toMatchObject({ healthy: true });
  });

  it('TokenRequest JWTs log in through OpenBao Kubernetes auth only for the bound role', async () => {
    const ns = `auth-${Date.now()}`;
    await serviceAccountWithTokenReview(ns, 'app-sa');
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'app-sa',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const jwt = tr.status?.token ?? '';
    expect(jwt.split('.')).toHaveLength(3);
    // Signed with the lab's ECDSA P-256 key.
    expect(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).alg).toBe('ES256');

    const { address, token, kubernetesHostForVault, kubernetesCaPem } = lab.connection.vault;
    expect(
      (await vaultFetch(address, token, 'sys/auth/kubernetes', { body: { type: 'kubernetes' } })).status,
    ).toBeLessThan(300);
    expect(
      (
        await vaultFetch(address, token, 'auth/kubernetes/config', {
          body: {
            kubernetes_host: kubernetesHostForVault,
            kubernetes_ca_cert: kubernetesCaPem,
            disable_local_ca_jwt: true,
          },
        })
      ).status,
    ).toBeLessThan(300);
    await vaultFetch(address, token, 'auth/kubernetes/role/bound', {
      body: {
        bound_service_account_names: ['app-sa'],
        bound_service_account_namespaces: [ns],
        policies: ['default'],
        ttl: '10m',
      },
    });
    await vaultFetch(address, token, 'auth/kubernetes/role/elsewhere', {
      body: {
        bound_service_account_names: ['app-sa'],
        bound_service_account_namespaces: ['other-ns'],
        policies: ['default'],
        ttl: '10m',
      },
    });
    const ok = await vaultFetch(address, undefined, 'auth/kubernetes/login', {
      body: { role: 'bound', jwt },
    });
    expect(ok.status).toBe(200);
    expect((ok.json.auth as { client_token?: string }).client_token).toBeTruthy();
    const refused = await vaultFetch(address, undefined, 'auth/kubernetes/login', {
      body: { role: 'elsewhere', jwt },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(refused.json)).toMatch(/namespace not authorized|not authorized/);
  });

  it('ESO syncs a SecretStore + ExternalSecret from OpenBao, and GC removes the Secret with its owner', async () => {
    const ns = `eso-${Date.now()}`;
    const { address, token } = lab.connection.vault;
    await serviceAccountWithTokenReview(ns, 'sync-sa');
    await vaultFetch(address, token, 'sys/auth/kubernetes', { body: { type: 'kubernetes' } }); // may exist already
    await vaultFetch(address, token, 'auth/kubernetes/config', {
      body: {
        kubernetes_host: lab.connection.vault.kubernetesHostForVault,
        kubernetes_ca_cert: lab.connection.vault.kubernetesCaPem,
        disable_local_ca_jwt: true,
      },
    });
    await vaultFetch(address, token, 'sys/policies/acl/e2e-read', {
      method: 'PUT',
      body: { policy: `path "secret/data/e2e/${ns}" { capabilities = ["read"] }` },
    });
    await vaultFetch(address, token, 'auth/kubernetes/role/e2e-sync', {
      body: {
        bound_service_account_names: ['sync-sa'],
        bound_service_account_namespaces: [ns],
        policies: ['e2e-read'],
        ttl: '10m',
      },
    });
    const value = `v-${Math.random().toString(36).slice(2)}`;
    expect(
      (await vaultFetch(address, token, `secret/data/e2e/${ns}`, { body: { data: { greeting: value } } }))
        .status,
    ).toBe(200);

    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'external-secrets.io',
      version: 'v1',
      namespace: ns,
      plural: 'secretstores',
      body: {
        apiVersion: 'external-secrets.io/v1',
        kind: 'SecretStore',
        metadata: { name: 'vault' },
        spec: {
          provider: {
            vault: {
              server: lab.connection.vault.serverUrlForEso,
              path: 'secret',
              version: 'v2',
              auth: {
                kubernetes: {
                  mountPath: 'kubernetes',
                  role: 'e2e-sync',
                  serviceAccountRef: { name: 'sync-sa' },
                },
              },
            },
          },
        },
      },
    });
    await custom.createNamespacedCustomObject({
      group: 'external-secrets.io',
      version: 'v1',
      namespace: ns,
      plural: 'externalsecrets',
      body: {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name: 'es' },
        spec: {
          refreshInterval: '1h',
          secretStoreRef: { name: 'vault', kind: 'SecretStore' },
          target: { name: 'synced', creationPolicy: 'Owner' },
          data: [{ secretKey: 'greeting', remoteRef: { key: `e2e/${ns}`, property: 'greeting' } }],
        },
      },
    });
    let got = '';
    await waitUntil(
      'the synced Secret',
      async () => {
        const s = await core.readNamespacedSecret({ name: 'synced', namespace: ns });
        got = Buffer.from(s.data?.greeting ?? '', 'base64').toString();
        return got.length > 0;
      },
      60_000,
    );
    expect(got).toBe(value);

    await custom.deleteNamespacedCustomObject({
      group: 'external-secrets.io',
      version: 'v1',
      namespace: ns,
      plural: 'externalsecrets',
      name: 'es',
    });
    await waitUntil(
      'garbage collection of the owned Secret',
      async () => {
        try {
          await core.readNamespacedSecret({ name: 'synced', namespace: ns });
          return false;
        } catch {
          return true;
        }
      },
      60_000,
    );
  });

  it('exposes vault and kubectl links for hand use', () => {
    expect(existsSync(`${lab.runDir}/bin/vault`)).toBe(true);
    expect(existsSync(`${lab.runDir}/bin/kubectl`)).toBe(true);
  });
});

describe('stopping', () => {
  it('leaves no process, no port and no run directory behind', async () => {
    const status = await lab.status();
    const pids = status.map((s) => s.pid!).filter(Boolean);
    const ports = status.map((s) => s.port!).filter(Boolean);
    expect(pids.length).toBe(lab.connection.node ? 8 : 5);
    await lab.stop();
    for (const p of pids) expect(isAlive(p), `pid ${p}`).toBe(false);
    for (const p of ports) expect(await isListening(p), `port ${p}`).toBe(false);
    expect(existsSync(lab.runDir)).toBe(false);
    expect(processesMentioning(env.VAULT_ESO_LAB_STATE_DIR!)).toEqual([]);
  });
});
