/**
 * The executor of the kind provider's bring-up: every side effect (a command, a wait, the external Vault
 * container, a note) goes through a KindShell. `RealShell` does it — commands through runCommand (the one
 * child-process module) — and `DryRunShell` records it (with the manifest a command would read on stdin) and
 * answers like a fresh machine, so `up --dry-run` prints exactly what `up` would do, in order, from the same
 * code path. Secret values are masked in the record.
 */
import { readFileSync } from 'node:fs';
import { CommandError } from '../../errors.ts';
import { kindPins } from '../../components/versions.ts';
import { runCommand, type RunResult } from '../../process/command.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { waitFor } from '../../time.ts';
import {
  externalVaultName,
  startExternalVaultContainer,
  type ExternalVault,
  type ExternalVaultRequest,
  type ExternalVaultStarter,
} from './external-vault.ts';
import type { KindToolName, KindTools } from './tools.ts';

export interface ShellOptions {
  input?: string;
  /** Return a non-zero exit instead of throwing. */
  reject?: boolean;
  timeoutMs?: number;
  signal: AbortSignal;
  logFile?: string;
}

export interface WaitOptions {
  /** What is awaited, for the plan and the timeout error. */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  signal: AbortSignal;
}

export type Probe = () => Promise<{ done: true; value: undefined } | { done: false; seen?: string }>;

export interface KindShell {
  run(tool: KindToolName, args: readonly string[], options: ShellOptions): Promise<RunResult>;
  /** Run a command until it exits 0 (a readiness check such as a server-side dry-run). */
  retry(tool: KindToolName, args: readonly string[], options: ShellOptions & WaitOptions): Promise<void>;
  /** Wait until `probe` is done (something that is not a command: an HTTP answer). */
  waitUntil(probe: Probe, options: WaitOptions): Promise<void>;
  /** `--vault external`: the Vault container on the kind network. */
  startExternalVault(request: ExternalVaultRequest): Promise<ExternalVault>;
  /** Something that is not a command but happens in order (a file written): shown by dry runs. */
  note(text: string): void;
}

export class RealShell implements KindShell {
  constructor(
    private readonly tools: KindTools,
    private readonly env: NodeJS.ProcessEnv,
    private readonly externalVault?: ExternalVaultStarter,
  ) {}

  async retry(tool: KindToolName, args: readonly string[], o: ShellOptions & WaitOptions): Promise<void> {
    await this.waitUntil(async () => {
      const r = await this.run(tool, args, { ...o, reject: false });
      return r.exitCode === 0
        ? { done: true, value: undefined }
        : { done: false, seen: (r.stderr || r.stdout).trim().split('\n').at(-1) };
    }, o);
  }

  waitUntil(probe: Probe, o: WaitOptions): Promise<void> {
    return waitFor(probe, {
      what: o.what,
      timeoutMs: o.timeoutMs,
      intervalMs: o.intervalMs,
      signal: o.signal,
    });
  }

  startExternalVault(request: ExternalVaultRequest): Promise<ExternalVault> {
    return (this.externalVault ?? startExternalVaultContainer)(request);
  }

  run(tool: KindToolName, args: readonly string[], o: ShellOptions): Promise<RunResult> {
    return runCommand(this.tools[tool], args, {
      env: this.env,
      extendEnv: false,
      signal: o.signal,
      input: o.input,
      reject: o.reject,
      timeoutMs: o.timeoutMs,
      logFile: o.logFile,
    }).catch((e: unknown) => {
      // Never let a token passed on a command line reach an error message.
      if (e instanceof CommandError) e.message = secrets.redact(e.message);
      throw e;
    });
  }

  note(): void {
    /* only dry runs show notes */
  }
}

/** Canned answers a dry run gives (a machine with no cluster yet). */
function dryAnswer(tool: KindToolName, args: readonly string[]): string {
  if (tool === 'kind' && args[0] === 'get' && args[1] === 'clusters') return '';
  if (tool === 'kubectl' && args.includes('logs')) return 'Unseal Key: <from the Vault log>\n';
  return '';
}

export class DryRunShell implements KindShell {
  readonly lines: string[] = [];
  private step = 0;
  constructor(private readonly mask: readonly string[] = []) {}

  private redact(s: string): string {
    let out = s;
    for (const m of this.mask) if (m) out = out.split(m).join('<redacted>');
    return out;
  }

  run(tool: KindToolName, args: readonly string[], o: ShellOptions): Promise<RunResult> {
    this.step += 1;
    const command = this.redact([tool, ...args.map(shellWord)].join(' '));
    this.lines.push(`# ${this.step}`, command);
    for (const [i, a] of args.entries())
      if ((a === '--config' || a === '--values') && args[i + 1]) {
        const file = args[i + 1]!;
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          text = '(not readable)';
        }
        this.lines.push(
          `# ${file}:`,
          ...text
            .trimEnd()
            .split('\n')
            .map((l) => `#   ${l}`),
        );
      }
    if (o.input !== undefined) {
      this.lines.push(`# stdin of step ${this.step}:`, ...this.redact(o.input).trimEnd().split('\n'));
    }
    return Promise.resolve({
      command,
      exitCode: 0,
      stdout: dryAnswer(tool, args),
      stderr: '',
      durationMs: 0,
    });
  }

  async retry(tool: KindToolName, args: readonly string[], o: ShellOptions & WaitOptions): Promise<void> {
    this.note(`repeat until it succeeds: ${o.what}`);
    await this.run(tool, args, o);
  }

  waitUntil(_probe: Probe, o: WaitOptions): Promise<void> {
    this.note(`wait until ${o.what}`);
    return Promise.resolve();
  }

  startExternalVault(r: ExternalVaultRequest): Promise<ExternalVault> {
    const containerName = externalVaultName(r.clusterName);
    this.note(
      `testcontainers: start ${kindPins.externalVaultImage} as ${containerName} on Docker network '${r.network}' (dev mode, root token <random>)`,
    );
    return Promise.resolve({
      containerId: '<container>',
      containerName,
      hostAddress: 'http://127.0.0.1:<mapped port>',
      networkAddress: 'http://<container IP on the kind network>:8200',
    });
  }

  note(text: string): void {
    this.lines.push(`# ${this.redact(text)}`);
  }
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
