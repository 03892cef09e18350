import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/errors.ts';
import { VaultClient, VaultRequestError, stripMount } from '../../../src/vault/client.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

let server: Server;
let address = '';
const seen: Seen[] = [];
/** `hang: true` never answers (the socket stays open until the client gives up). */
let reply: (req: Seen) => { status: number; body?: unknown; hang?: boolean } = () => ({ status: 204 });

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: raw ? (JSON.parse(raw) as unknown) : undefined,
      };
      seen.push(s);
      const r = reply(s);
      if (r.hang) return;
      res.writeHead(r.status, { 'Content-Type': 'application/json' });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
beforeEach(() => {
  seen.length = 0;
  reply = () => ({ status: 204 });
});

const client = (): VaultClient => new VaultClient({ address, token: 'root-token-x', kvMount: 'secret' });

describe('VaultClient request shaping', () => {
  it('KV v2 patch: PATCH /v1/secret/data/<path> with merge-patch content type and the token header', async () => {
    reply = () => ({ status: 200, body: { data: { version: 4, created_time: '2026-01-01T00:00:00Z' } } });
    const before = Date.now();
    const r = await client().kvPatch('my-app/config', { password: 'p-new-1234' });
    expect(seen[0]).toMatchObject({ method: 'PATCH', url: '/v1/secret/data/my-app/config' });
    expect(seen[0]?.headers['content-type']).toBe('application/merge-patch+json');
    expect(seen[0]?.headers['x-vault-token']).toBe('root-token-x');
    expect(seen[0]?.body).toEqual({ data: { password: 'p-new-1234' } });
    expect(r.version).toBe(4);
    expect(r.ackAt).toBeGreaterThanOrEqual(before);
  });

  it('KV v2 put accepts a path with the mount prefix', async () => {
    reply = () => ({ status: 200, body: { data: { version: 1, created_time: 't' } } });
    await client().kvPut('secret/my-app/config', { a: 'b' });
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/v1/secret/data/my-app/config',
      body: { data: { a: 'b' } },
    });
  });

  it('KV v2 get: data and version; 404 → undefined', async () => {
    reply = (s) =>
      s.url.includes('missing')
        ? { status: 404, body: { errors: [] } }
        : { status: 200, body: { data: { data: { u: 'v' }, metadata: { version: 3, created_time: 't' } } } };
    await expect(client().kvGet('my-app/config')).resolves.toEqual({
      data: { u: 'v' },
      version: 3,
      createdTime: 't',
    });
    await expect(client().kvGet('missing')).resolves.toBeUndefined();
  });

  it('403 is a VaultRequestError that knows it is a permission denial', async () => {
    reply = () => ({ status: 403, body: { errors: ['1 error occurred:\n\t* permission denied\n\n'] } });
    const err = await client()
      .kvGet('my-app/config', { token: 'role-token' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultRequestError);
    expect((err as VaultRequestError).permissionDenied).toBe(true);
    expect((err as VaultRequestError).message).toContain('HTTP 403');
    expect((err as VaultRequestError).message).not.toContain('role-token');
    expect(seen[0]?.headers['x-vault-token']).toBe('role-token');
  });

  it('health reports sealed on 503 without throwing, and sends no token', async () => {
    reply = () => ({
      status: 503,
      body: { initialized: true, sealed: true, standby: false, version: '2.4.1' },
    });
    await expect(client().health()).resolves.toMatchObject({
      sealed: true,
      initialized: true,
      httpStatus: 503,
    });
    expect(seen[0]?.headers['x-vault-token']).toBeUndefined();
  });

  it('an unreachable server is status 0', async () => {
    const c = new VaultClient({ address: 'http://127.0.0.1:1', token: 't' });
    const err = await c.health().catch((e: unknown) => e);
    expect((err as VaultRequestError).unreachable).toBe(true);
  });

  it("the caller's AbortSignal cancels a request in flight: AbortedError at once, not after the timeout", async () => {
    reply = () => ({ status: 200, hang: true });
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 50);
    const err = await new VaultClient({ address, token: 't', requestTimeoutMs: 5000 })
      .kvGet('my-app/config', { signal: ac.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('no answer within the request timeout is an unreachable VaultRequestError naming the timeout', async () => {
    reply = () => ({ status: 200, hang: true });
    const err = await new VaultClient({ address, token: 't', requestTimeoutMs: 100 })
      .kvPut('my-app/config', { a: 'b' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultRequestError);
    expect((err as VaultRequestError).unreachable).toBe(true);
    expect((err as VaultRequestError).message).toContain('no answer within 100 ms');
  });

  it('the environment (VAULT_TOKEN, VAULT_PREFIX, VAULT_NAMESPACE) does not redirect or re-authenticate calls', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      VAULT_TOKEN: 'env-token',
      VAULT_PREFIX: '/elsewhere',
      VAULT_NAMESPACE: 'ns1',
    });
    try {
      reply = () => ({ status: 200, body: { initialized: true, sealed: false, standby: false } });
      await client().health();
      await client().kvDelete('my-app/config');
    } finally {
      process.env = saved;
    }
    expect(seen.map((s) => s.url)).toEqual(['/v1/sys/health', '/v1/secret/data/my-app/config']);
    expect(seen[0]?.headers['x-vault-token']).toBeUndefined();
    expect(seen[1]?.headers['x-vault-token']).toBe('root-token-x');
    expect(seen.some((s) => s.headers['x-vault-namespace'] !== undefined)).toBe(false);
  });

  it('lists go as GET ?list=1; a 404 list is empty', async () => {
    reply = (s) =>
      s.url.startsWith('/v1/sys/policies')
        ? { status: 200, body: { data: { keys: ['default', 'my-app-read'] } } }
        : { status: 404, body: { errors: [] } };
    await expect(client().policyList()).resolves.toEqual(['default', 'my-app-read']);
    await expect(client().kvList('vel-1/')).resolves.toEqual([]);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /v1/sys/policies/acl?list=1',
      'GET /v1/secret/metadata/vel-1/?list=1',
    ]);
  });

  it('authEnable is idempotent when the same type is mounted', async () => {
    reply = (s) =>
      s.url === '/v1/sys/auth' && s.method === 'GET'
        ? {
            status: 200,
            body: { data: { 'token/': { type: 'token' }, 'kubernetes/': { type: 'kubernetes' } } },
          }
        : { status: 204 };
    await expect(client().authEnable('kubernetes', 'kubernetes')).resolves.toBe('existing');
    await expect(client().authEnable('k8s2', 'kubernetes')).resolves.toBe('enabled');
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v1/sys/auth/k8s2',
      body: { type: 'kubernetes' },
    });
  });

  it('kubernetes auth config and role bodies use Vault field names', async () => {
    await client().kubernetesAuthConfig('kubernetes', {
      kubernetesHost: 'https://127.0.0.1:6443',
      kubernetesCaCert: 'PEM',
      disableLocalCaJwt: true,
    });
    await client().kubernetesRoleWrite('kubernetes', 'my-app-role', {
      boundServiceAccountNames: ['my-app-sa'],
      boundServiceAccountNamespaces: ['my-app'],
      policies: ['my-app-read'],
      ttl: '24h',
    });
    expect(seen[0]).toMatchObject({
      url: '/v1/auth/kubernetes/config',
      body: {
        kubernetes_host: 'https://127.0.0.1:6443',
        kubernetes_ca_cert: 'PEM',
        disable_local_ca_jwt: true,
      },
    });
    expect(seen[1]).toMatchObject({
      url: '/v1/auth/kubernetes/role/my-app-role',
      body: {
        bound_service_account_names: ['my-app-sa'],
        bound_service_account_namespaces: ['my-app'],
        token_policies: ['my-app-read'],
        token_ttl: '24h',
      },
    });
  });

  it('policy write sends the HCL under `policy`', async () => {
    await client().policyWrite(
      'my-app-read',
      'path "secret/data/my-app/config" {\n  capabilities = ["read"]\n}\n',
    );
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/v1/sys/policies/acl/my-app-read' });
    expect((seen[0]?.body as { policy: string }).policy).toContain('path "secret/data/my-app/config"');
  });
});

describe('stripMount', () => {
  it('stripMount', () => {
    expect(stripMount('secret/data/a/b', 'secret')).toBe('a/b');
    expect(stripMount('/secret/a', 'secret')).toBe('a');
    expect(stripMount('a/b', 'secret')).toBe('a/b');
  });
});
