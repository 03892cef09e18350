/**
 * The tutorial's Vault half, verbatim: `vault kv put`, `policy.hcl` and `vault policy write`, `vault auth enable`,
 * and both `vault write` commands exactly as printed — which break on their `\ # comment` continuations. For
 * those the walkthrough runs the text through `sh -x` (what each command received), each line alone (what the
 * shell does with it, with the exit status), reads back what Vault holds, then runs the smallest fix.
 */
import type { RunResult } from '../process/command.ts';
import type { ActionResult, Block, TutorialContext, TutorialStep } from './model.ts';
import { explainContinuationIssue, findContinuationIssues, moveCommentsAbove } from './pitfalls.ts';
import { files, names, shellAction, traceOutput } from './actions.ts';
import { unresolvableName } from './in-cluster-names.ts';
import { AUTH_CONFIG, AUTH_ENABLE, KV_PUT, POLICY_HCL, POLICY_WRITE, ROLE_WRITE } from './tutorial-text.ts';

/** What `sh -x` showed for a script whose first command lost its continuation. */
export function judgeBrokenContinuation(r: RunResult): ActionResult {
  const out = traceOutput(r);
  const shown = /invalid key\/value pair/.test(out) && /exit status: 0\s*$/.test(r.stdout);
  const verdict = shown
    ? '→ vault refused its arguments and failed; the line(s) after it ran as shell variable assignments, which succeed silently; so the script exited 0 and nothing was written to Vault.'
    : '→ the shell did not behave as described below here: see the trace';
  return { output: `${out}\n${verdict}`, ok: r.exitCode === 0, facts: { brokenContinuationShown: shown } };
}

/** The lab's `vault write auth/kubernetes/config` (Vault outside any pod). */
export function labAuthConfig(ctx: TutorialContext): string {
  const v = ctx.connection.vault;
  const args = [`kubernetes_host="${v.kubernetesHostForVault}"`];
  if (v.kubernetesCaPem) args.push(`kubernetes_ca_cert=@${files.ca}`);
  if (v.outsideCluster) args.push('disable_local_ca_jwt=true');
  return [
    'vault write auth/kubernetes/config \\',
    ...args.map((a, i) => `  ${a}${i < args.length - 1 ? ' \\' : ''}`),
  ].join('\n');
}

function continuationNote(script: string): Block {
  return {
    kind: 'note',
    tone: 'pitfall',
    text: `A backslash continues a line only when it is the very last character. ${findContinuationIssues(
      script,
    )
      .map(explainContinuationIssue)
      .join('; ')}.`,
  };
}

/** The demonstrations for a broken command in `file`: traced whole, its argv, then each part alone. */
function brokenCommandBlocks(file: string, restLines: string): Block[] {
  const lines = restLines === '2' ? 'line 2' : `lines ${restLines.replace(',', '-')}`;
  return [
    {
      kind: 'text',
      text: 'Run exactly as printed (`sh -x` prints each command as the shell runs it, after a `+`):',
    },
    shellAction(`sh -x ${file} 2>&1; echo "exit status: $?"`, { judge: (r) => judgeBrokenContinuation(r) }),
    {
      kind: 'text',
      text: "What `vault` received: line 1 run with `vault` replaced by `printf '[%s]'`, which prints each argument it gets in brackets:",
    },
    shellAction(`head -n 1 ${file} | sed 's/^vault /printf "[%s]" /' | sh; echo`),
    { kind: 'text', text: 'The parts one at a time, as the shell splits them:' },
    shellAction(
      [
        `head -n 1 ${file} | sh 2>&1; echo "line 1 alone: exit status $?"`,
        `sed -n '${restLines}p' ${file} | sh -x 2>&1; echo "${lines} alone: exit status $?"`,
      ].join('\n'),
      { judge: (r) => ({ output: traceOutput(r), ok: r.exitCode === 0 }) },
    ),
  ];
}

export function vaultSteps(ctx: TutorialContext): TutorialStep[] {
  const v = ctx.connection.vault;
  const fixedConfig = moveCommentsAbove(AUTH_CONFIG);
  const fixedRole = moveCommentsAbove(ROLE_WRITE);
  const host = unresolvableName(names.tutorialKubernetesHost);
  return [
    {
      id: 'secret',
      title: 'Create the secret in Vault',
      blocks: [
        {
          kind: 'text',
          text: `"First create your secret!" — the tutorial's command, run as printed. It writes version 1 of \`secret/${names.kvPath}\` in Vault's KV version 2 engine, which a dev server mounts at \`secret/\`.`,
        },
        shellAction(KV_PUT, { undo: `vault kv metadata delete secret/${names.kvPath}` }),
        {
          kind: 'note',
          tone: 'lab',
          text: `The values are the tutorial's literal word \`${names.placeholder}\`, so they are shown as they are. The password written later, by the rotation, is generated and appears only as a short hash.`,
        },
        shellAction(`vault kv get secret/${names.kvPath}`),
      ],
    },
    {
      id: 'policy',
      title: 'Write the read policy',
      blocks: [
        {
          kind: 'text',
          text: '"Then create your access policy". The block is a file, `policy.hcl` (its first line is a comment naming it; HCL allows comments), then the command that uploads it:',
        },
        shellAction(`cat > policy.hcl <<'EOF'\n${POLICY_HCL}\nEOF`),
        shellAction(POLICY_WRITE, { undo: `vault policy delete ${names.policy}` }),
        {
          kind: 'note',
          tone: 'pitfall',
          text: `KV v2 keeps the data under \`secret/data/…\`, which is why the policy names \`secret/data/${names.kvPath}\` and not the \`secret/${names.kvPath}\` that \`vault kv\` commands take. A policy on \`secret/${names.kvPath}\` is accepted and grants nothing: ESO then gets "permission denied" (403).`,
        },
      ],
    },
    {
      id: 'auth',
      title: 'Enable and configure Kubernetes auth',
      blocks: [
        {
          kind: 'text',
          text: "Kubernetes auth lets ESO log in to Vault with a ServiceAccount token; Vault checks the token with the API server's TokenReview API.",
        },
        {
          ...shellAction(AUTH_ENABLE, {
            judge: (r) => {
              const output = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter(Boolean).join('\n');
              if (r.exitCode !== 0 && /path is already in use/.test(r.stderr))
                return {
                  ok: true,
                  created: false,
                  output: `${output}\n(already enabled on this lab: kept, and left in place at clean-up)`,
                };
              return {
                output: r.exitCode === 0 ? output : `${output}\n(exit code ${r.exitCode})`,
                ok: r.exitCode === 0,
              };
            },
          }),
          undo: {
            display: 'vault auth disable kubernetes',
            invocation: { file: 'sh', args: ['-c', 'vault auth disable kubernetes'] },
          },
        },
        {
          kind: 'code',
          lang: 'sh',
          caption: `The next command, byte for byte as printed (in \`${files.authConfig}\`):`,
          text: AUTH_CONFIG,
        },
        ...brokenCommandBlocks(files.authConfig, '2'),
        {
          kind: 'text',
          text: 'The Vault server received nothing: the CLI refused the lone blank (not `key=value`) before sending a request. There is no config:',
        },
        shellAction('vault read auth/kubernetes/config', { fails: /No value found/ }),
        continuationNote(AUTH_CONFIG),
        {
          kind: 'text',
          text: 'A syntax check finds nothing wrong: it is valid shell, just not the command that was meant.',
        },
        shellAction(`sh -n ${files.authConfig} && echo "sh -n: no syntax error"`),
        {
          kind: 'text',
          text: 'The smallest fix: the comment on a line of its own, above the command. Only line 1 differs — it now ends with the backslash:',
        },
        ...(v.outsideCluster
          ? ([
              shellAction(fixedConfig, { fails: /serviceaccount\/ca\.crt: no such file/ }),
              {
                kind: 'text',
                text: `Now the command arrives whole, and Vault refuses it on this lab: given no \`kubernetes_ca_cert\`, it reads the CA of its own pod's ServiceAccount (\`/var/run/secrets/kubernetes.io/serviceaccount/ca.crt\`), and this Vault runs in no pod. The host would not work either: \`${names.tutorialKubernetesHost}\` is the API server's name inside the cluster, answered to pods by the cluster's DNS, and this lab's Vault is a process on this machine. Resolving the name from here — from a network namespace with no route out, so that the question leaves nothing on the network:`,
              },
              host.action,
              {
                kind: 'note',
                tone: 'lab',
                text: `The lab's values: kubernetes_host differs (the API server as this Vault reaches it), and two lines are added that a pod never needs: kubernetes_ca_cert (the lab's API server CA, in \`${files.ca}\`) and disable_local_ca_jwt=true (there is no pod token to fall back on):`,
              },
              shellAction(labAuthConfig(ctx)),
            ] satisfies Block[])
          : ([
              shellAction(fixedConfig),
              {
                kind: 'note',
                tone: 'lab',
                text: `Vault runs in a pod here, as in the tutorial: \`${names.tutorialKubernetesHost}\` resolves through the cluster's DNS and Vault reads the CA and its own token from its mounted ServiceAccount, so the tutorial's value works unchanged.`,
              },
            ] satisfies Block[])),
      ],
    },
    {
      id: 'role',
      title: 'Write the role',
      blocks: [
        {
          kind: 'text',
          text: `The role says who may log in (ServiceAccount \`${names.serviceAccount}\` in namespace \`${names.namespace}\`) and which policy the resulting token carries, for how long.`,
        },
        {
          kind: 'code',
          lang: 'sh',
          caption: `The tutorial's command, byte for byte (in \`${files.role}\`):`,
          text: ROLE_WRITE,
        },
        ...brokenCommandBlocks(files.role, '2,5'),
        { kind: 'text', text: 'Again the Vault server received nothing — there is no role:' },
        shellAction(`vault read auth/kubernetes/role/${names.role}`, { fails: /No value found/ }),
        continuationNote(ROLE_WRITE),
        {
          kind: 'text',
          text: 'The smallest fix, as before: the comment above the command; only line 1 differs.',
        },
        shellAction(fixedRole, { undo: `vault delete auth/kubernetes/role/${names.role}` }),
      ],
    },
  ];
}
