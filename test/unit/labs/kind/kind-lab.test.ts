/**
 * The kind provider against FAKE docker/kind/helm/kubectl (test/fixtures/fake-tools/kind-fakes.ts): the exact
 * command sequence for create, reuse, teardown, a failure in the middle and Ctrl-C, and the dry-run plan.
 * Nothing here talks to a real Docker engine or cluster.
 */
import { nodeImageArchivePaths } from '../../../../src/labs/local/node/node-images.ts';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KindLab, kindOptionsFromFlags } from '../../../../src/labs/kind/kind-lab.ts';
import { kindPins, nodeImages } from '../../../../src/components/versions.ts';
import { AbortedError, ExitCode, UsageError } from '../../../../src/errors.ts';
import { RunDir } from '../../../../src/labs/run-dir.ts';
import { StartedKindLab } from '../../../../src/labs/kind/started-kind-lab.ts';
import { FAKE_UNSEAL_KEY, fakeKindTools } from '../../../fixtures/fake-tools/kind-fakes.ts';

const repo = new URL('../../../../', import.meta.url).pathname.replace(/\/$/, '');
/** The Vault client's fetch: an active, unsealed Vault for every call. */
const okFetch: typeof fetch = () =>
  Promise.resolve(
    new Response('{"initialized":true,"sealed":false,"standby":false,"progress":0}', {
      status: 200,
      headers: { 'content-type': 'application/json' },
    }),
  );

function setup(extra: NodeJS.ProcessEnv = {}) {
  const fakes = fakeKindTools();
  const state = mkdtempSync(join(tmpdir(), 'vel-kind-state-'));
  const env = fakes.env({ VAULT_ESO_LAB_STATE_DIR: state, ...extra });
  const run = join(state, 'labs', 'k1');
  const lab = new KindLab(
    { clusterName: 'demo', vault: 'in-cluster', dryRun: false },
    { fetch: okFetch, pollIntervalMs: 10 },
  );
  const start = (signal = AbortSignal.timeout(30_000), keep = false) =>
    lab.start({ signal, emit: () => {}, env, name: 'k1', keep });
  // The root token is random per run: show it as <token> in the recorded calls.
  const calls = () => fakes.calls().map((c) => c.replace(/devRootToken=\S+/, 'devRootToken=<token>'));
  return { fakes, state, env, run, lab, start, calls };
}

const consumerArchive = nodeImageArchivePaths().find((i) => i.ref === nodeImages.consumer)!.archive;

function createSequence(run: string): string[] {
  const kc = join(run, 'kubeconfig');
  return [
    'kind get clusters',
    `kind create cluster --name demo --image ${kindPins.nodeImage} --config ${repo}/kind/cluster.yaml --kubeconfig ${kc} --wait 120s`,
    // The lab's consumer image, from the archive the local lab imports too.
    `kind load image-archive ${consumerArchive} --name demo`,
    `helm upgrade --install hashicorp-vault vault --repo ${kindPins.vaultChart.repo} --version ${kindPins.vaultChart.version} --namespace hashicorp-vault --create-namespace --values ${repo}/helm-values/vault.yaml --set server.dev.devRootToken=<token> --kubeconfig ${kc} --kube-context kind-demo --wait --timeout 5m`,
    `helm upgrade --install external-secrets external-secrets --repo ${kindPins.esoChart.repo} --version ${kindPins.esoChart.version} --namespace external-secrets --create-namespace --values ${repo}/helm-values/external-secrets.yaml --kubeconfig ${kc} --kube-context kind-demo --wait --timeout 5m`,
    `kubectl --kubeconfig ${kc} --context kind-demo logs -n hashicorp-vault hashicorp-vault-0`,
    `kubectl --kubeconfig ${kc} --context kind-demo apply --server-side --dry-run=server --field-manager=vault-eso-lab -f -`,
  ];
}

describe('kind provider (fake tools)', () => {
  it('creates a cluster, installs Vault and ESO, waits for the webhook; stop deletes the cluster', async () => {
    const t = setup({ FAKE_WEBHOOK_FAILURES: '2' });
    const lab = await t.start();
    const probe = createSequence(t.run).at(-1)!;
    expect(t.calls()).toEqual([...createSequence(t.run), probe, probe]);
    // A random root token, never `root`; it reaches Vault through --set only.
    const token = lab.connection.vault.token;
    expect(token).not.toBe('root');
    expect(token.length).toBeGreaterThan(20);
    expect(t.fakes.calls().join('\n')).toContain(`server.dev.devRootToken=${token}`);
    expect(lab.connection).toMatchObject({
      provider: 'kind',
      context: 'kind-demo',
      vault: {
        address: 'http://127.0.0.1:30820',
        serverUrlForEso: 'http://hashicorp-vault.hashicorp-vault.svc.cluster.local:8200',
        kubernetesHostForVault: 'https://kubernetes.default.svc:443',
        outsideCluster: false,
      },
    });
    expect(lab.connection.vault.kubernetesCaPem).toBeUndefined();
    expect(readFileSync(join(t.run, 'vault-unseal-key'), 'utf8').trim()).toBe(FAKE_UNSEAL_KEY);
    expect(readFileSync(join(t.run, 'lab.json'), 'utf8')).toContain('"provider": "kind"');

    const before = t.fakes.calls().length;
    await lab.stop();
    expect(t.calls().slice(before)).toEqual(['kind delete cluster --name demo']);
    expect(existsSync(t.run)).toBe(false);
    expect(readFileSync(t.fakes.clustersFile, 'utf8').trim()).toBe('');
  });

  it('reuses a cluster of that name (no create), and a stop of the reused lab deletes it only when asked', async () => {
    const t = setup();
    writeFileSync(t.fakes.clustersFile, 'demo\n');
    const lab = await t.start();
    const kc = join(t.run, 'kubeconfig');
    const expected = createSequence(t.run);
    expected.splice(1, 1, `kind export kubeconfig --name demo --kubeconfig ${kc}`);
    expect(t.calls()).toEqual(expected);
    // A reused cluster was not created by this run: its own cleanup leaves it.
    const n = t.fakes.calls().length;
    await lab.stop();
    expect(t.fakes.calls().slice(n)).toEqual([]);
  });

  it('down from another process (attach) deletes the cluster; --keep leaves it and the run directory', async () => {
    const t = setup();
    const lab = await t.start();
    lab.detach();
    const record = RunDir.open(t.run).readRecord()!;
    expect(record.ownerPid).toBeNull();
    const kept = StartedKindLab.attach(RunDir.open(t.run), record, t.env);
    let n = t.fakes.calls().length;
    await kept.stop({ keep: true });
    expect(t.fakes.calls().slice(n)).toEqual([]);
    expect(existsSync(t.run)).toBe(true);
    const again = StartedKindLab.attach(RunDir.open(t.run), RunDir.open(t.run).readRecord()!, t.env);
    n = t.fakes.calls().length;
    await again.stop();
    expect(t.fakes.calls().slice(n)).toEqual(['kind delete cluster --name demo']);
    expect(existsSync(t.run)).toBe(false);
  });

  it('a failure in the middle exports kind logs into the run directory and deletes the cluster it created', async () => {
    const t = setup({ FAKE_FAIL_HELM_RELEASE: 'external-secrets' });
    const err = await t.start().catch((e: unknown) => e);
    expect(String(err)).toContain('fake failure of external-secrets');
    const seq = createSequence(t.run);
    const calls = t.calls();
    expect(calls.slice(0, 5)).toEqual(seq.slice(0, 5));
    expect(calls.slice(5)).toEqual([
      `kind export logs ${join(t.run, 'logs', 'kind')} --name demo`,
      'kind delete cluster --name demo',
    ]);
    // The logs survive in a run directory moved aside; `down --all` finds it by its record.
    const labs = readdirSync(join(t.state, 'labs'));
    expect(labs).toHaveLength(1);
    expect(labs[0]).toMatch(/^k1-failed-/);
    expect(existsSync(join(t.state, 'labs', labs[0]!, 'logs', 'kind', 'kind-version.txt'))).toBe(true);
    expect(readFileSync(t.fakes.clustersFile, 'utf8').trim()).toBe('');
  });

  it('Ctrl-C during create deletes the half-made cluster (the abort signal reaches the fake kind)', async () => {
    const t = setup({ FAKE_HANG_KIND_CREATE: '1' });
    const ac = new AbortController();
    const p = t.start(ac.signal);
    for (let i = 0; i < 200 && !t.fakes.calls().some((c) => c.startsWith('kind create')); i++)
      await new Promise((r) => setTimeout(r, 25));
    ac.abort(new AbortedError('interrupted by SIGINT'));
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).exitCode).toBe(ExitCode.interrupted);
    expect(t.calls().slice(-2)).toEqual([
      `kind export logs ${join(t.run, 'logs', 'kind')} --name demo`,
      'kind delete cluster --name demo',
    ]);
    expect(t.calls().filter((c) => c.startsWith('helm'))).toEqual([]);
  });

  it('with keep, a failure leaves the cluster for inspection', async () => {
    const t = setup({ FAKE_FAIL_HELM_RELEASE: 'hashicorp-vault' });
    await expect(t.start(AbortSignal.timeout(30_000), true)).rejects.toThrow(/fake failure/);
    expect(t.calls().some((c) => c.startsWith('kind delete'))).toBe(false);
    expect(readFileSync(t.fakes.clustersFile, 'utf8').trim()).toBe('demo');
  });

  it('--vault external: Vault from the container starter, CA from the kubeconfig; stop removes the container', async () => {
    const t = setup();
    const lab = await new KindLab(
      { clusterName: 'demo', vault: 'external', dryRun: false },
      {
        fetch: okFetch,
        pollIntervalMs: 10,
        startExternalVault: (r) => {
          expect(r.network).toBe('kind');
          return Promise.resolve({
            containerId: 'c0ffee',
            containerName: 'vault-eso-lab-vault-demo',
            hostAddress: 'http://127.0.0.1:41234',
            networkAddress: 'http://172.18.0.9:8200',
          });
        },
      },
    ).start({ signal: AbortSignal.timeout(30_000), emit: () => {}, env: t.env, name: 'k1' });
    expect(t.calls().some((c) => c.includes('hashicorp-vault vault'))).toBe(false);
    expect(t.calls()).toContain('docker logs c0ffee');
    expect(lab.connection.vault).toMatchObject({
      address: 'http://127.0.0.1:41234',
      serverUrlForEso: 'http://172.18.0.9:8200',
      kubernetesHostForVault: 'https://demo-control-plane:6443',
      kubernetesCaPem: 'FAKE CA PEM',
      outsideCluster: true,
    });
    const n = t.fakes.calls().length;
    await lab.stop();
    expect(t.fakes.calls().slice(n)).toEqual(
      ['kind delete cluster --name demo', 'docker rm -f c0ffee'].reverse(),
    );
  });

  it('faults: seal/unseal through the Vault API, stop/start = scale the StatefulSet, restartEso = rollout restart', async () => {
    const t = setup();
    const seen: string[] = [];
    const lab = await new KindLab(
      { clusterName: 'demo', vault: 'in-cluster', dryRun: false },
      {
        pollIntervalMs: 10,
        fetch: (url, init) => {
          const body = typeof init?.body === 'string' ? init.body : '';
          seen.push(
            `${init?.method ?? 'GET'} ${String(url)}${body.includes(FAKE_UNSEAL_KEY) ? ' +key' : ''}`,
          );
          return okFetch(url, init);
        },
      },
    ).start({ signal: AbortSignal.timeout(30_000), emit: () => {}, env: t.env, name: 'k1' });
    const s = AbortSignal.timeout(10_000);
    const n = t.fakes.calls().length;
    await lab.faults.sealVault(s);
    await lab.faults.unsealVault(s);
    await lab.faults.stopVault(s);
    await lab.faults.startVault(s);
    await lab.faults.restartEso(s);
    expect(seen).toContain('PUT http://127.0.0.1:30820/v1/sys/seal');
    expect(seen).toContain('PUT http://127.0.0.1:30820/v1/sys/unseal +key');
    const k = `kubectl --kubeconfig ${join(t.run, 'kubeconfig')} --context kind-demo`;
    expect(t.fakes.calls().slice(n)).toEqual([
      `${k} scale statefulset hashicorp-vault -n hashicorp-vault --replicas=0`,
      `${k} wait --for=delete pod/hashicorp-vault-0 -n hashicorp-vault --timeout=180s`,
      `${k} scale statefulset hashicorp-vault -n hashicorp-vault --replicas=1`,
      `${k} rollout status statefulset/hashicorp-vault -n hashicorp-vault --timeout=180s`,
      `${k} logs -n hashicorp-vault hashicorp-vault-0`,
      `${k} rollout restart deployment/external-secrets -n external-secrets`,
      `${k} rollout status deployment/external-secrets -n external-secrets --timeout=180s`,
    ]);
    await lab.stop();
  });

  it('plan (--dry-run) lists every command and manifest in order and runs nothing', async () => {
    const t = setup();
    const lines = await t.lab.plan({ env: t.env, name: 'k1', signal: AbortSignal.timeout(5000) });
    expect(t.fakes.calls()).toEqual([]);
    const commands = lines.filter((l) => /^(kind|helm|kubectl|docker) /.test(l));
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'kind get clusters',
      'kind create cluster',
      'kind load image-archive',
      'helm upgrade --install',
      'helm upgrade --install',
      `kubectl --kubeconfig ${join(t.run, 'kubeconfig')}`,
      `kubectl --kubeconfig ${join(t.run, 'kubeconfig')}`,
    ]);
    const text = lines.join('\n');
    expect(text).toContain('kind: SecretStore');
    expect(text).toContain('syncFrequency');
    expect(text).toContain('devRootToken=<random dev root token>');
    expect(existsSync(t.run)).toBe(false);
  });

  it.each(['in-cluster', 'external'] as const)(
    'the plan (--dry-run) lists the commands start runs, in the same order (Vault %s)',
    async (vault) => {
      const t = setup();
      const startExternalVault = () =>
        Promise.resolve({
          containerId: 'c0ffee',
          containerName: 'vault-eso-lab-vault-demo',
          hostAddress: 'http://127.0.0.1:41234',
          networkAddress: 'http://172.18.0.9:8200',
        });
      const lab = (dryRun: boolean) =>
        new KindLab(
          { clusterName: 'demo', vault, dryRun },
          { fetch: okFetch, pollIntervalMs: 10, startExternalVault },
        );
      const plan = await lab(true).plan({ env: t.env, name: 'k1', signal: AbortSignal.timeout(5000) });
      const planned = plan
        .filter((l) => /^(kind|helm|kubectl|docker) /.test(l))
        .map((l) =>
          l
            .replace("'server.dev.devRootToken=<random dev root token>'", 'server.dev.devRootToken=<token>')
            .replace('<container>', 'c0ffee')
            // the plan shell-quotes words, the fakes record them bare
            .replace(/'/g, ''),
        );
      const started = await lab(false).start({
        signal: AbortSignal.timeout(30_000),
        emit: () => {},
        env: t.env,
        name: 'k1',
      });
      expect(t.calls().map((c) => c.replace(/'/g, ''))).toEqual(planned);
      if (vault === 'external') expect(plan.join('\n')).toContain('testcontainers: start');
      expect(plan.join('\n')).toContain('wait until http://127.0.0.1:');
      await started.stop();
    },
  );

  it('bad flags are usage errors (exit 2)', () => {
    expect(() => kindOptionsFromFlags({ vault: 'somewhere' })).toThrow(UsageError);
    expect(() => kindOptionsFromFlags({ 'cluster-name': 'Bad_Name' })).toThrow(/--cluster-name/);
    try {
      kindOptionsFromFlags({ vault: 'x' });
    } catch (e) {
      expect((e as UsageError).exitCode).toBe(2);
    }
    expect(kindOptionsFromFlags({})).toEqual({
      clusterName: 'vault-eso-lab',
      vault: 'in-cluster',
      dryRun: false,
    });
  });
});
