/**
 * Templating of manifest file contents. The engine templates operation arguments; file contents are templated
 * here with the same `${...}` syntax and values (`${vars.X}`, `${vaultServer}`, `${runId}`, ...).
 */
import type { LabConnection } from '../../labs/lab-provider.ts';
import { BUILTIN_NAMES, builtinValues, substituteDeep } from '../template.ts';

/**
 * Template values from the context's vars plus the lab's built-ins. Accepts vars keyed either `vars.NAME` (as the
 * engine's `templateValues` produces) or bare `NAME`.
 */
export function fileTemplateValues(
  vars: Record<string, string>,
  connection: LabConnection,
): Record<string, string> {
  const values: Record<string, string> = { ...builtinValues(connection) };
  for (const [k, v] of Object.entries(vars)) {
    values[k] = v;
    if (!k.startsWith('vars.') && !(BUILTIN_NAMES as string[]).includes(k) && !(`vars.${k}` in vars))
      values[`vars.${k}`] = v;
  }
  return values;
}

/** Substitute in every string of parsed manifests (YAML structure stays intact whatever the values hold). */
export function templateObjects<T>(objects: T, values: Record<string, string>): T {
  return substituteDeep(objects, values) as T;
}
