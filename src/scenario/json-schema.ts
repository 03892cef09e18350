/**
 * scenarios/schema.json — the JSON Schema editors use (`# yaml-language-server: $schema=./schema.json`),
 * generated from the same zod schemas the loader validates with, including each operation's schema. Each
 * operation gets a readable definition (`#/definitions/op.assertSecret`) instead of being repeated for try,
 * catch and finally.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../paths.ts';
import type { AnyHandler } from './loader.ts';
import { operationItemSchema, scenarioSchema } from './schema.ts';

export const SCHEMA_FILE = join(repoRoot, 'scenarios', 'schema.json');

const PLACEHOLDER = 'vault-eso-lab:operation-item';
const OPTIONS = { target: 'draft-7', io: 'input', unrepresentable: 'any' } as const;

export function scenarioJsonSchema(handlers: readonly AnyHandler[]): Record<string, unknown> {
  const sorted = [...handlers].sort((a, b) => a.name.localeCompare(b.name));
  const root = z.toJSONSchema(
    scenarioSchema(z.any().meta({ description: PLACEHOLDER })).meta({
      title: 'vault-eso-lab scenario',
      description: 'A declarative Vault + External Secrets Operator scenario: steps of try / catch / finally',
    }),
    OPTIONS,
  ) as Record<string, unknown>;
  const definitions: Record<string, unknown> = {
    operation: {
      description: 'One operation: a mapping with exactly one operation key, plus optional timeout and name',
      anyOf: sorted.map((h) => ({ $ref: `#/definitions/op.${h.name}` })),
    },
  };
  for (const h of sorted) {
    const { $schema: _s, ...schema } = z.toJSONSchema(operationItemSchema(h), OPTIONS) as Record<
      string,
      unknown
    >;
    definitions[`op.${h.name}`] = schema;
  }
  return { ...(replacePlaceholder(root) as Record<string, unknown>), definitions };
}

function replacePlaceholder(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(replacePlaceholder);
  if (node === null || typeof node !== 'object') return node;
  if ((node as { description?: unknown }).description === PLACEHOLDER)
    return { $ref: '#/definitions/operation' };
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replacePlaceholder(v)]));
}

/** The file's exact text: stable key order, two-space indent, trailing newline. */
export function renderScenarioSchema(handlers: readonly AnyHandler[]): string {
  return JSON.stringify(scenarioJsonSchema(handlers), null, 2) + '\n';
}

/** Whether `file` holds what `renderScenarioSchema` produces now. */
export async function checkScenarioSchema(
  handlers: readonly AnyHandler[],
  file: string = SCHEMA_FILE,
): Promise<{ current: boolean; expected: string; actual: string | undefined }> {
  const expected = renderScenarioSchema(handlers);
  const actual = await readFile(file, 'utf8').catch(() => undefined);
  return { current: actual === expected, expected, actual };
}
