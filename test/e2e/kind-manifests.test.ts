/**
 * Every Kubernetes manifest the kind provider would apply, checked by the real API server of a local lab (with
 * ESO's CRDs) through a server-side dry-run: ESO's Helm chart rendered by a real `helm template` (the chart ships
 * in the ESO module; helm is the optional tool from `vault-eso-lab build helm`) with helm-values/external-secrets.yaml,
 * and the SecretStore of the webhook readiness gate. The Vault chart is not in any Go module and the registries
 * these machines reach do not serve Helm charts, so helm-values/vault.yaml is only checked as YAML here.
 * (The existing provider applies only the scenario's own manifests: test/e2e/existing-provider.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { runCommand } from '../../src/process/command.ts';
import { binaryPath } from '../../src/components/cache.ts';
import { components } from '../../src/components/versions.ts';
import { esoChartCopy } from '../../src/components/eso-chart.ts';
import { repoRoot } from '../../src/paths.ts';
import type { StartedLocalLab } from '../../src/labs/local/local-lab.ts';
import {
  ESO_NAMESPACE,
  VAULT_IN_CLUSTER_URL,
  VAULT_NODE_PORT,
  webhookProbeManifest,
} from '../../src/labs/kind/kind-spec.ts';
import { isolatedEnv, startLab } from './helpers.ts';

const env = isolatedEnv();
const helm = binaryPath(components.helm, 'helm', env);
const kubectl = binaryPath(components.kubernetes, 'kubectl', env);
let lab: StartedLocalLab;

async function dryRun(manifest: string): Promise<{ exitCode: number; out: string }> {
  const r = await runCommand(
    kubectl,
    [
      '--kubeconfig',
      lab.connection.kubeconfigPath,
      'apply',
      '--server-side',
      '--dry-run=server',
      '--field-manager=vault-eso-lab',
      '-f',
      '-',
    ],
    { input: manifest, reject: false, timeoutMs: 60_000 },
  );
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

beforeAll(async () => {
  if (!existsSync(helm))
    throw new Error(`helm is not built: run 'node bin/vault-eso-lab.js build helm' first (expected ${helm})`);
  ({ lab } = await startLab(env, 'kind-manifests'));
  // The provider installs ESO with --create-namespace; the local lab already has that namespace (ESO runs there
  // as the chart's ServiceAccount), so the chart's namespaced objects have somewhere to land.
}, 600_000);

afterAll(async () => {
  await lab?.stop();
});

describe('kind provider manifests against a real API server (server-side dry-run)', () => {
  it('ESO chart rendered with helm-values/external-secrets.yaml', async () => {
    const chart = await esoChartCopy();
    const r = await runCommand(helm, [
      'template',
      'external-secrets',
      chart,
      '--namespace',
      ESO_NAMESPACE,
      '--values',
      join(repoRoot, 'helm-values', 'external-secrets.yaml'),
      '--kube-version',
      components.kubernetes.version,
    ]);
    const docs = parseAllDocuments(r.stdout).map(
      (d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null,
    );
    const kinds = docs.filter((d) => d?.kind).map((d) => `${d!.kind}/${d!.metadata?.name}`);
    expect(kinds).toContain('Deployment/external-secrets');
    expect(kinds).toContain('Deployment/external-secrets-webhook');
    expect(kinds).toContain('ValidatingWebhookConfiguration/secretstore-validate');
    expect(r.stdout).toContain('--concurrent=4');
    const d = await dryRun(r.stdout);
    expect(d.exitCode, d.out).toBe(0);
    expect(d.out).toContain('deployment.apps/external-secrets serverside-applied (server dry run)');
  });

  it("the webhook readiness gate's SecretStore", async () => {
    const d = await dryRun(webhookProbeManifest(VAULT_IN_CLUSTER_URL));
    expect(d.exitCode, d.out).toBe(0);
    expect(d.out).toContain('vault-eso-lab-webhook-probe serverside-applied (server dry run)');
  });

  it('kind/cluster.yaml and helm-values/vault.yaml agree on the Vault NodePort; dev mode, no injector', () => {
    const cluster = parse(readFileSync(join(repoRoot, 'kind', 'cluster.yaml'), 'utf8')) as {
      nodes: {
        extraPortMappings: { containerPort: number; hostPort: number; listenAddress: string }[];
        kubeadmConfigPatches: string[];
      }[];
    };
    expect(cluster.nodes).toHaveLength(1);
    expect(cluster.nodes[0]!.extraPortMappings[0]).toMatchObject({
      containerPort: VAULT_NODE_PORT,
      hostPort: VAULT_NODE_PORT,
      listenAddress: '127.0.0.1',
    });
    expect(parse(cluster.nodes[0]!.kubeadmConfigPatches[0]!)).toMatchObject({
      kind: 'KubeletConfiguration',
      syncFrequency: '5s',
    });
    const vault = parse(readFileSync(join(repoRoot, 'helm-values', 'vault.yaml'), 'utf8')) as {
      injector: { enabled: boolean };
      server: { dev: Record<string, unknown>; service: { type: string; nodePort: number } };
    };
    expect(vault.injector.enabled).toBe(false);
    expect(vault.server.dev).toEqual({ enabled: true });
    expect(vault.server.service).toMatchObject({ type: 'NodePort', nodePort: VAULT_NODE_PORT });
  });
});
