/**
 * Reads a key straight from etcd — not through the API server — to see what a Secret looks like at rest (and
 * counts or deletes keys under a prefix, for the lab's etcd seed).
 * Uses etcd's gRPC-gateway JSON API (`POST /v3/kv/range`, keys and values base64) over node:http or node:https,
 * so it works with plain HTTP on loopback and with client-certificate TLS (CA, client cert and key as PEM).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LabError, abortError } from '../errors.ts';

export interface EtcdEndpoint {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  /** PEM of the CA that signed etcd's serving certificate (https). */
  caPem?: string;
  /** Client certificate and key (PEM) when etcd requires client-certificate authentication. */
  certPem?: string;
  keyPem?: string;
}

export interface EtcdKeyValue {
  key: string;
  /** The raw stored bytes. */
  value: Buffer;
  modRevision: number;
  version: number;
}

interface RangeResponse {
  kvs?: { key?: string; value?: string; mod_revision?: string; version?: string }[];
  error?: string;
  message?: string;
}

/** The value of one key, or undefined when etcd has no such key. */
export async function readEtcdKey(
  ep: EtcdEndpoint,
  key: string,
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<EtcdKeyValue | undefined> {
  const body = JSON.stringify({ key: Buffer.from(key).toString('base64') });
  const res = await post(ep, '/v3/kv/range', body, o);
  if (res.status !== 200)
    throw new LabError('E_ETCD', `etcd ${ep.url} answered ${res.status} to a range read of ${key}`, {
      hint: res.body.slice(0, 200),
    });
  let parsed: RangeResponse;
  try {
    parsed = JSON.parse(res.body) as RangeResponse;
  } catch (e) {
    throw new LabError('E_ETCD', `etcd ${ep.url}: not JSON in answer to a range read`, { cause: e });
  }
  const kv = parsed.kvs?.[0];
  if (!kv?.value) return undefined;
  return {
    key,
    value: Buffer.from(kv.value, 'base64'),
    modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0),
  };
}

/** The end of the key range holding every key that starts with `prefix` (etcd's `range_end`). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  const end = Buffer.from(b);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key from prefix on
}

/** One call on every key under `prefix` (`range` or `deleterange`), its answer parsed. */
async function onPrefix(
  ep: EtcdEndpoint,
  call: 'range' | 'deleterange',
  prefix: string,
  extra: Record<string, unknown>,
  o: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ count?: string; deleted?: string }> {
  const body = JSON.stringify({
    key: Buffer.from(prefix).toString('base64'),
    range_end: prefixEnd(prefix).toString('base64'),
    ...extra,
  });
  const res = await post(ep, `/v3/kv/${call}`, body, o);
  if (res.status !== 200)
    throw new LabError('E_ETCD', `etcd ${ep.url} answered ${res.status} to a ${call} of ${prefix}*`, {
      hint: res.body.slice(0, 200),
    });
  return JSON.parse(res.body) as { count?: string; deleted?: string };
}

/** How many keys etcd holds under `prefix` (a count only: no values leave etcd). */
export async function countEtcdKeys(
  ep: EtcdEndpoint,
  prefix: string,
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number> {
  return Number((await onPrefix(ep, 'range', prefix, { count_only: true }, o)).count ?? 0);
}

/** Delete every key under `prefix`; returns how many were deleted. */
export async function deleteEtcdPrefix(
  ep: EtcdEndpoint,
  prefix: string,
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number> {
  return Number((await onPrefix(ep, 'deleterange', prefix, {}, o)).deleted ?? 0);
}

/**
 * Compact etcd's history at its current revision (physically: old revisions are gone, not just hidden) and
 * defragment its database, so that what was deleted leaves no trace and no space behind.
 */
export async function compactEtcd(
  ep: EtcdEndpoint,
  o: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number> {
  const head = await post(
    ep,
    '/v3/kv/range',
    JSON.stringify({ key: Buffer.from('/').toString('base64'), count_only: true }),
    o,
  );
  const revision = Number(
    (JSON.parse(head.body) as { header?: { revision?: string } }).header?.revision ?? 0,
  );
  if (head.status !== 200 || !revision)
    throw new LabError('E_ETCD', `etcd ${ep.url}: no current revision (HTTP ${head.status})`);
  for (const [path, body] of [
    ['/v3/kv/compaction', { revision, physical: true }],
    ['/v3/maintenance/defragment', {}],
  ] as const) {
    const r = await post(ep, path, JSON.stringify(body), { timeoutMs: 30_000, ...o });
    if (r.status !== 200)
      throw new LabError('E_ETCD', `etcd ${ep.url} answered ${r.status} to ${path}`, {
        hint: r.body.slice(0, 200),
      });
  }
  return revision;
}

/** Where the API server keeps a Secret in etcd (default `--etcd-prefix=/registry`). */
export function secretKey(namespace: string, name: string, prefix = '/registry'): string {
  return `${prefix}/secrets/${namespace}/${name}`;
}

export type AtRestFormat = 'protobuf' | 'json' | 'encrypted' | 'unknown';

export interface AtRest {
  format: AtRestFormat;
  /** For `encrypted`: the provider and key name from the envelope (`k8s:enc:aescbc:v1:key1:` → aescbc, key1). */
  provider?: string;
  keyName?: string;
  /** The first bytes of the value, printable characters only (no value bytes beyond the envelope header). */
  header: string;
  /** Byte offset of `needle` in the stored value, when it is there in plain form. */
  offset?: number;
}

/** What the stored bytes are, and whether `needle` (a secret value) appears in them as it is. */
export function describeAtRest(value: Buffer, needle: string): AtRest {
  const idx = needle.length ? value.indexOf(Buffer.from(needle, 'utf8')) : -1;
  const found = idx >= 0 ? { offset: idx } : {};
  const enc = /^k8s:enc:([a-z0-9]+):v1:([^:]+):/.exec(value.subarray(0, 64).toString('latin1'));
  if (enc) return { format: 'encrypted', provider: enc[1], keyName: enc[2], header: enc[0], ...found };
  if (value.subarray(0, 4).equals(Buffer.from('k8s\0', 'latin1')))
    return { format: 'protobuf', header: 'k8s\\0 (protobuf)', ...found };
  if (value[0] === 0x7b) return { format: 'json', header: '{ (JSON)', ...found };
  return { format: 'unknown', header: '', ...found };
}

export type AtRestExpectation = 'plain' | 'encrypted';

/** Whether what was read matches the expectation; undefined when it does, else what is wrong. */
export function atRestMismatch(expected: AtRestExpectation, seen: AtRest): string | undefined {
  if (expected === 'plain') {
    if (seen.format === 'encrypted')
      return `expected the value in plain form, but the entry is encrypted (${seen.header})`;
    if (seen.offset === undefined)
      return `expected the value in plain form, but it is not in the stored bytes`;
    return undefined;
  }
  if (seen.format !== 'encrypted')
    return `expected an encryption envelope, but the entry is stored as ${seen.header || 'unknown bytes'}${seen.offset === undefined ? '' : `, the value in it as it is at byte ${seen.offset}`}`;
  if (seen.offset !== undefined)
    return `the entry is an envelope, yet the value is in it as it is at byte ${seen.offset}`;
  return undefined;
}

export function describeSeen(seen: AtRest, valueHash: string): string {
  const where =
    seen.offset === undefined
      ? `the value (sha256:${valueHash}) is not in the stored bytes`
      : `the value (sha256:${valueHash}) is in the stored bytes as it is, at byte ${seen.offset}`;
  return `stored as ${seen.format === 'encrypted' ? `an ${seen.provider} envelope (${seen.header})` : seen.header}; ${where}`;
}

function post(
  ep: EtcdEndpoint,
  path: string,
  body: string,
  o: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ status: number; body: string }> {
  const u = new URL(path, ep.url);
  const tls = u.protocol === 'https:';
  const req = tls ? httpsRequest : httpRequest;
  const timeoutMs = o.timeoutMs ?? 5000;
  if (o.signal?.aborted) return Promise.reject(abortError(o.signal));
  return new Promise((resolve, reject) => {
    const r = req(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(tls ? { ca: ep.caPem, cert: ep.certPem, key: ep.keyPem, rejectUnauthorized: true } : {}),
        timeout: timeoutMs,
        signal: o.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () =>
      r.destroy(new LabError('E_ETCD', `no answer from etcd ${u.host} within ${timeoutMs} ms`)),
    );
    r.on('error', (e) =>
      reject(
        o.signal?.aborted
          ? abortError(o.signal)
          : new LabError('E_ETCD', `cannot read from etcd ${ep.url}: ${e.message}`, { cause: e }),
      ),
    );
    r.end(body);
  });
}
