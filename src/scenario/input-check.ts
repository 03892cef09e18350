/**
 * Everything about a run's input that can be checked before a lab starts, in one call: the manifests the
 * scenarios apply (see manifest-check.ts), `--var` names the scenarios do not declare, and report files that
 * cannot be written. Bad input is exit 2 and nothing is started.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidInputError, UsageError } from '../errors.ts';
import { closest } from './issues.ts';
import { manifestIssues, type ManifestCheckOptions } from './manifest-check.ts';
import type { Scenario } from './model.ts';

export interface InputCheckOptions extends ManifestCheckOptions {
  /** Report files the run will write, by flag: `{ '--report-json': '/abs/r.json' }`. */
  reports?: Readonly<Record<string, string | undefined>>;
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
  const issues = scenarios.flatMap((s) => manifestIssues(s, options));
  if (issues.length) throw new InvalidInputError(issues);
  if (usage.length) throw new UsageError(usage.join('\n'));
}
