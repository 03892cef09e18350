/**
 * `scenario NAME|FILE|all`, `scenario --list`, `scenario validate FILE...`: load and validate first (bad input
 * exits 2 before anything is created), then get a lab (a running one, or an ephemeral one stopped afterwards),
 * run the scenarios through the one orchestrator (`--parallel N`, each with a fresh runtime), and report.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ExitCode, InvalidInputError, UsageError } from '../../errors.ts';
import { acquireLab, parseProvider, releaseLab } from '../../labs/lab-session.ts';
import { parseVaultServer } from '../../labs/vault-server.ts';
import { repoRoot } from '../../paths.ts';
import { labProgress } from '../../report/lab-progress.ts';
import { createReporters } from '../../report/create-reporters.ts';
import { combineReporters } from '../../report/reporter.ts';
import { exitCodeFor, type RunReport } from '../../report/report-model.ts';
import { ScenarioBlocks } from '../../report/scenario-blocks.ts';
import { jsonReport } from '../../report/json-reporter.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { findScenarioFiles, listScenarios, loadScenarios } from '../../scenario/loader.ts';
import { checkRunInput } from '../../scenario/input-check.ts';
import { operations } from '../../scenario/operations/index.ts';
import { DurationHistory } from '../../scenario/durations.ts';
import { effectiveParallel, runScenarios } from '../../scenario/orchestrator.ts';
import { labCapabilities } from '../../scenario/requirements.ts';
import { runtimeSource } from '../../scenario/runtime.ts';
import { BUILTINS, builtinValues } from '../../scenario/template.ts';
import type { Output } from '../../terminal/output.ts';
import { boolOption, stringOption, type Command } from '../command.ts';
import { kindExistingOptions, labStartOptions, vaultServerOption } from './lab-commands.ts';

export const scenariosDir = join(repoRoot, 'scenarios');

/** `rotate` → scenarios/rotate.yaml; a path to a file → that file. */
export function resolveScenarioArg(arg: string, cwd: string): string {
  if (/\.ya?ml$/.test(arg) || arg.includes('/')) {
    const p = resolve(cwd, arg);
    if (!existsSync(p)) throw new UsageError(`scenario file not found: ${arg}`);
    return p;
  }
  for (const ext of ['.yaml', '.yml']) {
    const p = join(scenariosDir, arg + ext);
    if (existsSync(p)) return p;
  }
  throw new UsageError(`no built-in scenario named '${arg}'`, {
    hint: "see 'vault-eso-lab scenario --list'",
  });
}

export function parseVarFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--var takes NAME=value (got '${v}')`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

export const scenarioCommand: Command = {
  name: 'scenario',
  summary: 'run, list or validate scenarios',
  usage: 'scenario <name|file.yaml|all> [options] | scenario --list | scenario validate <file.yaml>...',
  details: [
    'A built-in scenario is named by its file in scenarios/ (e.g. `rotate`); `all` runs the whole library.',
    'Without a running lab (`vault-eso-lab up`), an ephemeral lab is started and stopped afterwards.',
    'Scenario files and the manifests they apply use ${vars.NAME} and these built-in variables:',
    ...Object.entries(BUILTINS).map(([name, what]) => `  ${`\${${name}}`.padEnd(20)} ${what}`),
  ].join('\n'),
  options: {
    list: { type: 'boolean', description: 'list the built-in scenarios with their descriptions' },
    provider: {
      type: 'string',
      description: 'auto | local | kind | existing (default auto)',
      valueName: 'name',
    },
    keep: {
      type: 'boolean',
      description: 'keep what the scenario created (and an ephemeral lab) for inspection',
    },
    'report-json': {
      type: 'string',
      description: 'write a JSON report to this file (mode 0600)',
      valueName: 'file',
    },
    'report-junit': {
      type: 'string',
      description: 'write a JUnit XML report to this file (mode 0600)',
      valueName: 'file',
    },
    'report-html': {
      type: 'string',
      description: 'write a self-contained HTML report with a timeline per scenario (mode 0600)',
      valueName: 'file',
    },
    parallel: {
      type: 'string',
      description: `scenarios at a time on the lab (default ${defaultParallel()} here; 1 = one after another)`,
      valueName: 'n',
    },
    var: {
      type: 'string',
      multiple: true,
      description: 'override a scenario var: NAME=value (repeatable); the scenario must declare NAME',
      valueName: 'kv',
    },
    'allow-outside': {
      type: 'boolean',
      description: "allow `apply: {file}` manifests outside the scenario file's directory",
    },
    ...kindExistingOptions,
    ...vaultServerOption,
    ...labStartOptions,
  },
  allowPositionals: true,
  async run(ctx) {
    const { values, positionals, out, env, signal, cwd } = ctx;
    if (boolOption(values, 'list')) return list(out, Boolean(values.json));
    const [first, ...rest] = positionals;
    const overrides = parseVarFlags((values.var as string[] | undefined) ?? []);
    const allowOutside = boolOption(values, 'allow-outside');
    if (first === 'validate')
      return validate(rest, out, cwd, Boolean(values.json), { overrides, allowOutside });
    if (!first)
      throw new UsageError('scenario: name a scenario, a file, or `all`', {
        hint: "see 'vault-eso-lab scenario --help'",
      });

    const files =
      first === 'all'
        ? await findScenarioFiles(scenariosDir)
        : positionals.map((p) => resolveScenarioArg(p, cwd));
    // Validate everything before creating anything.
    const scenarios = await loadScenarios(files, operations, { cwd });
    checkRunInput(scenarios, {
      cwd,
      handlers: operations,
      overrides,
      allowOutside,
      reports: {
        '--report-json': absolutize(stringOption(values, 'report-json'), cwd),
        '--report-junit': absolutize(stringOption(values, 'report-junit'), cwd),
        '--report-html': absolutize(stringOption(values, 'report-html'), cwd),
      },
    });
    const provider = parseProvider(stringOption(values, 'provider'));
    const server = parseVaultServer(stringOption(values, 'vault-server'));
    const keep = boolOption(values, 'keep');

    const requestedParallel = parseParallel(stringOption(values, 'parallel'));

    const acquired = await acquireLab({
      provider,
      env,
      signal,
      emit: labProgress(out),
      flags: values as Record<string, string | boolean | undefined>,
      keep,
      vaultServer: server,
    });
    const { lab } = acquired;
    // Known once the lab is: a local lab gives Vault-fault scenarios a Vault server of their own.
    const privateVault = typeof lab.privateVault === 'function';
    const parallel = effectiveParallel(scenarios, requestedParallel, { privateVault });

    let reporters: ReturnType<typeof combineReporters>;
    let blocks: ScenarioBlocks | undefined;
    let run: RunReport;
    // From here on the lab is released on every way out (the finally below), a reporter that fails to open too.
    try {
      reporters = combineReporters(
        createReporters({
          out,
          json: absolutize(stringOption(values, 'report-json'), cwd),
          junit: absolutize(stringOption(values, 'report-junit'), cwd),
          html: absolutize(stringOption(values, 'report-html'), cwd),
          summary: !values.json,
          // In a parallel run the console lines come in per-scenario blocks (below), not from the live stream.
          console: parallel === 1 ? 'live' : 'summary',
        }),
      );
      const perScenario = parallel > 1 ? new ScenarioBlocks(out, secrets, scenarios.length) : undefined;
      blocks = perScenario;
      const history = DurationHistory.load(env);
      run = await runScenarios(scenarios, {
        handlers: operations,
        runtime: runtimeSource(lab, signal),
        provider: lab.provider,
        capabilities: labCapabilities(lab.connection),
        versions: lab.versions,
        vars: builtinValues(lab.connection),
        overrides,
        emit: reporters.emit,
        ...(perScenario ? { sink: (s, p) => perScenario.sink(s, p) } : {}),
        signal,
        keep,
        parallel,
        privateVault,
        estimateMs: (s) => history.estimateMs(s),
      });
      history.record(run);
      history.save();
    } finally {
      blocks?.end();
      await releaseLab(acquired, { keep, say: out.info });
    }
    await reporters.end(run);
    if (values.json) out.result(secrets.redact(JSON.stringify(jsonReport(run), null, 2)));
    return exitCodeFor(run);
  },
};

/**
 * `--parallel N`: scenarios at a time. The scenarios mostly wait (refresh windows, holds, namespace deletion), so
 * the default is four per core, capped at 8. Measured on 2 cores (2026-12-01, the 14-scenario library on one
 * lab with a node): 4 at a time took 57 s, 8 took 38 s, all 14 at once 42 s (the cores then saturate); see
 * README ("Running the library in parallel").
 */
export function defaultParallel(cores = availableParallelism()): number {
  return Math.max(1, Math.min(8, 4 * cores));
}

export function parseParallel(v: string | undefined): number {
  if (v === undefined) return defaultParallel();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new UsageError(`--parallel takes a whole number from 1 to 32 (got '${v}')`);
  return n;
}

function absolutize(p: string | undefined, cwd: string): string | undefined {
  return p === undefined ? undefined : resolve(cwd, p);
}

async function list(out: Output, json: boolean): Promise<ExitCode> {
  const items = await listScenarios(scenariosDir, operations);
  if (json) {
    out.result(
      JSON.stringify(
        items.map(({ error, ...i }) => ({ ...i, valid: !error })),
        null,
        2,
      ),
    );
  } else {
    const w = Math.max(...items.map((i) => i.name.length));
    for (const i of items)
      out.result(
        `${i.name.padEnd(w)}  ${i.description}${i.requires ? ` [${i.requires.join(', ')} only]` : ''}${i.error ? ' (invalid)' : ''}`,
      );
  }
  return items.some((i) => i.error) ? ExitCode.invalidInput : ExitCode.passed;
}

async function validate(
  files: string[],
  out: Output,
  cwd: string,
  json: boolean,
  input: { overrides: Record<string, string>; allowOutside: boolean },
): Promise<ExitCode> {
  if (files.length === 0) throw new UsageError('scenario validate: name at least one file');
  const paths = files.map((f) => {
    const p = resolve(cwd, f);
    if (!existsSync(p)) throw new UsageError(`scenario file not found: ${f}`);
    return p;
  });
  try {
    const loaded = await loadScenarios(paths, operations, { cwd });
    checkRunInput(loaded, { cwd, handlers: operations, ...input });
    if (json)
      out.result(
        JSON.stringify({ valid: true, scenarios: loaded.map((s) => ({ name: s.name, file: s.file })) }),
      );
    else for (const s of loaded) out.result(`${s.file}: ok (${s.name}: ${s.steps.length} steps)`);
    return ExitCode.passed;
  } catch (e) {
    if (e instanceof InvalidInputError && json) {
      out.result(JSON.stringify({ valid: false, issues: e.issues }, null, 2));
      return ExitCode.invalidInput;
    }
    throw e;
  }
}
