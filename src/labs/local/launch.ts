/**
 * Process supervision for the local lab: one `launch()` for every start and restart. A component is recorded in
 * lab.json the moment it is spawned and carries the run directory in its environment (RUN_MARKER), so a harness
 * killed at any point leaves nothing that the next command cannot find and stop.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { ComponentStartError, abortError, errorMessage } from '../../errors.ts';
import {
  RUN_MARKER,
  isAlive,
  processExecutable,
  startDaemon,
  stopProcessGroup,
  tailLines,
} from '../../process/command.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { waitFor } from '../../time.ts';
import type { LabEvent } from '../../report/events.ts';
import type { LabRecord, RunDir } from '../run-dir.ts';

export type Probe = (signal: AbortSignal) => Promise<{ done: boolean; seen?: string }>;

/** How to start one component and how to tell it is ready. */
export interface ComponentSpec {
  name: string;
  version: string;
  file: string;
  args: string[];
  env: Record<string, string>;
  port?: number;
  /** Other ports it binds (etcd's peer port), released from the reservation with `port`. */
  otherPorts?: number[];
  what: string;
  timeoutMs: number;
  probe: Probe;
  /** The executable that will run once `file` has exec'd (recorded to guard against pid reuse). */
  exe?: string;
}

export interface Launched {
  pid: number;
  durationMs: number;
}

/**
 * Start a component, record it in lab.json, wait until it is ready (or exited), and say so. Without a record
 * (a scenario's private Vault server, owned by the process that starts it) nothing is written to lab.json: the
 * run marker in its environment still lets `down` find it, and `extraEnv` can mark whose it is.
 */
export async function launch(
  run: RunDir,
  record: LabRecord | undefined,
  spec: ComponentSpec,
  signal: AbortSignal,
  emit: (e: LabEvent) => void,
): Promise<Launched> {
  if (signal.aborted) throw abortError(signal);
  emit({ kind: 'lab.component.starting', component: spec.name });
  const logFile = run.logFile(spec.name);
  const d = startDaemon({
    name: spec.name,
    file: spec.file,
    args: spec.args,
    env: { ...spec.env, [RUN_MARKER]: run.path },
    logFile,
  });
  if (record) {
    record.components = [
      ...record.components.filter((c) => c.name !== spec.name),
      {
        name: spec.name,
        version: spec.version,
        pid: d.pid,
        port: spec.port,
        exe: spec.exe ?? spec.file,
        logFile,
      },
    ];
    run.writeRecord(record);
  }
  const t0 = performance.now();
  let exited: string | undefined;
  try {
    await waitFor(
      async () => {
        if (d.hasExited()) {
          // Fail fast: a component that exited will not become ready.
          const ex = await d.exited;
          exited = `exited with ${ex.signal ?? `code ${ex.code}`} before it was ready`;
          return { done: true, value: undefined };
        }
        const r = await spec.probe(signal);
        return r.done ? { done: true, value: undefined } : { done: false, seen: r.seen };
      },
      { what: spec.what, timeoutMs: spec.timeoutMs, intervalMs: 50, signal },
    );
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    throw new ComponentStartError(
      spec.name,
      errorMessage(e),
      { logFile, logTail: readTail(logFile) },
      { cause: e },
    );
  }
  if (exited) {
    // Say why, from the component's own log ("bind: address already in use"), not just that it exited.
    const cause = lastErrorLine(logFile);
    throw new ComponentStartError(spec.name, cause ? `${exited}: ${cause}` : exited, {
      logFile,
      logTail: readTail(logFile),
    });
  }
  const durationMs = performance.now() - t0;
  emit({ kind: 'lab.component.ready', component: spec.name, durationMs, pid: d.pid, port: spec.port });
  return { pid: d.pid, durationMs };
}

/** Stop one recorded component (only while its pid still runs the recorded executable). */
export async function stopComponent(record: LabRecord, name: string, graceMs = 5000): Promise<void> {
  const c = record.components.find((x) => x.name === name);
  if (!c?.pid || !isAlive(c.pid)) return;
  const exe = processExecutable(c.pid);
  if (c.exe && exe && exe !== c.exe) return;
  await stopProcessGroup(c.pid, graceMs);
}

/** The newest line of a log that reads like an error (redacted, shortened), for one-line error messages. */
export function lastErrorLine(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i]!;
      if (!/\b(error|fatal|panic|failed)\b/i.test(l)) continue;
      // JSON logs (etcd, ESO): the error field says it best.
      const m = /"error":"((?:[^"\\]|\\.)*)"/.exec(l) ?? /\berror="?([^"]+)"?/.exec(l);
      return secrets.redact((m?.[1] ?? l).trim()).slice(0, 300);
    }
  } catch {
    /* no log */
  }
  return undefined;
}

/** The last `maxBytes` of a file (from its first whole line), or all of it when smaller. */
export function readFileEnd(file: string, maxBytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= maxBytes) return readFileSync(fd, 'utf8');
    const buf = Buffer.alloc(maxBytes);
    const got = readSync(fd, buf, 0, maxBytes, size - maxBytes);
    const text = buf.subarray(0, got).toString('utf8');
    return text.slice(text.indexOf('\n') + 1);
  } finally {
    closeSync(fd);
  }
}

/**
 * The last `n` lines of a log, after up to five earlier error lines (a component's cause often scrolls away).
 * Only the file's last `maxBytes` are read: logs of a long run (ESO at debug level) grow to megabytes.
 */
export function readTail(file: string, n = 25, maxBytes = 4 << 20): string {
  try {
    const text = readFileEnd(file, maxBytes);
    const tail = tailLines(text, n);
    const errors = text
      .split('\n')
      .filter((l) => /\b(error|fatal|panic)\b/i.test(l) && !tail.includes(l))
      .slice(-5);
    return secrets.redact([...errors, ...(errors.length ? ['...'] : []), tail].join('\n'));
  } catch {
    return '';
  }
}
