/**
 * The line-continuation pitfall in shell snippets: a backslash only continues a line when it is the very last
 * character. `\  # comment` escapes a space instead, `#` then starts a comment and the command ends on that line;
 * the remaining lines run as separate commands (`key=value` lines become shell variable assignments and succeed
 * silently). `sh -n` does not notice: the result is valid shell.
 */

export type ContinuationProblem =
  | 'comment-after-backslash'
  | 'hash-after-escaped-blank'
  | 'space-after-backslash'
  | 'comment-line-in-continuation';

export interface ContinuationIssue {
  /** 1-based line number. */
  line: number;
  problem: ContinuationProblem;
  text: string;
}

const explanations: Record<ContinuationProblem, string> = {
  'comment-after-backslash':
    'a `# comment` after the trailing backslash: the backslash escapes the space after it (an argument of one blank), the `#` then starts a comment that swallows the line end, and the command stops here',
  'hash-after-escaped-blank':
    'a `#` right after `\\ `: the backslash escapes the blank, and a `#` inside a word starts no comment — ` #` and every word of the would-be comment become arguments, and the command stops at the line end',
  'space-after-backslash':
    'whitespace after the trailing backslash: the backslash escapes the space, not the newline, and the command stops here',
  'comment-line-in-continuation':
    'a comment line inside a continued command: the command stops at the comment and the following lines run on their own',
};

export function explainContinuationIssue(i: ContinuationIssue): string {
  return `line ${i.line}: ${explanations[i.problem]}`;
}

/** Where a line's unquoted `\` sits, if the line (outside quotes) has `\` followed only by blanks and maybe `#…`. */
function scanLine(
  line: string,
  inQuote: '"' | "'" | undefined,
): {
  endQuote: '"' | "'" | undefined;
  continues: boolean;
  problem?: 'comment-after-backslash' | 'hash-after-escaped-blank' | 'space-after-backslash';
} {
  let q = inQuote;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q === "'") {
      if (c === "'") q = undefined;
      continue;
    }
    if (c === '\\') {
      if (i === line.length - 1) return { endQuote: q, continues: true };
      const rest = line.slice(i + 1);
      if (q === undefined && /^[ \t]#/.test(rest))
        return { endQuote: q, continues: false, problem: 'hash-after-escaped-blank' };
      if (q === undefined && /^[ \t]+#/.test(rest))
        return { endQuote: q, continues: false, problem: 'comment-after-backslash' };
      if (q === undefined && /^[ \t]+$/.test(rest))
        return { endQuote: q, continues: false, problem: 'space-after-backslash' };
      i++; // an escaped character
      continue;
    }
    if (q === '"') {
      if (c === '"') q = undefined;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return { endQuote: q, continues: false };
  }
  return { endQuote: q, continues: false };
}

/** Every place in a shell snippet where a line continuation is broken by a comment or trailing whitespace. */
export function findContinuationIssues(script: string): ContinuationIssue[] {
  const issues: ContinuationIssue[] = [];
  const lines = script.split('\n');
  let continuing = false;
  let quote: '"' | "'" | undefined;
  lines.forEach((line, idx) => {
    if (continuing && quote === undefined && /^\s*#/.test(line))
      issues.push({ line: idx + 1, problem: 'comment-line-in-continuation', text: line });
    const r = scanLine(line, quote);
    if (r.problem) issues.push({ line: idx + 1, problem: r.problem, text: line });
    quote = r.endQuote;
    continuing = r.continues;
  });
  return issues;
}

/** The snippet with the broken continuations repaired: trailing comments and blanks after `\` removed. */
export function fixContinuations(script: string): string {
  const issues = findContinuationIssues(script);
  const byLine = new Map(issues.map((i) => [i.line, i]));
  const out: string[] = [];
  script.split('\n').forEach((line, idx) => {
    const issue = byLine.get(idx + 1);
    if (!issue) return void out.push(line);
    if (issue.problem === 'comment-line-in-continuation') return;
    out.push(line.replace(/\\[ \t]+(#.*)?$/, '\\'));
  });
  return out.join('\n');
}

/**
 * The smallest fix that keeps the author's comments: each `# comment` that broke a continuation moves onto a line
 * of its own above the command, so the backslash is the last character of its line. Only those lines change.
 */
export function moveCommentsAbove(script: string): string {
  const issues = new Map(findContinuationIssues(script).map((i) => [i.line, i]));
  const comments: string[] = [];
  const body = script.split('\n').map((line, idx) => {
    const problem = issues.get(idx + 1)?.problem;
    if (problem !== 'comment-after-backslash' && problem !== 'hash-after-escaped-blank') return line;
    const m = /\\[ \t]+(#.*?)\s*$/.exec(line);
    if (m?.[1]) comments.push(m[1]);
    return line.replace(/\\[ \t]+#.*$/, '\\');
  });
  return [...comments, ...body].join('\n');
}
