/**
 * Runs the steps in order: prints each block, runs each action through the runtime, shows its masked output, and
 * registers the action's undo the moment it succeeded. Stops at the first failed action, on `q` and on Ctrl-C;
 * `TutorialCleanup` then removes what was created, last first, each with its own timeout.
 */
import { CleanupStack } from '../cleanup.ts';
import { errorMessage } from '../errors.ts';
import type { Output } from '../cli/output.ts';
import { secrets } from '../report/redact.ts';
import { paint } from '../cli/output.ts';
import type { Block, TutorialRuntime, TutorialStep, Undo } from './model.ts';
import type { Prompter } from './prompt.ts';
import { stepHeader, terminalBlock, terminalOutput } from './render.ts';
import { commandOutput } from './actions.ts';
import type { CleanupRecord, RunEnd, StepRecord, Transcript } from './transcript.ts';

export interface WalkthroughOptions {
  intro: Block[];
  steps: TutorialStep[];
  rt: TutorialRuntime;
  /** Prints one line (the caller redacts). */
  print: (line: string) => void;
  painter: Pick<Output, 'color'>;
  /** Pause before each step (interactive); absent: run straight through. */
  prompter?: Prompter;
  cleanup: TutorialCleanup;
  now?: () => number;
}

export async function runWalkthrough(o: WalkthroughOptions): Promise<Transcript> {
  const now = o.now ?? (() => performance.now());
  const { rt, print, painter } = o;
  for (const b of o.intro) terminalBlock(painter, b).forEach((l) => print(l));
  const records: StepRecord[] = o.steps.map((step) => ({
    step,
    status: 'skipped',
    outputs: new Map(),
    facts: {},
  }));
  let end: RunEnd = 'completed';

  for (const [i, record] of records.entries()) {
    const step = record.step;
    if (rt.signal.aborted) {
      end = 'interrupted';
      break;
    }
    if (o.prompter) {
      const answer = await o.prompter.ask(
        `\n${paint(painter, 'bold', `Step ${i + 1}/${records.length}: ${step.title}`)} — Enter to run, q to stop and clean up `,
        rt.signal,
      );
      if (answer !== 'next') {
        end = answer === 'quit' ? 'quit' : 'interrupted';
        break;
      }
    }
    stepHeader(painter, i + 1, records.length, step.title).forEach((l) => print(l));
    const started = now();
    let failed = false;
    for (const b of step.blocks) {
      terminalBlock(painter, b).forEach((l) => print(l));
      if (b.kind !== 'action') continue;
      try {
        const r = await b.run(rt);
        // Stored redacted: the transcript feeds docs/tutorial.md and the JSON summary.
        r.output = secrets.redact(r.output);
        record.outputs.set(b, { text: r.output, ok: r.ok });
        Object.assign(record.facts, r.facts ?? {});
        terminalOutput(painter, { text: r.output, ok: r.ok }).forEach((l) => print(l));
        if (r.ok && r.created !== false && b.undo) o.cleanup.add(b.undo, rt);
        if (!r.ok) {
          failed = true;
          record.error = r.output.split('\n').at(-1) ?? 'failed';
          break;
        }
      } catch (e) {
        failed = true;
        if (rt.signal.aborted) {
          record.status = 'interrupted';
          end = 'interrupted';
        } else {
          record.error = secrets.redact(errorMessage(e));
          terminalOutput(painter, { text: record.error, ok: false }).forEach((l) => print(l));
        }
        break;
      }
    }
    record.durationMs = now() - started;
    if (record.status === 'interrupted') break;
    record.status = failed ? 'failed' : 'passed';
    if (failed) {
      end = 'failed';
      break;
    }
  }
  return { intro: o.intro, steps: records, cleanup: [], end };
}

/** The undos of what the walkthrough created, run last-in-first-out and printed as each finishes. */
export class TutorialCleanup {
  private readonly stack = new CleanupStack();
  private readonly log: CleanupRecord[] = [];
  constructor(
    private readonly print: (line: string) => void,
    private readonly painter: Pick<Output, 'color'>,
  ) {}

  get size(): number {
    return this.stack.size;
  }

  add(undo: Undo, rt: TutorialRuntime): void {
    this.stack.defer(undo.display, async (signal) => {
      const res = await rt.cli(undo.invocation, { signal, timeoutMs: 120_000 });
      this.record({
        display: undo.display,
        output: secrets.redact(commandOutput(res)),
        ok: res.exitCode === 0,
      });
    });
  }

  /** Forget everything (`--keep`). */
  release(): void {
    this.stack.release();
  }

  async run(): Promise<CleanupRecord[]> {
    if (this.stack.size === 0) return [];
    this.print('');
    this.print(paint(this.painter, 'bold', '── Clean up (last created, first removed) ──'));
    const errors = await this.stack.run(150_000, (e) =>
      this.record({ display: e.what, output: secrets.redact(e.error), ok: false }),
    );
    if (errors.length) this.print(`  ${errors.length} clean-up command(s) failed (see above)`);
    return this.log.splice(0);
  }

  private record(c: CleanupRecord): void {
    this.log.push(c);
    this.print(paint(this.painter, 'cyan', `  $ ${c.display}`));
    terminalOutput(this.painter, { text: c.output, ok: c.ok }).forEach((l) => this.print(l));
  }
}
