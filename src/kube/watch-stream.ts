/**
 * A lean Kubernetes watch and GET: node:http(s) requests with the kubeconfig's own TLS material and credentials
 * (client-node's `applyToHTTPSOptions`: CA, client certificate, token, exec plugins, proxy agent), the watch's
 * newline-delimited JSON events split straight from the socket's buffers and each parsed once.
 *
 * `watchStream(kc)` has the contract of client-node's `Watch.watch` (see WatchFn): `onEvent(type, object)` per
 * event, `done(err)` exactly once — `null` when the server ends the watch or the caller aborts, an error (with
 * `statusCode` for a non-200 reply) otherwise. Why not client-node's Watch: it pipes the body through node-fetch's
 * PassThrough and readline, which cost more CPU per event than the JSON parse (measured with 500 Secret events:
 * half of the JavaScript time went there).
 *
 * An `ApiEndpoint` is the serialisable form (server, PEM material, headers) that `bench scale` hands its harness
 * process on stdin, so that process needs no client-node at all: client-node alone is a 29 MiB heap, whose major
 * collections cost more than the watch itself when events come a few dozen a second.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** Same shape as client-node's `Watch.watch`, returning something abortable. */
export type WatchFn = (
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (type: string, obj: unknown) => void,
  done: (err: unknown) => void,
) => Promise<{ abort(): void }>;

/** A request target: the server's URL and the options (TLS, headers, agent) every request to it carries. */
export interface ApiTarget {
  server: string;
  options: https.RequestOptions;
}

/** What a process needs to reach an API server, without a kubeconfig or client-node: credentials inside. */
export interface ApiEndpoint {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers: Record<string, string>;
}

const NEWLINE = 0x0a;
/** How much of a non-200 reply's body is kept for its error message. */
const ERROR_BODY_LIMIT = 64 * 1024;

export class ApiHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${statusCode}${statusMessage(body)}`);
    this.name = 'ApiHttpError';
  }
}

/** A Status body's message (client.ts has kubeErrorMessage for ApiExceptions, but loads client-node). */
function statusMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' && m ? `: ${m}` : '';
  } catch {
    return body ? `: ${body.slice(0, 200)}` : '';
  }
}

/** The kubeconfig's current cluster and user as a request target (credentials resolved now: call per request). */
export async function apiTarget(kc: KubeConfig): Promise<ApiTarget> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return { server: cluster.server, options };
}

const pem = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;

/** The serialisable endpoint of the kubeconfig's current context (no proxy: a proxied cluster is refused). */
export async function apiEndpoint(kc: KubeConfig): Promise<ApiEndpoint> {
  if (kc.getCurrentCluster()?.proxyUrl) throw new Error('an API endpoint cannot carry a proxy');
  const { server, options: o } = await apiTarget(kc);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string') headers[k] = v;
  if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
  const ca = pem(o.ca);
  const cert = pem(o.cert);
  const key = pem(o.key);
  return {
    server,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
    ...(o.servername ? { servername: o.servername } : {}),
    headers,
  };
}

/** A request target over an endpoint, with one keep-alive agent for all its requests. */
export function endpointTarget(e: ApiEndpoint): ApiTarget {
  const tls = {
    ...(e.ca ? { ca: e.ca } : {}),
    ...(e.cert ? { cert: e.cert } : {}),
    ...(e.key ? { key: e.key } : {}),
    ...(e.rejectUnauthorized !== undefined ? { rejectUnauthorized: e.rejectUnauthorized } : {}),
    ...(e.servername ? { servername: e.servername } : {}),
  };
  const agent = e.server.startsWith('https:')
    ? new https.Agent({ keepAlive: true, ...tls })
    : new http.Agent({ keepAlive: true });
  return { server: e.server, options: { ...tls, agent, headers: e.headers } };
}

function send(target: ApiTarget, path: string): http.ClientRequest {
  const url = new URL(target.server + path);
  const request = url.protocol === 'https:' ? https.request : http.request;
  return request(url, {
    ...target.options,
    method: 'GET',
    headers: { ...target.options.headers, Accept: 'application/json' },
  });
}

/** A reply's whole body as text (at most ERROR_BODY_LIMIT of it when the status is not 200); never rejects. */
function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (res.statusCode === 200 || size < ERROR_BODY_LIMIT) chunks.push(c);
      size += c.length;
    });
    res.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      resolve(res.statusCode === 200 ? body : body.slice(0, ERROR_BODY_LIMIT));
    });
  });
}

/** GET one JSON document. A non-200 reply rejects with ApiHttpError (its `statusCode` set). */
export function getJson(target: ApiTarget, path: string, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = send(target, path);
    const onAbort = (): void => {
      req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const fail = (e: unknown): void => {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      res.on('error', fail);
      void readBody(res).then((body) => {
        signal?.removeEventListener('abort', onAbort);
        if (res.statusCode !== 200) return reject(new ApiHttpError(res.statusCode ?? 0, body, `GET ${path}`));
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error(`GET ${path}: a reply that is not JSON`, { cause: e }));
        }
      });
    });
    req.end();
  });
}

/** A WatchFn over one target, or over a function giving a fresh one per watch (credentials that rotate). */
export function watchOver(target: ApiTarget | (() => Promise<ApiTarget>)): WatchFn {
  return async (path, query, onEvent, done) => {
    const t = typeof target === 'function' ? await target() : target;
    const params = new URLSearchParams({ watch: 'true' });
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const what = `watch ${path}`;

    let finished = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      req.destroy();
      done(err);
    };
    const req = send(t, `${path}?${params.toString()}`);
    req.on('error', finish);
    req.on('response', (res) => {
      res.on('error', finish);
      // A reply that ends whole ends through 'end' (the events' or the error body's); one cut short, here.
      res.on('close', () => {
        if (!res.complete) finish(new Error(`${what}: the connection closed mid-reply`));
      });
      if (res.statusCode !== 200) {
        void readBody(res).then((body) => finish(new ApiHttpError(res.statusCode ?? 0, body, what)));
        return;
      }
      res.socket.setKeepAlive(true, 30_000);
      let pending: Buffer | undefined;
      res.on('data', (chunk: Buffer) => {
        const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
        let start = 0;
        for (let nl = buf.indexOf(NEWLINE); nl >= 0 && !finished; nl = buf.indexOf(NEWLINE, start)) {
          if (nl > start) {
            let event: { type?: unknown; object?: unknown };
            try {
              event = JSON.parse(buf.toString('utf8', start, nl)) as typeof event;
            } catch (e) {
              finish(new Error(`${what}: an event that is not JSON`, { cause: e }));
              return;
            }
            onEvent(String(event.type), event.object);
          }
          start = nl + 1;
        }
        pending = start < buf.length ? buf.subarray(start) : undefined;
      });
      res.on('end', () => finish(null));
    });
    req.end();
    return { abort: () => finish(null) };
  };
}

/** A WatchFn over the kubeconfig's current cluster and user, its credentials resolved afresh for each watch. */
export function watchStream(kc: KubeConfig): WatchFn {
  return watchOver(() => apiTarget(kc));
}
