/** Small HTTP(S) requests for readiness probes over loopback, with a CA when needed (Vault calls go through src/vault/client.ts). */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { waitFor } from '../time.ts';

export interface HttpResponse {
  status: number;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  ca?: string;
  /** Client certificate and key (PEM), for components that require one (etcd, the kubelet). */
  cert?: string;
  key?: string;
  /** Accept any server certificate (only for probes of a component's self-signed health port). */
  insecure?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export function httpCall(url: string, o: HttpOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(
      u,
      {
        method: o.method ?? 'GET',
        headers: { ...(o.body ? { 'content-type': 'application/json' } : {}), ...o.headers },
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        rejectUnauthorized: !o.insecure,
        timeout: o.timeoutMs ?? 5000,
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
    r.on('timeout', () => r.destroy(new Error(`no answer from ${u.host} within ${o.timeoutMs ?? 5000} ms`)));
    r.on('error', reject);
    r.end(o.body);
  });
}

/** Resolve once `url` answers 200 (anything else, or no answer, is "not yet"); a WaitTimeoutError names `what`. */
export async function waitForOk(
  url: string,
  o: { what: string; ca: string; token?: string; signal: AbortSignal; timeoutMs: number },
): Promise<void> {
  await waitFor(
    async () => {
      const r = await httpCall(url, {
        ca: o.ca,
        ...(o.token ? { headers: { authorization: `Bearer ${o.token}` } } : {}),
        timeoutMs: 2000,
        signal: o.signal,
      });
      if (r.status === 200) return { done: true, value: undefined };
      // A health endpoint lists its failing checks as `[-]name failed: reason`: those say why.
      const failing = r.body
        .split('\n')
        .filter((l) => l.startsWith('[-]'))
        .join('; ');
      return { done: false, seen: `HTTP ${r.status}${failing ? `: ${failing.slice(0, 300)}` : ''}` };
    },
    { what: o.what, timeoutMs: o.timeoutMs, intervalMs: 50, signal: o.signal },
  );
}
