/** Turning zod issues into InputIssues that name file:line:column and the dotted field path. */
import type { z } from 'zod';
import type { InputIssue } from '../errors.ts';
import { formatPath, type FieldPath, type SourceMap } from './source-map.ts';
import { TEMPLATE_BRANCH } from './schema.ts';

type ZodIssue = z.core.$ZodIssue;

/** Allowed keys at a path, for "did you mean" hints on unknown fields. */
export type KnownKeys = (path: FieldPath) => readonly string[] | undefined;

export function zodToInputIssues(
  issues: readonly ZodIssue[],
  base: FieldPath,
  source: SourceMap,
  knownKeys: KnownKeys = () => undefined,
): InputIssue[] {
  const out: InputIssue[] = [];
  for (const issue of flatten(issues, [])) {
    const path = [...base, ...(issue.path as (string | number)[])];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(path);
      for (const key of issue.keys) {
        const hint = known ? unknownHint(key, known) : '';
        out.push({
          location: source.locate([...path, key], { key: true }),
          field: formatPath([...path, key]),
          message: `unknown field "${key}"${hint}`,
        });
      }
    } else {
      out.push({ location: source.locate(path), field: formatPath(path), message: tidy(issue) });
    }
  }
  return out;
}

/** Replace union failures by the issues of the alternative that was meant, when that is clear. */
function flatten(issues: readonly ZodIssue[], prefix: PropertyKey[]): ZodIssue[] {
  const out: ZodIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || !('errors' in issue) || issue.errors.length === 0) {
      out.push({ ...issue, path });
      continue;
    }
    // Nested unions first (`within: refreshWindow | duration | template`), then drop the template branch.
    const alternatives = issue.errors
      .map((alt) => flatten(alt, path))
      .filter((alt) => !alt.every((i) => i.message === TEMPLATE_BRANCH));
    const specific = alternatives.filter(
      (alt) => !alt.every((i) => i.code === 'invalid_type' && i.path.length === path.length),
    );
    // An alternative with a message of our own ("a duration needs a unit") says more than zod's defaults.
    const custom = alternatives.filter((alt) =>
      alt.every((i) => !/^Invalid (?:input|option)/.test(i.message)),
    );
    const chosen =
      alternatives.length === 1
        ? alternatives[0]
        : custom.length === 1
          ? custom[0]
          : specific.length === 1
            ? specific[0]
            : undefined;
    if (chosen) out.push(...chosen);
    else {
      const firsts = [...new Set(alternatives.map((alt) => alt[0]?.message).filter(Boolean))];
      out.push({
        ...issue,
        path,
        message: firsts.length ? `does not match any allowed form: ${firsts.join('; or ')}` : issue.message,
      });
    }
  }
  return out;
}

function tidy(issue: ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'is required';
  return issue.message.replace(/^Invalid input: /, '');
}

function unknownHint(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  return `${near ? `; did you mean "${near}"?` : ''} (allowed: ${known.join(', ')})`;
}

/** The candidate nearest to `word` by edit distance, when near enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
