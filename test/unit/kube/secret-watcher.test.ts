import { describe, expect, it, vi } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { SecretWatcher, type SecretListResult, type WatchFn } from '../../../src/kube/secret-watcher.ts';

function secret(rv: string, data: Record<string, string>): V1Secret {
  return {
    metadata: { name: 's', namespace: 'ns', resourceVersion: rv },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

interface Session {
  query: Record<string, string | number | boolean | undefined>;
  emit: (type: string, obj: unknown) => void;
  end: (err: unknown) => void;
  aborted: boolean;
}

/** A fake API server: records each watch session and lets the test drive it. */
function fakeServer(listed: () => SecretListResult) {
  const sessions: Session[] = [];
  let lists = 0;
  const waiters: (() => void)[] = [];
  const watch: WatchFn = async (_path, query, onEvent, done) => {
    const s: Session = { query, emit: onEvent, end: done, aborted: false };
    sessions.push(s);
    for (const w of waiters.splice(0)) w();
    return {
      abort: () => {
        s.aborted = true;
      },
    };
  };
  const list = async (): Promise<SecretListResult> => {
    lists++;
    return listed();
  };
  const nextSession = (n: number): Promise<Session> =>
    new Promise((resolve) => {
      const check = (): void => {
        const s = sessions[n];
        if (s) resolve(s);
        else waiters.push(check);
      };
      check();
    });
  return { watch, list, sessions, nextSession, lists: () => lists };
}

const fast = { minBackoffMs: 1, maxBackoffMs: 5 };

describe('SecretWatcher', () => {
  it('lists first, then watches from the list resourceVersion, timestamping events on arrival', async () => {
    const server = fakeServer(() => ({
      resourceVersion: '100',
      secret: secret('90', { password: 'old-value-1' }),
    }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    expect(w.history).toHaveLength(1);
    expect(w.history[0]?.type).toBe('LISTED');
    expect(w.history[0]?.data).toEqual({ password: 'old-value-1' });
    const s0 = await server.nextSession(0);
    expect(s0.query.resourceVersion).toBe('100');
    expect(s0.query.fieldSelector).toBe('metadata.name=s');
    const before = Date.now();
    s0.emit('MODIFIED', secret('101', { password: 'new-value-2' }));
    expect(w.latest()?.type).toBe('MODIFIED');
    expect(w.latest()?.data.password).toBe('new-value-2');
    expect(w.latest()?.at).toBeGreaterThanOrEqual(before);
    await w.stop();
  });

  it('resumes from the last resourceVersion (including bookmarks) when a watch ends', async () => {
    const server = fakeServer(() => ({ resourceVersion: '100', secret: undefined }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    expect(w.latest()).toMatchObject({ type: 'LISTED', exists: false });
    const s0 = await server.nextSession(0);
    s0.emit('ADDED', secret('105', { a: 'value-a-1' }));
    s0.emit('BOOKMARK', { metadata: { resourceVersion: '120' } });
    s0.end(null);
    const s1 = await server.nextSession(1);
    expect(s1.query.resourceVersion).toBe('120');
    expect(server.lists()).toBe(1);
    expect(w.stats.resumes).toBe(1);
    expect(w.history.map((e) => e.type)).toEqual(['LISTED', 'ADDED']);
    await w.stop();
  });

  it('relists on a 410 Gone ERROR event and records a changed state', async () => {
    let state: SecretListResult = { resourceVersion: '100', secret: secret('100', { p: 'first-value' }) };
    const server = fakeServer(() => state);
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    const s0 = await server.nextSession(0);
    state = { resourceVersion: '500', secret: secret('480', { p: 'changed-meanwhile' }) };
    s0.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    expect(s0.aborted).toBe(true);
    const s1 = await server.nextSession(1);
    expect(server.lists()).toBe(2);
    expect(s1.query.resourceVersion).toBe('500');
    expect(w.history.map((e) => e.type)).toEqual(['LISTED', 'LISTED']);
    expect(w.latest()?.data.p).toBe('changed-meanwhile');
    await w.stop();
  });

  it('relists when the watch request itself answers HTTP 410', async () => {
    const server = fakeServer(() => ({ resourceVersion: '100', secret: undefined }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    const s0 = await server.nextSession(0);
    s0.end(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await server.nextSession(1);
    expect(server.lists()).toBe(2);
    // Unchanged state: no duplicate history entry.
    expect(w.history).toHaveLength(1);
    await w.stop();
  });

  it('backs off and retries after errors, counting them', async () => {
    const server = fakeServer(() => ({ resourceVersion: '1', secret: undefined }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    (await server.nextSession(0)).end(new Error('connection reset'));
    const s1 = await server.nextSession(1);
    expect(w.stats.errors).toBe(1);
    expect(w.stats.lastError).toBe('connection reset');
    expect(s1.query.resourceVersion).toBe('1');
    await w.stop();
  });

  it('stops on its AbortSignal and aborts the running watch', async () => {
    const server = fakeServer(() => ({ resourceVersion: '1', secret: undefined }));
    const ac = new AbortController();
    const w = new SecretWatcher('ns', 's', { ...server, ...fast }, ac.signal);
    await w.start();
    const s0 = await server.nextSession(0);
    ac.abort();
    await w.stop();
    expect(s0.aborted).toBe(true);
    expect(server.sessions).toHaveLength(1);
  });

  it('waitFor resolves from history or a future event, or undefined on timeout', async () => {
    const server = fakeServer(() => ({ resourceVersion: '1', secret: secret('1', { k: 'value-one' }) }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    await expect(w.waitFor((e) => e.data.k === 'value-one', { timeoutMs: 10 })).resolves.toMatchObject({
      type: 'LISTED',
    });
    const s0 = await server.nextSession(0);
    const pending = w.waitFor((e) => e.data.k === 'value-two', { timeoutMs: 1_000 });
    s0.emit('MODIFIED', secret('2', { k: 'value-two' }));
    await expect(pending).resolves.toMatchObject({ type: 'MODIFIED', resourceVersion: '2' });
    await expect(w.waitFor((e) => e.data.k === 'never', { timeoutMs: 20 })).resolves.toBeUndefined();
    const ac = new AbortController();
    const aborted = w.waitFor(() => false, { timeoutMs: 1_000, signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'E_ABORTED' });
    await w.stop();
  });

  it('never puts values into its descriptions', async () => {
    const server = fakeServer(() => ({
      resourceVersion: '1',
      secret: secret('1', { password: 'hunter2-secret' }),
    }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    expect(w.describeLatest()).toContain('password=sha256:');
    expect(w.describeLatest()).not.toContain('hunter2-secret');
    await w.stop();
  });
  it('a waitFor that times out has lasted its full timeout by Date.now, even when a timer fires early', async () => {
    const server = fakeServer(() => ({ resourceVersion: '100', secret: secret('90', { a: 'value-a-1' }) }));
    const w = new SecretWatcher('ns', 's', { ...server, ...fast });
    await w.start();
    // The wall clock lags the timer by 5 ms on the first look after the timer fires (CI saw
    // 9999 ms for a 10 s hold): waitFor must re-arm rather than resolve early.
    const real = Date.now.bind(Date);
    let lag = 0;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => real() - lag);
    try {
      const start = Date.now();
      const pending = w.waitFor(() => false, { timeoutMs: 40 });
      setTimeout(() => (lag = 5), 20);
      const result = await pending;
      expect(result).toBeUndefined();
      expect(Date.now() - start).toBeGreaterThanOrEqual(40);
    } finally {
      spy.mockRestore();
      await w.stop();
    }
  });
});
