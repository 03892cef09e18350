/**
 * The Vault client against a real OpenBao dev server (the lab's own build in the user cache): KV v2, policies,
 * auth mounts, Kubernetes auth config and roles, tokens, seal/unseal, typed errors. Skipped, visibly, when the
 * component is not built (`vault-eso-lab build openbao`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath } from '../../../src/components/cache.ts';
import { components } from '../../../src/components/versions.ts';
import { AbortedError } from '../../../src/errors.ts';
import { generatePki } from '../../../src/labs/local/pki.ts';
import { freePort } from '../../../src/labs/local/ports.ts';
import { startDaemon, type Daemon } from '../../../src/process/command.ts';
import { waitFor } from '../../../src/time.ts';
import { VaultClient, VaultRequestError } from '../../../src/vault/client.ts';

const bao = binaryPath(components.openbao, 'bao');
const built = existsSync(bao);

describe.skipIf(!built)(`VaultClient on a real OpenBao dev server (needs ${bao})`, () => {
  const token = `t-${randomBytes(12).toString('hex')}`;
  let dir = '';
  let daemon: Daemon | undefined;
  let client: VaultClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vel-client-openbao-'));
    const port = await freePort();
    daemon = startDaemon({
      name: 'openbao',
      file: bao,
      args: ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, '-dev-no-store-token'],
      logFile: join(dir, 'openbao.log'),
      env: { BAO_DEV_ROOT_TOKEN_ID: token, HOME: dir, PATH: '/usr/bin:/bin' },
    });
    client = new VaultClient({ address: `http://127.0.0.1:${port}`, token });
    await waitFor(
      async () => {
        const h = await client.health();
        return h.httpStatus === 200
          ? { done: true, value: undefined }
          : { done: false, seen: `${h.httpStatus}` };
      },
      { what: 'OpenBao sys/health', timeoutMs: 30_000 },
    );
  }, 40_000);

  afterAll(async () => {
    await daemon?.stop(3000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('KV v2: put, patch, read a version, metadata, list, destroy; the ack timestamp follows the answer', async () => {
    const before = Date.now();
    const w1 = await client.kvPut('secret/app/config', { username: 'u1', password: 'p-one-123456' });
    expect(w1.version).toBe(1);
    expect(w1.ackAt).toBeGreaterThanOrEqual(before);
    expect(Date.parse(w1.createdTime)).toBeGreaterThan(0);
    const w2 = await client.kvPatch('app/config', { password: 'p-two-123456' });
    expect(w2.version).toBe(2);
    expect(w2.ackAt).toBeGreaterThanOrEqual(w1.ackAt);
    expect((await client.kvGet('app/config'))?.data).toEqual({ username: 'u1', password: 'p-two-123456' });
    expect((await client.kvGet('app/config', { version: 1 }))?.data.password).toBe('p-one-123456');
    expect(await client.kvGet('app/missing')).toBeUndefined();
    expect((await client.kvMetadata('app/config'))?.currentVersion).toBe(2);
    expect(await client.kvList('app')).toEqual(['config']);
    expect(await client.kvList('')).toContain('app/');
    expect(await client.kvList('nothing-here')).toEqual([]);
    await client.kvDestroyAll('app/config');
    expect(await client.kvMetadata('app/config')).toBeUndefined();
  });

  it('policies, auth mounts, a Kubernetes role; a token limited by a policy gets a typed 403', async () => {
    await client.policyWrite('read-app', 'path "secret/data/app/*" { capabilities = ["read"] }');
    expect(await client.policyList()).toContain('read-app');
    expect(await client.policyRead('read-app')).toContain('secret/data/app/*');
    expect(await client.policyRead('no-such-policy')).toBeUndefined();

    expect(await client.authEnable('k8s-test', 'kubernetes')).toBe('enabled');
    expect(await client.authEnable('k8s-test', 'kubernetes')).toBe('existing');
    await expect(client.authEnable('k8s-test', 'userpass')).rejects.toThrow(/already mounted with type/);
    const { caCertPem } = await generatePki(1);
    await client.kubernetesAuthConfig('k8s-test', {
      kubernetesHost: 'https://127.0.0.1:6443',
      kubernetesCaCert: caCertPem,
      disableLocalCaJwt: true,
    });
    const config = await client.request<{ data: { kubernetes_host: string } }>('GET', 'auth/k8s-test/config');
    expect(config.body?.data.kubernetes_host).toBe('https://127.0.0.1:6443');
    await client.kubernetesRoleWrite('k8s-test', 'app', {
      boundServiceAccountNames: ['app'],
      boundServiceAccountNamespaces: ['default'],
      policies: ['read-app'],
      ttl: '10m',
    });
    const role = await client.request<{ data: { token_policies: string[] } }>(
      'GET',
      'auth/k8s-test/role/app',
    );
    expect(role.body?.data.token_policies).toEqual(['read-app']);
    await client.kubernetesRoleDelete('k8s-test', 'app');
    await client.kubernetesRoleDelete('k8s-test', 'app'); // idempotent
    expect(Object.keys(await client.authList())).toContain('k8s-test/');
    await client.authDisable('k8s-test');
    expect(Object.keys(await client.authList())).not.toContain('k8s-test/');

    const created = await client.request<{ auth: { client_token: string } }>('POST', 'auth/token/create', {
      policies: ['read-app'],
      ttl: '5m',
    });
    const limitedToken = created.body?.auth.client_token ?? '';
    const limited = client.withToken(limitedToken);
    expect((await limited.tokenLookupSelf()).policies).toContain('read-app');
    const err = await limited.kvPut('other/thing', { k: 'v-123456' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultRequestError);
    expect((err as VaultRequestError).permissionDenied).toBe(true);
    expect((err as VaultRequestError).errors.join(' ')).toMatch(/permission denied/);
    expect((err as VaultRequestError).message).not.toContain(limitedToken);
    // A bad login is a typed error too (no such role), and sent without the client's token.
    const login = await client.kubernetesLogin('kubernetes-none', 'r', 'not.a.jwt').catch((e: unknown) => e);
    expect(login).toBeInstanceOf(VaultRequestError);
    expect((login as VaultRequestError).status).toBeGreaterThanOrEqual(400);
    await client.policyDelete('read-app');
    expect(await client.policyList()).not.toContain('read-app');
  });

  it('seal: health says sealed (503), calls fail as sealed; unseal with the dev key brings it back', async () => {
    const key = /Unseal Key:\s*(\S+)/.exec(readFileSync(join(dir, 'openbao.log'), 'utf8'))?.[1] ?? '';
    expect(key).not.toBe('');
    await client.seal();
    const h = await client.health();
    expect(h).toMatchObject({ sealed: true, initialized: true, httpStatus: 503 });
    const err = await client.kvGet('app/config').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultRequestError);
    expect((err as VaultRequestError).sealed).toBe(true);
    expect(await client.unseal(key)).toMatchObject({ sealed: false });
    expect((await client.health()).httpStatus).toBe(200);
  });

  it('an already-aborted signal rejects with AbortedError, before anything is sent', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(client.kvGet('app/config', { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
  });
});
