/**
 * The failure half of the WatchFn contract, for each watch client (watch-stream.ts over node:http, watch-socket.ts
 * over its own connection): a non-200 reply, a connection dropped mid-reply, a line that is not JSON. Each test
 * file passes its own server (closed after each test) and a way to run one watch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { ApiHttpError } from '../../../src/kube/watch-stream.ts';

export type Serve = (handler: (req: IncomingMessage, res: ServerResponse) => void) => Promise<string>;
/** One watch to its end: what `done` got, and the resourceVersions of the events before it. */
export type RunOne = (url: string) => { finished: Promise<unknown>; resourceVersions: () => string[] };

const event = (type: string, rv: string) =>
  JSON.stringify({ type, object: { kind: 'Secret', metadata: { name: `s${rv}`, resourceVersion: rv } } });

/**
 * A handler that sends ADDED 1, MODIFIED 2 and BOOKMARK 3 split across writes (half an event, then its rest with a
 * whole one and the start of the last, then the end of the last) and ends the reply; it hands each request on.
 */
export function splitEvents(onRequest: (req: IncomingMessage) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    onRequest(req);
    res.writeHead(200, { 'content-type': 'application/json' });
    const a = event('ADDED', '1');
    const b = event('MODIFIED', '2');
    const c = event('BOOKMARK', '3');
    res.write(a.slice(0, 10));
    setTimeout(() => {
      res.write(`${a.slice(10)}\n${b}\n${c.slice(0, 5)}`);
      setTimeout(() => res.end(`${c.slice(5)}\n`), 10);
    }, 10);
  };
}

export function watchFailureContract(serve: Serve, run: RunOne): void {
  it('ends with an ApiHttpError carrying the status code and the Status message for a non-200 reply', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', message: 'secrets is forbidden: User "x" cannot watch' }));
    });
    const err = await run(url).finished;
    expect(err).toBeInstanceOf(ApiHttpError);
    expect((err as ApiHttpError).statusCode).toBe(403);
    expect((err as Error).message).toContain('secrets is forbidden');
  });

  it('ends with an error when the connection drops mid-reply, after the events that came before', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write(`${event('ADDED', '1')}\n`);
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const w = run(url);
    expect(String(await w.finished)).toMatch(/closed mid-reply|socket hang up|aborted|ECONNRESET/);
    expect(w.resourceVersions()).toEqual(['1']);
  });

  it('ends with an error when a line is not JSON', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.end('{"type":"ADDED",\n');
    });
    expect(String(await run(url).finished)).toContain('not JSON');
  });
}
