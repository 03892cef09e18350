/** What a CLI command is: a name, its help, its flags (node:util parseArgs config) and a run function. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, type ExitCode } from '../errors.ts';
import type { Output } from '../terminal/output.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  description: string;
  valueName?: string;
};

export interface CommandContext {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  out: Output;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Longer help text shown under the usage line. */
  details?: string;
  options: Record<string, OptionSpec>;
  allowPositionals?: boolean;
  run(ctx: CommandContext): Promise<ExitCode>;
}

export const commonOptions: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  json: { type: 'boolean', description: 'machine-readable output on stdout' },
};

export function parseCommandArgs(
  cmd: Command,
  argv: readonly string[],
): { values: CommandContext['values']; positionals: string[] } {
  const options = { ...commonOptions, ...cmd.options };
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([k, v]) => {
          const { description: _d, valueName: _v, ...rest } = v;
          return [k, rest];
        }),
      ),
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
    return { values: parsed.values as CommandContext['values'], positionals: parsed.positionals };
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/\. To specify a positional.*$/s, '') : String(e);
    throw new UsageError(`${cmd.name}: ${msg}`, { cause: e, hint: `see 'vault-eso-lab ${cmd.name} --help'` });
  }
}

export function commandHelp(cmd: Command): string {
  const options = { ...cmd.options, ...commonOptions };
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` <${spec.valueName ?? 'value'}>` : ''}`;
    return `  ${flag.padEnd(30)} ${spec.description}`;
  });
  return [
    `Usage: vault-eso-lab ${cmd.usage}`,
    '',
    cmd.summary,
    ...(cmd.details ? ['', cmd.details] : []),
    '',
    'Options:',
    ...rows,
  ].join('\n');
}

export function stringOption(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolOption(values: CommandContext['values'], name: string): boolean {
  return values[name] === true;
}
