/**
 * Two renderings of the same blocks: terminal lines (as the walkthrough runs) and Markdown (docs/tutorial.md).
 * Markdown is normalised so the file is reproducible: ports, the work directory, timestamps, measured durations and
 * the hashes of generated values are replaced by stable placeholders.
 */
import { paint, type Output } from '../cli/output.ts';
import type { Block, TutorialContext, TutorialStep } from './model.ts';
import { declaredUndos } from './steps.ts';
import type { ActionOutput, Transcript } from './transcript.ts';

type Painter = Pick<Output, 'color'>;

const WIDTH = 100;

/** Greedy word wrap (code spans and long words are never split). */
export function wrap(text: string, width = WIDTH, indent = ''): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/ +/)) {
      if (line && (indent + line + ' ' + word).length > width) {
        lines.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(indent + line);
  }
  return lines;
}

export function stepHeader(p: Painter, index: number, total: number, title: string): string[] {
  return ['', paint(p, 'bold', `── Step ${index}/${total} · ${title} ──`)];
}

function codeLines(p: Painter, code: { lang: string; text: string }): string[] {
  const lines = code.text.split('\n');
  if (code.lang === 'sh') return lines.map((l, i) => paint(p, 'cyan', `${i === 0 ? '  $ ' : '    '}${l}`));
  return lines.map((l) => paint(p, 'cyan', `    ${l}`));
}

/** Terminal lines for a static block, or for an action before it runs (its command or caption). */
export function terminalBlock(p: Painter, b: Block): string[] {
  switch (b.kind) {
    case 'text':
      return wrap(b.text, WIDTH, '  ');
    case 'code':
      return [...(b.caption ? wrap(b.caption, WIDTH, '  ') : []), ...codeLines(p, b)];
    case 'note': {
      const label = b.tone === 'lab' ? 'on this lab' : 'pitfall';
      const [first = '', ...rest] = wrap(`${label}: ${b.text}`, WIDTH - 4);
      return [
        `  ${paint(p, b.tone === 'lab' ? 'dim' : 'yellow', b.tone === 'lab' ? 'ℹ' : '⚠')} ${first}`,
        ...rest.map((l) => `    ${l}`),
      ];
    }
    case 'action':
      return b.display ? codeLines(p, b.display) : b.caption ? wrap(b.caption, WIDTH, '  ') : [];
  }
}

export function terminalOutput(p: Painter, o: ActionOutput): string[] {
  const lines = o.text.length ? o.text.split('\n') : ['(no output)'];
  return lines.map((l) => `    ${paint(p, o.ok ? 'dim' : 'red', '│')} ${l}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

/** Placeholders for what changes between runs. */
export function markdownNormalizer(ctx: TutorialContext, runDir?: string): (text: string) => string {
  const pairs: [string, string][] = [];
  const portOf = (url: string, placeholder: string) => {
    try {
      const u = new URL(url);
      if (u.port) pairs.push([`${u.hostname}:${u.port}`, `${u.hostname}:<${placeholder}>`]);
    } catch {
      /* not a URL */
    }
  };
  const v = ctx.connection.vault;
  portOf(v.address, 'vault-port');
  portOf(v.serverUrlForEso, 'vault-port');
  portOf(v.kubernetesHostForVault, 'apiserver-port');
  pairs.push([ctx.workDir, '<workdir>']);
  if (runDir) pairs.push([runDir, '<run-dir>']);
  for (const g of Object.values(ctx.values)) pairs.push([`sha256:${g.hash}`, `sha256:{${g.label}}`]);
  return (text) => {
    let out = text;
    for (const [from, to] of pairs) out = out.split(from).join(to);
    return out
      .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b/g, '<timestamp>')
      .replace(/\b(?:\d{1,3}\.){3}\d{1,3}:53\b/g, '<nameserver>:53')
      .replace(/\b\d+\.\d\d s\b/g, 'N.NN s');
  };
}

function fence(lang: string, text: string): string {
  const ticks = text.includes('```') ? '````' : '```';
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

/** Output blocks are the only ```text fences: the currency test blanks them out. */
export const OUTPUT_LANG = 'text';

function markdownBlock(b: Block, output: ActionOutput | undefined): string[] {
  switch (b.kind) {
    case 'text':
      return [b.text];
    case 'code':
      return [
        ...(b.caption ? [`${b.caption.endsWith(':') ? b.caption : `\`${b.caption}\`:`}`] : []),
        fence(b.lang, b.text),
      ];
    case 'note':
      return [`> **${b.tone === 'lab' ? 'On this lab' : 'Pitfall'}:** ${b.text}`];
    case 'action':
      return [
        ...(b.display ? [fence(b.display.lang, b.display.text)] : b.caption ? [`*${b.caption}*`] : []),
        fence(OUTPUT_LANG, output ? output.text || '(no output)' : '(output of a run)'),
      ];
  }
}

export interface MarkdownOptions {
  normalize: (text: string) => string;
  /** How the file was produced (shown under the title). */
  provider: string;
}

export function renderMarkdown(t: Transcript, o: MarkdownOptions): string {
  const parts: string[] = [
    '# The Vault + External Secrets Operator tutorial, run on a lab',
    `<!-- Generated by \`npm run tutorial -- --markdown --provider ${o.provider}\` from src/tutorial/steps.ts: edit the steps there, not this file. -->`,
    `Every command below was run for real on the ${o.provider} lab by \`vault-eso-lab tutorial\`; the outputs are the ones it captured. Secret values never appear: generated values are shown as \`sha256:{label}\`, and ports, timestamps and measured durations are replaced by placeholders (\`<vault-port>\`, \`<timestamp>\`, \`N.NN s\`) so this file only changes when the walkthrough does.`,
  ];
  for (const b of t.intro) parts.push(...markdownBlock(b, undefined));
  t.steps.forEach((r, i) => {
    parts.push(`## ${i + 1}. ${r.step.title}`);
    for (const b of r.step.blocks)
      parts.push(...markdownBlock(b, b.kind === 'action' ? r.outputs.get(b) : undefined));
  });
  parts.push(
    '## Clean up',
    'Everything the walkthrough created is removed at the end, on `q` and on Ctrl-C — last created, first removed:',
  );
  for (const c of t.cleanup)
    parts.push(fence('sh', c.display), fence(OUTPUT_LANG, c.output || '(no output)'));
  return o.normalize(parts.join('\n\n')) + '\n';
}

/** The transcript a complete run would produce, without outputs: the structure docs/tutorial.md must have. */
export function staticTranscript(intro: Block[], steps: TutorialStep[]): Transcript {
  return {
    intro,
    steps: steps.map((step) => ({ step, status: 'skipped', outputs: new Map(), facts: {} })),
    cleanup: declaredUndos(steps)
      .reverse()
      .map((u) => ({ display: u.display, output: '', ok: true })),
    end: 'completed',
  };
}

/** Markdown with the content of every output fence replaced by `…` (what a run changes). */
export function blankOutputs(markdown: string): string {
  return markdown.replace(
    /^(`{3,4})text\n[\s\S]*?\n\1$/gm,
    (_m, ticks: string) => `${ticks}text\n…\n${ticks}`,
  );
}
