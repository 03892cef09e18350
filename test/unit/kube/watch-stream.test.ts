/**
 * The lean watch and GET against a real HTTP server on 127.0.0.1 that this test drives: events split across
 * writes (mid-line, several in one write), a watch the server ends, error replies, a connection dropped mid-reply,
 * the caller's abort, and the endpoint a harness process gets on stdin.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import {
  apiEndpoint,
  endpointTarget,
  getJson,
  watchOver,
  watchStream,
} from '../../../src/kube/watch-stream.ts';
import { statusOf } from '../../../src/kube/client.ts';
import { splitEvents, watchFailureContract } from './watch-contract.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function serve(handler: Handler): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function kubeConfig(url: string, token = 'test-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain HTTP unless TLS verification is off; these servers speak HTTP on 127.0.0.1.
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const event = (type: string, rv: string) =>
  JSON.stringify({ type, object: { kind: 'Secret', metadata: { name: 's', resourceVersion: rv } } });

/** Run one watch to its end; resolves with what it saw and the error `done` got. */
function runWatch(url: string, path = '/api/v1/namespaces/ns/secrets', query = {}) {
  const events: [string, string][] = [];
  let doneCalls = 0;
  const finished = new Promise<unknown>((resolve) => {
    watchStream(kubeConfig(url))(
      path,
      query,
      (type, obj) =>
        events.push([type, (obj as { metadata: { resourceVersion: string } }).metadata.resourceVersion]),
      (err) => {
        doneCalls += 1;
        resolve(err);
      },
    ).catch((e: unknown) => resolve(new Error(`the watch did not start: ${String(e)}`)));
  });
  return { events, finished, doneCalls: () => doneCalls };
}

describe('watchStream', () => {
  it('sends the query and credentials, parses events split across writes, and ends with null when the server ends', async () => {
    let seen: IncomingMessage | undefined;
    const url = await serve(splitEvents((req) => (seen = req)));
    const w = runWatch(url, '/api/v1/namespaces/ns/secrets', {
      resourceVersion: '7',
      fieldSelector: 'metadata.name=s',
      skip: undefined,
    });
    expect(await w.finished).toBeNull();
    expect(w.events).toEqual([
      ['ADDED', '1'],
      ['MODIFIED', '2'],
      ['BOOKMARK', '3'],
    ]);
    expect(w.doneCalls()).toBe(1);
    const q = new URL(seen!.url!, url).searchParams;
    expect(q.get('watch')).toBe('true');
    expect(q.get('resourceVersion')).toBe('7');
    expect(q.get('fieldSelector')).toBe('metadata.name=s');
    expect(q.has('skip')).toBe(false);
    expect(seen!.headers.authorization).toBe('Bearer test-token');
  });

  it('passes an ERROR event on as such (410 Gone inside a 200 watch)', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, metadata: { resourceVersion: '' } } })}\n`,
      );
    });
    const w = runWatch(url);
    expect(await w.finished).toBeNull();
    expect(w.events.map(([t]) => t)).toEqual(['ERROR']);
  });

  watchFailureContract(serve, (url) => {
    const w = runWatch(url);
    return { finished: w.finished, resourceVersions: () => w.events.map(([, rv]) => rv) };
  });

  it('abort() closes the request and calls done once, with null', async () => {
    let closed: () => void = () => {};
    const requestClosed = new Promise<void>((r) => (closed = r));
    const url = await serve((req, res) => {
      res.writeHead(200);
      res.write(`${event('ADDED', '1')}\n`);
      req.on('close', () => closed());
    });
    const events: string[] = [];
    const dones: unknown[] = [];
    let first: () => void = () => {};
    const gotFirst = new Promise<void>((r) => (first = r));
    const handle = await watchStream(kubeConfig(url))(
      '/api/v1/namespaces/ns/secrets',
      {},
      (type) => {
        events.push(type);
        first();
      },
      (err) => dones.push(err),
    );
    await gotFirst;
    handle.abort();
    handle.abort();
    await requestClosed;
    expect(dones).toEqual([null]);
    expect(events).toEqual(['ADDED']);
  });
});

describe('apiEndpoint / endpointTarget / getJson', () => {
  it('carries the credentials a harness process needs, and GETs JSON with them over one keep-alive agent', async () => {
    const auth: (string | undefined)[] = [];
    const ports = new Set<number>();
    const url = await serve((req, res) => {
      auth.push(req.headers.authorization);
      ports.add(req.socket.remotePort ?? 0);
      if (req.url?.endsWith('/missing')) {
        res.writeHead(404);
        res.end(JSON.stringify({ kind: 'Status', message: 'secrets "missing" not found' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ metadata: { name: 'present' } }));
    });
    const endpoint = await apiEndpoint(kubeConfig(url, 'tok-123'));
    expect(endpoint).toEqual({
      server: url,
      rejectUnauthorized: false,
      headers: { Authorization: 'Bearer tok-123' },
    });
    const target = endpointTarget(JSON.parse(JSON.stringify(endpoint)));
    expect(await getJson(target, '/api/v1/namespaces/ns/secrets/present')).toEqual({
      metadata: { name: 'present' },
    });
    expect(await getJson(target, '/api/v1/namespaces/ns/secrets/present')).toEqual({
      metadata: { name: 'present' },
    });
    const missing = await getJson(target, '/api/v1/namespaces/ns/secrets/missing').catch((e: unknown) => e);
    expect(statusOf(missing)).toBe(404);
    expect(String(missing)).toContain('not found');
    expect(auth).toEqual(['Bearer tok-123', 'Bearer tok-123', 'Bearer tok-123']);
    expect(ports.size).toBe(1);
  });

  it('a watch over an endpoint target sees the same events', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.end(`${event('MODIFIED', '9')}\n`);
    });
    const seen: string[] = [];
    const err = await new Promise<unknown>((resolve) => {
      void watchOver(endpointTarget({ server: url, headers: {} }))(
        '/api/v1/secrets',
        {},
        (t) => seen.push(t),
        resolve,
      );
    });
    expect(err).toBeNull();
    expect(seen).toEqual(['MODIFIED']);
  });

  it('getJson rejects at once when its signal aborts', async () => {
    const url = await serve(() => {
      /* never answers */
    });
    const ac = new AbortController();
    const p = getJson(endpointTarget({ server: url, headers: {} }), '/slow', ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
