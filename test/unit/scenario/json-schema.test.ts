import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { operations } from '../../../src/scenario/operations/index.ts';
import {
  SCHEMA_FILE,
  checkScenarioSchema,
  renderScenarioSchema,
  scenarioJsonSchema,
} from '../../../src/scenario/json-schema.ts';
import { findScenarioFiles, loadScenarios, parseScenario } from '../../../src/scenario/loader.ts';
import { duration, templated } from '../../../src/scenario/schema.ts';
import { repoRoot } from '../../../src/paths.ts';
import { fakeHandlers } from './fake-handlers.ts';

type Json = Record<string, unknown>;

describe('scenario JSON Schema', () => {
  it('has one definition per operation, referenced from try, catch and finally', () => {
    const schema = scenarioJsonSchema(fakeHandlers) as Json & { definitions: Record<string, Json> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.definitions)).toEqual(['operation', 'op.apply', 'op.assertSecret', 'op.note']);
    const step = (schema.properties as Record<string, Json>).steps?.items as Json & {
      properties: Record<string, Json>;
    };
    for (const phase of ['try', 'catch', 'finally'])
      expect(step.properties[phase]?.items).toEqual({ $ref: '#/definitions/operation' });
    expect(schema.definitions['op.assertSecret']).toMatchObject({
      title: 'assertSecret',
      description: 'Assert a Secret.',
      additionalProperties: false,
      required: ['assertSecret'],
      properties: {
        timeout: { type: 'string', pattern: expect.any(String) as string },
        name: { type: 'string' },
        assertSecret: {
          properties: {
            within: {
              anyOf: [
                { type: 'string', pattern: '^(?:0|(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h))+)$' },
                { type: 'string', pattern: '\\$\\{[^}]+\\}' },
              ],
            },
          },
        },
      },
    });
    expect(schema.additionalProperties).toBe(false);
  });

  it('detects a stale file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'schema-')), 'schema.json');
    expect((await checkScenarioSchema(fakeHandlers, file)).current).toBe(false);
    await writeFile(file, renderScenarioSchema(fakeHandlers));
    expect((await checkScenarioSchema(fakeHandlers, file)).current).toBe(true);
    expect((await checkScenarioSchema(fakeHandlers.slice(1), file)).current).toBe(false);
  });

  it('scenarios/schema.json is current (regenerate: npx tsx scripts/generate-schema.ts)', async () => {
    const { current, expected, actual } = await checkScenarioSchema(operations, SCHEMA_FILE);
    if (!current)
      expect(actual, 'scenarios/schema.json is stale: run npx tsx scripts/generate-schema.ts').toBe(expected);
  });

  it('every scenario in scenarios/ loads with the real operations', async () => {
    const files = await findScenarioFiles(join(repoRoot, 'scenarios'));
    await expect(loadScenarios(files, operations)).resolves.toHaveLength(files.length);
  });
});

describe('templated()', () => {
  const name = templated(z.string().regex(/^[a-z-]+$/, 'expected a lowercase name'));
  const handler = {
    name: 'pick',
    description: 'd',
    timeoutKind: 'default' as const,
    schema: z.strictObject({ name, every: templated(duration()) }),
    summarize: () => 'pick',
    run: async () => {},
  };
  const load = (value: string) =>
    parseScenario(
      `name: a\ndescription: b\nvars: { v: x }\nsteps:\n  - try:\n      - pick: ${value}\n`,
      { file: 'x.yaml', baseDir: '/' },
      [handler],
    );

  it('accepts a template or a valid value', () => {
    expect(() => load("{ name: '${vars.v}', every: '${vars.v}' }")).not.toThrow();
    expect(() => load('{ name: ok-name, every: 1m30s }')).not.toThrow();
  });

  it("reports the inner schema's message, not the template alternative", () => {
    expect(() => load('{ name: Bad_Name, every: 5s }')).toThrow(
      'x.yaml:6:23: steps[0].try[0].pick.name: expected a lowercase name',
    );
    expect(() => load('{ name: ok, every: 7 }')).toThrow(
      /steps\[0\]\.try\[0\]\.pick\.every: a duration needs a unit: write "7s" \(or ms, m, h\), not 7/,
    );
  });
});
