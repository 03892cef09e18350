/**
 * A lab's run directory (mode 0700) under the user state dir: credentials (0600), each component's log, and
 * `lab.json`, the record of what runs (pids, ports, owner) that lets `status`, `down`, `env` and the next `up`
 * find the lab again — including after the harness that started it was killed.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { LabConnection, ProviderName } from './lab-provider.ts';
import { UsageError } from '../errors.ts';
import type { VaultServerName } from './vault-server.ts';
import { labsRoot } from '../paths.ts';

/**
 * A lab name is a DNS label (lowercase letters, digits, '-', 1–63 characters, no '-' at either end): it names
 * exactly one directory under `labs/`, and appears in cluster and Vault names. `../escaped` or `a/b` would
 * create a run directory no command could find or stop.
 */
export const LAB_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The name, or a UsageError (exit 2) naming the flag and the rule. */
export function checkLabName(name: string, what = 'lab name'): string {
  if (!LAB_NAME.test(name))
    throw new UsageError(
      `${what} must be lowercase letters, digits and '-' (1-63 characters, starting and ending with a letter or digit); got '${name}'`,
    );
  return name;
}

export interface ComponentRecord {
  name: string;
  version: string;
  pid?: number;
  port?: number;
  /** Executable path, to tell our process from a reused pid. */
  exe?: string;
  logFile?: string;
}

export interface LabRecord {
  schema: 1;
  id: string;
  name: string;
  provider: ProviderName;
  /** `stopped`: stopped with --keep; the directory is left for reading and never reaped. */
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  /** The process that owns the lab: the harness for an ephemeral lab or while `up` runs; null once `up` hands off. */
  ownerPid: number | null;
  createdAt: string;
  components: ComponentRecord[];
  connection?: LabConnection;
  versions: Record<string, string>;
  /** The local lab's Vault server (absent in records from before `--vault-server`: OpenBao). */
  vaultServer?: VaultServerName;
  /** Provider-specific facts (kind cluster name, existing context, ...). */
  extra?: Record<string, string>;
}

export class RunDir {
  private constructor(readonly path: string) {}

  static create(name: string, env: NodeJS.ProcessEnv = process.env): RunDir {
    checkLabName(name);
    const root = labsRoot(env);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const path = join(root, name);
    mkdirSync(path, { mode: 0o700 });
    chmodSync(path, 0o700);
    mkdirSync(join(path, 'logs'), { mode: 0o700 });
    return new RunDir(path);
  }

  static open(path: string): RunDir {
    return new RunDir(path);
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  logFile(component: string): string {
    return join(this.path, 'logs', `${component}.log`);
  }

  /** Write a file readable only by the user (credentials, keys, kubeconfigs). */
  writePrivate(name: string, content: string): string {
    const p = this.file(name);
    writeFileSync(p, content, { mode: 0o600 });
    chmodSync(p, 0o600);
    return p;
  }

  writeRecord(record: LabRecord): void {
    const tmp = this.file('.lab.json.tmp');
    writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file('lab.json'));
  }

  readRecord(): LabRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.file('lab.json'), 'utf8')) as LabRecord;
    } catch {
      return undefined;
    }
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  /**
   * Keep a stopped lab's directory under a name of its own (`<name>-kept-<time>`), so the lab's name is free for
   * the next `up` and nothing reaps it. Returns the new path.
   */
  keepAs(record: LabRecord): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = `${this.path}-kept-${stamp}`;
    renameSync(this.path, path);
    const kept = RunDir.open(path);
    kept.writeRecord({
      ...record,
      state: 'stopped',
      ownerPid: null,
      components: record.components.map((c) => ({ ...c, pid: undefined })),
    });
    return path;
  }
}

/** Every lab directory under the state dir, with its record when readable. */
export function listRunDirs(
  env: NodeJS.ProcessEnv = process.env,
): { dir: RunDir; record: LabRecord | undefined }[] {
  const root = labsRoot(env);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = RunDir.open(join(root, d.name));
      return { dir, record: dir.readRecord() };
    });
}
