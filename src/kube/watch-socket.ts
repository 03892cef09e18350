/**
 * A Kubernetes watch over a connection of its own (node:tls or node:net, no node:http), for a process that watches
 * many objects and whose own CPU is the measurement: `bench scale`'s harness.
 *
 * What it does that watch-stream.ts cannot: it reads its socket at most once every `coalesceMs`. After each read it
 * stops reading the socket (readStop: the kernel holds what arrives meanwhile, the process is not woken) and starts
 * again `coalesceMs` later, so a burst of events costs one wake-up per interval instead of one per event. The price
 * is resolution: an event is stamped when it is read, at most `coalesceMs` after it arrived — a latency measured
 * from it is an upper bound, never an underestimate. With `coalesceMs` 0 it reads as data comes.
 *
 * The reply is parsed here: status line and headers, chunked or identity body, newline-delimited JSON events. The
 * contract is WatchFn's (watch-stream.ts): `done(err)` once — `null` when the server ends the watch or the caller
 * aborts, ApiHttpError for a non-200 reply, an error for a connection cut short or an event that is not JSON.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ApiHttpError, type ApiEndpoint, type WatchFn } from './watch-stream.ts';

export interface WatchSocketOptions {
  /** Read the socket at most once per this many milliseconds (0: as data comes). */
  coalesceMs: number;
  /** How an event line becomes `onEvent`'s arguments (default: JSON.parse of the whole line); may throw. */
  decode?: (line: string) => { type: string; object: unknown };
}

/** A watchSocket watch: abortable, and it counts the socket reads that woke it. */
export interface SocketWatch {
  abort(): void;
  /** Reads that woke the watch: with coalesceMs, one per interval that brought data; with 0, one per record. */
  reads(): number;
}

export type SocketWatchFn = (...args: Parameters<WatchFn>) => Promise<SocketWatch>;

function decodeJson(line: string): { type: string; object: unknown } {
  const e = JSON.parse(line) as { type?: unknown; object?: unknown };
  return { type: String(e.type), object: e.object };
}

const NEWLINE = 0x0a;
const HEAD_LIMIT = 64 * 1024;
const ERROR_BODY_LIMIT = 64 * 1024;
/** Where a read lands (over TLS, each record's plaintext comes as a callback of its own). */
const READ_BUFFER = 64 * 1024;

/** An HTTP/1.1 body decoder: chunked or identity (until close), handing decoded bytes on. */
class BodyDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private left = 0;
  private line = '';

  constructor(
    private readonly chunked: boolean,
    private readonly onBytes: (b: Buffer) => void,
  ) {}

  get complete(): boolean {
    return this.state === 'done';
  }

  /** Decode `b`; throws on a malformed chunk size. */
  push(b: Buffer): void {
    if (!this.chunked) return this.onBytes(b);
    let i = 0;
    while (i < b.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.left, b.length - i);
        this.onBytes(b.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      // size, data-end and trailer are lines ending in CRLF.
      const nl = b.indexOf(NEWLINE, i);
      const end = nl < 0 ? b.length : nl;
      this.line += b.toString('latin1', i, end);
      if (this.line.length > 1024) throw new Error('a chunk-size line longer than 1 KiB');
      if (nl < 0) return;
      i = nl + 1;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.state === 'data-end') {
        this.state = 'size';
      } else if (this.state === 'trailer') {
        if (line === '') this.state = 'done';
      } else {
        const size = Number.parseInt(line.split(';')[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+/.test(line)) {
          throw new Error(`a malformed chunk size ${JSON.stringify(line.slice(0, 20))}`);
        }
        if (size === 0) this.state = 'trailer';
        else {
          this.left = size;
          this.state = 'data';
        }
      }
    }
  }
}

interface Head {
  status: number;
  headers: Map<string, string>;
}

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP/1.1 reply: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

function connect(e: ApiEndpoint, onread: net.OnReadOpts): net.Socket {
  const url = new URL(e.server);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:') return net.connect({ host, port: Number(url.port || 80), onread });
  if (url.protocol !== 'https:') throw new Error(`an API server URL must be http(s): ${e.server}`);
  const servername = e.servername ?? (net.isIP(host) ? undefined : host);
  // tls.connect takes onread as net.connect does (documented; missing from @types/node's ConnectionOptions).
  const options: tls.ConnectionOptions & { onread: net.OnReadOpts } = {
    host,
    port: Number(url.port || 443),
    ...(e.ca ? { ca: e.ca } : {}),
    ...(e.cert ? { cert: e.cert } : {}),
    ...(e.key ? { key: e.key } : {}),
    ...(e.rejectUnauthorized !== undefined ? { rejectUnauthorized: e.rejectUnauthorized } : {}),
    ...(servername ? { servername } : {}),
    ALPNProtocols: ['http/1.1'],
    onread,
  };
  return tls.connect(options);
}

/** A WatchFn over an endpoint, each watch on a connection of its own. */
export function watchSocket(e: ApiEndpoint, opts: WatchSocketOptions): SocketWatchFn {
  const decode = opts.decode ?? decodeJson;
  return (path, query, onEvent, done) => {
    const params = new URLSearchParams({ watch: 'true' });
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const what = `watch ${path}`;
    const url = new URL(e.server);

    const headers: Record<string, string> = { Host: url.host, Accept: 'application/json', ...e.headers };
    let request = `GET ${path}?${params.toString()} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v))
        return Promise.reject(new Error(`header ${k} holds a line break`));
      request += `${k}: ${v}\r\n`;
    }
    request += '\r\n';

    let finished = false;
    let reads = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      done(err);
    };

    let headBytes: Buffer[] = [];
    let headSize = 0;
    let head: Head | undefined;
    let body: BodyDecoder | undefined;
    let chunked = false;
    const errorBody: Buffer[] = [];
    let errorSize = 0;
    let pending: Buffer | undefined;

    const onEvents = (b: Buffer): void => {
      const buf = pending ? Buffer.concat([pending, b]) : b;
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE); nl >= 0 && !finished; nl = buf.indexOf(NEWLINE, start)) {
        if (nl > start) {
          let event: { type: string; object: unknown };
          try {
            event = decode(buf.toString('utf8', start, nl));
          } catch (err) {
            finish(new Error(`${what}: an event that is not JSON`, { cause: err }));
            return;
          }
          onEvent(event.type, event.object);
        }
        start = nl + 1;
      }
      // What is left must outlive the read buffer it lies in.
      pending = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
    };
    const onErrorBody = (b: Buffer): void => {
      if (errorSize < ERROR_BODY_LIMIT) errorBody.push(Buffer.from(b));
      errorSize += b.length;
    };
    const endOfError = (): void => {
      const text = Buffer.concat(errorBody).toString('utf8').slice(0, ERROR_BODY_LIMIT);
      finish(new ApiHttpError(head!.status, text, what));
    };

    const onBytes = (b: Buffer): void => {
      if (!head) {
        headBytes.push(Buffer.from(b));
        headSize += b.length;
        const all = Buffer.concat(headBytes);
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) {
          if (headSize > HEAD_LIMIT) finish(new Error(`${what}: a reply head longer than 64 KiB`));
          return;
        }
        head = parseHead(all.toString('latin1', 0, end));
        headBytes = [];
        chunked = /chunked/i.test(head.headers.get('transfer-encoding') ?? '');
        body = new BodyDecoder(chunked, head.status === 200 ? onEvents : onErrorBody);
        b = all.subarray(end + 4);
        if (b.length === 0) return;
      }
      body!.push(b);
      if (body!.complete) {
        if (head.status === 200) finish(null);
        else endOfError();
      }
    };

    const onread: net.OnReadOpts = {
      buffer: Buffer.allocUnsafe(READ_BUFFER),
      callback: (n, buf) => {
        if (finished) return false;
        if (!socket.isPaused()) reads += 1;
        try {
          // buf is the Buffer given above (typed as Uint8Array).
          onBytes((buf as Buffer).subarray(0, n));
        } catch (err) {
          finish(new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
          return false;
        }
        if (opts.coalesceMs > 0 && !finished && !socket.isPaused()) {
          // Stop reading (readStop: no wake-ups while the kernel queues what comes), resume in coalesceMs.
          socket.pause();
          timer = setTimeout(() => {
            if (!finished) socket.resume();
          }, opts.coalesceMs);
        }
        return true;
      },
    };
    let socket: net.Socket;
    try {
      socket = connect(e, onread);
    } catch (err) {
      // A server URL that is not http(s): the watch never starts.
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('error', (err) => finish(new Error(`${what}: ${err.message}`, { cause: err })));
    socket.on('close', () => {
      if (finished) return;
      if (head && head.status !== 200) return endOfError();
      // An identity body ends with the connection; a chunked one, or no reply at all, was cut short.
      if (body && !chunked) return finish(null);
      finish(new Error(`${what}: the connection closed mid-reply`));
    });
    // Not end(): the API server (Go's net/http) takes a client's half-close as a cancelled request.
    socket.write(request);
    return Promise.resolve({ abort: () => finish(null), reads: () => reads });
  };
}
