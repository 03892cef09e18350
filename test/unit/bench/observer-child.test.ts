/**
 * bench scale's watch harness as the process it is (observer-child.ts, started as bench scale starts it), against a
 * real HTTP server on 127.0.0.1 that plays the API server: it reports the change it saw and when, never a value;
 * and an ERROR event (a watch that would need a relist) fails the run, saying so, instead of resuming into it.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { childCommand } from '../../../src/bench/child-command.ts';
import { runCommand } from '../../../src/process/command.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

const secret = (password: string, rv: string) => ({
  kind: 'Secret',
  apiVersion: 'v1',
  metadata: { name: 's0', namespace: 'ns', resourceVersion: rv },
  data: { password: Buffer.from(password).toString('base64') },
  type: 'Opaque',
});

/** Serve the list (s0 at its first value), and the watch with `watchEvents` written 50 ms apart. */
async function serve(watchEvents: object[]): Promise<string> {
  server = createServer((req, res: ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') !== 'true') {
      res.end(
        JSON.stringify({
          kind: 'SecretList',
          metadata: { resourceVersion: '10' },
          items: [secret('old', '10')],
        }),
      );
      return;
    }
    watchEvents.forEach((e, i) => setTimeout(() => res.write(`${JSON.stringify(e)}\n`), 50 * (i + 1)));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function observe(url: string) {
  const { file, pre } = childCommand('observer-child');
  const args = ['--mode', 'watch', '--namespace', 'ns', '--count', '1', '--settle-ms', '5000'];
  return runCommand(process.execPath, [...pre, file, ...args, '--resolution-ms', '100'], {
    input: `${JSON.stringify({ server: url, headers: { Authorization: 'Bearer t' } })}\n`,
    reject: false,
    timeoutMs: 30_000,
  });
}

describe('observer-child (watch mode)', () => {
  it('reports when s0 changed, its events and reads, and no value', async () => {
    const url = await serve([
      { type: 'BOOKMARK', object: { kind: 'Secret', metadata: { resourceVersion: '11' } } },
      { type: 'MODIFIED', object: secret('new-value-123', '12') },
    ]);
    const before = Date.now();
    const r = await observe(url);
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({ ready: true });
    const out = JSON.parse(lines.at(-1)!) as {
      changedAt: Record<string, number>;
      events: number;
      wakes: number;
    };
    expect(Object.keys(out.changedAt)).toEqual(['s0']);
    expect(out.changedAt.s0).toBeGreaterThanOrEqual(before);
    expect(out.events).toBe(2);
    expect(out.wakes).toBeGreaterThanOrEqual(1);
    expect(r.stdout + r.stderr).not.toContain('new-value-123');
    expect(r.stdout + r.stderr).not.toContain(Buffer.from('new-value-123').toString('base64'));
  });

  it('fails on an ERROR event instead of resuming into it', async () => {
    const url = await serve([
      {
        type: 'ERROR',
        object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
      },
    ]);
    const r = await observe(url);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/observer: the watch got an ERROR event at resourceVersion 10/);
  });
});
