/**
 * What a walkthrough run leaves behind: each step's status, each action's (masked) output and facts, and the
 * clean-up commands with their output. The terminal shows it as it happens; docs/tutorial.md is rendered from it.
 */
import type { ActionBlock, Block, TutorialStep } from './model.ts';

export type StepStatus = 'passed' | 'failed' | 'skipped' | 'interrupted';

export interface ActionOutput {
  text: string;
  ok: boolean;
}

export interface StepRecord {
  step: TutorialStep;
  status: StepStatus;
  durationMs?: number;
  outputs: Map<ActionBlock, ActionOutput>;
  facts: Record<string, number | string | boolean>;
  error?: string;
}

export interface CleanupRecord {
  display: string;
  output: string;
  ok: boolean;
}

export type RunEnd = 'completed' | 'failed' | 'quit' | 'interrupted';

export interface Transcript {
  intro: Block[];
  steps: StepRecord[];
  cleanup: CleanupRecord[];
  end: RunEnd;
}

/** The JSON summary (`--json`): one entry per step. */
export function transcriptJson(t: Transcript): {
  id: string;
  title: string;
  status: StepStatus;
  durationMs?: number;
  facts?: Record<string, number | string | boolean>;
  error?: string;
}[] {
  return t.steps.map((r) => ({
    id: r.step.id,
    title: r.step.title,
    status: r.status,
    ...(r.durationMs === undefined ? {} : { durationMs: Math.round(r.durationMs) }),
    ...(Object.keys(r.facts).length ? { facts: r.facts } : {}),
    ...(r.error ? { error: r.error } : {}),
  }));
}
