/**
 * The watch over a connection of its own, against real servers on 127.0.0.1 that this test drives (node:http for
 * chunked replies, node:net for a reply written byte by byte): events split across writes and chunks, the
 * credentials it sends, error replies, a connection cut mid-reply, the caller's abort — and its one reason to
 * exist: read at most every `coalesceMs`, so that a burst of events is read in a few wake-ups, each event stamped
 * when it was read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { watchSocket } from '../../../src/kube/watch-socket.ts';
import { splitEvents, watchFailureContract } from './watch-contract.ts';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw TCP server: `reply` writes what it likes once the request has come. */
async function serveRaw(reply: (socket: net.Socket) => Promise<void>): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('data', () => void reply(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const event = (type: string, rv: string) =>
  JSON.stringify({ type, object: { kind: 'Secret', metadata: { name: `s${rv}`, resourceVersion: rv } } });

function runWatch(server: string, coalesceMs = 0, query = {}) {
  const events: { type: string; rv: string; at: number }[] = [];
  let doneCalls = 0;
  let abort: () => void = () => {};
  let reads: () => number = () => 0;
  const finished = new Promise<unknown>((resolve) => {
    watchSocket({ server, headers: { Authorization: 'Bearer test-token' } }, { coalesceMs })(
      '/api/v1/namespaces/ns/secrets',
      query,
      (type, obj) =>
        events.push({
          type,
          rv: (obj as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
          at: Date.now(),
        }),
      (err) => {
        doneCalls += 1;
        resolve(err);
      },
    ).then(
      (w) => {
        abort = () => w.abort();
        reads = () => w.reads();
      },
      (e: unknown) => resolve(e),
    );
  });
  return { events, finished, doneCalls: () => doneCalls, abort: () => abort(), reads: () => reads() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchSocket', () => {
  it('sends the query and credentials, parses chunked events split across writes and chunks, and ends with null', async () => {
    let seen: IncomingMessage | undefined;
    const url = await serve(splitEvents((req) => (seen = req)));
    const w = runWatch(url, 0, { resourceVersion: '7', allowWatchBookmarks: true, skipped: undefined });
    expect(await w.finished).toBeNull();
    expect(w.events.map((e) => [e.type, e.rv])).toEqual([
      ['ADDED', '1'],
      ['MODIFIED', '2'],
      ['BOOKMARK', '3'],
    ]);
    expect(w.doneCalls()).toBe(1);
    expect(seen?.headers.authorization).toBe('Bearer test-token');
    expect(seen?.headers.accept).toBe('application/json');
    const q = new URL(seen!.url!, 'http://x').searchParams;
    expect([
      q.get('watch'),
      q.get('resourceVersion'),
      q.get('allowWatchBookmarks'),
      q.has('skipped'),
    ]).toEqual(['true', '7', 'true', false]);
  });

  it('reads an identity body that ends with the connection, written a few bytes at a time', async () => {
    const body = `${event('ADDED', '1')}\n${event('MODIFIED', '2')}\n`;
    const url = await serveRaw(async (s) => {
      const reply = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`;
      for (let i = 0; i < reply.length; i += 9) {
        s.write(reply.slice(i, i + 9));
        await sleep(1);
      }
      s.end();
    });
    const w = runWatch(url);
    expect(await w.finished).toBeNull();
    expect(w.events.map((e) => e.rv)).toEqual(['1', '2']);
  });

  watchFailureContract(serve, (url) => {
    const w = runWatch(url);
    return { finished: w.finished, resourceVersions: () => w.events.map((e) => e.rv) };
  });

  it('refuses a server URL that is not http(s): the watch never starts', async () => {
    const w = runWatch('ftp://127.0.0.1:21');
    expect(String(await w.finished)).toMatch(/must be http\(s\)/);
    expect(w.doneCalls()).toBe(0);
  });

  it('ends with null exactly once when the caller aborts', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write(`${event('ADDED', '1')}\n`);
    });
    const w = runWatch(url);
    while (w.events.length === 0) await sleep(5);
    w.abort();
    w.abort();
    expect(await w.finished).toBeNull();
    await sleep(20);
    expect(w.doneCalls()).toBe(1);
  });

  it('with coalesceMs, reads a burst in one wake-up and stamps each event when it was read', async () => {
    // The head and event 1 in one write; 50 ms later events 2–20, 5 ms apart; then the end.
    const url = await serveRaw(async (s) => {
      s.write(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${event('MODIFIED', '1')}\n`);
      await sleep(50);
      for (let i = 2; i <= 20; i++) {
        s.write(`${event('MODIFIED', String(i))}\n`);
        await sleep(5);
      }
      s.end();
    });
    const w = runWatch(url, 300);
    expect(await w.finished).toBeNull();
    expect(w.events.map((e) => e.rv)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    // Event 1 is read as it comes; the socket is then left unread for 300 ms, so events 2–20 (sent 50–150 ms
    // later) are read together at the next read and stamped then, not when they came.
    const first = w.events[0]!.at;
    const rest = w.events.slice(1).map((e) => e.at - first);
    expect(Math.min(...rest)).toBeGreaterThanOrEqual(290);
    expect(Math.max(...rest) - Math.min(...rest)).toBeLessThan(50);
    // Two reads woke it (event 1; the rest), three at most if the end came in a read of its own.
    expect(w.reads()).toBeGreaterThanOrEqual(2);
    expect(w.reads()).toBeLessThanOrEqual(3);
  });
});
