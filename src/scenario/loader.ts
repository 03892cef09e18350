/**
 * Load scenario files: parse YAML keeping positions, validate the file and each operation against its handler's
 * schema, check `${...}` references, and report every problem at once as one InvalidInputError whose issues name
 * file:line:column and the field path (`steps[2].try[0].assertSecret.within`).
 */
import { readFile, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { InvalidInputError, errorMessage, type InputIssue } from '../errors.ts';
import type { ProviderName } from '../labs/lab-provider.ts';
import type { OperationHandler } from './operation.ts';
import { closest, zodToInputIssues, type KnownKeys } from './issues.ts';
import type { OperationSpec, Scenario, StepSpec } from './model.ts';
import {
  OPERATION_ITEM_KEYS,
  TIMEOUT_KINDS,
  scenarioFileSchema,
  type ScenarioFile,
  type Timeouts,
} from './schema.ts';
import { formatPath, SourceMap, type FieldPath } from './source-map.ts';
import { BUILTIN_NAMES, checkTemplate, stringsIn } from './template.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHandler = OperationHandler<any, any>;

export interface LoadOptions {
  /** Built-in template names the run will provide (default: BUILTIN_NAMES). */
  builtins?: readonly string[];
  /** Base for the displayed file name (default: the working directory). */
  cwd?: string;
}

const TOP_KEYS = Object.keys(scenarioFileSchema.shape);
const STEP_KEYS = ['name', 'timeouts', 'try', 'catch', 'finally'];

/** Read and validate one scenario file. Throws InvalidInputError listing every problem. */
export async function loadScenario(
  file: string,
  handlers: readonly AnyHandler[],
  options: LoadOptions = {},
): Promise<Scenario> {
  const abs = resolve(options.cwd ?? process.cwd(), file);
  const shown = displayName(abs, options.cwd);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new InvalidInputError(
      [{ location: { file: shown, line: 1 }, field: '', message: errorMessage(e) }],
      {
        cause: e,
      },
    );
  }
  return parseScenario(text, { ...options, file: shown, baseDir: dirname(abs) }, handlers);
}

/** Load several files, collecting the problems of all of them into one InvalidInputError. */
export async function loadScenarios(
  files: readonly string[],
  handlers: readonly AnyHandler[],
  options: LoadOptions = {},
): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  const issues: InputIssue[] = [];
  for (const file of files) {
    try {
      scenarios.push(await loadScenario(file, handlers, options));
    } catch (e) {
      if (e instanceof InvalidInputError) issues.push(...e.issues);
      else throw e;
    }
  }
  const seen = new Map<string, Scenario>();
  for (const s of scenarios) {
    const first = seen.get(s.name);
    if (first)
      issues.push({
        location: s.source.locate(['name']),
        field: 'name',
        message: `scenario name "${s.name}" is also used by ${first.file}`,
      });
    else seen.set(s.name, s);
  }
  if (issues.length) throw new InvalidInputError(issues);
  return scenarios;
}

/** The scenario files (`*.yaml`, `*.yml`) directly in `dir`, sorted. */
export async function findScenarioFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

export interface ScenarioListing {
  name: string;
  description: string;
  file: string;
  requires?: (ProviderName | 'node')[];
  /** Set when the file does not load (`scenario --list` still shows it). */
  error?: InvalidInputError;
}

/** Every scenario file in `dir` with its name and description, for `scenario --list` (invalid ones included). */
export async function listScenarios(
  dir: string,
  handlers: readonly AnyHandler[],
  options: LoadOptions = {},
): Promise<ScenarioListing[]> {
  const listing: ScenarioListing[] = [];
  for (const file of await findScenarioFiles(dir)) {
    try {
      const s = await loadScenario(file, handlers, options);
      listing.push({
        name: s.name,
        description: s.description,
        file: s.file,
        ...(s.requires ? { requires: s.requires } : {}),
      });
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      const base = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
      listing.push({
        name: base,
        description: '(invalid)',
        file: e.issues[0]?.location.file ?? file,
        error: e,
      });
    }
  }
  return listing;
}

/** Validate scenario text. `file` is the name shown in messages; `baseDir` resolves `file:` references. */
export function parseScenario(
  text: string,
  where: { file: string; baseDir: string; builtins?: readonly string[] },
  handlers: readonly AnyHandler[],
): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source = new SourceMap(where.file, doc, lines);
  if (doc.errors.length)
    throw new InvalidInputError(
      doc.errors.map((e) => ({
        location: source.at(e.pos[0]),
        field: '',
        message: `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}`,
      })),
    );
  if (doc.contents === null)
    throw new InvalidInputError([
      { location: source.at(0), field: '', message: 'the scenario file is empty' },
    ]);

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new InvalidInputError([{ location: source.at(0), field: '', message: errorMessage(e) }], {
      cause: e,
    });
  }

  const byName = new Map(handlers.map((h) => [h.name, h]));
  const knownKeys: KnownKeys = (path) => {
    if (path.length === 0) return TOP_KEYS;
    if (path.length === 2 && path[0] === 'steps') return STEP_KEYS;
    if (path.at(-1) === 'timeouts') return TIMEOUT_KINDS;
    return undefined;
  };
  const issues: InputIssue[] = [];
  const parsed = scenarioFileSchema.safeParse(raw);
  if (!parsed.success) issues.push(...zodToInputIssues(parsed.error.issues, [], source, knownKeys));

  // Operation items and templates are checked on the raw value, so they are reported even when other parts of
  // the file are wrong.
  const rawObj = isRecord(raw) ? raw : {};
  const declared = new Set(isRecord(rawObj.vars) ? Object.keys(rawObj.vars) : []);
  const builtins = where.builtins ?? BUILTIN_NAMES;
  if (isRecord(rawObj.vars))
    for (const [name, value] of Object.entries(rawObj.vars))
      if (typeof value === 'string')
        for (const problem of checkTemplate(value, new Set(), builtins))
          issues.push({
            location: source.locate(['vars', name]),
            field: formatPath(['vars', name]),
            message: problem.includes('undeclared var') ? `vars may only use built-ins: ${problem}` : problem,
          });

  const steps: StepSpec[] = [];
  const rawSteps = Array.isArray(rawObj.steps) ? rawObj.steps : [];
  for (const [index, rawStep] of rawSteps.entries()) {
    if (!isRecord(rawStep)) continue;
    const ops = (phase: OperationSpec['phase']): OperationSpec[] => {
      const list = rawStep[phase];
      if (!Array.isArray(list)) return [];
      return list.flatMap((item, i) => {
        const op = checkOperationItem(item, ['steps', index, phase, i], phase, byName, source, issues);
        if (op) checkTemplates(op.args, op.path, declared, builtins, source, issues);
        return op ? [op] : [];
      });
    };
    const step = parsed.success ? parsed.data.steps[index] : undefined;
    steps.push({
      name: step?.name ?? `step ${index + 1}`,
      index,
      timeouts: (step?.timeouts ?? {}) as Timeouts,
      try: ops('try'),
      catch: ops('catch'),
      finally: ops('finally'),
      location: source.locate(['steps', index]),
    });
  }

  if (issues.length || !parsed.success) throw new InvalidInputError(sortIssues(issues));
  const data: ScenarioFile = parsed.data;
  return {
    name: data.name,
    description: data.description,
    ...(data.expect === undefined ? {} : { expect: data.expect }),
    ...(data.requires === undefined ? {} : { requires: data.requires as (ProviderName | 'node')[] }),
    ...(data.exclusive === undefined ? {} : { exclusive: data.exclusive }),
    vars: data.vars ?? {},
    timeouts: (data.timeouts ?? {}) as Timeouts,
    steps,
    file: where.file,
    baseDir: where.baseDir,
    source,
  };
}

function checkOperationItem(
  item: unknown,
  path: (string | number)[],
  phase: OperationSpec['phase'],
  handlers: ReadonlyMap<string, AnyHandler>,
  source: SourceMap,
  issues: InputIssue[],
): OperationSpec | undefined {
  if (!isRecord(item)) return undefined; // reported by the file schema
  const known = [...handlers.keys()].sort();
  const keys = Object.keys(item).filter((k) => !(k in OPERATION_ITEM_KEYS));
  const at = (p: FieldPath, key = false) => source.locate(p, { key });
  if (keys.length === 0) {
    issues.push({
      location: at(path),
      field: formatPath(path),
      message: `no operation in this item (one of: ${known.join(', ')})`,
    });
    return undefined;
  }
  if (keys.length > 1) {
    issues.push({
      location: at([...path, keys[1] as string], true),
      field: formatPath(path),
      message: `one operation per item, found ${keys.map((k) => `"${k}"`).join(' and ')}: make each its own list item`,
    });
    return undefined;
  }
  const key = keys[0] as string;
  const handler = handlers.get(key);
  const opPath = [...path, key];
  if (!handler) {
    const near = closest(key, known);
    issues.push({
      location: at(opPath, true),
      field: formatPath(opPath),
      message: `unknown operation "${key}"${near ? `; did you mean "${near}"?` : ''} (known: ${known.join(', ') || 'none'})`,
    });
    return undefined;
  }
  let ok = true;
  const args = handler.schema.safeParse(item[key]);
  if (!args.success) {
    ok = false;
    const shape = objectKeys(handler.schema);
    issues.push(
      ...zodToInputIssues(args.error.issues, opPath, source, (p) =>
        p.length === opPath.length ? shape : undefined,
      ),
    );
  }
  let timeoutMs: number | undefined;
  if (item.timeout !== undefined) {
    const t = OPERATION_ITEM_KEYS.timeout.safeParse(item.timeout);
    if (t.success) timeoutMs = t.data;
    else {
      ok = false;
      issues.push(...zodToInputIssues(t.error.issues, [...path, 'timeout'], source));
    }
  }
  let label: string | undefined;
  if (item.name !== undefined) {
    const n = OPERATION_ITEM_KEYS.name.safeParse(item.name);
    if (n.success) label = n.data;
    else {
      ok = false;
      issues.push(...zodToInputIssues(n.error.issues, [...path, 'name'], source));
    }
  }
  if (!ok) return undefined;
  return {
    operation: key,
    ...(label === undefined ? {} : { label }),
    args: item[key],
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    phase,
    path: opPath,
    location: at(path),
  };
}

function checkTemplates(
  value: unknown,
  base: FieldPath,
  declared: ReadonlySet<string>,
  builtins: readonly string[],
  source: SourceMap,
  issues: InputIssue[],
): void {
  for (const [text, path] of stringsIn(value, [...base])) {
    for (const problem of checkTemplate(text, declared, builtins))
      issues.push({ location: source.locate(path), field: formatPath(path), message: problem });
  }
}

function objectKeys(schema: unknown): string[] | undefined {
  const shape = (schema as { shape?: unknown }).shape;
  return isRecord(shape) ? Object.keys(shape) : undefined;
}

function sortIssues(issues: InputIssue[]): InputIssue[] {
  return [...issues].sort(
    (a, b) => a.location.line - b.location.line || (a.location.column ?? 0) - (b.location.column ?? 0),
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function displayName(abs: string, cwd = process.cwd()): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}
