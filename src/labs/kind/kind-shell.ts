/**
 * How the kind provider runs its tools: `RealShell` through runCommand (the one child-process module), or
 * `DryRunShell`, which records each command (and the manifest it would feed on stdin) and answers like a fresh
 * machine, so `up --dry-run` prints exactly what `up` would run, in order. Secret values are masked in the record.
 */
import { readFileSync } from 'node:fs';
import { CommandError } from '../../errors.ts';
import { runCommand, type RunResult } from '../../process/command.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import type { KindToolName, KindTools } from './tools.ts';

export interface ShellOptions {
  input?: string;
  /** Return a non-zero exit instead of throwing. */
  reject?: boolean;
  timeoutMs?: number;
  signal: AbortSignal;
  logFile?: string;
}

export interface KindShell {
  readonly dryRun: boolean;
  run(tool: KindToolName, args: readonly string[], options: ShellOptions): Promise<RunResult>;
  /** Something that is not a command but happens in order (a wait, a file written): shown by dry runs. */
  note(text: string): void;
}

export class RealShell implements KindShell {
  readonly dryRun = false;
  constructor(
    private readonly tools: KindTools,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

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
  readonly dryRun = true;
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

  note(text: string): void {
    this.lines.push(`# ${this.redact(text)}`);
  }
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
