/**
 * The one module that starts child processes. Short commands go through execa (`runCommand`); long-lived lab
 * components are spawned detached in their own process group with their output in a log file (`startDaemon`),
 * so they can outlive the CLI for `up`, and are stopped as a group: SIGTERM, then SIGKILL after a grace period.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { execa as execaFn } from 'execa';
import { CommandError, abortError, throwIfAborted } from '../errors.ts';
import { sleep } from '../time.ts';

export interface RunOptions {
  signal?: AbortSignal;
  cwd?: string;
  /** Variables added to (or, with `extendEnv: false`, replacing) the environment. */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  timeoutMs?: number;
  input?: string;
  /** Return a non-zero exit instead of throwing. */
  reject?: boolean;
  /** Called with each line of stderr and stdout as it arrives (progress for long builds). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Send both streams to this file as well (build logs). */
  logFile?: string;
}

export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const TAIL_LINES = 30;

export function tailLines(text: string, n = TAIL_LINES): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/** execa (≈30 modules) loads with the first short command, not with every CLI start. */
let execaLoading: Promise<typeof execaFn> | undefined;
function loadExeca(): Promise<typeof execaFn> {
  execaLoading ??= import('execa').then((m) => m.execa);
  return execaLoading;
}

/** Run a command to completion. Throws CommandError on failure, timeout or cancellation (unless `reject: false`). */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  throwIfAborted(options.signal);
  const started = performance.now();
  const command = [file, ...args].join(' ');
  const execa = await loadExeca();
  throwIfAborted(options.signal);
  const sub = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    forceKillAfterDelay: 3000,
    input: options.input,
    reject: false,
    stripFinalNewline: false,
    all: Boolean(options.onLine) || Boolean(options.logFile),
    stdout: options.logFile ? ['pipe', { file: options.logFile, append: true }] : 'pipe',
    stderr: options.logFile ? ['pipe', { file: options.logFile, append: true }] : 'pipe',
  });
  if (options.onLine) {
    const onLine = options.onLine;
    const split = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i), stream);
          buf = buf.slice(i + 1);
        }
      };
    };
    sub.stdout?.on('data', split('stdout'));
    sub.stderr?.on('data', split('stderr'));
  }
  const r = await sub;
  const stdout = typeof r.stdout === 'string' ? r.stdout : '';
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  const exitCode = r.exitCode ?? (r.signal ? 128 : 1);
  const result: RunResult = { command, exitCode, stdout, stderr, durationMs: performance.now() - started };
  if (r.isCanceled && options.signal?.aborted) throw abortError(options.signal);
  if (r.failed && (options.reject ?? true)) {
    throw new CommandError({
      command,
      exitStatus: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      isCanceled: r.isCanceled,
      stderrTail: tailLines(stderr || stdout, 15),
    });
  }
  return result;
}

export interface DaemonSpec {
  name: string;
  file: string;
  args: readonly string[];
  logFile: string;
  env: Record<string, string>;
  cwd?: string;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start a long-lived process detached in its own process group, stdout and stderr appended to `logFile`.
 * The environment is exactly `spec.env` (nothing inherited), so a lab component never sees the user's
 * VAULT_TOKEN or KUBECONFIG by accident.
 */
export function startDaemon(spec: DaemonSpec): Daemon {
  const fd = openSync(spec.logFile, 'a', 0o600);
  let child;
  try {
    child = spawn(spec.file, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT and friends asynchronously; surface it synchronously with the path.
    throw new CommandError({
      command: spec.file,
      exitStatus: undefined,
      signal: undefined,
      timedOut: false,
      isCanceled: false,
      stderrTail: `could not start ${spec.file}`,
    });
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: 127, signal: null });
    });
  });
  child.unref();
  return {
    name: spec.name,
    pid,
    exited,
    hasExited: () => done,
    async stop(graceMs = 5000) {
      if (done) return;
      await stopProcessGroup(pid, graceMs, () => done);
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); treat it as gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** The executable of a running process, or undefined (gone, or not readable). Used to guard against pid reuse. */
export function processExecutable(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
  } catch {
    return undefined;
  }
}

/** SIGTERM the process group (or the process), wait up to `graceMs`, then SIGKILL. */
export async function stopProcessGroup(
  pid: number,
  graceMs = 5000,
  gone: () => boolean = () => !isAlive(pid),
): Promise<void> {
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  send('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (gone()) break;
    await sleep(50);
  }
  // Kill the whole group even when the leader is gone: children may linger.
  send('SIGKILL');
  const hard = Date.now() + 3000;
  while (!gone() && Date.now() < hard) await sleep(25);
}

/** Find an executable on PATH (or return undefined). */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The variable every lab process carries (its run directory), so a lab's processes can be found without lab.json. */
export const RUN_MARKER = 'VAULT_ESO_LAB_RUN_DIR';

/**
 * Every process whose environment carries `RUN_MARKER=<runDir>` (children inherit it: shims, kubelet, ...). This
 * closes the window between starting a process and recording its pid: a harness killed in between leaves a process
 * that the next command still finds.
 */
export function processesMarked(runDir: string): number[] {
  const needle = Buffer.from(`${RUN_MARKER}=${runDir}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`);
      if (env.includes(needle) && isAlive(pid)) found.push(pid);
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/** A process's environment (from /proc/<pid>/environ), or undefined when it is gone or not ours to read. */
export function environOf(pid: number): Record<string, string> | undefined {
  try {
    const out: Record<string, string> = {};
    for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** SIGTERM every marked process of a run directory, then SIGKILL what is left after the grace period. */
export async function stopMarkedProcesses(runDir: string, graceMs = 3000): Promise<number[]> {
  const pids = processesMarked(runDir);
  if (pids.length === 0) return pids;
  const send = (sig: NodeJS.Signals) => {
    for (const p of processesMarked(runDir)) {
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    }
  };
  send('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && processesMarked(runDir).length) await sleep(50);
  send('SIGKILL');
  const hard = Date.now() + 3000;
  while (Date.now() < hard && processesMarked(runDir).length) await sleep(25);
  return pids;
}
