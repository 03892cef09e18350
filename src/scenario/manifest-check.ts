/**
 * Before a run creates anything: every manifest a scenario's `apply`/`delete` names — a file or inline — must be
 * what the API server and ESO accept. A file must exist inside the scenario's directory (elsewhere only when
 * allowed), parse as YAML objects with `apiVersion`, `kind` and `metadata.name`, and use only declared
 * `${vars.NAME}` and known built-ins; names and namespaces must be DNS-1123, and an ExternalSecret's
 * `refreshInterval` a duration Go's time.ParseDuration reads (checked with the scenario's vars and `--var`
 * values substituted). Problems name the manifest's own file:line:column — or, for a file outside the scenario's
 * directory, the scenario line that named it — and exit 2 like any invalid input.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { InputIssue, SourceLocation } from '../errors.ts';
import type { OperationSpec, Scenario } from './model.ts';
import { formatPath, SourceMap, type FieldPath } from './source-map.ts';
import { BUILTIN_NAMES, checkTemplate, hasTemplate, stringsIn, substitute } from './template.ts';

const MANIFEST_OPERATIONS = new Set(['apply', 'delete']);

export interface ManifestCheckOptions {
  /** Base for displayed file names (default: the working directory). */
  cwd?: string;
  /** `--var NAME=value`: replaces the scenario's defaults when substituting. */
  overrides?: Readonly<Record<string, string>>;
  /** Allow `file:` outside the scenario's directory (`--allow-outside`). */
  allowOutside?: boolean;
  builtins?: readonly string[];
}

/**
 * Stand-ins for the built-ins, which are only known once a lab runs: enough to check names and durations. The
 * suffixes are empty, as on the labs the tool owns (on shared clusters they only add `-vel…` characters).
 */
const SAMPLE_BUILTINS: Record<string, string> = {
  runId: 'run0',
  provider: 'local',
  vaultServer: 'http://127.0.0.1:8200',
  vaultAddr: 'http://127.0.0.1:8200',
  kvMount: 'secret',
  namespaceSuffix: '',
  nameSuffix: '',
  vaultPathPrefix: '',
  kubernetesHost: 'https://127.0.0.1:6443',
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kinds whose names are DNS-1123 labels (63 characters, no dots). */
const LABEL_NAMED = new Set(['Namespace', 'Service']);
/** Kinds whose names are DNS-1123 subdomains; other kinds (RBAC roles allow ":") are left to the API server. */
const SUBDOMAIN_NAMED = new Set([
  'Secret',
  'ConfigMap',
  'ServiceAccount',
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'ExternalSecret',
  'ClusterExternalSecret',
  'SecretStore',
  'ClusterSecretStore',
  'PushSecret',
]);
/** Go's time.ParseDuration: "0", or one or more decimal numbers each with a unit. */
const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/** A problem inside one object: the field path in the object and the message. */
interface ObjectProblem {
  path: FieldPath;
  message: string;
}

function display(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameProblem(name: string, label: boolean): string | undefined {
  if (label) {
    if (name.length > 63) return `"${name}" is longer than 63 characters (a DNS-1123 label)`;
    if (!DNS1123_LABEL.test(name))
      return `"${name}" is not a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit`;
    return undefined;
  }
  if (name.length > 253) return `"${name}" is longer than 253 characters (a DNS-1123 subdomain)`;
  if (!DNS1123_SUBDOMAIN.test(name))
    return `"${name}" is not a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit`;
  return undefined;
}

/** How a raw template string reads after substitution, for messages: `"5" (from ${vars.refreshInterval})`. */
function shown(raw: string, value: string): string {
  return raw === value ? JSON.stringify(value) : `${JSON.stringify(value)} (from ${raw})`;
}

/** What the API server or ESO would reject in one object (after substitution). */
export function objectProblems(raw: unknown, values: Readonly<Record<string, string>>): ObjectProblem[] {
  const problems: ObjectProblem[] = [];
  if (!isRecord(raw)) return [{ path: [], message: 'not a Kubernetes object: expected a mapping' }];
  const missing = ['apiVersion', 'kind'].filter((k) => typeof raw[k] !== 'string');
  const meta = isRecord(raw.metadata) ? raw.metadata : undefined;
  if (typeof meta?.name !== 'string') missing.push('metadata.name');
  if (missing.length)
    problems.push({ path: [], message: `not a Kubernetes object: missing ${missing.join(', ')}` });
  const sub = (s: string): string | undefined => {
    try {
      return substitute(s, values);
    } catch {
      return undefined;
    }
  };
  const kind = typeof raw.kind === 'string' ? raw.kind : '';
  if (typeof meta?.name === 'string' && (LABEL_NAMED.has(kind) || SUBDOMAIN_NAMED.has(kind))) {
    const name = sub(meta.name);
    const p = name === undefined ? undefined : nameProblem(name, LABEL_NAMED.has(kind));
    if (p && name !== undefined)
      problems.push({
        path: ['metadata', 'name'],
        message: `${kind} name ${p.replace(`"${name}"`, shown(meta.name, name))}`,
      });
  }
  if (meta?.namespace !== undefined) {
    if (typeof meta.namespace !== 'string')
      problems.push({ path: ['metadata', 'namespace'], message: 'a namespace is a string' });
    else {
      const ns = sub(meta.namespace);
      const p = ns === undefined ? undefined : nameProblem(ns, true);
      if (p && ns !== undefined)
        problems.push({
          path: ['metadata', 'namespace'],
          message: `namespace ${p.replace(`"${ns}"`, shown(meta.namespace, ns))}`,
        });
    }
  }
  const spec = isRecord(raw.spec) ? raw.spec : undefined;
  const durations: FieldPath[] = [];
  if (kind === 'ExternalSecret' || kind === 'PushSecret') durations.push(['spec', 'refreshInterval']);
  if (kind === 'ClusterExternalSecret')
    durations.push(['spec', 'refreshTime'], ['spec', 'externalSecretSpec', 'refreshInterval']);
  for (const path of durations) {
    let v: unknown = raw;
    for (const seg of path) v = isRecord(v) ? v[seg] : undefined;
    if (v === undefined || !spec) continue;
    if (typeof v === 'number') {
      problems.push({
        path,
        message: `a duration needs a unit: ESO reads ${formatPath(path)} with Go's time.ParseDuration; write "${v}s" (or ms, m, h), not ${v}`,
      });
      continue;
    }
    if (typeof v !== 'string') continue;
    const value = sub(v);
    if (value === undefined || GO_DURATION.test(value)) continue;
    const bare = /^\d+(?:\.\d+)?$/.test(value);
    problems.push({
      path,
      message: bare
        ? `a duration needs a unit: ${shown(v, value)} is not a duration ESO can parse (Go's time.ParseDuration); write "${value}s" (or ms, m, h)`
        : `${shown(v, value)} is not a duration ESO can parse (Go's time.ParseDuration), e.g. "30s", "1m30s", "1h"`,
    });
  }
  return problems;
}

/** The objects of one manifest value: a list, a `kind: List`, or one object — each with its path in the value. */
function objectsOf(value: unknown): [unknown, FieldPath][] {
  if (Array.isArray(value)) return value.map((o, i) => [o, [i]]);
  if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items))
    return value.items.map((o, i) => [o, ['items', i]]);
  return [[value, []]];
}

function fieldOf(op: OperationSpec, key: string): string {
  return formatPath([...op.path, key]);
}

/** Template values to check manifests with: built-in stand-ins, the scenario's vars, then `--var` values. */
export function checkValues(
  scenario: Scenario,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const values: Record<string, string> = { ...SAMPLE_BUILTINS };
  for (const [name, raw] of Object.entries({ ...scenario.vars, ...overrides })) {
    if (!(name in scenario.vars)) continue;
    try {
      values[`vars.${name}`] = substitute(raw, SAMPLE_BUILTINS);
    } catch {
      /* reported by the loader */
    }
  }
  return values;
}

export function manifestIssues(scenario: Scenario, options: ManifestCheckOptions = {}): InputIssue[] {
  const cwd = options.cwd ?? process.cwd();
  const builtins = options.builtins ?? BUILTIN_NAMES;
  const declared = new Set(Object.keys(scenario.vars));
  const values = checkValues(scenario, options.overrides);
  const issues: InputIssue[] = [];
  for (const step of scenario.steps) {
    for (const op of [...step.try, ...step.catch, ...step.finally]) {
      if (!MANIFEST_OPERATIONS.has(op.operation)) continue;
      const args = isRecord(op.args) ? op.args : {};
      if (args.manifest !== undefined) {
        for (const [object, at] of objectsOf(args.manifest))
          for (const p of objectProblems(object, values)) {
            const path = [...op.path, 'manifest', ...at, ...p.path];
            issues.push({
              location: scenario.source.locate(path),
              field: formatPath(path),
              message: p.message,
            });
          }
      }
      const file = args.file;
      if (typeof file !== 'string' || hasTemplate(file)) continue;
      const field = fieldOf(op, 'file');
      const opLocation = scenario.source.locate([...op.path, 'file']);
      const path = resolve(scenario.baseDir, file);
      const outside = !isInside(path, scenario.baseDir);
      if (outside && !options.allowOutside) {
        issues.push({
          location: opLocation,
          field,
          message: `manifest file ${file} is outside the scenario's directory (${display(scenario.baseDir, cwd)}): pass --allow-outside to use it`,
        });
        continue;
      }
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        issues.push({ location: opLocation, field, message: `manifest file not found: ${file}` });
        continue;
      }
      const name = display(path, cwd);
      // A file outside the scenario's directory: point at the scenario line that named it, and say where.
      const report = (location: SourceLocation, docField: string, message: string) =>
        outside
          ? issues.push({
              location: opLocation,
              field,
              message: `${location.file}:${location.line}${location.column ? `:${location.column}` : ''}: ${docField}: ${message}`,
            })
          : issues.push({ location, field: docField, message });
      const lines = new LineCounter();
      const docs = parseAllDocuments(text, { lineCounter: lines });
      if (!Array.isArray(docs)) continue;
      docs.forEach((doc: Document, i) => {
        const source = new SourceMap(name, doc, lines);
        for (const e of doc.errors)
          report(
            source.at(e.pos[0]),
            `document ${i + 1}`,
            `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}`,
          );
        if (doc.errors.length) return;
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) return;
        for (const [text, at] of stringsIn(value))
          for (const problem of checkTemplate(text, declared, builtins))
            report(source.locate(at), `document ${i + 1} ${formatPath(at)}`, problem);
        for (const [object, at] of objectsOf(value))
          for (const p of objectProblems(object, values)) {
            const where = [...at, ...p.path];
            report(
              source.locate(where),
              where.length ? `document ${i + 1} ${formatPath(where)}` : `document ${i + 1}`,
              p.message,
            );
          }
      });
    }
  }
  return issues;
}
