/**
 * The tutorial, step by step, in the tutorial's order: the one source for the terminal walkthrough and for
 * docs/tutorial.md. Every command and YAML block of the tutorial is run as printed (src/tutorial/tutorial-text.ts);
 * where the printed text cannot work, the step shows what happens, then the smallest fix and why.
 */
import type { Block, TutorialContext, TutorialStep } from './model.ts';
import { claimsSteps } from './steps-claims.ts';
import { kubernetesSteps } from './steps-kubernetes.ts';
import { rotationSteps } from './steps-rotation.ts';
import { vaultSteps } from './steps-vault.ts';

/** The walkthrough's preamble (not a step): how to get the same shell, and what differs on this lab. */
export function introBlocks(ctx: TutorialContext): Block[] {
  const v = ctx.connection.vault;
  return [
    {
      kind: 'text',
      text: 'The Vault + External Secrets Operator tutorial, run for real on a lab, word for word: every command and YAML block exactly as printed, in its order. Where the printed text cannot work, the walkthrough shows what really happens, then the smallest fix and which line differs. To type the same commands yourself, start a lab and take its environment:',
    },
    {
      kind: 'code',
      lang: 'sh',
      text: 'vault-eso-lab up\neval "$(vault-eso-lab env)"   # KUBECONFIG, VAULT_ADDR, VAULT_TOKEN, PATH',
    },
    {
      kind: 'note',
      tone: 'lab',
      text: `VAULT_ADDR is ${v.address} (${ctx.connection.provider === 'local' ? 'an OpenBao dev server the lab runs as a local process' : `the ${ctx.connection.provider} lab's Vault`}); the tutorial port-forwards to http://127.0.0.1:8200. \`vault\` is the lab's CLI (on the local lab OpenBao's \`bao\`, which reads VAULT_ADDR and VAULT_TOKEN and takes the same verbs); \`kubectl\` is the lab's too. Commands run in a private work directory (mode 0700, inside the lab's run directory) holding the tutorial's files byte for byte, the API server's CA and the generated values.`,
    },
  ];
}

export function tutorialSteps(ctx: TutorialContext): TutorialStep[] {
  return [...vaultSteps(ctx), ...kubernetesSteps(ctx), ...claimsSteps(ctx), ...rotationSteps(ctx)];
}

/** Every undo the steps declare, in creation order (clean-up runs them in reverse). */
export function declaredUndos(steps: readonly TutorialStep[]): { display: string }[] {
  return steps.flatMap((s) => s.blocks.flatMap((b) => (b.kind === 'action' && b.undo ? [b.undo] : [])));
}
