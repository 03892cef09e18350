/**
 * The etcd reader against a real etcd (the lab's cached build): plain HTTP on loopback, and client-certificate TLS
 * (certificates made with openssl for the test). Skipped, visibly, when etcd is not built yet.
 */
import { freePort } from '../../../src/labs/local/ports.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath } from '../../../src/components/cache.ts';
import { components } from '../../../src/components/versions.ts';
import {
  compactEtcd,
  countEtcdKeys,
  deleteEtcdPrefix,
  describeAtRest,
  prefixEnd,
  readEtcdKey,
  secretKey,
  type EtcdEndpoint,
} from '../../../src/kube/etcd-reader.ts';
import { runCommand, startDaemon, which, type Daemon } from '../../../src/process/command.ts';
import { waitFor } from '../../../src/time.ts';

const etcd = binaryPath(components.etcd, 'etcd');
const hasEtcd = existsSync(etcd);
const hasOpenssl = which('openssl') !== undefined;

async function startEtcd(dir: string, tls?: { ca: string; cert: string; key: string }) {
  const [client, peer] = [await freePort(), await freePort()];
  const scheme = tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${client}`;
  const d = startDaemon({
    name: 'etcd',
    file: etcd,
    args: [
      '--name=t',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=t=http://127.0.0.1:${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
      ...(tls
        ? [
            `--cert-file=${tls.cert}`,
            `--key-file=${tls.key}`,
            `--trusted-ca-file=${tls.ca}`,
            '--client-cert-auth',
          ]
        : []),
    ],
    env: { PATH: '/usr/bin:/bin', HOME: dir },
    logFile: join(dir, 'etcd.log'),
  });
  return { d, url };
}

async function put(ep: EtcdEndpoint, key: string, value: Buffer): Promise<void> {
  // Through the same gateway, with curl: the reader under test must not write its own fixtures.
  const args = [
    '-sf',
    '-X',
    'POST',
    `${ep.url}/v3/kv/put`,
    '-d',
    JSON.stringify({ key: Buffer.from(key).toString('base64'), value: value.toString('base64') }),
  ];
  if (ep.caPem) args.push('--cacert', ep.caPem, '--cert', ep.certPem ?? '', '--key', ep.keyPem ?? '');
  const r = await runCommand('curl', args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`put failed: ${r.stderr}`);
}

describe('prefixEnd', () => {
  it("is the prefix with its last byte raised: etcd's range_end for 'every key starting with'", () => {
    expect(prefixEnd('/registry/leases/').toString()).toBe('/registry/leases0');
    expect([...prefixEnd('ab')]).toEqual([0x61, 0x63]);
  });
});

describe.skipIf(!hasEtcd)(`etcd reader (real etcd ${components.etcd.version})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vel-etcd-'));
  let d: Daemon;
  let ep: EtcdEndpoint;
  beforeAll(async () => {
    const s = await startEtcd(dir);
    d = s.d;
    ep = { url: s.url };
    await waitFor(
      async () => {
        const v = await readEtcdKey(ep, '/nothing').then(
          () => true,
          () => false,
        );
        return v ? { done: true, value: undefined } : { done: false, seen: 'not answering' };
      },
      { what: 'etcd to answer', timeoutMs: 20_000, intervalMs: 100 },
    );
  }, 30_000);
  afterAll(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a key as raw bytes and says when a key is absent', async () => {
    const stored = Buffer.concat([
      Buffer.from('k8s\0', 'latin1'),
      Buffer.from([1, 2, 255]),
      Buffer.from('s3cr3t-value'),
    ]);
    await put(ep, secretKey('ns', 'n'), stored);
    const kv = await readEtcdKey(ep, '/registry/secrets/ns/n');
    expect(kv?.value.equals(stored)).toBe(true);
    expect(kv?.modRevision).toBeGreaterThan(0);
    expect(await readEtcdKey(ep, '/registry/secrets/ns/absent')).toBeUndefined();
  });

  it('counts and deletes exactly the keys under a prefix', async () => {
    for (const k of ['/registry/leases/kube-system/apiserver-a', '/registry/leases/x/y', '/registry/leasesX'])
      await put(ep, k, Buffer.from('v'));
    expect(await countEtcdKeys(ep, '/registry/leases/')).toBe(2);
    expect(await deleteEtcdPrefix(ep, '/registry/leases/')).toBe(2);
    expect(await countEtcdKeys(ep, '/registry/leases/')).toBe(0);
    // A key that only shares the prefix's letters, not its '/', is left.
    expect(await readEtcdKey(ep, '/registry/leasesX')).toBeDefined();
  });

  it('compacts the history away: a deleted key leaves no old revision behind', async () => {
    await put(ep, '/registry/configmaps/kube-system/old', Buffer.from('seed-ca'));
    const before = (await readEtcdKey(ep, '/registry/configmaps/kube-system/old'))!.modRevision;
    await deleteEtcdPrefix(ep, '/registry/configmaps/kube-system/old');
    const at = await compactEtcd(ep);
    expect(at).toBeGreaterThan(before);
    // A read at the old revision is refused: etcd no longer has it.
    const r = await runCommand(
      'curl',
      [
        '-s',
        '-X',
        'POST',
        `${ep.url}/v3/kv/range`,
        '-d',
        JSON.stringify({
          key: Buffer.from('/registry/configmaps/kube-system/old').toString('base64'),
          revision: before,
        }),
      ],
      { reject: false },
    );
    expect(r.stdout).toMatch(/compacted/);
  });

  it('fails with the endpoint named when etcd does not answer', async () => {
    const port = await freePort();
    await expect(readEtcdKey({ url: `http://127.0.0.1:${port}` }, '/x')).rejects.toThrow(
      new RegExp(`cannot read from etcd http://127.0.0.1:${port}`),
    );
  });
});

describe.skipIf(!hasEtcd || !hasOpenssl)('etcd reader with client-certificate TLS (real etcd)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vel-etcd-tls-'));
  let d: Daemon;
  let ep: EtcdEndpoint;
  const f = (n: string) => join(dir, n);
  beforeAll(async () => {
    const sh = (script: string) => runCommand('sh', ['-c', script], { cwd: dir });
    await sh(
      [
        'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -subj /CN=test-ca -days 1',
        'openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=etcd',
        "printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > server.ext",
        'openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext',
        'openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr -subj /CN=reader',
        "printf 'extendedKeyUsage=clientAuth\\n' > client.ext",
        'openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1 -extfile client.ext',
      ].join(' && '),
    );
    // etcd's JSON gateway dials etcd's own gRPC port with the serving certificate as its client certificate:
    // without clientAuth in that certificate every /v3 call fails ("tls: bad certificate", code 14).
    const s = await startEtcd(dir, { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') });
    d = s.d;
    const read = (n: string) => readFileSync(f(n), 'utf8');
    ep = { url: s.url, caPem: read('ca.crt'), certPem: read('client.crt'), keyPem: read('client.key') };
    await waitFor(
      async () => {
        const ok = await readEtcdKey(ep, '/nothing').then(
          () => true,
          () => false,
        );
        return ok ? { done: true, value: undefined } : { done: false, seen: 'not answering' };
      },
      { what: 'etcd (TLS) to answer', timeoutMs: 20_000, intervalMs: 100 },
    );
  }, 40_000);
  afterAll(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads with the client certificate', async () => {
    await put(
      { url: ep.url, caPem: f('ca.crt'), certPem: f('client.crt'), keyPem: f('client.key') },
      '/k',
      Buffer.from('v1'),
    );
    expect((await readEtcdKey(ep, '/k'))?.value.toString()).toBe('v1');
  });

  it('is refused without one', async () => {
    const { certPem: _c, keyPem: _k, ...noClientCert } = ep;
    await expect(readEtcdKey(noClientCert, '/k')).rejects.toThrow(/cannot read from etcd https:/);
  });
});

describe('what a stored value is', () => {
  it('recognises the protobuf form and finds a value in it', () => {
    const v = Buffer.concat([
      Buffer.from('k8s\0\n\f\n\x02v1\x12\x06Secret', 'latin1'),
      Buffer.from('pw-123456'),
    ]);
    expect(describeAtRest(v, 'pw-123456')).toEqual({
      format: 'protobuf',
      header: 'k8s\\0 (protobuf)',
      offset: v.length - 9,
    });
  });

  it('recognises an encryption envelope and does not find the value in it', () => {
    const v = Buffer.concat([
      Buffer.from('k8s:enc:aescbc:v1:key1:', 'latin1'),
      Buffer.from([0x9a, 0x10, 0xff]),
    ]);
    expect(describeAtRest(v, 'pw-123456')).toEqual({
      format: 'encrypted',
      provider: 'aescbc',
      keyName: 'key1',
      header: 'k8s:enc:aescbc:v1:key1:',
    });
  });
});
