import { describe, expect, it } from 'vitest';
import {
  explainContinuationIssue,
  findContinuationIssues,
  fixContinuations,
  moveCommentsAbove,
} from '../../../src/tutorial/pitfalls.ts';
import { AUTH_CONFIG as tutorialAuthConfig, ROLE_WRITE } from '../../../src/tutorial/tutorial-text.ts';

describe('line-continuation pitfalls', () => {
  it("finds the comment after the backslash in both of the tutorial's vault write commands", () => {
    const issues = findContinuationIssues(tutorialAuthConfig);
    expect(issues).toEqual([expect.objectContaining({ line: 1, problem: 'comment-after-backslash' })]);
    expect(explainContinuationIssue(issues[0]!)).toMatch(
      /^line 1: a `# comment` after the trailing backslash/,
    );
    // `\\ #`: the `#` follows the escaped blank inside one word, so it starts no comment.
    expect(findContinuationIssues(ROLE_WRITE)).toEqual([
      expect.objectContaining({ line: 1, problem: 'hash-after-escaped-blank' }),
    ]);
  });

  it('the smallest fix moves each comment above the command and changes nothing else', () => {
    const fixed = moveCommentsAbove(ROLE_WRITE);
    expect(findContinuationIssues(fixed)).toEqual([]);
    const [comment, first, ...rest] = fixed.split('\n');
    expect(comment).toBe('# do this for each secret');
    expect(first).toBe('vault write auth/kubernetes/role/my-app-role \\');
    expect(rest).toEqual(ROLE_WRITE.split('\n').slice(1));
    expect(moveCommentsAbove(tutorialAuthConfig).split('\n')).toEqual([
      '# you only have to do this once',
      'vault write auth/kubernetes/config \\',
      '  kubernetes_host="https://kubernetes.default.svc:443" ',
    ]);
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
    expect(fixed.split('\n')[0]).toBe('vault write auth/kubernetes/config \\');
    expect(fixContinuations('a \\\n  # c\n  b')).toBe('a \\\n  b');
  });
});
