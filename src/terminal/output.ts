/**
 * Terminal output conventions: results on stdout, progress on stderr; colour and spinners only on a TTY without
 * NO_COLOR and outside CI. Everything that prints goes through an Output so tests can capture it.
 *
 * A reader that goes away (`vault-eso-lab … | head -1`) is an ordinary way for a CLI to end: the write fails with
 * EPIPE, which would otherwise crash the process with no cleanup. An Output catches it, stops writing to that
 * stream, and aborts `closed`, so the command stops and cleans up like on Ctrl-C.
 */
import type { Writable } from 'node:stream';

export interface Output {
  /** A result line (stdout). */
  result(line: string): void;
  /** A progress or diagnostic line (stderr). */
  info(line: string): void;
  /** True when stderr is an interactive terminal that may show spinners and colour. */
  readonly interactive: boolean;
  readonly color: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Aborts (reason: OutputClosedError) when the reader of stdout or stderr has gone away. */
  readonly closed: AbortSignal;
}

export interface OutputEnv {
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
}

/** stdout or stderr was closed by its reader. */
export class OutputClosedError extends Error {
  override readonly name = 'OutputClosedError';
  constructor(
    readonly stream: 'stdout' | 'stderr',
    readonly code: string,
  ) {
    super(`${stream} was closed by its reader (${code})`);
  }
}

const CLOSED_CODES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'ECONNRESET']);

/**
 * Watch a stream for its reader going away; returns a `write` that is a no-op from then on. Errors other than
 * a closed reader are rethrown asynchronously, as an unhandled stream error would have been.
 */
function guard(stream: Writable, name: 'stdout' | 'stderr', closed: AbortController): (text: string) => void {
  let gone = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (!CLOSED_CODES.has(e.code ?? '')) throw e;
    gone = true;
    if (!closed.signal.aborted) closed.abort(new OutputClosedError(name, e.code ?? ''));
  });
  return (text) => {
    if (gone || stream.destroyed || stream.writableEnded) return;
    stream.write(text);
  };
}

export function createOutput(o: OutputEnv = {}): Output {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  const env = o.env ?? process.env;
  const plain = Boolean(env.NO_COLOR) || env.CI === 'true' || env.CI === '1' || env.TERM === 'dumb';
  const interactive = Boolean((stderr as { isTTY?: boolean }).isTTY) && !plain;
  const closed = new AbortController();
  const writeOut = guard(stdout, 'stdout', closed);
  const writeErr = guard(stderr, 'stderr', closed);
  return {
    result: (line) => writeOut(line + '\n'),
    info: (line) => writeErr(line + '\n'),
    interactive,
    color: interactive,
    stdout,
    stderr,
    closed: closed.signal,
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1, cyan: 36 } as const;
export type Style = keyof typeof CODES;

export function paint(out: Pick<Output, 'color'>, style: Style, text: string): string {
  return out.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** Render rows as an aligned text table. */
export function table(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : [...rows];
  const widths: number[] = [];
  for (const row of all) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  const fmt = (row: readonly string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  const lines = all.map(fmt);
  if (header) lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}
