/**
 * Secret values: generation (crypto random, registered for redaction, never printed), expectation references
 * (`my-app/config#password` or `{ value: literal }`), and matching a Secret's data against expectations with
 * mismatch descriptions that carry key names and short hashes only.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { secrets, shortHash } from '../../secrets/secret-registry.ts';
import type { VaultClient } from '../../vault/client.ts';
import type { VaultState } from '../runtime.ts';

export const randomValueSchema = z
  .object({
    random: z.literal(true).describe('Generate a random value (crypto), never printed'),
    length: z.number().int().min(8).max(256).optional().describe('Length in characters (default 24)'),
  })
  .strict();

export const dataValueSchema = z
  .union([z.string().describe('A literal value'), randomValueSchema])
  .describe('A literal string, or `{ random: true }` for a generated value');
export type DataValue = z.infer<typeof dataValueSchema>;

export const jsonValueSchema = z
  .object({
    json: z
      .union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.number(), z.boolean()])
      .describe('The value, stored in Vault as JSON (not as a string)'),
  })
  .strict()
  .describe(
    'A JSON value (object, list, number): ESO reads into it with a nested property, e.g. `property: db.host`',
  );

/** What a Vault secret's key can hold in a write: a string, `{ random: true }`, or `{ json: ... }`. */
export const vaultValueSchema = z
  .union([z.string().describe('A literal value'), randomValueSchema, jsonValueSchema])
  .describe(
    'A literal string, `{ random: true }` for a generated value, or `{ json: ... }` for a JSON value',
  );
export type VaultValue = z.infer<typeof vaultValueSchema>;

/** A KV secret's data as `vaultKv put` and `vaultSetup` take it. */
export const vaultSecretDataSchema = z
  .record(z.string().min(1), vaultValueSchema)
  .describe('Keys and values (literal, `{ random: true }` or `{ json: ... }`)');

/** KV v2 custom_metadata, as `vaultKv put` and `vaultSetup` take it. */
export const customMetadataSchema = z
  .record(z.string().min(1), z.string())
  .optional()
  .describe('KV v2 custom_metadata (tags `dataFrom.find` can select by; names and values are not secret)');

/** JSON with object keys sorted, as Go's json.Marshal writes a map (what ESO puts in a Secret for an object). */
export function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${goJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/**
 * Resolve a write's values: `write` is what Vault gets (JSON values as JSON), `model` the string each key holds
 * as ESO would copy it into a Secret (a JSON value as Go's json.Marshal writes it). Every generated value is
 * registered as a secret; literals (and JSON values, written in the scenario file) are not scrubbed.
 */
export function resolveVaultData(data: Record<string, VaultValue>): {
  write: Record<string, unknown>;
  model: Record<string, string>;
} {
  const write: Record<string, unknown> = {};
  const model: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'object' && 'json' in v) {
      write[k] = v.json;
      model[k] = goJson(v.json);
      secrets.addLiteral(model[k]);
      continue;
    }
    const [s] = Object.values(resolveData({ [k]: v }));
    write[k] = s;
    model[k] = s as string;
  }
  return { write, model };
}

/**
 * The value of `property` in a model's data as ESO resolves it: the key itself, or a dotted path into a JSON value
 * (`db.host`); a string leaf as is, anything else as JSON. Undefined when there is no such property.
 */
export function propertyValue(data: Record<string, string>, property: string): string | undefined {
  if (property in data) return data[property];
  const [first, ...rest] = property.split('.');
  if (first === undefined || rest.length === 0 || !(first in data)) return undefined;
  let node: unknown;
  try {
    node = JSON.parse(data[first] as string);
  } catch {
    return undefined;
  }
  for (const seg of rest) {
    if (node === null || typeof node !== 'object' || !(seg in node)) return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return typeof node === 'string' ? node : goJson(node);
}

/** A random URL-safe string of `length` characters, registered as a secret. */
export function generateSecretValue(length = 24): string {
  const value = randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64url')
    .slice(0, length);
  secrets.add(value);
  return value;
}

/** Resolve `{ random: true }` entries; every resulting value is registered as a secret. */
export function resolveData(data: Record<string, DataValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string') secrets.addLiteral(v);
    out[k] = typeof v === 'string' ? v : generateSecretValue(v.length);
  }
  return out;
}

/** Summary of a data block without values: `username=literal, password=random`. */
export function describeDataShape(data: Record<string, DataValue | VaultValue>): string {
  return Object.entries(data)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? 'literal' : 'json' in v ? 'json' : 'random'}`)
    .join(', ');
}

export const expectationSchema = z
  .union([
    z
      .string()
      .regex(/^[^#\s]+#[^#\s]+$/, 'expected "<vaultPath>#<vaultKey>", e.g. "my-app/config#password"')
      .describe('The Vault value this key must hold: "<vaultPath>#<vaultKey>"'),
    z.object({ value: z.string().describe('A literal value') }).strict(),
    z
      .object({
        template: z
          .string()
          .min(1)
          .regex(/\{[A-Za-z0-9_.-]+\}/, 'a template names at least one key as {key}')
          .describe(
            'The value ESO should compose, with {key} standing for that key of `from` (e.g. "postgres://{username}:{password}@db:5432/app")',
          ),
        from: z
          .string()
          .regex(/^[^#\s]+$/, 'a Vault path has no spaces or "#"')
          .describe('The KV v2 path whose keys fill the template'),
      })
      .strict()
      .describe('A value computed from the current Vault data (for target.template)'),
  ])
  .describe('"<vaultPath>#<vaultKey>", { value: literal } or { template, from }');
export type Expectation = z.infer<typeof expectationSchema>;

export interface VaultRef {
  path: string;
  key: string;
}

export function parseVaultRef(ref: string): VaultRef {
  const i = ref.lastIndexOf('#');
  if (i <= 0 || i === ref.length - 1)
    throw new Error(`expected "<vaultPath>#<vaultKey>", got ${JSON.stringify(ref)}`);
  return { path: ref.slice(0, i), key: ref.slice(i + 1) };
}

export interface ResolvedExpectation {
  k8sKey: string;
  value: string;
  /** Where the value comes from: `my-app/config#password`, `literal` or `template(my-app/config)`. */
  source: string;
  ref?: VaultRef;
  /** For a template: the Vault path and the keys it uses. */
  template?: { path: string; keys: string[] };
}

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;

/** Keys a `{ template }` expectation uses, in order of first use. */
export function templateKeys(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** Fill `{key}` placeholders from `data`; a key the data lacks is an error naming it (never a value). */
export function renderTemplate(template: string, data: Record<string, string>, path: string): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    const v = data[key];
    if (v === undefined) throw new Error(`template from ${path}: Vault path has no key ${key}`);
    return v;
  });
}

/** Vault keys an expectation depends on (for "did the latest write touch it?"). */
export function dependsOnKeys(e: ResolvedExpectation): string[] {
  if (e.ref) return [e.ref.key];
  return e.template?.keys ?? [];
}

/** Vault paths involved in a set of expectations (deduplicated, in order). */
export function involvedPaths(expect: Record<string, Expectation>): string[] {
  const paths: string[] = [];
  for (const e of Object.values(expect)) {
    const p = typeof e === 'string' ? parseVaultRef(e).path : 'from' in e ? e.from : undefined;
    if (p !== undefined && !paths.includes(p)) paths.push(p);
  }
  return paths;
}

/**
 * Expected values: from the scenario's own writes (vaultState) when it wrote the path, else read from Vault
 * with the admin token (a path seeded outside the scenario).
 */
export async function resolveExpectations(
  expect: Record<string, Expectation>,
  state: VaultState,
  vault: VaultClient,
  signal?: AbortSignal,
): Promise<ResolvedExpectation[]> {
  const out: ResolvedExpectation[] = [];
  const read = new Map<string, Record<string, string> | undefined>();
  const dataFor = async (path: string, keys: string[]): Promise<Record<string, string> | undefined> => {
    const data = state.get(path)?.data;
    if (data && keys.every((k) => propertyValue(data, k) !== undefined)) return data;
    if (!read.has(path)) {
      const r = await vault.kvGet(path, signal ? { signal } : {});
      const model = r
        ? Object.fromEntries(
            Object.entries(r.data as Record<string, unknown>).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : goJson(v),
            ]),
          )
        : undefined;
      for (const v of Object.values(model ?? {})) secrets.add(v);
      read.set(path, model);
    }
    return read.get(path);
  };
  for (const [k8sKey, e] of Object.entries(expect)) {
    if (typeof e !== 'string' && 'value' in e) {
      secrets.addLiteral(e.value);
      out.push({ k8sKey, value: e.value, source: 'literal' });
      continue;
    }
    if (typeof e !== 'string') {
      const keys = templateKeys(e.template);
      const value = renderTemplate(e.template, (await dataFor(e.from, keys)) ?? {}, e.from);
      secrets.add(value);
      out.push({ k8sKey, value, source: `template(${e.from})`, template: { path: e.from, keys } });
      continue;
    }
    const ref = parseVaultRef(e);
    const data = await dataFor(ref.path, [ref.key]);
    const value = data ? propertyValue(data, ref.key) : undefined;
    if (value === undefined)
      throw new Error(
        `expectation ${k8sKey} ← ${e}: Vault path ${ref.path} has no key ${ref.key} (as written by this scenario or read from Vault)`,
      );
    out.push({ k8sKey, value: String(value), source: e, ref });
  }
  return out;
}

export interface MatchOptions {
  absentKeys?: string[];
  exactKeys?: boolean;
}

export interface MatchResult {
  ok: boolean;
  /** One line per problem, key names and short hashes only. */
  problems: string[];
}

/** Does the Secret's data hold the expected values (and nothing it must not)? */
export function matchData(
  data: Record<string, string>,
  expected: readonly ResolvedExpectation[],
  options: MatchOptions = {},
): MatchResult {
  const problems: string[] = [];
  for (const e of expected) {
    const actual = data[e.k8sKey];
    if (actual === undefined) problems.push(`key ${e.k8sKey} missing (expected ${e.source})`);
    else if (actual !== e.value)
      problems.push(
        `key ${e.k8sKey} has sha256:${shortHash(actual)}, expected sha256:${shortHash(e.value)} (${e.source})`,
      );
  }
  for (const k of options.absentKeys ?? [])
    if (k in data) problems.push(`key ${k} present but must be absent`);
  if (options.exactKeys) {
    const allowed = new Set(expected.map((e) => e.k8sKey));
    const extra = Object.keys(data).filter((k) => !allowed.has(k));
    if (extra.length) problems.push(`unexpected keys: ${extra.join(', ')}`);
  }
  return { ok: problems.length === 0, problems };
}
