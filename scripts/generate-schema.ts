/**
 * Write scenarios/schema.json from the scenario and operation schemas.
 *   npx tsx scripts/generate-schema.ts          write it
 *   npx tsx scripts/generate-schema.ts --check  exit 1 when the committed file is stale
 */
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { operations } from '../src/scenario/operations/index.ts';
import { SCHEMA_FILE, checkScenarioSchema, renderScenarioSchema } from '../src/scenario/json-schema.ts';

const shown = relative(process.cwd(), SCHEMA_FILE) || SCHEMA_FILE;
if (process.argv.includes('--check')) {
  const { current } = await checkScenarioSchema(operations);
  if (!current) {
    console.error(`${shown} is stale: run 'npx tsx scripts/generate-schema.ts'`);
    process.exitCode = 1;
  } else console.log(`${shown} is current`);
} else {
  await writeFile(SCHEMA_FILE, renderScenarioSchema(operations));
  console.log(`wrote ${shown} (${operations.length} operations)`);
}
