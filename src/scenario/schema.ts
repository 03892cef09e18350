/**
 * The zod schemas of a scenario file, and the helpers operation handlers use in their own schemas
 * (`duration()`, `templated()`). The loader validates with these (mapping every issue to file:line); the JSON
 * Schema for editors (scenarios/schema.json) is generated from the same schemas.
 */
import { CAPABILITIES } from './requirements.ts';
import { z } from 'zod';
import type { OperationHandler, TimeoutKind } from './operation.ts';
import { parseDuration } from '../time.ts';
import { BUILTINS, hasTemplate } from './template.ts';

/** The built-in variables, for descriptions: `${runId}` (unique id of this run), … */
export const BUILTINS_HELP = Object.entries(BUILTINS)
  .map(([name, what]) => `\${${name}} (${what})`)
  .join('; ');

export const TIMEOUT_KINDS = [
  'apply',
  'assert',
  'vault',
  'fault',
  'cleanup',
  'default',
] as const satisfies readonly TimeoutKind[];

export const PROVIDERS = ['local', 'kind', 'existing'] as const;

const DURATION_PATTERN = /^(?:0|(?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/;
const DURATION_HELP = 'a duration like "30s", "1m30s" or "250ms"';

/** The longest timer Node can hold (2^31 - 1 ms, about 24.8 days): longer ones fire at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * A Go-style duration string ("5s", "1m30s", "250ms", "0"), parsed to milliseconds.
 * In handler schemas: `within: duration()` gives `within: number` (ms) to `run()`.
 */
export function duration(): z.ZodType<number, string> {
  return z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? 'is required'
          : typeof iss.input === 'number'
            ? `a duration needs a unit: write "${iss.input}s" (or ms, m, h), not ${iss.input}`
            : `expected ${DURATION_HELP}, got ${describeInput(iss.input)}`,
    })
    .regex(DURATION_PATTERN, {
      error: (iss) =>
        typeof iss.input === 'string' && /^\d+(?:\.\d+)?$/.test(iss.input)
          ? `a duration needs a unit: write "${iss.input}s" (or ms, m, h), not "${iss.input}"`
          : `expected ${DURATION_HELP}, got ${describeInput(iss.input)}`,
    })
    .transform((s) => parseDuration(s) ?? 0)
    .refine((ms) => ms <= MAX_DURATION_MS, {
      error: `is longer than a timer can hold: at most 596h31m23s (2^31 - 1 ms)`,
    })
    .meta({
      description: `${DURATION_HELP[0]?.toUpperCase()}${DURATION_HELP.slice(1)}, at most 596h31m23s`,
    });
}

/** Message of the template branch of `templated()`; the issue formatter drops it to show the real problem. */
export const TEMPLATE_BRANCH = 'not a ${...} template';

/**
 * Accept either what `inner` accepts or, at load time, a string holding a `${...}` reference
 * (`within: ${vars.refreshInterval}`). The runner substitutes references and parses again with the
 * handler's schema before `run()`, so `run()` always sees `inner`'s output.
 */
export function templated<T extends z.ZodType>(inner: T): T {
  const template = z
    .string({ error: TEMPLATE_BRANCH })
    .regex(/\$\{[^}]+\}/, { error: TEMPLATE_BRANCH, abort: true })
    .refine(hasTemplate, { error: TEMPLATE_BRANCH, abort: true })
    .meta({
      description: `A \${vars.NAME} or built-in reference, validated after substitution. Built-ins: ${BUILTINS_HELP}`,
    });
  return z.union([inner, template]) as unknown as T;
}

function describeInput(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') return Array.isArray(v) ? 'a list' : 'a mapping';
  return `${typeof v} ${String(v)}`;
}

export const timeoutsSchema = z
  .strictObject(Object.fromEntries(TIMEOUT_KINDS.map((k) => [k, duration().optional()])))
  .meta({ description: 'Timeouts per kind of operation (apply, assert, vault, fault, cleanup, default)' });
export type Timeouts = Partial<Record<TimeoutKind, number>>;

const varValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'expected a string (vars are strings)' })
  .transform(String);

/** Keys allowed next to the single operation key of a list item. */
export const OPERATION_ITEM_KEYS = {
  timeout: duration().meta({
    description: 'Timeout for this operation (overrides step and scenario timeouts)',
  }),
  name: z.string().min(1).meta({ description: 'A human label for this operation in progress and reports' }),
} as const;

/** An operation list item before the operation key is checked: validated separately, per handler. */
const rawOperationItem = z.record(z.string(), z.unknown(), {
  error: 'expected a mapping with one operation key',
});

function stepSchema<O extends z.ZodType>(operationItem: O) {
  return z.strictObject({
    name: z.string().min(1).optional().meta({ description: 'Step name shown in progress and reports' }),
    timeouts: timeoutsSchema.optional(),
    try: z.array(operationItem).min(1).meta({ description: 'Operations run in order until one fails' }),
    catch: z
      .array(operationItem)
      .optional()
      .meta({ description: 'Operations run only when a try operation failed' }),
    finally: z.array(operationItem).optional().meta({ description: 'Operations always run' }),
  });
}

export function scenarioSchema<O extends z.ZodType>(operationItem: O) {
  return z.strictObject({
    name: z.string().min(1).meta({ description: 'Scenario name (`scenario <name>`)' }),
    description: z.string().min(1).meta({ description: 'One line shown by `scenario --list`' }),
    expect: z.string().optional().meta({ description: 'What a passing run demonstrates' }),
    requires: z
      .array(z.enum([...PROVIDERS, ...CAPABILITIES]))
      .min(1)
      .optional()
      .meta({
        description:
          'Providers this scenario can run on (any of them) and capabilities the lab must have (`node`: pods run); otherwise it is reported as skipped, with the reason',
      }),
    exclusive: z.boolean().optional().meta({
      description:
        'Run alone, never next to another scenario (`scenario all --parallel N`): it touches shared state. Scenarios with faults (sealVault, stopVault, restartEso, …) always do',
    }),
    vars: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'var names are letters, digits and _' }),
        varValue,
      )
      .optional()
      .meta({
        description: `String variables, referenced as \${vars.NAME} in the scenario and the manifests it applies (\`--var NAME=value\` overrides a default). Values may use the built-ins: ${BUILTINS_HELP}`,
      }),
    timeouts: timeoutsSchema.optional(),
    steps: z.array(stepSchema(operationItem)).min(1),
  });
}

/** What the loader validates the file against (operation items are checked per handler afterwards). */
export const scenarioFileSchema = scenarioSchema(rawOperationItem);
export type ScenarioFile = z.output<typeof scenarioFileSchema>;

/** One list item for `handler`: its operation key plus the optional `timeout` and `name`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function operationItemSchema(handler: OperationHandler<any, any>) {
  return z
    .strictObject({ [handler.name]: handler.schema, ...OPERATION_ITEM_KEYS })
    .partial({ timeout: true, name: true })
    .meta({ title: handler.name, description: handler.description });
}
