/**
 * Write docs/scenarios.md from scenarios/*.yaml.
 *   npx tsx scripts/generate-scenario-docs.ts          write it
 *   npx tsx scripts/generate-scenario-docs.ts --check  exit 1 when the committed file is stale
 */
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { DOCS_FILE, checkScenarioDocs, renderScenarioDocs } from './scenario-docs.ts';

const shown = relative(process.cwd(), DOCS_FILE) || DOCS_FILE;
if (process.argv.includes('--check')) {
  const { current } = await checkScenarioDocs();
  if (!current) {
    console.error(`${shown} is stale: run 'npx tsx scripts/generate-scenario-docs.ts'`);
    process.exitCode = 1;
  } else console.log(`${shown} is current`);
} else {
  await writeFile(DOCS_FILE, await renderScenarioDocs());
  console.log(`wrote ${shown}`);
}
