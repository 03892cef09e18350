/**
 * The tutorial, step by step, in the tutorial's order: the one source for the terminal walkthrough and for
 * docs/tutorial.md. Commands are the tutorial's; only lab-specific values differ (Vault's address, the API server
 * address Vault uses and its CA, the demo's refreshInterval), and a `lab` note says where and why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCondition, findCondition, readEsoObject, type EsoKind } from '../kube/external-secrets.ts';
import type { SecretEvent, SecretWatcher } from '../kube/secret-watcher.ts';
import { SecretWatcher as Watcher, kubeSecretWatchDeps } from '../kube/secret-watcher.ts';
import { repoRoot } from '../paths.ts';
import { builtinValues } from '../scenario/template.ts';
import type { RunResult } from '../process/command.ts';
import { formatMasked, shortHash } from '../secrets/secret-registry.ts';
import { parseDuration } from '../time.ts';
import type {
  ActionBlock,
  ActionResult,
  Block,
  CliInvocation,
  TutorialContext,
  TutorialRuntime,
  TutorialStep,
} from './model.ts';
import { explainContinuationIssue, findContinuationIssues } from './pitfalls.ts';
import { shownValue } from './values.ts';

/** The tutorial's names. */
export const names = {
  kvPath: 'my-app/config',
  username: 'my-app-user',
  policy: 'my-app-read',
  role: 'my-app-role',
  namespace: 'my-app',
  serviceAccount: 'my-app-sa',
  clusterRoleBinding: 'my-app-sa-tokenreview',
  secretStore: 'vault-backend',
  externalSecret: 'my-app-secrets',
  secret: 'my-app-user-password',
  /** The tutorial's Vault address inside the cluster (Helm release `hashicorp-vault`). */
  tutorialVaultServer: 'http://hashicorp-vault.hashicorp-vault.svc.cluster.local:8200',
  tutorialRefreshInterval: '1h',
} as const;

/** Measured durations are printed as `N.NN s` so docs/tutorial.md can mark them as volatile. */
export function formatMeasured(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(2)} s`;
}

const shell = (script: string): CliInvocation => ({ file: 'sh', args: ['-c', script] });

/** Run a command; ok when it exits 0. Output: stdout then stderr, and the exit code when it is not 0. */
export function commandOutput(r: RunResult): string {
  const parts = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter((p) => p.length > 0);
  if (r.exitCode !== 0) parts.push(`(exit code ${r.exitCode})`);
  return parts.join('\n');
}

function runs(invocation: CliInvocation, options: { timeoutMs?: number } = {}): ActionBlock['run'] {
  return async (rt) => {
    const r = await rt.cli(invocation, options);
    return { output: commandOutput(r), ok: r.exitCode === 0 };
  };
}

/** `display` is run as shown, through `sh -c`: what you read is what ran. */
function shellAction(display: string, undo?: { display: string }): ActionBlock {
  return {
    kind: 'action',
    display: { lang: 'sh', text: display },
    run: runs(shell(display)),
    ...(undo ? { undo: { display: undo.display, invocation: shell(undo.display) } } : {}),
  };
}

/** A manifest of the tutorial (scenarios/manifests), lab values filled in, header comments dropped. */
export function manifestText(file: string, vars: Record<string, string>): string {
  const raw = readFileSync(join(repoRoot, 'scenarios', 'manifests', file), 'utf8');
  const body = raw.replace(/^(#[^\n]*\n)+/, '');
  return body.replace(/\$\{([A-Za-z0-9_.]+)\}/g, (_m, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`manifest ${file}: no value for \${${k}}`);
    return v;
  });
}

/** The manifests the walkthrough applies, as files in the work directory (commands run there). */
export function manifests(ctx: TutorialContext): Record<string, string> {
  const vars = { ...builtinValues(ctx.connection), 'vars.refreshInterval': ctx.refreshInterval };
  return Object.fromEntries(
    ['namespace.yaml', 'secret-store.yaml', 'external-secret.yaml'].map((f) => [f, manifestText(f, vars)]),
  );
}

/** The Vault command line for `vault kv put`, shown with masked values and run with `@file` values. */
function kvPut(
  ctx: TutorialContext,
  password: TutorialContext['values']['password1'],
  apiKeyWhat: string,
): { display: string; invocation: CliInvocation } {
  const path = `${ctx.connection.vault.kvMount}/${names.kvPath}`;
  const k = ctx.values.apiKey;
  return {
    display: `vault kv put ${path} username=${names.username} password=${shownValue(password)} api_key=${shownValue(k, apiKeyWhat)}`,
    invocation: {
      file: 'vault',
      args: [
        'kv',
        'put',
        path,
        `username=${names.username}`,
        `password=@${password.label}`,
        `api_key=@${k.label}`,
      ],
    },
  };
}

export const CA_FILE = 'ca.crt';
export const BROKEN_CONFIG_FILE = 'config-with-comment.sh';

/** The lab's `vault write auth/kubernetes/config` command (runnable: no comments). */
export function authConfigCommand(ctx: TutorialContext): string {
  const v = ctx.connection.vault;
  const args = [`kubernetes_host=${v.kubernetesHostForVault}`];
  if (v.kubernetesCaPem) args.push(`kubernetes_ca_cert=@${CA_FILE}`);
  if (v.outsideCluster) args.push('disable_local_ca_jwt=true');
  return [
    'vault write auth/kubernetes/config \\',
    ...args.map((a, i) => `    ${a}${i < args.length - 1 ? ' \\' : ''}`),
  ].join('\n');
}

/** The tutorial's command as it is usually copied: a comment after the first line's backslash. */
export const tutorialAuthConfig = [
  'vault write auth/kubernetes/config \\',
  '    kubernetes_host="https://$KUBERNETES_PORT_443_TCP_ADDR:443" \\  # the API server, as seen from the Vault pod',
  '    kubernetes_ca_cert=@/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
].join('\n');

/** The lab's command with the tutorial's comment put back: what the pitfall demonstration runs. */
export function brokenAuthConfig(ctx: TutorialContext): string {
  const lines = authConfigCommand(ctx).split('\n');
  if (lines[1] !== undefined) lines[1] = `${lines[1]}  # the API server, as Vault reaches it`;
  return lines.join('\n') + '\n';
}

async function waitReady(
  rt: TutorialRuntime,
  kind: EsoKind,
  name: string,
  resource: string,
): Promise<ActionResult> {
  const r = await rt.cli(
    {
      file: 'kubectl',
      args: ['wait', `--for=condition=Ready`, `${resource}/${name}`, '-n', names.namespace, '--timeout=90s'],
    },
    { timeoutMs: 120_000 },
  );
  let output = commandOutput(r);
  if (r.exitCode !== 0) {
    const o = await readEsoObject(rt.kube, kind, name, names.namespace).catch(() => undefined);
    output += `\n${kind} ${names.namespace}/${name}: ${formatCondition(findCondition(o))}`;
  }
  return { output, ok: r.exitCode === 0 };
}

const WATCHER = 'watcher';
const ACK = 'ackAt';

async function secretWatcher(rt: TutorialRuntime): Promise<SecretWatcher> {
  let w = rt.state.get(WATCHER) as SecretWatcher | undefined;
  if (!w) {
    w = new Watcher(names.namespace, names.secret, kubeSecretWatchDeps(rt.kube), rt.signal);
    await w.start();
    rt.state.set(WATCHER, w);
  }
  return w;
}

/** Write a new password (after starting the Secret watch), remembering when `vault kv put` returned. */
function rotateAction(ctx: TutorialContext, password: TutorialContext['values']['password2']): ActionBlock {
  const put = kvPut(ctx, password, 'unchanged');
  return {
    kind: 'action',
    display: { lang: 'sh', text: put.display },
    async run(rt) {
      await secretWatcher(rt);
      const r = await rt.cli(put.invocation);
      rt.state.set(ACK, Date.now());
      return { output: commandOutput(r), ok: r.exitCode === 0 };
    },
  };
}

/** Wait (on the watch) until the Secret holds `password`; latency from `vault kv put` returning. */
function followAction(
  ctx: TutorialContext,
  password: TutorialContext['values']['password2'],
  how: 'periodic' | 'force-sync',
): ActionBlock {
  const intervalMs = parseDuration(ctx.refreshInterval) ?? 10_000;
  return {
    kind: 'action',
    caption: `Watching Secret ${names.namespace}/${names.secret} (a Kubernetes watch) until it holds the new password…`,
    async run(rt) {
      const w = await secretWatcher(rt);
      const ack = (rt.state.get(ACK) as number | undefined) ?? Date.now();
      const timeoutMs = how === 'periodic' ? intervalMs + 30_000 : 30_000;
      const hit: SecretEvent | undefined = await w.waitFor(
        (e) => e.exists && e.data.password === password.value,
        {
          timeoutMs: Math.max(0, ack + timeoutMs - Date.now()),
          signal: rt.signal,
        },
      );
      if (!hit) {
        const es = await readEsoObject(
          rt.kube,
          'ExternalSecret',
          names.externalSecret,
          names.namespace,
        ).catch(() => undefined);
        return {
          ok: false,
          output: [
            `the Secret did not follow within ${formatMeasured(timeoutMs)} of the write`,
            w.describeLatest(),
            `ExternalSecret ${names.namespace}/${names.externalSecret}: ${formatCondition(findCondition(es))}`,
          ].join('\n'),
        };
      }
      const latencyMs = Math.max(0, hit.at - ack);
      const why =
        how === 'periodic'
          ? `the next periodic sync (refreshInterval ${ctx.refreshInterval})`
          : 'the force-sync annotation (no waiting for the interval)';
      return {
        ok: true,
        output: [
          `Secret ${names.namespace}/${names.secret}: ${formatMasked(pick(hit.data, ['username', 'password']))}`,
          `followed ${formatMeasured(latencyMs)} after \`vault kv put\` returned, through ${why}`,
        ].join('\n'),
        facts: { [how === 'periodic' ? 'latencyMs' : 'forceSyncLatencyMs']: latencyMs },
      };
    },
  };
}

function pick(data: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => k in data).map((k) => [k, data[k] as string]));
}

/** The walkthrough's preamble (not a step): how to get the same shell, and what differs on this lab. */
export function introBlocks(ctx: TutorialContext): Block[] {
  const v = ctx.connection.vault;
  return [
    {
      kind: 'text',
      text: 'The standard Vault + External Secrets Operator tutorial, run for real on a lab, one step at a time. To type the same commands yourself, start a lab and take its environment:',
    },
    {
      kind: 'code',
      lang: 'sh',
      text: 'vault-eso-lab up\neval "$(vault-eso-lab env)"   # KUBECONFIG, VAULT_ADDR, VAULT_TOKEN, PATH',
    },
    {
      kind: 'note',
      tone: 'lab',
      text: `VAULT_ADDR is ${v.address} (${ctx.connection.provider === 'local' ? 'an OpenBao dev server the lab runs as a local process' : `the ${ctx.connection.provider} lab's Vault`}); the tutorial port-forwards to http://127.0.0.1:8200. \`vault\` is the lab's CLI (on the local lab OpenBao's \`bao\`, which reads VAULT_ADDR and VAULT_TOKEN and takes the same verbs); \`kubectl\` is the lab's too. Commands run in a private work directory (mode 0700) that holds the API server's CA and the generated values.`,
    },
  ];
}

export function tutorialSteps(ctx: TutorialContext): TutorialStep[] {
  const v = ctx.connection.vault;
  const kv = v.kvMount;
  const path = `${kv}/${names.kvPath}`;
  const m = manifests(ctx);
  const put1 = kvPut(ctx, ctx.values.password1, 'generated');
  const policyHcl = `path "${kv}/data/${names.kvPath}" {\n  capabilities = ["read"]\n}\n`;
  const issues = findContinuationIssues(tutorialAuthConfig);
  const broken = brokenAuthConfig(ctx);

  const steps: TutorialStep[] = [
    {
      id: 'secret',
      title: 'Create the secret in Vault',
      blocks: [
        {
          kind: 'text',
          text: `The application's credentials go into Vault's KV version 2 engine, mounted at \`${kv}/\` on a dev server. \`vault kv put\` writes version 1 of \`${path}\` with three keys.`,
        },
        {
          kind: 'action',
          display: { lang: 'sh', text: put1.display },
          run: runs(put1.invocation),
          undo: {
            display: `vault kv metadata delete ${path}`,
            invocation: shell(`vault kv metadata delete ${path}`),
          },
        },
        {
          kind: 'note',
          tone: 'lab',
          text: `The tutorial types literal values; here password and api_key are random and shown only as short hashes. The command that ran passes them as \`password=@${ctx.values.password1.label} api_key=@${ctx.values.apiKey.label}\` (files of mode 0600 in the work directory), so no value reaches a process list, a shell history or this output.`,
        },
        { kind: 'text', text: 'Read it back (values masked here):' },
        shellAction(`vault kv get ${path}`),
      ],
    },
    {
      id: 'policy',
      title: 'Write the read policy',
      blocks: [
        {
          kind: 'text',
          text: `ESO will read the secret with a token that carries this policy. KV v2 keeps the data under \`${kv}/data/…\`, so the policy names \`${kv}/data/${names.kvPath}\`, not the \`${path}\` that the \`vault kv\` commands take.`,
        },
        {
          kind: 'action',
          display: { lang: 'sh', text: `vault policy write ${names.policy} - <<EOF\n${policyHcl}EOF` },
          run: runs({ file: 'vault', args: ['policy', 'write', names.policy, '-'], input: policyHcl }),
          undo: {
            display: `vault policy delete ${names.policy}`,
            invocation: shell(`vault policy delete ${names.policy}`),
          },
        },
        {
          kind: 'note',
          tone: 'pitfall',
          text: `A policy on \`${path}\` (without \`data/\`) is accepted and grants nothing: ESO then gets "permission denied" (403) and the ExternalSecret never becomes Ready.`,
        },
      ],
    },
    {
      id: 'auth',
      title: 'Enable and configure Kubernetes auth',
      blocks: [
        {
          kind: 'text',
          text: "Kubernetes auth lets ESO log in to Vault with a ServiceAccount token; Vault checks the token with the API server's TokenReview API, so it needs the API server's address and CA.",
        },
        {
          kind: 'action',
          display: { lang: 'sh', text: 'vault auth enable kubernetes' },
          async run(rt) {
            const r = await rt.cli(shell('vault auth enable kubernetes'));
            const output = commandOutput(r);
            if (r.exitCode !== 0 && /path is already in use/.test(r.stderr))
              return {
                ok: true,
                created: false,
                output: `${output}\n(already enabled on this lab: kept, and left in place at clean-up)`,
              };
            return { output, ok: r.exitCode === 0 };
          },
          undo: {
            display: 'vault auth disable kubernetes',
            invocation: shell('vault auth disable kubernetes'),
          },
        },
        {
          kind: 'code',
          lang: 'sh',
          caption: "The tutorial's configuration command, as it is often copied:",
          text: tutorialAuthConfig,
        },
        {
          kind: 'note',
          tone: 'pitfall',
          text: `A backslash continues a line only when it is the very last character. ${issues.map(explainContinuationIssue).join('; ')}. The next line then runs as a command of its own — \`kubernetes_ca_cert=@…\` is a shell variable assignment, which succeeds silently — and the script's exit status is 0. \`sh -n\` finds nothing wrong: it is valid shell. Here is the lab's command with the same comment:`,
        },
        { kind: 'code', lang: 'sh', caption: BROKEN_CONFIG_FILE, text: broken.trimEnd() },
        shellAction(`sh -n ${BROKEN_CONFIG_FILE} && echo "sh -n: no syntax error"`),
        {
          kind: 'action',
          display: { lang: 'sh', text: `sh -x ${BROKEN_CONFIG_FILE}; echo "exit status: $?"` },
          async run(rt) {
            const r = await rt.cli(shell(`sh -x ${BROKEN_CONFIG_FILE}; echo "exit status: $?"`));
            const shown = [r.stderr.trimEnd(), r.stdout.trimEnd()].filter(Boolean).join('\n');
            // The demonstration holds when vault rejected the stray " " argument and the script still exited 0.
            const demonstrated = /invalid key\/value pair/.test(r.stderr) && /exit status: 0/.test(r.stdout);
            return {
              ok: r.exitCode === 0,
              output: `${shown}\n${demonstrated ? '→ vault got a stray " " argument and failed; the CA line became a variable assignment; the script still exited 0.' : '→ (the shell behaved differently than expected here)'}`,
            };
          },
        },
        { kind: 'text', text: "The command without comments, with the lab's values:" },
        {
          kind: 'action',
          display: { lang: 'sh', text: authConfigCommand(ctx) },
          run: runs(shell(authConfigCommand(ctx))),
        },
        {
          kind: 'note',
          tone: 'lab',
          text: v.outsideCluster
            ? `kubernetes_host: the tutorial's \`https://$KUBERNETES_PORT_443_TCP_ADDR:443\` exists only inside a pod; this lab's Vault runs outside any pod and reaches the API server at ${v.kubernetesHostForVault}. kubernetes_ca_cert: inside a pod Vault reads the CA from its mounted ServiceAccount; outside it must be given — the lab's API server CA, written to \`${CA_FILE}\`. disable_local_ca_jwt=true: there is no pod token to fall back on.`
            : `kubernetes_host is ${v.kubernetesHostForVault}: Vault runs in a pod here, as in the tutorial, and reads the CA and its own token from its mounted ServiceAccount.`,
        },
      ],
    },
    {
      id: 'role',
      title: 'Write the role',
      blocks: [
        {
          kind: 'text',
          text: `The role says who may log in (ServiceAccount \`${names.serviceAccount}\` in namespace \`${names.namespace}\`) and which policy the resulting token carries.`,
        },
        shellAction(
          [
            `vault write auth/kubernetes/role/${names.role} \\`,
            `    bound_service_account_names=${names.serviceAccount} \\`,
            `    bound_service_account_namespaces=${names.namespace} \\`,
            `    policies=${names.policy} \\`,
            '    ttl=24h',
          ].join('\n'),
          { display: `vault delete auth/kubernetes/role/${names.role}` },
        ),
        ...(v.outsideCluster
          ? ([
              {
                kind: 'note',
                tone: 'pitfall',
                text: `With no \`token_reviewer_jwt\` in the config, Vault calls TokenReview with the logging-in client's own token. In the tutorial's topology the Vault Helm chart binds Vault's own ServiceAccount to \`system:auth-delegator\`; with Vault outside the cluster nobody does, every login fails with "permission denied", and the SecretStore never becomes Ready. So ${names.serviceAccount} itself needs the binding:`,
              },
              {
                kind: 'action',
                display: {
                  lang: 'sh',
                  text: `kubectl create clusterrolebinding ${names.clusterRoleBinding} \\\n    --clusterrole=system:auth-delegator \\\n    --serviceaccount=${names.namespace}:${names.serviceAccount}`,
                },
                async run(rt) {
                  const r = await rt.cli({
                    file: 'kubectl',
                    args: [
                      'create',
                      'clusterrolebinding',
                      names.clusterRoleBinding,
                      '--clusterrole=system:auth-delegator',
                      `--serviceaccount=${names.namespace}:${names.serviceAccount}`,
                    ],
                  });
                  if (r.exitCode !== 0 && /AlreadyExists|already exists/.test(r.stderr))
                    return { ok: true, created: false, output: `${commandOutput(r)}\n(already there: kept)` };
                  return { output: commandOutput(r), ok: r.exitCode === 0 };
                },
                undo: {
                  display: `kubectl delete clusterrolebinding ${names.clusterRoleBinding}`,
                  invocation: shell(`kubectl delete clusterrolebinding ${names.clusterRoleBinding}`),
                },
              },
            ] satisfies Block[])
          : ([
              {
                kind: 'note',
                tone: 'lab',
                text: 'Vault runs in a pod here: the Vault Helm chart already binds its ServiceAccount to `system:auth-delegator`, so TokenReview works without another binding.',
              },
            ] satisfies Block[])),
      ],
    },
    {
      id: 'namespace',
      title: 'Create the namespace and the ServiceAccount',
      blocks: [
        {
          kind: 'text',
          text: `ESO authenticates to Vault as \`${names.serviceAccount}\`, the ServiceAccount the role is bound to.`,
        },
        {
          kind: 'code',
          lang: 'yaml',
          caption: 'namespace.yaml',
          text: (m['namespace.yaml'] ?? '').trimEnd(),
        },
        shellAction('kubectl apply -f namespace.yaml', {
          display: `kubectl delete namespace ${names.namespace} --timeout=90s`,
        }),
      ],
    },
    {
      id: 'secretstore',
      title: 'Apply the SecretStore',
      blocks: [
        {
          kind: 'text',
          text: 'The SecretStore tells ESO where Vault is, which KV mount and version to read, and how to log in.',
        },
        {
          kind: 'code',
          lang: 'yaml',
          caption: 'secret-store.yaml',
          text: (m['secret-store.yaml'] ?? '').trimEnd(),
        },
        {
          kind: 'note',
          tone: 'lab',
          text:
            v.serverUrlForEso === names.tutorialVaultServer
              ? "`server:` is the tutorial's: Vault's Service inside the cluster."
              : `\`server:\` is ${v.serverUrlForEso} where the tutorial has ${names.tutorialVaultServer} (Vault's Service inside the cluster): ${ctx.connection.provider === 'local' ? 'ESO runs as a local process here and reaches Vault on loopback' : 'this is where ESO reaches Vault on this lab'}.`,
        },
        shellAction('kubectl apply -f secret-store.yaml', {
          display: `kubectl delete secretstore ${names.secretStore} -n ${names.namespace}`,
        }),
        { kind: 'text', text: 'ESO logs in to Vault with the role to validate the store:' },
        {
          kind: 'action',
          display: {
            lang: 'sh',
            text: `kubectl wait --for=condition=Ready secretstore/${names.secretStore} -n ${names.namespace} --timeout=90s`,
          },
          run: (rt) => waitReady(rt, 'SecretStore', names.secretStore, 'secretstore'),
        },
      ],
    },
    {
      id: 'externalsecret',
      title: 'Apply the ExternalSecret',
      blocks: [
        {
          kind: 'text',
          text: `The ExternalSecret maps Vault keys to a Kubernetes Secret (\`${names.secret}\`, owned by the ExternalSecret) and says how often to refresh it.`,
        },
        {
          kind: 'code',
          lang: 'yaml',
          caption: 'external-secret.yaml',
          text: (m['external-secret.yaml'] ?? '').trimEnd(),
        },
        {
          kind: 'note',
          tone: 'pitfall',
          text: `The tutorial sets \`refreshInterval: ${names.tutorialRefreshInterval}\`: after a rotation the Secret may keep the old value for up to an hour — there is no push from Vault, ESO re-reads on its schedule. This walkthrough uses \`${ctx.refreshInterval}\` so the demonstration finishes quickly. To pick up a change at once, annotate the ExternalSecret (\`force-sync\`, shown in the last step).`,
        },
        shellAction('kubectl apply -f external-secret.yaml', {
          display: `kubectl delete externalsecret ${names.externalSecret} -n ${names.namespace}`,
        }),
        {
          kind: 'action',
          display: {
            lang: 'sh',
            text: `kubectl wait --for=condition=Ready externalsecret/${names.externalSecret} -n ${names.namespace} --timeout=90s`,
          },
          run: (rt) => waitReady(rt, 'ExternalSecret', names.externalSecret, 'externalsecret'),
        },
      ],
    },
    {
      id: 'secret-synced',
      title: 'Look at the resulting Secret',
      blocks: [
        {
          kind: 'text',
          text: 'The tutorial decodes the password from the Secret (the value is masked here):',
        },
        {
          kind: 'action',
          display: {
            lang: 'sh',
            text: `kubectl get secret ${names.secret} -n ${names.namespace} -o jsonpath='{.data.password}' | base64 -d`,
          },
          async run(rt) {
            const r = await rt.cli(
              shell(
                `kubectl get secret ${names.secret} -n ${names.namespace} -o jsonpath='{.data.password}' | base64 -d`,
              ),
            );
            const same = r.stdout === ctx.values.password1.value;
            return {
              ok: r.exitCode === 0 && same,
              output: `${commandOutput(r)}\n${same ? `→ the password written in step 1 (sha256:${ctx.values.password1.hash})` : `→ NOT the password written in step 1 (sha256:${ctx.values.password1.hash}); got sha256:${shortHash(r.stdout)}`}`,
            };
          },
        },
        {
          kind: 'action',
          caption: 'Checked through the Kubernetes API (values as hashes):',
          async run(rt) {
            const s = await rt.kube.core.readNamespacedSecret({
              name: names.secret,
              namespace: names.namespace,
            });
            const data = Object.fromEntries(
              Object.entries(s.data ?? {}).map(([k, b64]) => [
                k,
                Buffer.from(b64, 'base64').toString('utf8'),
              ]),
            );
            const owner =
              (s.metadata?.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}`).join(', ') || 'none';
            return {
              ok: data.password === ctx.values.password1.value && !('api_key' in data),
              output: [
                `Secret ${names.namespace}/${names.secret}: ${formatMasked(data)}`,
                `owner: ${owner}; api_key is ${'api_key' in data ? 'present (unexpected)' : 'not synced: the ExternalSecret maps only username and password'}`,
              ].join('\n'),
            };
          },
        },
      ],
    },
    {
      id: 'rotate',
      title: 'Rotate in Vault and watch the Secret follow',
      blocks: [
        {
          kind: 'text',
          text: 'Write a new password in Vault — nothing else. A Kubernetes watch on the Secret timestamps the moment the new value arrives.',
        },
        rotateAction(ctx, ctx.values.password2),
        followAction(ctx, ctx.values.password2, 'periodic'),
        {
          kind: 'note',
          tone: 'pitfall',
          text: `That took up to one refreshInterval (${ctx.refreshInterval} here). With the tutorial's ${names.tutorialRefreshInterval} it is up to an hour. When you cannot wait, force a sync — any annotation change makes ESO reconcile now:`,
        },
        rotateAction(ctx, ctx.values.password3),
        shellAction(
          `kubectl annotate externalsecret ${names.externalSecret} -n ${names.namespace} force-sync=$(date +%s) --overwrite`,
        ),
        followAction(ctx, ctx.values.password3, 'force-sync'),
        shellAction(`vault kv get ${path}`),
        {
          kind: 'note',
          tone: 'pitfall',
          text: '"The pod picks up the new value" holds for a Secret mounted as a volume: the kubelet rewrites the files (after its sync period, up to a minute or two). Environment variables are read once, when the container starts: a pod that takes the password from `env`/`envFrom` keeps the old one until it is restarted. (This lab has no kubelet and no pods; the kind provider runs both kinds of consumer.)',
        },
      ],
    },
  ];
  return steps;
}

/** Every undo the steps declare, in creation order (clean-up runs them in reverse). */
export function declaredUndos(steps: readonly TutorialStep[]): { display: string }[] {
  return steps.flatMap((s) => s.blocks.flatMap((b) => (b.kind === 'action' && b.undo ? [b.undo] : [])));
}
