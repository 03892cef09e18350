/**
 * CLI entry: parse the command line, thread one AbortSignal (Ctrl-C / SIGTERM) through the command, map errors
 * to exit codes. It returns the exit code; the caller sets process.exitCode (process.exit only for a second
 * signal: force quit).
 */
import {
  ExitCode,
  InvalidInputError,
  isLabError,
  errorMessage,
  ComponentStartError,
  AssertionFailedError,
} from '../errors.ts';
import { commandHelp, parseCommandArgs } from './command.ts';
import { secrets, type SecretRegistry } from '../secrets/secret-registry.ts';
import { createOutput, paint, type Output } from '../terminal/output.ts';
import { commands, type CommandEntry } from './commands/index.ts';

export function mainHelp(list: readonly Pick<CommandEntry, 'name' | 'summary'>[] = commands): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'vault-eso-lab — prove that Vault secrets synced by the External Secrets Operator follow rotations.',
    '',
    'Usage: vault-eso-lab <command> [options]',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'vault-eso-lab <command> --help' for a command's options.",
    'Exit codes: 0 passed, 1 failed, 2 invalid input or usage, 3 missing prerequisite,',
    '  130 interrupted (Ctrl-C), 141 output closed (e.g. `| head`), 143 terminated (SIGTERM).',
  ].join('\n');
}

export interface MainOptions {
  out?: Output;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Install SIGINT/SIGTERM handlers (off in tests). */
  handleSignals?: boolean;
  /** Where SIGINT/SIGTERM come from (default: this process; tests pass an EventEmitter). */
  signals?: SignalSource;
  /** The commands (default: all of them, loaded lazily; tests add a tiny one). */
  commands?: readonly CommandEntry[];
}

export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: (sig: NodeJS.Signals) => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: (sig: NodeJS.Signals) => void): unknown;
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<ExitCode> {
  const out = options.out ?? createOutput();
  const list = options.commands ?? commands;
  const signals = options.signals ?? process;
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? out.info : out.result)(mainHelp(list));
    return name === undefined ? ExitCode.invalidInput : ExitCode.passed;
  }
  if (name === '--version' || name === '-V') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    out.result(pkg.version);
    return ExitCode.passed;
  }
  const entry = list.find((c) => c.name === name);
  if (!entry) {
    out.info(`vault-eso-lab: unknown command '${name}'`);
    out.info('');
    out.info(mainHelp(list));
    return ExitCode.invalidInput;
  }

  const controller = new AbortController();
  /** Why the run was stopped from outside, for the exit code (128 + the signal's number). */
  let stoppedBy: ExitCode | undefined;
  const stop = (code: ExitCode, reason: Error) => {
    stoppedBy ??= code;
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onParent = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onParent, { once: true });
  const onClosed = () => {
    out.info(`\n${errorMessage(out.closed.reason)}: stopping and cleaning up…`);
    stop(ExitCode.outputClosed, new Error('output closed'));
  };
  if (out.closed.aborted) onClosed();
  else out.closed.addEventListener('abort', onClosed, { once: true });
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts += 1;
    const code = sig === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
    if (interrupts === 1) {
      out.info(
        `\n${sig === 'SIGINT' ? 'Interrupted' : `Received ${sig}`}: stopping and cleaning up (again to force quit)…`,
      );
      stop(code, new Error(`interrupted by ${sig}`));
    } else {
      process.exit(code);
    }
  };
  if (options.handleSignals ?? true) {
    signals.on('SIGINT', onSignal);
    signals.on('SIGTERM', onSignal);
  }
  try {
    const cmd = await entry.load();
    const { values, positionals } = parseCommandArgs(cmd, rest);
    if (values.help === true) {
      out.result(commandHelp(cmd));
      return ExitCode.passed;
    }
    const code = await cmd.run({
      values,
      positionals,
      out,
      signal: controller.signal,
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
    });
    // A command that noticed the stop reports "interrupted"; the exit status says which stop it was.
    return stoppedBy !== undefined && code !== ExitCode.passed ? stoppedBy : code;
  } catch (e) {
    reportError(out, e);
    if (controller.signal.aborted) return stoppedBy ?? ExitCode.interrupted;
    return isLabError(e) ? e.exitCode : ExitCode.failed;
  } finally {
    out.closed.removeEventListener('abort', onClosed);
    if (options.handleSignals ?? true) {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    }
    options.signal?.removeEventListener('abort', onParent);
  }
}

/**
 * Print an error on stderr. Every line goes through the secret registry: an error may quote a value the run
 * knows (a token in a command line, a password in a message from Vault or Kubernetes).
 */
export function reportError(out: Output, e: unknown, registry: SecretRegistry = secrets): void {
  const say = (text: string) => out.info(registry.redact(text));
  const prefix = paint(out, 'red', 'error');
  if (e instanceof InvalidInputError) {
    say(`${prefix}: invalid input`);
    say(e.describe());
  } else if (isLabError(e)) {
    say(`${prefix} [${e.code}]: ${e.message}`);
    if (e instanceof ComponentStartError && e.logTail) {
      say(`--- last lines of ${e.logFile ?? 'the log'} ---`);
      say(e.logTail);
    }
    if (e instanceof AssertionFailedError && e.diagnosis) say(`diagnosis: ${e.diagnosis}`);
  } else {
    say(`${prefix}: ${errorMessage(e)}`);
    if (process.env.VAULT_ESO_LAB_DEBUG && e instanceof Error && e.stack) say(e.stack);
  }
  if (isLabError(e) && e.hint) say(`hint: ${e.hint}`);
}
