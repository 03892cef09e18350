/**
 * The existing provider: a kubeconfig context where Vault and ESO already run (Vault reached through
 * VAULT_ADDR/VAULT_TOKEN). It creates nothing at start; it gives the run an isolation id so scenarios name their
 * namespaces `<name>-<id>`, their policies and roles `<name>-<id>`, their Kubernetes auth mount
 * `kubernetes-<id>` and their Vault paths `vel-<id>/...`, and at stop it sweeps whatever still carries that id
 * (after the scenario's own cleanup), so a run on a shared cluster touches and leaves only its own things.
 * Faults are refused: sealing or stopping a shared Vault is not a test step.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LabError, PrerequisiteError, UsageError, errorMessage } from '../../errors.ts';
import { createKubeClients, isNotFound, statusOf, type KubeClients } from '../../kube/client.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import type { LabEvent } from '../../report/events.ts';
import type {
  ComponentStatus,
  LabConnection,
  LabFaults,
  LabProvider,
  StartOptions,
} from '../lab-provider.ts';
import { RunDir, type LabRecord } from '../run-dir.ts';
import { VaultClient, type HealthStatus } from '../../vault/client.ts';
import { RecordedLab } from '../recorded-lab.ts';

/** ESO's CRDs a scenario needs. */
export const REQUIRED_CRDS = ['secretstores.external-secrets.io', 'externalsecrets.external-secrets.io'];

export interface ExistingOptions {
  context: string;
  kubeconfigPath: string;
  vaultAddr: string;
  vaultToken: string;
  /** SecretStore `server:` (VAULT_ESO_LAB_VAULT_SERVER, default VAULT_ADDR). */
  serverUrlForEso: string;
  /** Vault runs in a pod of this cluster (VAULT_ESO_LAB_VAULT_IN_CLUSTER=true): the tutorial's kubernetes_host. */
  vaultInCluster: boolean;
  /** Override for kubernetes_host (VAULT_ESO_LAB_KUBERNETES_HOST). */
  kubernetesHost?: string;
}

/** From flags and environment; a missing --context or VAULT_* is a usage error (exit 2). */
export function existingOptions(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): ExistingOptions {
  const context = flags.context;
  if (typeof context !== 'string' || !context)
    throw new UsageError('--provider existing needs an explicit --context (a kubeconfig context name)', {
      hint: 'it never falls back to the current context: name the cluster you mean, e.g. --context my-cluster',
    });
  const vaultAddr = env.VAULT_ADDR;
  const vaultToken = env.VAULT_TOKEN;
  if (!vaultAddr || !vaultToken)
    throw new UsageError('--provider existing needs VAULT_ADDR and VAULT_TOKEN in the environment');
  if (!/^https?:\/\//.test(vaultAddr))
    throw new UsageError(`VAULT_ADDR must be an http(s) URL (got '${vaultAddr}')`);
  const kubeconfigPath =
    (env.KUBECONFIG ?? '').split(delimiter).find((p) => p && existsSync(p)) ??
    join(env.HOME ?? homedir(), '.kube', 'config');
  return {
    context,
    kubeconfigPath,
    vaultAddr: vaultAddr.replace(/\/+$/, ''),
    vaultToken,
    serverUrlForEso: env.VAULT_ESO_LAB_VAULT_SERVER ?? vaultAddr.replace(/\/+$/, ''),
    vaultInCluster: env.VAULT_ESO_LAB_VAULT_IN_CLUSTER === 'true',
    ...(env.VAULT_ESO_LAB_KUBERNETES_HOST ? { kubernetesHost: env.VAULT_ESO_LAB_KUBERNETES_HOST } : {}),
  };
}

/** Suffixes and prefix for one run: `-vel3fa9c1` on names, `vel-3fa9c1/` on Vault paths. */
export function isolationFor(runHex: string): LabConnection['isolation'] {
  return {
    runId: `vel${runHex}`,
    namespaceSuffix: `-vel${runHex}`,
    nameSuffix: `-vel${runHex}`,
    vaultPathPrefix: `vel-${runHex}/`,
  };
}

function clusterOf(kc: KubeConfig): { server: string; caPem?: string } {
  const c = kc.getCurrentCluster();
  if (!c) throw new LabError('E_KUBECONFIG', `context ${kc.getCurrentContext()} has no cluster`);
  const caPem = c.caData
    ? Buffer.from(c.caData, 'base64').toString('utf8')
    : c.caFile && existsSync(c.caFile)
      ? readFileSync(c.caFile, 'utf8')
      : undefined;
  return { server: c.server, ...(caPem ? { caPem } : {}) };
}

export async function checkEsoCrds(kube: KubeClients, context: string): Promise<void> {
  const api = kube.kc.makeApiClient(ApiextensionsV1Api);
  const missing: string[] = [];
  for (const name of REQUIRED_CRDS) {
    try {
      await api.readCustomResourceDefinition({ name });
    } catch (e) {
      if (isNotFound(e)) missing.push(name);
      else
        throw new LabError('E_KUBE', `cannot read CRDs in context ${context}: ${errorMessage(e)}`, {
          cause: e,
          hint: 'check the context and that your credentials may read customresourcedefinitions',
        });
    }
  }
  if (missing.length)
    throw new PrerequisiteError(
      'External Secrets Operator',
      `context ${context} has no External Secrets Operator CRDs (${missing.join(', ')} not found)`,
      { hint: 'install ESO there first (helm install external-secrets external-secrets/external-secrets)' },
    );
}

export class ExistingLab implements LabProvider {
  readonly name = 'existing' as const;
  constructor(readonly options: ExistingOptions) {}

  async start(o: StartOptions): Promise<StartedExistingLab> {
    const opt = this.options;
    secrets.add(opt.vaultToken);
    const kube = createKubeClients(opt.kubeconfigPath, opt.context);
    await checkEsoCrds(kube, opt.context);
    const vault = new VaultClient({ address: opt.vaultAddr, token: opt.vaultToken, requestTimeoutMs: 5000 });
    let health: HealthStatus;
    try {
      health = await vault.health(o.signal);
    } catch (e) {
      if (o.signal.aborted) throw e;
      throw new LabError('E_VAULT', `Vault at ${opt.vaultAddr} does not answer: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    if (health.httpStatus !== 200)
      throw new LabError(
        'E_VAULT',
        `Vault at ${opt.vaultAddr} is not active and unsealed (sys/health ${health.httpStatus}${health.sealed ? ', sealed' : ''})`,
      );
    const cluster = clusterOf(kube.kc);
    const isolation = isolationFor(randomBytes(3).toString('hex'));
    const connection: LabConnection = {
      provider: 'existing',
      kubeconfigPath: opt.kubeconfigPath,
      context: opt.context,
      vault: {
        address: opt.vaultAddr,
        token: opt.vaultToken,
        serverUrlForEso: opt.serverUrlForEso,
        kubernetesHostForVault:
          opt.kubernetesHost ?? (opt.vaultInCluster ? 'https://kubernetes.default.svc:443' : cluster.server),
        ...(!opt.vaultInCluster && cluster.caPem ? { kubernetesCaPem: cluster.caPem } : {}),
        outsideCluster: !opt.vaultInCluster,
        kvMount: 'secret',
      },
      isolation,
      binDirs: [],
    };
    const run = RunDir.create(o.name, o.env);
    const record: LabRecord = {
      schema: 1,
      id: o.name,
      name: o.name,
      provider: 'existing',
      state: 'running',
      ownerPid: process.pid,
      createdAt: new Date().toISOString(),
      components: [],
      connection,
      versions: { vault: health.version ?? 'unknown', eso: 'as installed' },
      extra: { context: opt.context },
    };
    run.writeRecord(record);
    o.emit({
      kind: 'lab.info',
      message: `existing cluster '${opt.context}': run isolation id ${isolation.runId}`,
    });
    o.emit({ kind: 'lab.ready', labId: o.name, provider: 'existing', durationMs: 0 });
    return new StartedExistingLab(run, record, o.emit, o.keep ?? false);
  }
}

/** What is left of one run, found by its isolation id. */
export interface Leftovers {
  namespaces: string[];
  clusterRoleBindings: string[];
  policies: string[];
  authMounts: string[];
  kvPaths: string[];
}

export class StartedExistingLab extends RecordedLab {
  readonly provider = 'existing' as const;
  readonly faults: LabFaults;

  constructor(
    run: RunDir,
    record: LabRecord,
    private readonly emit: (e: LabEvent) => void = () => {},
    private readonly keep = false,
  ) {
    if (!record.connection) throw new LabError('E_LAB_STATE', `lab ${record.id} has no connection recorded`);
    super(run, record, record.connection);
    const refuse = (what: string) => () =>
      Promise.reject(
        new LabError('E_FAULT_UNSUPPORTED', `${what} is not done on an existing cluster (it is shared)`, {
          hint: 'run fault scenarios on the local or kind provider',
        }),
      );
    this.faults = {
      sealVault: refuse('sealVault'),
      unsealVault: refuse('unsealVault'),
      stopVault: refuse('stopVault'),
      startVault: refuse('startVault'),
      restartEso: refuse('restartEso'),
    };
  }

  static attach(run: RunDir, record: LabRecord): StartedExistingLab {
    return new StartedExistingLab(run, record);
  }

  private kube(): KubeClients {
    return createKubeClients(this.connection.kubeconfigPath, this.connection.context);
  }

  private vault(): VaultClient {
    const v = this.connection.vault;
    return new VaultClient({ address: v.address, token: v.token, kvMount: v.kvMount });
  }

  /** Everything in the cluster and Vault that carries this run's isolation id. */
  async leftovers(signal?: AbortSignal): Promise<Leftovers> {
    const iso = this.connection.isolation;
    const kube = this.kube();
    const ns = await kube.core.listNamespace();
    const crbs = await kube.rbac.listClusterRoleBinding();
    const vault = this.vault();
    const policies = await vault.policyList(signal);
    const auth = await vault.authList(signal);
    const prefix = iso.vaultPathPrefix.replace(/\/+$/, '');
    const kvRoot = await vault.kvList('', signal);
    const kvPaths = prefix && kvRoot.includes(`${prefix}/`) ? await this.kvTree(`${prefix}/`, signal) : [];
    return {
      namespaces: ns.items
        .map((n) => n.metadata?.name ?? '')
        .filter((n) => n.endsWith(iso.namespaceSuffix) && n.length > iso.namespaceSuffix.length),
      clusterRoleBindings: crbs.items
        .map((b) => b.metadata?.name ?? '')
        .filter((n) => n.includes(iso.namespaceSuffix)),
      policies: policies.filter((p) => p.endsWith(iso.nameSuffix)),
      authMounts: Object.keys(auth)
        .map((m) => m.replace(/\/$/, ''))
        .filter((m) => m.endsWith(iso.nameSuffix)),
      kvPaths,
    };
  }

  private async kvTree(dir: string, signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    for (const k of await this.vault().kvList(dir, signal)) {
      if (k.endsWith('/')) out.push(...(await this.kvTree(`${dir}${k}`, signal)));
      else out.push(`${dir}${k}`);
    }
    return out;
  }

  /** Delete whatever this run left (the scenario's own cleanup normally leaves nothing). */
  async sweep(signal: AbortSignal = AbortSignal.timeout(120_000)): Promise<Leftovers> {
    const l = await this.leftovers(signal);
    const kube = this.kube();
    const vault = this.vault();
    for (const p of l.kvPaths) await vault.kvDestroyAll(p, signal);
    for (const m of l.authMounts) await vault.authDisable(m, signal);
    for (const p of l.policies) await vault.policyDelete(p, signal);
    for (const b of l.clusterRoleBindings)
      await kube.rbac.deleteClusterRoleBinding({ name: b }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    for (const n of l.namespaces)
      await kube.core.deleteNamespace({ name: n }).catch((e: unknown) => {
        if (!isNotFound(e) && statusOf(e) !== 409) throw e;
      });
    return l;
  }

  async esoLogTail(): Promise<string> {
    return '';
  }

  async status(signal?: AbortSignal): Promise<ComponentStatus[]> {
    const kube = this.kube();
    let k8sOk = false;
    let detail = '';
    try {
      await checkEsoCrds(kube, this.connection.context ?? '');
      k8sOk = true;
      detail = `context ${this.connection.context}, ESO CRDs present`;
    } catch (e) {
      detail = errorMessage(e);
    }
    let vaultOk = false;
    let vaultDetail = '';
    try {
      const h = await this.vault().health(signal);
      vaultOk = h.httpStatus === 200;
      vaultDetail = vaultOk ? 'unsealed' : h.sealed ? 'sealed' : `sys/health ${h.httpStatus}`;
    } catch (e) {
      vaultDetail = errorMessage(e);
    }
    return [
      { name: 'kubernetes', version: '', healthy: k8sOk, detail },
      { name: 'vault', version: this.versions.vault ?? '', healthy: vaultOk, detail: vaultDetail },
    ];
  }

  async stop(options: { keep?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const keep = options.keep ?? this.keep;
    if (!keep) {
      const l = await this.sweep();
      const n = Object.values(l).reduce((a, v: string[]) => a + v.length, 0);
      if (n)
        this.emit({
          kind: 'lab.info',
          message: `removed ${n} leftover(s) of run ${this.connection.isolation.runId}`,
        });
      this.run.remove();
    }
    this.emit({ kind: 'lab.stopped', labId: this.id });
  }
}
