/**
 * node-vault's transport, over `fetch`, so that a call can be cancelled. node-vault 0.12 sends through axios, but
 * its request wrapper copies only a fixed list of options into the axios call (method, url, headers, the JSON
 * body, `timeout`, http(s) agents, TLS keys): an AbortSignal given in a call's request options never reaches
 * axios, so Ctrl-C could not cancel a request in flight. node-vault takes its transport from the
 * `request-promise` option (`.defaults(rpDefaults)` returns the function it calls with every request's options);
 * this one forwards `signal` and `timeout` and answers in the `{ statusCode, body, request.path }` shape that
 * node-vault's response handling reads.
 */

/** The options node-vault hands its transport: the merged per-call request options plus what it adds. */
export interface TransportRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
  signal?: AbortSignal;
  /** Milliseconds; the client's default when absent. */
  timeout?: number;
}

export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** No answer within the request's timeout (the caller's own signal aborting is reported as that, not this). */
export class TransportTimeoutError extends Error {
  override readonly name = 'TransportTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

export function fetchTransport(fetchFn: typeof fetch, defaultTimeoutMs: number): { defaults(): Transport } {
  const send: Transport = async (o) => {
    const timeoutMs = o.timeout ?? defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { ...o.headers };
    const hasBody = o.json !== undefined;
    if (hasBody && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetchFn(o.uri, {
        method: o.method,
        headers,
        body: hasBody ? JSON.stringify(o.json) : null,
        signal: o.signal ? AbortSignal.any([timeout, o.signal]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (timeout.aborted && !o.signal?.aborted) throw new TransportTimeoutError(timeoutMs);
      throw e;
    }
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { statusCode: res.status, body, request: { path: new URL(o.uri).pathname } };
  };
  return { defaults: () => send };
}
