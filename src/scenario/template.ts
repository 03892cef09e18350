/**
 * `${...}` templating in scenario strings. Two kinds of reference exist: `${vars.NAME}` (a variable the scenario
 * declares under `vars:`) and built-ins such as `${runId}` or `${vaultServer}` that the lab provides at run time.
 * The loader checks references (`checkTemplate`); the runner substitutes them (`substitute`) just before an
 * operation runs. `$${` is a literal `${`.
 */
import type { LabConnection } from '../labs/lab-provider.ts';

/** Built-in template names, with what each holds. The caller of `runScenario` provides their values. */
export const BUILTINS = {
  runId: 'unique id of this run (also the isolation suffix source on shared clusters)',
  provider: 'the lab provider: local, kind or existing',
  vaultServer: 'Vault URL as ESO reaches it (the SecretStore `server:`)',
  vaultAddr: 'Vault URL as this tool reaches it',
  kvMount: 'the KV v2 mount path (usually `secret`)',
  namespaceSuffix: 'suffix for namespaces on shared clusters (empty on labs the tool owns)',
  nameSuffix: 'suffix for policy/role names on shared clusters (empty on labs the tool owns)',
  vaultPathPrefix: 'prefix for Vault paths on shared clusters (empty on labs the tool owns)',
  kubernetesHost: 'API server URL as Vault reaches it (Kubernetes auth `kubernetes_host`)',
} as const;
export type BuiltinName = keyof typeof BUILTINS;
export const BUILTIN_NAMES = Object.keys(BUILTINS) as BuiltinName[];

/** The values of every built-in, from a started lab's connection. */
export function builtinValues(connection: LabConnection): Record<BuiltinName, string> {
  return {
    runId: connection.isolation.runId,
    provider: connection.provider,
    vaultServer: connection.vault.serverUrlForEso,
    vaultAddr: connection.vault.address,
    kvMount: connection.vault.kvMount,
    namespaceSuffix: connection.isolation.namespaceSuffix,
    nameSuffix: connection.isolation.nameSuffix,
    vaultPathPrefix: connection.isolation.vaultPathPrefix,
    kubernetesHost: connection.vault.kubernetesHostForVault,
  };
}

/** One piece of a template string: literal text or a `${expr}` reference. */
export type TemplatePart = { text: string } | { ref: string; offset: number };

export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Split a string into literal text and references. Throws TemplateSyntaxError on an unterminated `${`. */
export function parseTemplate(input: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < input.length) {
    if (input.startsWith('$${', i)) {
      text += '${';
      i += 3;
    } else if (input.startsWith('${', i)) {
      const end = input.indexOf('}', i + 2);
      if (end < 0) throw new TemplateSyntaxError(`unterminated "\${" (write "$\${" for a literal)`, i);
      if (text) parts.push({ text });
      text = '';
      parts.push({ ref: input.slice(i + 2, end).trim(), offset: i });
      i = end + 1;
    } else {
      text += input[i];
      i += 1;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/** True when the string holds at least one `${...}` reference (not counting `$${` escapes). */
export function hasTemplate(input: string): boolean {
  try {
    return parseTemplate(input).some((p) => 'ref' in p);
  } catch {
    return false;
  }
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export function isVarName(name: string): boolean {
  return VAR_NAME.test(name);
}

/**
 * Problems with the references in one string, given the declared vars and the known built-ins (empty when fine).
 */
export function checkTemplate(
  input: string,
  declaredVars: ReadonlySet<string>,
  builtins: readonly string[] = BUILTIN_NAMES,
): string[] {
  let parts: TemplatePart[];
  try {
    parts = parseTemplate(input);
  } catch (e) {
    return [(e as Error).message];
  }
  const problems: string[] = [];
  for (const p of parts) {
    if (!('ref' in p)) continue;
    if (p.ref.startsWith('vars.')) {
      const name = p.ref.slice(5);
      if (!declaredVars.has(name))
        problems.push(
          `\${${p.ref}} refers to an undeclared var "${name}"` +
            (declaredVars.size ? ` (declared: ${[...declaredVars].join(', ')})` : ' (no vars: declared)'),
        );
    } else if (!builtins.includes(p.ref)) {
      problems.push(
        `unknown template reference \${${p.ref}}: use \${vars.NAME} or a built-in (${builtins.join(', ')})`,
      );
    }
  }
  return problems;
}

/**
 * Replace every reference using `values`, keyed by the reference text: `runId`, `vars.refreshInterval`.
 * A missing value is an error naming the reference (the loader normally catches these first).
 */
export function substitute(input: string, values: Readonly<Record<string, string>>): string {
  return parseTemplate(input)
    .map((p) => {
      if ('text' in p) return p.text;
      const v = values[p.ref];
      if (v === undefined) throw new TemplateSyntaxError(`no value for \${${p.ref}}`, p.offset);
      return v;
    })
    .join('');
}

/** Substitute in every string of a plain value (objects and arrays walked; other scalars kept). */
export function substituteDeep(value: unknown, values: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return substitute(value, values);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, values));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, values)]));
  return value;
}

/** Every string in a plain value with its path (for validation). */
export function* stringsIn(
  value: unknown,
  path: (string | number)[] = [],
): Generator<[string, (string | number)[]]> {
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* stringsIn(v, [...path, i]);
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...path, k]);
}

/**
 * The template values for a run: built-ins, then declared vars (`vars.NAME`) resolved against the built-ins,
 * with caller overrides (`--var NAME=value`) taking precedence over the scenario's defaults.
 */
export function templateValues(
  declared: Readonly<Record<string, string>>,
  builtins: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const values: Record<string, string> = { ...builtins };
  for (const [name, raw] of Object.entries({ ...declared, ...overrides }))
    values[`vars.${name}`] = substitute(raw, builtins);
  return values;
}
