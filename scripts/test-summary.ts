/** Print one closing line for CI from vitest's JSON reports: `tests: N passed, N failed` (skipped when any). */
import { existsSync, readFileSync } from 'node:fs';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of ['reports/vitest-unit.json', 'reports/vitest-e2e.json']) {
  if (!existsSync(f)) continue;
  const j = JSON.parse(readFileSync(f, 'utf8')) as VitestJson;
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  skipped += j.numPendingTests + j.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
