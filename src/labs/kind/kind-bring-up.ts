/**
 * The kind lab's bring-up, in order: the cluster (reused or created), Vault (Helm release or a container on the
 * kind network), ESO, Vault answering unsealed, ESO's webhook accepting a SecretStore. One code path for `up`
 * and `up --dry-run`: every side effect goes through the KindShell it is given, which either runs it or records
 * it. Cleanups for what it creates are registered as it goes.
 */
import { join } from 'node:path';
import type { CleanupStack } from '../../cleanup.ts';
import { throwIfAborted } from '../../errors.ts';
import type { LabEvent } from '../../report/events.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { VaultClient } from '../../vault/client.ts';
import type { LabConnection } from '../lab-provider.ts';
import type { KindShell } from './kind-shell.ts';
import {
  IN_CLUSTER_KUBERNETES_HOST,
  KIND_TIMEOUTS,
  VAULT_IN_CLUSTER_URL,
  VAULT_NAMESPACE,
  VAULT_NODE_PORT,
  VAULT_RELEASE,
  helmEsoArgs,
  helmVaultArgs,
  kindContext,
  kindCreateArgs,
  kubectlArgs,
  parseUnsealKey,
  webhookProbeArgs,
  webhookProbeManifest,
  type VaultPlacement,
} from './kind-spec.ts';

export interface BringUpContext {
  clusterName: string;
  vault: VaultPlacement;
  shell: KindShell;
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
  runPath: string;
  writePrivate: (name: string, content: string) => string;
  cleanup: CleanupStack;
  keep: boolean;
  labId: string;
  /** Facts for lab.json's `extra` (cluster created or reused, the external Vault container). */
  extra: Record<string, string>;
  timeouts: typeof KIND_TIMEOUTS;
  pollIntervalMs?: number;
  /** The Vault client's fetch (tests). */
  fetch?: typeof fetch;
  /** The lab's node images (pause is kind's own; the consumer is what the pod scenarios run), as archives. */
  nodeImages: { ref: string; archive: string }[];
}

/** The kubelet syncFrequency kind/cluster.yaml sets on the kind node. */
export const KIND_SYNC_FREQUENCY = '5s';

export async function bringUp(ctx: BringUpContext, rootToken: string): Promise<LabConnection> {
  const { shell, signal, emit } = ctx;
  const name = ctx.clusterName;
  const context = kindContext(name);
  const kubeconfig = join(ctx.runPath, 'kubeconfig');
  const target = { kubeconfig, context };
  const step = async <T>(component: string, f: () => Promise<T>): Promise<T> => {
    emit({ kind: 'lab.component.starting', component });
    const t0 = performance.now();
    const v = await f();
    emit({ kind: 'lab.component.ready', component, durationMs: performance.now() - t0 });
    return v;
  };

  // 1. The cluster: reuse one of that name, else create it (deleted again on failure unless keep).
  const clusters = await shell.run('kind', ['get', 'clusters'], { signal });
  const exists = clusters.stdout
    .split('\n')
    .map((l) => l.trim())
    .includes(name);
  if (exists) {
    emit({ kind: 'lab.info', message: `reusing kind cluster '${name}'` });
    ctx.extra.createdCluster = 'false';
    ctx.extra.clusterExists = 'true';
    await shell.run('kind', ['export', 'kubeconfig', '--name', name, '--kubeconfig', kubeconfig], {
      signal,
    });
  } else {
    ctx.extra.createdCluster = 'true';
    ctx.extra.clusterExists = 'true';
    ctx.cleanup.defer(`delete kind cluster ${name}`, async (s) => {
      if (ctx.keep) return;
      await shell.run('kind', ['delete', 'cluster', '--name', name], { signal: s });
    });
    await step('kind-cluster', () => shell.run('kind', kindCreateArgs(name, kubeconfig), { signal }));
  }
  throwIfAborted(signal);

  // 1b. The lab's own images, from the same archives the local lab imports: nothing is pulled for them, and the
  // scenario manifests name the same images on both providers.
  const images = ctx.nodeImages.filter((i) => !i.ref.includes('/pause:'));
  await step('node-images', async () => {
    for (const i of images)
      await shell.run('kind', ['load', 'image-archive', i.archive, '--name', name], { signal });
  });

  // 2. Vault.
  let vaultAddress: string;
  let serverUrlForEso: string;
  let kubernetesHostForVault = IN_CLUSTER_KUBERNETES_HOST;
  let kubernetesCaPem: string | undefined;
  let outsideCluster = false;
  if (ctx.vault === 'in-cluster') {
    await step('vault', () => shell.run('helm', helmVaultArgs(target, rootToken), { signal }));
    vaultAddress = `http://127.0.0.1:${VAULT_NODE_PORT}`;
    serverUrlForEso = VAULT_IN_CLUSTER_URL;
  } else {
    const ev = await step('vault', () =>
      shell.startExternalVault({ clusterName: name, labId: ctx.labId, rootToken, network: 'kind', signal }),
    );
    ctx.extra.externalVaultId = ev.containerId;
    ctx.extra.externalVaultName = ev.containerName;
    ctx.cleanup.defer(`remove Vault container ${ev.containerName}`, async (s) => {
      if (ctx.keep) return;
      await shell.run('docker', ['rm', '-f', ev.containerId], { signal: s, reject: false });
    });
    vaultAddress = ev.hostAddress;
    serverUrlForEso = ev.networkAddress;
    // Vault outside any pod reaches the API server through Docker's DNS, and needs its CA.
    kubernetesHostForVault = `https://${name}-control-plane:6443`;
    const ca = await shell.run(
      'kubectl',
      kubectlArgs(
        target,
        'config',
        'view',
        '--raw',
        '--minify',
        '-o',
        'jsonpath={.clusters[0].cluster.certificate-authority-data}',
      ),
      { signal },
    );
    kubernetesCaPem = Buffer.from(ca.stdout.trim(), 'base64').toString('utf8') || undefined;
    outsideCluster = true;
  }

  // 3. ESO.
  await step('eso', () => shell.run('helm', helmEsoArgs(target), { signal }));

  // 4. Vault unsealed and answering where the harness reaches it.
  const vault = new VaultClient({
    address: vaultAddress,
    token: rootToken,
    requestTimeoutMs: 3000,
    ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
  });
  await shell.waitUntil(
    async () => {
      const h = await vault.health(signal);
      return h.httpStatus === 200
        ? { done: true, value: undefined }
        : { done: false, seen: `sys/health ${h.httpStatus}` };
    },
    {
      what: `${vaultAddress}/v1/sys/health answers 200 (unsealed, active)`,
      timeoutMs: ctx.timeouts.vault,
      intervalMs: ctx.pollIntervalMs ?? 1000,
      signal,
    },
  );
  const unsealKey = await readUnsealKey(shell, ctx.vault, target, ctx.extra, signal);
  if (unsealKey) {
    secrets.add(unsealKey);
    ctx.writePrivate('vault-unseal-key', unsealKey + '\n');
  }
  ctx.writePrivate('vault-token', rootToken + '\n');

  // 5. ESO's webhook accepts a SecretStore (server-side dry-run: nothing is stored).
  await shell.retry('kubectl', webhookProbeArgs(target), {
    what: "ESO's webhook to accept a SecretStore (server-side dry-run)",
    input: webhookProbeManifest(serverUrlForEso),
    timeoutMs: ctx.timeouts.webhook,
    intervalMs: ctx.pollIntervalMs ?? 2000,
    signal,
  });

  return {
    provider: 'kind',
    kubeconfigPath: kubeconfig,
    context,
    vault: {
      address: vaultAddress,
      token: rootToken,
      serverUrlForEso,
      kubernetesHostForVault,
      ...(kubernetesCaPem ? { kubernetesCaPem } : {}),
      outsideCluster,
      kvMount: 'secret',
    },
    isolation: { runId: ctx.labId, namespaceSuffix: '', vaultPathPrefix: '', nameSuffix: '' },
    binDirs: [],
    node: {
      name: `${name}-control-plane`,
      syncFrequency: KIND_SYNC_FREQUENCY,
      images: images.map((i) => i.ref),
    },
  };
}

/** Dev mode prints the unseal key in Vault's log (a fresh one at every start). */
export async function readUnsealKey(
  shell: KindShell,
  vault: VaultPlacement,
  target: { kubeconfig: string; context: string },
  extra: Record<string, string>,
  signal: AbortSignal,
): Promise<string | undefined> {
  const r =
    vault === 'in-cluster'
      ? await shell.run('kubectl', kubectlArgs(target, 'logs', '-n', VAULT_NAMESPACE, `${VAULT_RELEASE}-0`), {
          signal,
          reject: false,
        })
      : await shell.run('docker', ['logs', extra.externalVaultId ?? ''], { signal, reject: false });
  return parseUnsealKey(r.stdout + r.stderr);
}
