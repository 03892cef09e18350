/**
 * docs/scenarios.md, rendered from the scenario files: one section per scenario with its description, what a
 * passing run shows (`expect:`), where it runs, its steps and the operations it uses. Imported by the generate
 * script and by the unit test that fails when the committed file is stale.
 */
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { repoRoot } from '../src/paths.ts';
import { loadScenarios, findScenarioFiles } from '../src/scenario/loader.ts';
import type { Scenario } from '../src/scenario/model.ts';
import { operations } from '../src/scenario/operations/index.ts';

export const SCENARIOS_DIR = join(repoRoot, 'scenarios');
export const DOCS_FILE = join(repoRoot, 'docs', 'scenarios.md');

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function section(s: Scenario): string {
  const ops = [
    ...new Set(s.steps.flatMap((st) => [...st.try, ...st.catch, ...st.finally].map((o) => o.operation))),
  ];
  const vars = Object.entries(s.vars);
  return [
    `## ${s.name}`,
    '',
    oneLine(s.description),
    '',
    ...(s.expect ? [`**Expect:** ${oneLine(s.expect)}`, ''] : []),
    `- file: \`scenarios/${relative(SCENARIOS_DIR, join(s.baseDir, s.file.replace(/^.*\//, '')))}\``,
    `- runs on: ${s.requires ? `${requiresText(s.requires)} (skipped elsewhere, with the reason)` : 'every provider'}`,
    ...(vars.length ? [`- vars: ${vars.map(([k, v]) => `\`${k}=${v}\``).join(', ')}`] : []),
    `- operations: ${ops.map((o) => `\`${o}\``).join(', ')}`,
    '',
    'Steps:',
    '',
    ...s.steps.map((st, i) => `${i + 1}. ${st.name}`),
    '',
  ].join('\n');
}

export async function renderScenarioDocs(): Promise<string> {
  const files = await findScenarioFiles(SCENARIOS_DIR);
  const scenarios = await loadScenarios(files, operations, { cwd: repoRoot });
  const index = scenarios
    .map(
      (s) =>
        `| [${s.name}](#${s.name}) | ${oneLine(s.description)}${s.requires ? ` (${requiresText(s.requires)})` : ''} |`,
    )
    .join('\n');
  return [
    '# Scenarios',
    '',
    '<!-- GENERATED from scenarios/*.yaml by `npx tsx scripts/generate-scenario-docs.ts` — do not edit by hand. -->',
    '',
    'Run one with `vault-eso-lab scenario <name>`, all of them with `vault-eso-lab scenario all` (one summary',
    'table at the end; `--report-json FILE` and `--report-junit FILE` write one entry per scenario).',
    '',
    '| scenario | what it shows |',
    '|---|---|',
    index,
    '',
    ...scenarios.map(section),
  ].join('\n');
}

export async function checkScenarioDocs(): Promise<{ current: boolean; expected: string; actual: string }> {
  const expected = await renderScenarioDocs();
  const actual = await readFile(DOCS_FILE, 'utf8').catch(() => '');
  return { current: actual === expected, expected, actual };
}

/** `[node]` → "labs with a node (local with a node, kind)"; providers → "kind only". */
function requiresText(requires: readonly string[]): string {
  const parts = requires.map((r) =>
    r === 'node' ? 'labs with a node (the local lab where it can run one, kind)' : `${r} only`,
  );
  return parts.join('; ');
}
