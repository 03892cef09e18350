/**
 * Everything about a run's input that can be checked before a lab starts, in one call: the manifests the
 * scenarios apply (see manifest-check.ts), `--var` names the scenarios do not declare, and report files that
 * cannot be written. Bad input is exit 2 and nothing is started.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError, UsageError, type InputIssue } from '../errors.ts';
import { closest, zodToInputIssues } from './issues.ts';
import type { AnyHandler } from './loader.ts';
import { checkValues, manifestIssues, type ManifestCheckOptions } from './manifest-check.ts';
import type { Scenario } from './model.ts';
import { stringsIn, substituteDeep } from './template.ts';

export interface InputCheckOptions extends ManifestCheckOptions {
  /** Report files the run will write, by flag: `{ '--report-json': '/abs/r.json' }`. */
  reports?: Readonly<Record<string, string | undefined>>;
  /** The operation handlers: arguments holding `${vars.NAME}` are parsed again with the values the run will use. */
  handlers?: readonly AnyHandler[];
}

/**
 * Operation arguments that reference a var, parsed as the runner will parse them (vars and `--var` values
 * substituted): `within: ${vars.refreshInterval}` with `--var refreshInterval=5` fails here, not after the lab
 * started. Built-ins get stand-ins, so only problems in fields that reference a var are reported.
 */
export function varArgumentIssues(
  scenario: Scenario,
  handlers: readonly AnyHandler[],
  overrides: Readonly<Record<string, string>> = {},
): InputIssue[] {
  const byName = new Map(handlers.map((h) => [h.name, h]));
  const values = checkValues(scenario, overrides);
  const issues: InputIssue[] = [];
  for (const step of scenario.steps)
    for (const op of [...step.try, ...step.catch, ...step.finally]) {
      const handler = byName.get(op.operation);
      const withVars = [...stringsIn(op.args, [...op.path])].filter(([t]) => t.includes('${vars.'));
      if (!handler || withVars.length === 0) continue;
      let resolved: unknown;
      try {
        resolved = substituteDeep(op.args, values);
      } catch {
        continue; // an unknown reference: reported by the loader
      }
      const parsed = handler.schema.safeParse(resolved);
      if (parsed.success) continue;
      for (const issue of zodToInputIssues(parsed.error.issues, op.path, scenario.source)) {
        const raw = withVars.find(([, p]) => issue.field === formatField(p));
        if (raw) issues.push({ ...issue, message: `${issue.message} (from ${raw[0]})` });
      }
    }
  return issues;
}

function formatField(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

/** `--var` names no scenario of the run declares (one message each, with the declared names). */
export function unknownVarProblems(
  scenarios: readonly Scenario[],
  overrides: Readonly<Record<string, string>>,
): string[] {
  const declared = [...new Set(scenarios.flatMap((s) => Object.keys(s.vars)))].sort();
  return Object.keys(overrides)
    .filter((name) => !declared.includes(name))
    .map((name) => {
      const near = closest(name, declared);
      const which =
        scenarios.length === 1 ? `${scenarios[0]?.file} does not declare` : 'no scenario declares';
      return `--var ${name}: ${which} a var "${name}"${near ? `; did you mean "${near}"?` : ''} (declared: ${declared.join(', ') || 'none'})`;
    });
}

/** Why a report file cannot be written, or undefined when it can (checked before the run, not after it). */
export function reportPathProblem(file: string): string | undefined {
  try {
    if (statSync(file).isDirectory()) return `${file} is a directory`;
    accessSync(file, constants.W_OK);
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      return `${file} cannot be written (${(e as Error).message})`;
  }
  const dir = dirname(file);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  } catch {
    return `directory ${dir} does not exist`;
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return `directory ${dir} is not writable`;
  }
  // /proc and /sys accept no new files even where access() says yes.
  if (/^\/(?:proc|sys)(?:\/|$)/.test(dir))
    return `${dir} is a kernel file system: no report can be created there`;
  return undefined;
}

/** Throw UsageError / InvalidInputError (exit 2) for the first kind of problem found; nothing has started yet. */
export function checkRunInput(scenarios: readonly Scenario[], options: InputCheckOptions = {}): void {
  const usage = [
    ...unknownVarProblems(scenarios, options.overrides ?? {}),
    ...Object.entries(options.reports ?? {}).flatMap(([flag, file]) => {
      if (file === undefined) return [];
      const p = reportPathProblem(file);
      return p ? [`${flag} ${file}: cannot write the report: ${p}`] : [];
    }),
  ];
  const issues = scenarios.flatMap((s) => [
    ...manifestIssues(s, options),
    ...(options.handlers ? varArgumentIssues(s, options.handlers, options.overrides) : []),
  ]);
  if (issues.length) throw new InvalidInputError(issues);
  if (usage.length) throw new UsageError(usage.join('\n'));
}
