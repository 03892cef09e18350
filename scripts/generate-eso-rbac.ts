/** Write (or with --check, verify) src/labs/local/eso-rbac.yaml from the pinned ESO chart. Needs `vault-eso-lab build helm`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { ESO_RBAC_FILE, renderEsoRbac } from '../src/components/eso-chart.ts';

const text = await renderEsoRbac();
if (process.argv.includes('--check')) {
  const current = readFileSync(ESO_RBAC_FILE, 'utf8');
  if (current !== text) {
    console.error(`${ESO_RBAC_FILE} is stale: run 'npx tsx scripts/generate-eso-rbac.ts'`);
    process.exitCode = 1;
  } else console.log(`${ESO_RBAC_FILE} is current`);
} else {
  writeFileSync(ESO_RBAC_FILE, text);
  console.log(`wrote ${ESO_RBAC_FILE}`);
}
