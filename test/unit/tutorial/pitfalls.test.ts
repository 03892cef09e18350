import { describe, expect, it } from 'vitest';
import {
  explainContinuationIssue,
  findContinuationIssues,
  fixContinuations,
} from '../../../src/tutorial/pitfalls.ts';
import { tutorialAuthConfig } from '../../../src/tutorial/steps.ts';

describe('line-continuation pitfalls', () => {
  it("finds the comment after the backslash in the tutorial's auth config command", () => {
    const issues = findContinuationIssues(tutorialAuthConfig);
    expect(issues).toEqual([expect.objectContaining({ line: 2, problem: 'comment-after-backslash' })]);
    expect(explainContinuationIssue(issues[0]!)).toMatch(
      /^line 2: a `# comment` after the trailing backslash/,
    );
  });

  it('accepts a clean multi-line command', () => {
    expect(findContinuationIssues('vault write a \\\n    b=1 \\\n    c=2\n')).toEqual([]);
  });

  it('finds whitespace after a trailing backslash', () => {
    expect(findContinuationIssues('vault write a \\ \n  b=1')).toEqual([
      expect.objectContaining({ line: 1, problem: 'space-after-backslash' }),
    ]);
  });

  it('finds a comment line inside a continued command', () => {
    expect(findContinuationIssues('vault write a \\\n  # the host\n  b=1')).toEqual([
      expect.objectContaining({ line: 2, problem: 'comment-line-in-continuation' }),
    ]);
  });

  it('ignores backslashes and hashes inside quotes, and escaped characters', () => {
    expect(findContinuationIssues(`echo "a \\  # not a comment" \\\n  'b \\ # quoted'`)).toEqual([]);
    expect(findContinuationIssues('echo a\\#b \\\n  c')).toEqual([]);
  });

  it('repairs what it finds', () => {
    const fixed = fixContinuations(tutorialAuthConfig);
    expect(findContinuationIssues(fixed)).toEqual([]);
    expect(fixed.split('\n')[1]).toBe('    kubernetes_host="https://$KUBERNETES_PORT_443_TCP_ADDR:443" \\');
    expect(fixContinuations('a \\\n  # c\n  b')).toBe('a \\\n  b');
  });
});
