/**
 * CLI entry: parse the command line, thread one AbortSignal (Ctrl-C / SIGTERM) through the command, map errors
 * to exit codes. It returns the exit code; the caller sets process.exitCode (no process.exit here).
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
import { createOutput, paint, type Output } from './output.ts';
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
    'Exit codes: 0 passed, 1 failed, 2 invalid input or usage, 3 missing prerequisite, 130 interrupted.',
  ].join('\n');
}

export interface MainOptions {
  out?: Output;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Install SIGINT/SIGTERM handlers (off in tests). */
  handleSignals?: boolean;
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<ExitCode> {
  const out = options.out ?? createOutput();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? out.info : out.result)(mainHelp());
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
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    out.info(`vault-eso-lab: unknown command '${name}'`);
    out.info('');
    out.info(mainHelp());
    return ExitCode.invalidInput;
  }

  const controller = new AbortController();
  const onParent = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onParent, { once: true });
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts === 1) {
      out.info(
        `\n${sig === 'SIGINT' ? 'Interrupted' : `Received ${sig}`}: stopping and cleaning up (again to force quit)…`,
      );
      controller.abort(new Error(`interrupted by ${sig}`));
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  if (options.handleSignals ?? true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const cmd = await entry.load();
    const { values, positionals } = parseCommandArgs(cmd, rest);
    if (values.help === true) {
      out.result(commandHelp(cmd));
      return ExitCode.passed;
    }
    return await cmd.run({
      values,
      positionals,
      out,
      signal: controller.signal,
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
    });
  } catch (e) {
    reportError(out, e);
    if (controller.signal.aborted) return ExitCode.interrupted;
    return isLabError(e) ? e.exitCode : ExitCode.failed;
  } finally {
    if (options.handleSignals ?? true) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    options.signal?.removeEventListener('abort', onParent);
  }
}

export function reportError(out: Output, e: unknown): void {
  const prefix = paint(out, 'red', 'error');
  if (e instanceof InvalidInputError) {
    out.info(`${prefix}: invalid input`);
    out.info(e.describe());
  } else if (isLabError(e)) {
    out.info(`${prefix} [${e.code}]: ${e.message}`);
    if (e instanceof ComponentStartError && e.logTail) {
      out.info(`--- last lines of ${e.logFile ?? 'the log'} ---`);
      out.info(e.logTail);
    }
    if (e instanceof AssertionFailedError && e.diagnosis) out.info(`diagnosis: ${e.diagnosis}`);
  } else {
    out.info(`${prefix}: ${errorMessage(e)}`);
    if (process.env.VAULT_ESO_LAB_DEBUG && e instanceof Error && e.stack) out.info(e.stack);
  }
  if (isLabError(e) && e.hint) out.info(`hint: ${e.hint}`);
}
