/**
 * The walkthrough is the tutorial itself: every command and YAML block of the tutorial text (read from
 * ../shared/seed/vault-eso-tutorial.txt beside the repository, when present) appears verbatim — byte for byte,
 * trailing blanks included — in the walkthrough's steps and in docs/tutorial.md, in the tutorial's order, and the
 * files the walkthrough runs hold exactly those bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/paths.ts';
import { markdownNormalizer, renderMarkdown, staticTranscript } from '../../../src/tutorial/render.ts';
import { introBlocks, tutorialSteps } from '../../../src/tutorial/steps.ts';
import { TUTORIAL_BLOCKS } from '../../../src/tutorial/tutorial-text.ts';
import { fakeContext } from './fake-context.ts';

const TUTORIAL_FILE = resolve(repoRoot, '..', 'shared', 'seed', 'vault-eso-tutorial.txt');
const present = existsSync(TUTORIAL_FILE);
if (!present)
  console.warn(
    `verbatim.test.ts: ${TUTORIAL_FILE} is absent: the comparison with the tutorial text is skipped`,
  );

/**
 * The code in the tutorial's plain text: runs of non-blank lines that start like a command (`vault …`), a file
 * (`# policy.hcl`) or a manifest (`apiVersion:`). Inside a run, a `vault` line that does not continue the previous
 * line starts a new block (the policy file is followed directly by its `vault policy write`).
 */
export function extractCodeBlocks(text: string): string[] {
  const lines = text.split('\n');
  const blocks: string[][] = [];
  let current: string[] | undefined;
  const starts = (l: string) => /^(vault |apiVersion: |# [\w.-]+\.hcl$)/.test(l);
  for (const line of lines) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    const prev = current?.at(-1);
    const continues = prev !== undefined && /\\\s*(#.*)?$/.test(prev);
    if (current && !(line.startsWith('vault ') && !continues)) current.push(line);
    else if (starts(line)) blocks.push((current = [line]));
    else current = undefined;
  }
  return blocks.map((b) => b.join('\n'));
}

/** Every text the walkthrough shows as code or runs as a command, in order. */
function walkthroughTexts(): string[] {
  const ctx = fakeContext();
  return tutorialSteps(ctx).flatMap((s) =>
    s.blocks.flatMap((b) =>
      b.kind === 'code' ? [b.text] : b.kind === 'action' && b.display ? [b.display.text] : [],
    ),
  );
}

/** Index of each block as a substring of `haystack`, searched from the previous block's end (-1: missing). */
function positionsInOrder(haystack: string, blocks: readonly string[]): number[] {
  let from = 0;
  return blocks.map((b) => {
    const i = haystack.indexOf(b, from);
    if (i >= 0) from = i + b.length;
    return i;
  });
}

describe.skipIf(!present)("the tutorial's text (../shared/seed/vault-eso-tutorial.txt)", () => {
  const tutorial = present ? readFileSync(TUTORIAL_FILE, 'utf8') : '';
  const blocks = extractCodeBlocks(tutorial);

  it('has the eight blocks the walkthrough carries, byte for byte', () => {
    expect(blocks).toHaveLength(8);
    expect(blocks).toEqual([...TUTORIAL_BLOCKS]);
  });

  it('every block appears verbatim in the walkthrough, in order', () => {
    const all = walkthroughTexts();
    // Each block is one shown text, or inside one (policy.hcl inside the heredoc that writes it).
    let at = 0;
    for (const b of blocks) {
      const found = all.findIndex((t, i) => i >= at && t.includes(b));
      expect(found, `not found in order: ${JSON.stringify(b.slice(0, 60))}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });

  it('every block appears verbatim in docs/tutorial.md, in order', () => {
    const md = readFileSync(join(repoRoot, 'docs', 'tutorial.md'), 'utf8');
    expect(positionsInOrder(md, blocks).every((i) => i >= 0)).toBe(true);
    const ctx = fakeContext();
    const fresh = renderMarkdown(staticTranscript(introBlocks(ctx), tutorialSteps(ctx)), {
      normalize: markdownNormalizer(ctx),
      provider: 'local',
    });
    expect(positionsInOrder(fresh, blocks).every((i) => i >= 0)).toBe(true);
  });
});

describe('what the walkthrough runs', () => {
  it('runs the tutorial files byte for byte', () => {
    const ctx = fakeContext();
    const file = (n: string) => readFileSync(join(ctx.workDir, n), 'utf8');
    const [, , , , config, role, store, es] = TUTORIAL_BLOCKS;
    expect(file('auth-config.sh')).toBe(`${config}\n`);
    expect(file('role.sh')).toBe(`${role}\n`);
    expect(file('secret-store.yaml')).toBe(`${store}\n`);
    expect(file('external-secret.yaml')).toBe(`${es}\n`);
  });

  it('shows the commands it runs, the single-line tutorial commands exactly', () => {
    const texts = walkthroughTexts();
    const [kvPut, , policyWrite, authEnable] = TUTORIAL_BLOCKS;
    for (const c of [kvPut, policyWrite, authEnable]) expect(texts).toContain(c);
  });
});

describe('the code-block extractor', () => {
  it('splits a file block from the command after it and keeps continued lines together', () => {
    const text =
      'Prose.\n\n# p.hcl\npath "x" {\n}\nvault policy write p p.hcl\n\nvault write a \\ # c\n  b=1\n\nMore prose.\n';
    expect(extractCodeBlocks(text)).toEqual([
      '# p.hcl\npath "x" {\n}',
      'vault policy write p p.hcl',
      'vault write a \\ # c\n  b=1',
    ]);
  });
});
