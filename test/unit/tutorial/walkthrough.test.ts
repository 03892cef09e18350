import { describe, expect, it } from 'vitest';
import type { KubeClients } from '../../../src/kube/client.ts';
import type { CliInvocation, TutorialRuntime, TutorialStep } from '../../../src/tutorial/model.ts';
import { decodeKeys, keyPrompter, type Answer, type Prompter } from '../../../src/tutorial/prompt.ts';
import { TutorialCleanup, runWalkthrough } from '../../../src/tutorial/walkthrough.ts';
import { fakeContext } from './fake-context.ts';
import { EventEmitter } from 'node:events';

function fakeRuntime(ran: string[], fail?: string): TutorialRuntime {
  return {
    ctx: fakeContext(),
    signal: new AbortController().signal,
    kube: {} as KubeClients,
    state: new Map(),
    cli: (inv: CliInvocation) => {
      const command = [inv.file, ...inv.args].join(' ');
      ran.push(command);
      const bad = fail !== undefined && command.includes(fail);
      return Promise.resolve({
        command,
        exitCode: bad ? 1 : 0,
        stdout: `ran ${command}`,
        stderr: '',
        durationMs: 1,
      });
    },
  };
}

const step = (id: string, cmd: string): TutorialStep => ({
  id,
  title: `step ${id}`,
  blocks: [
    { kind: 'text', text: `about ${id}` },
    {
      kind: 'action',
      display: { lang: 'sh', text: cmd },
      run: async (rt) => {
        const r = await rt.cli({ file: 'sh', args: ['-c', cmd] });
        return { output: r.stdout, ok: r.exitCode === 0 };
      },
      undo: { display: `undo ${id}`, invocation: { file: 'sh', args: ['-c', `undo ${id}`] } },
    },
  ],
});

const steps = [step('a', 'create a'), step('b', 'create b'), step('c', 'create c')];

function scripted(answers: Answer[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    ask: (q) => {
      asked.push(q);
      return Promise.resolve(answers.shift() ?? 'next');
    },
  };
}

async function walk(o: { answers?: Answer[]; fail?: string }) {
  const ran: string[] = [];
  const lines: string[] = [];
  const rt = fakeRuntime(ran, o.fail);
  const cleanup = new TutorialCleanup((l) => lines.push(l), { color: false });
  const prompter = o.answers ? scripted(o.answers) : undefined;
  const t = await runWalkthrough({
    intro: [],
    steps,
    rt,
    print: (l) => lines.push(l),
    painter: { color: false },
    cleanup,
    ...(prompter ? { prompter } : {}),
  });
  t.cleanup = await cleanup.run();
  return { t, ran, lines, prompter };
}

describe('walkthrough', () => {
  it('runs every step, then cleans up last-in-first-out', async () => {
    const { t, ran, lines } = await walk({});
    expect(t.end).toBe('completed');
    expect(t.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'passed']);
    expect(ran).toEqual([
      'sh -c create a',
      'sh -c create b',
      'sh -c create c',
      'sh -c undo c',
      'sh -c undo b',
      'sh -c undo a',
    ]);
    expect(t.cleanup.map((c) => c.display)).toEqual(['undo c', 'undo b', 'undo a']);
    expect(lines).toContain('── Step 2/3 · step b ──');
    expect(lines).toContain('    │ ran sh -c create b');
  });

  it('asks before each step; q stops and undoes only what was created', async () => {
    const { t, ran, prompter } = await walk({ answers: ['next', 'quit'] });
    expect(prompter?.asked).toHaveLength(2);
    expect(prompter?.asked[1]).toContain('Step 2/3: step b');
    expect(t.end).toBe('quit');
    expect(t.steps.map((s) => s.status)).toEqual(['passed', 'skipped', 'skipped']);
    expect(ran).toEqual(['sh -c create a', 'sh -c undo a']);
  });

  it('stops at the first failed action and does not undo it', async () => {
    const { t, ran } = await walk({ fail: 'create b' });
    expect(t.end).toBe('failed');
    expect(t.steps.map((s) => s.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(ran).toEqual(['sh -c create a', 'sh -c create b', 'sh -c undo a']);
  });

  it('Ctrl-C at the prompt ends as interrupted', async () => {
    const { t } = await walk({ answers: ['interrupt'] });
    expect(t.end).toBe('interrupted');
  });
});

describe('keys', () => {
  it('Enter runs, q or Ctrl-D quits, Ctrl-C interrupts, anything else is ignored', () => {
    expect(decodeKeys('\r')).toBe('next');
    expect(decodeKeys('\n')).toBe('next');
    expect(decodeKeys('q')).toBe('quit');
    expect(decodeKeys('\u0004')).toBe('quit');
    expect(decodeKeys('\u0003')).toBe('interrupt');
    expect(decodeKeys('x')).toBeUndefined();
  });

  it('reads keys in raw mode on a TTY and restores it', async () => {
    const modes: boolean[] = [];
    const input = Object.assign(new EventEmitter(), {
      isTTY: true,
      setRawMode: (m: boolean) => modes.push(m),
      resume: () => undefined,
      pause: () => undefined,
    });
    const written: string[] = [];
    const p = keyPrompter(input, (t) => written.push(t));
    const answer = p.ask('go? ', new AbortController().signal);
    input.emit('data', Buffer.from('x'));
    input.emit('data', Buffer.from('q'));
    expect(await answer).toBe('quit');
    expect(modes).toEqual([true, false]);
    expect(written[0]).toBe('go? ');
    expect(input.listenerCount('data')).toBe(0);
  });
});
