/**
 * Before a run creates anything: every manifest file a scenario's `apply`/`delete` names must exist and parse as
 * YAML objects with `apiVersion`, `kind` and `metadata.name`. Problems name the scenario line that refers to the
 * file, or the manifest's own file:line for a YAML error — and exit 2 like any invalid input.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { InvalidInputError, type InputIssue } from '../errors.ts';
import type { Scenario } from './model.ts';
import { hasTemplate } from './template.ts';

const MANIFEST_OPERATIONS = new Set(['apply', 'delete']);

function display(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function manifestIssues(scenario: Scenario, cwd: string = process.cwd()): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const step of scenario.steps) {
    for (const op of [...step.try, ...step.catch, ...step.finally]) {
      if (!MANIFEST_OPERATIONS.has(op.operation)) continue;
      const file = (op.args as { file?: unknown } | null)?.file;
      if (typeof file !== 'string' || hasTemplate(file)) continue;
      const field = `${op.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .replace(/^\./, '')}.file`;
      const path = resolve(scenario.baseDir, file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        issues.push({ location: op.location, field, message: `manifest file not found: ${file}` });
        continue;
      }
      const lines = new LineCounter();
      const docs = parseAllDocuments(text, { lineCounter: lines });
      if (!Array.isArray(docs)) continue;
      docs.forEach((doc, i) => {
        const shown = display(path, cwd);
        for (const e of doc.errors) {
          const pos = lines.linePos(e.pos[0]);
          issues.push({
            location: { file: shown, line: pos.line, column: pos.col },
            field: `document ${i + 1}`,
            message: `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}`,
          });
        }
        if (doc.errors.length) return;
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) return;
        const objects = Array.isArray(value) ? value : [value];
        for (const o of objects) {
          const obj = o as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
          const missing = ['apiVersion', 'kind'].filter(
            (k) => typeof (obj as Record<string, unknown> | null)?.[k] !== 'string',
          );
          if (typeof obj?.metadata?.name !== 'string') missing.push('metadata.name');
          if (missing.length) {
            const start = doc.contents?.range?.[0] ?? 0;
            const pos = lines.linePos(start);
            issues.push({
              location: { file: shown, line: pos.line, column: pos.col },
              field: `document ${i + 1}`,
              message: `not a Kubernetes object: missing ${missing.join(', ')}`,
            });
          }
        }
      });
    }
  }
  return issues;
}

/** Throw InvalidInputError (exit 2) listing every manifest problem of these scenarios. */
export function checkManifests(scenarios: readonly Scenario[], cwd?: string): void {
  const issues = scenarios.flatMap((s) => manifestIssues(s, cwd));
  if (issues.length) throw new InvalidInputError(issues);
}
