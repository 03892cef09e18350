/**
 * The tutorial's Kubernetes half, verbatim: the SecretStore and the ExternalSecret byte for byte. What the
 * tutorial leaves out is shown as the reader meets it: the `my-app` namespace and `my-app-sa` ServiceAccount do
 * not exist (the real error), the in-cluster `server:` URL cannot be reached from where ESO runs on the local lab
 * (why, then the one line that differs), and Vault's TokenReview needs `system:auth-delegator` (ESO's real error,
 * then the binding).
 */
import { errorMessage } from '../errors.ts';
import type { RunResult } from '../process/command.ts';
import { waitFor } from '../time.ts';
import type { ActionBlock, Block, TutorialContext, TutorialStep } from './model.ts';
import { commandOutput, files, names, shell, shellAction, waitAction } from './actions.ts';
import { unresolvableName } from './in-cluster-names.ts';
import { EXTERNAL_SECRET_YAML, SECRET_STORE_YAML } from './tutorial-text.ts';

/** The SecretStore with the lab's `server:` — the only line that differs. */
export function labSecretStore(ctx: TutorialContext): string {
  const line = `      server: "${names.tutorialVaultServer}"`;
  return SECRET_STORE_YAML.replace(line, `      server: "${ctx.connection.vault.serverUrlForEso}"`);
}

/** Whether the tutorial's server URL works unchanged on this lab (kind installs Vault as the tutorial does). */
export function storeWorksUnchanged(ctx: TutorialContext): boolean {
  return ctx.connection.vault.serverUrlForEso === names.tutorialVaultServer;
}

/** The store's events until one carries Vault's "permission denied" (events are recorded a moment later). */
function deniedEventAction(): ActionBlock {
  const display = `kubectl get events -n ${names.namespace} --field-selector involvedObject.kind=SecretStore,involvedObject.name=${names.secretStore} -o jsonpath='{range .items[*]}{.reason}: {.message}{"\\n"}{end}'`;
  return {
    kind: 'action',
    display: { lang: 'sh', text: display },
    async run(rt) {
      let last: RunResult | undefined;
      const denied = await waitFor(
        async () => {
          last = await rt.cli(shell(display));
          return /permission denied/i.test(last.stdout)
            ? { done: true, value: true }
            : { done: false, seen: last.stdout.trim().split('\n').at(-1) ?? '(no event yet)' };
        },
        { what: 'an event with permission denied', timeoutMs: 30_000, intervalMs: 500, signal: rt.signal },
      ).catch(() => false);
      // Events are `Reason: message` blocks (Vault's message spans lines): the newest one that was denied.
      const events = (last?.stdout ?? '').trim().split(/\n(?=[A-Z][A-Za-z]+: )/);
      const shown = events.filter((e) => /permission denied/i.test(e)).slice(-1);
      return {
        ok: denied,
        output: denied
          ? `${shown.join('\n')}\n→ Vault refused the login: its TokenReview call, made with ${names.serviceAccount}'s own token, was forbidden`
          : `${last ? commandOutput(last) : ''}\n→ expected an event with "permission denied"`,
      };
    },
  };
}

export function kubernetesSteps(ctx: TutorialContext): TutorialStep[] {
  const unchanged = storeWorksUnchanged(ctx);
  const storeFile = unchanged ? files.secretStore : files.labSecretStore;
  const outside = ctx.connection.vault.outsideCluster;
  const storeName = `secretstore/${names.secretStore}`;
  return [
    {
      id: 'secretstore',
      title: 'Apply the SecretStore',
      blocks: [
        {
          kind: 'text',
          text: '"Then create your SecretStore": where Vault is, which KV mount and version to read, and how to log in.',
        },
        { kind: 'code', lang: 'yaml', caption: files.secretStore, text: SECRET_STORE_YAML },
        {
          kind: 'action',
          display: { lang: 'sh', text: `kubectl apply -f ${files.secretStore}` },
          async run(rt) {
            // Never applied while the namespace exists: ESO would then look up the in-cluster name (see below).
            const ns = await rt.kube.core.readNamespace({ name: names.namespace }).then(
              () => true,
              (e: unknown) => (/404|not found/i.test(errorMessage(e)) ? false : Promise.reject(e)),
            );
            if (ns && !unchanged)
              return {
                ok: false,
                output: `namespace ${names.namespace} already exists on this lab (left by an earlier run?): remove it first (kubectl delete namespace ${names.namespace})`,
              };
            const r = await rt.cli(shell(`kubectl apply -f ${files.secretStore}`));
            const output = commandOutput(r);
            const shown = r.exitCode !== 0 && /namespaces "my-app" not found/.test(output);
            return {
              ok: shown,
              output: shown ? output : `${output}\n→ expected: namespaces "my-app" not found`,
            };
          },
        },
        {
          kind: 'note',
          tone: 'pitfall',
          text: `The tutorial never creates the namespace \`${names.namespace}\`, nor the ServiceAccount \`${names.serviceAccount}\` that the role binds and the store logs in as. Create both:`,
        },
        shellAction(`kubectl create namespace ${names.namespace}`, {
          undo: `kubectl delete namespace ${names.namespace} --timeout=90s`,
        }),
        shellAction(`kubectl create serviceaccount ${names.serviceAccount} -n ${names.namespace}`),
        ...(unchanged
          ? ([
              {
                kind: 'note',
                tone: 'lab',
                text: `\`server:\` is the tutorial's: on this lab Vault is installed as Helm release \`hashicorp-vault\` in namespace \`hashicorp-vault\`, so its Service name resolves for ESO through the cluster's DNS, unchanged.`,
              },
            ] satisfies Block[])
          : ([
              {
                kind: 'text',
                text: `\`server: "${names.tutorialVaultServer}"\` is Vault's Service name inside the cluster, which only the cluster's DNS answers. ESO runs as a process on this machine here. What resolving it from this machine gives (again from a network namespace with no route out):`,
              },
              unresolvableName(names.tutorialVaultServer).action,
              {
                kind: 'note',
                tone: 'lab',
                text: `Applied as printed, the store would make ESO ask this machine's nameserver for that name — a query the lab never sends — and the store would never become Ready. The one line that differs, in \`${files.labSecretStore}\`: \`server: "${ctx.connection.vault.serverUrlForEso}"\`, where ESO reaches this lab's Vault (on kind the tutorial's URL works unchanged).`,
              },
              { kind: 'code', lang: 'yaml', caption: files.labSecretStore, text: labSecretStore(ctx) },
            ] satisfies Block[])),
        shellAction(`kubectl apply -f ${storeFile}`, {
          undo: `kubectl delete secretstore ${names.secretStore} -n ${names.namespace}`,
        }),
        ...(outside
          ? ([
              {
                kind: 'text',
                text: `ESO now logs in to Vault as ${names.serviceAccount}, and Vault checks that token with the API server's TokenReview API — calling it with that same token, since it has none of its own:`,
              },
              shellAction(
                `kubectl wait --for=condition=Ready=False ${storeName} -n ${names.namespace} --timeout=60s`,
                { timeoutMs: 90_000 },
              ),
              {
                kind: 'text',
                text: 'The condition says only "unable to create client"; ESO\'s event has Vault\'s answer:',
              },
              deniedEventAction(),
              {
                kind: 'note',
                tone: 'pitfall',
                text: `The tutorial never creates this binding. In its topology the Vault Helm chart binds Vault's own ServiceAccount to \`system:auth-delegator\` and Vault reviews tokens with its pod's token. With Vault outside the cluster and no \`token_reviewer_jwt\`, the logging-in ServiceAccount itself needs the binding:`,
              },
              shellAction(
                `kubectl create clusterrolebinding ${names.clusterRoleBinding} \\\n  --clusterrole=system:auth-delegator \\\n  --serviceaccount=${names.namespace}:${names.serviceAccount}`,
                { undo: `kubectl delete clusterrolebinding ${names.clusterRoleBinding}` },
              ),
              {
                kind: 'text',
                text: 'ESO retries a failed store after a growing delay; any annotation change makes it retry now:',
              },
              shellAction(
                `kubectl annotate ${storeName} -n ${names.namespace} retry=$(date +%s) --overwrite`,
              ),
            ] satisfies Block[])
          : []),
        waitAction('SecretStore', names.secretStore),
      ],
    },
    {
      id: 'externalsecret',
      title: 'Apply the ExternalSecret',
      blocks: [
        {
          kind: 'text',
          text: `"And pull the secret!": which Vault keys go into which Kubernetes Secret (\`${names.secret}\`, owned by the ExternalSecret), and how often ESO re-reads them — \`refreshInterval: "${names.tutorialRefreshInterval}"\`, as printed.`,
        },
        { kind: 'code', lang: 'yaml', caption: files.externalSecret, text: EXTERNAL_SECRET_YAML },
        shellAction(`kubectl apply -f ${files.externalSecret}`, {
          undo: `kubectl delete externalsecret ${names.externalSecret} -n ${names.namespace}`,
        }),
        waitAction('ExternalSecret', names.externalSecret),
        shellAction(`kubectl get secret ${names.secret} -n ${names.namespace}`),
      ],
    },
  ];
}
