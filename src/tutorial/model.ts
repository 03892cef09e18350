/**
 * What a tutorial step is made of. A step is a list of blocks: prose, code the reader should see (the tutorial's
 * own text, YAML), notes (where the lab differs, pitfalls) and actions — a displayed command that is run for real
 * and whose (masked) output is shown. The terminal walkthrough and docs/tutorial.md are both rendered from these
 * blocks, so they cannot drift apart.
 */
import type { KubeClients } from '../kube/client.ts';
import type { LabConnection, ProviderName } from '../labs/lab-provider.ts';
import type { RunResult } from '../process/command.ts';

export type CodeLang = 'sh' | 'yaml' | 'hcl';

export interface CodeBlock {
  kind: 'code';
  lang: CodeLang;
  text: string;
  /** Shown above the code ("The tutorial's command:", "secret-store.yaml"). */
  caption?: string;
}

export interface TextBlock {
  kind: 'text';
  text: string;
}

export interface NoteBlock {
  kind: 'note';
  /** `lab`: a value that differs from the tutorial here, and why. `pitfall`: what bites, shown where it bites. */
  tone: 'lab' | 'pitfall';
  text: string;
}

/** A command run through the lab's own CLIs (`vault`, `kubectl`, `sh`), with the lab's environment. */
export interface CliInvocation {
  file: 'vault' | 'kubectl' | 'sh';
  args: readonly string[];
  input?: string;
}

/** How to undo what an action created (run last-in-first-out at the end, on `q` and on Ctrl-C). */
export interface Undo {
  /** The command as shown in the clean-up list. */
  display: string;
  invocation: CliInvocation;
}

export interface ActionResult {
  /** What to show under the command; secret values are masked by the caller as well. */
  output: string;
  ok: boolean;
  /** False when the action found the thing already there (nothing to undo). */
  created?: boolean;
  /** Numbers worth keeping in the JSON summary (latencies). */
  facts?: Record<string, number | string | boolean>;
}

export interface ActionBlock {
  kind: 'action';
  /** The command exactly as the reader would type it (values masked); absent for checks done through an API. */
  display?: { lang: CodeLang; text: string };
  /** Shown instead of a command for API checks ("checked through the Kubernetes API"). */
  caption?: string;
  run: (rt: TutorialRuntime) => Promise<ActionResult>;
  undo?: Undo;
}

export type Block = TextBlock | CodeBlock | NoteBlock | ActionBlock;

export interface TutorialStep {
  id: string;
  title: string;
  blocks: Block[];
}

/** One generated value: its label (for stable names in docs) and short hash (for display). */
export interface GeneratedValue {
  label: string;
  value: string;
  hash: string;
  /** File (mode 0600, no newline) holding the value, passed to `vault kv put key=@file`. */
  file: string;
}

/** Everything the step source needs to know about this run. */
export interface TutorialContext {
  connection: LabConnection;
  /** The lab the walkthrough runs on (its run directory holds the work directory). */
  lab: { id: string; provider: ProviderName; runDir: string };
  /**
   * Working directory of the run (mode 0700, inside the lab's run directory, so that it goes with the lab even
   * when the walkthrough is killed): CA file, value files, the tutorial's files; commands run in it.
   */
  workDir: string;
  /** How the lab stores Secrets at rest: an encryption provider (`aescbc`), or undefined for plain. */
  secretsEncryption?: string;
  values: {
    /** The rotated password. */
    password1: GeneratedValue;
    /** Another application's password, the path my-app-sa must not read. */
    otherApp: GeneratedValue;
  };
}

/** What actions act on while the walkthrough runs. */
export interface TutorialRuntime {
  readonly ctx: TutorialContext;
  readonly signal: AbortSignal;
  readonly kube: KubeClients;
  /** Run `vault`, `kubectl` or `sh` with the lab's environment in the work directory; never throws on exit != 0. */
  cli(invocation: CliInvocation, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<RunResult>;
  /** Scratch space shared by the actions of one run (e.g. a started Secret watcher, the time of a write). */
  readonly state: Map<string, unknown>;
}
