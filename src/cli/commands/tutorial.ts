/**
 * `tutorial`: the Vault + ESO tutorial run for real on a lab (a running one, or an ephemeral one stopped at the
 * end), one step at a time on a terminal (Enter / q), straight through with --yes. Cleans up what it created
 * (last first) at the end, on q and on Ctrl-C. `--markdown [FILE]` also writes the walkthrough, with the outputs
 * this run captured, to docs/tutorial.md (or FILE).
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode, UsageError, errorMessage } from '../../errors.ts';
import { acquireLab, parseProvider, releaseLab } from '../../labs/lab-session.ts';
import { parseVaultServer } from '../../labs/vault-server.ts';
import { repoRoot } from '../../paths.ts';
import { labProgress } from '../../report/lab-progress.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { keyPrompter } from '../../tutorial/prompt.ts';
import { markdownNormalizer, renderMarkdown } from '../../tutorial/render.ts';
import { openSession } from '../../tutorial/session.ts';
import { introBlocks, tutorialSteps } from '../../tutorial/steps.ts';
import { transcriptJson, type Transcript } from '../../tutorial/transcript.ts';
import { SEED_ENV } from '../../tutorial/values.ts';
import { TutorialCleanup, runWalkthrough } from '../../tutorial/walkthrough.ts';
import { boolOption, stringOption, type Command } from '../command.ts';
import { kindExistingOptions, labStartOptions, vaultServerOption } from './lab-commands.ts';

export const DEFAULT_MARKDOWN = join(repoRoot, 'docs', 'tutorial.md');

export const tutorialCommand: Command = {
  name: 'tutorial',
  summary: 'walk through the Vault + ESO tutorial on a lab, step by step',
  usage: 'tutorial [--yes] [--markdown [FILE]] [options]',
  details: [
    "Runs the tutorial word for word (every command and YAML block as printed, through the lab's `vault`, `kubectl`",
    'and `sh`); where the printed text cannot work it shows what happens, then the smallest fix. Output is shown',
    'with secret values masked. On a terminal: Enter runs the next step, q stops and cleans up. Without a running',
    'lab (`vault-eso-lab up`), an ephemeral one is started and stopped at the end.',
    `--markdown writes the walkthrough with this run's outputs to FILE (default docs/tutorial.md).`,
  ].join('\n'),
  options: {
    yes: { type: 'boolean', short: 'y', description: 'run every step without pausing (CI)' },
    markdown: {
      type: 'boolean',
      description: 'also write the walkthrough as Markdown to FILE (default docs/tutorial.md); implies --yes',
    },
    provider: {
      type: 'string',
      description: 'auto | local | kind | existing (default auto)',
      valueName: 'name',
    },
    keep: {
      type: 'boolean',
      description: 'keep what the tutorial created (and an ephemeral lab) for exploring',
    },
    ...kindExistingOptions,
    ...vaultServerOption,
    ...labStartOptions,
  },
  allowPositionals: true,
  async run({ values, positionals, out, env, signal, cwd }) {
    const markdown = boolOption(values, 'markdown');
    if (positionals.length > (markdown ? 1 : 0))
      throw new UsageError(`tutorial: unexpected argument '${positionals[markdown ? 1 : 0] ?? ''}'`, {
        hint: "see 'vault-eso-lab tutorial --help'",
      });
    const markdownFile = markdown
      ? positionals[0]
        ? resolve(cwd, positionals[0])
        : DEFAULT_MARKDOWN
      : undefined;
    const json = Boolean(values.json);
    const keep = boolOption(values, 'keep');
    const provider = parseProvider(stringOption(values, 'provider'));
    const server = parseVaultServer(stringOption(values, 'vault-server'));
    if (provider === 'existing')
      throw new UsageError(
        "the tutorial uses the tutorial's own names (namespace my-app, policy my-app-read, secret/my-app/config) and would overwrite them on a shared cluster",
        {
          hint: 'run it on a local or kind lab; on an existing cluster, scenarios isolate every name per run',
        },
      );
    const stdin = process.stdin;
    const interactive = !boolOption(values, 'yes') && !markdown && !json && Boolean(stdin.isTTY);
    const sink = json ? out.info : out.result;
    const print = (line: string) => sink(secrets.redact(line));
    if (!interactive && !boolOption(values, 'yes') && !markdown && !json)
      out.info('stdin is not a terminal: running every step without pausing (as with --yes)');

    const acquired = await acquireLab({
      provider,
      env,
      signal,
      emit: labProgress(out),
      flags: values as Record<string, string | boolean | undefined>,
      keep,
      vaultServer: server,
    });
    const { lab } = acquired;
    if (lab.provider === 'existing') {
      // `auto` attached to a running existing-cluster lab: same refusal, nothing was created.
      throw new UsageError(
        "the tutorial does not run on an existing cluster (it would overwrite the tutorial's names there)",
        {
          hint: "stop that lab ('vault-eso-lab down') or pass --provider local",
        },
      );
    }
    let transcript: Transcript | undefined;
    let session: Awaited<ReturnType<typeof openSession>> | undefined;
    const cleanup = new TutorialCleanup(print, out);
    try {
      const seed = env[SEED_ENV];
      session = await openSession(lab, { env, signal, ...(seed ? { seed } : {}) });
      const { ctx, rt } = session;
      transcript = await runWalkthrough({
        intro: introBlocks(ctx),
        steps: tutorialSteps(ctx),
        rt,
        print,
        painter: out,
        cleanup,
        ...(interactive ? { prompter: keyPrompter(stdin, (t) => void out.stderr.write(t)) } : {}),
      });
      print('');
      print(endLine(transcript));
    } finally {
      if (keep) {
        if (cleanup.size) out.info('--keep: what the tutorial created is left in place');
        cleanup.release();
      } else {
        const done = await cleanup.run();
        if (transcript) transcript.cleanup = done;
      }
      await session?.close().catch((e: unknown) => out.info(`clean-up: ${errorMessage(e)}`));
      await releaseLab(acquired, { keep, say: out.info });
    }

    if (markdownFile && session) {
      if (transcript.end === 'completed') {
        const md = renderMarkdown(transcript, {
          normalize: markdownNormalizer(session.ctx, lab.runDir),
          provider: lab.provider,
        });
        writeFileSync(markdownFile, secrets.redact(md));
        out.info(`wrote ${markdownFile}`);
      } else out.info(`not writing ${markdownFile}: the walkthrough did not complete`);
    }
    if (json) out.result(secrets.redact(JSON.stringify(transcriptJson(transcript), null, 2)));
    switch (transcript.end) {
      case 'completed':
      case 'quit':
        return ExitCode.passed;
      case 'interrupted':
        return ExitCode.interrupted;
      case 'failed':
        return ExitCode.failed;
    }
  },
};

function endLine(t: Transcript): string {
  const passed = t.steps.filter((s) => s.status === 'passed').length;
  switch (t.end) {
    case 'completed':
      return `All ${t.steps.length} steps ran.`;
    case 'quit':
      return `Stopped after ${passed} of ${t.steps.length} steps, as asked.`;
    case 'interrupted':
      return `Interrupted after ${passed} of ${t.steps.length} steps.`;
    case 'failed': {
      const f = t.steps.find((s) => s.status === 'failed');
      return `Step '${f?.step.title ?? '?'}' failed${f?.error ? `: ${f.error}` : ''}.`;
    }
  }
}
