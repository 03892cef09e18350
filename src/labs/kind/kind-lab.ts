/**
 * The kind provider: a one-node kind cluster (created, or reused when one of that name exists), Vault (dev mode,
 * Helm release `hashicorp-vault` — or a container on the kind network with `--vault external`) and ESO from its
 * Helm chart. `start()` waits until Vault answers through the mapped port and ESO's webhook accepts a server-side
 * dry-run of a SecretStore. A failure (or Ctrl-C) exports kind's logs into the run directory and deletes what this
 * run created, unless `keep`. Every command goes through a KindShell, so `--dry-run` prints the same sequence.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { CleanupStack } from '../../cleanup.ts';
import { LabError, UsageError, abortError, errorMessage, throwIfAborted } from '../../errors.ts';
import { kindPins } from '../../components/versions.ts';
import { labsRoot } from '../../paths.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { waitFor } from '../../time.ts';
import type { LabEvent } from '../../report/events.ts';
import type {
  ComponentStatus,
  LabConnection,
  LabFaults,
  LabProvider,
  StartOptions,
} from '../lab-provider.ts';
import { RunDir, type LabRecord } from '../run-dir.ts';
import { VaultClient } from '../../vault/client.ts';
import { sealFaults } from '../vault-seal.ts';
import { randomToken } from '../local/pki.ts';
import { DryRunShell, RealShell, type KindShell } from './kind-shell.ts';
import { startExternalVaultContainer, type ExternalVaultStarter } from './external-vault.ts';
import {
  DEFAULT_CLUSTER_NAME,
  ESO_NAMESPACE,
  ESO_RELEASE,
  IN_CLUSTER_KUBERNETES_HOST,
  VAULT_IN_CLUSTER_URL,
  VAULT_NAMESPACE,
  VAULT_NODE_PORT,
  VAULT_RELEASE,
  helmEsoArgs,
  helmVaultArgs,
  isValidClusterName,
  kindContext,
  kindCreateArgs,
  kubectlArgs,
  parseUnsealKey,
  parseVaultPlacement,
  webhookProbeArgs,
  webhookProbeManifest,
  type VaultPlacement,
} from './kind-spec.ts';
import { resolveKindTools } from './tools.ts';
import { RecordedLab } from '../recorded-lab.ts';

export const KIND_TIMEOUTS = {
  vault: 180_000,
  webhook: 180_000,
  rollout: 180_000,
};

export interface KindOptions {
  clusterName: string;
  vault: VaultPlacement;
  dryRun: boolean;
}

/** What tests replace: the Vault client's fetch, the container starter, poll interval and timeouts. */
export interface KindDeps {
  fetch?: typeof fetch;
  startExternalVault?: ExternalVaultStarter;
  pollIntervalMs?: number;
  timeouts?: Partial<typeof KIND_TIMEOUTS>;
}

/** Parse the command-line flags the CLI passes (`--cluster-name`, `--vault`, `--dry-run`); bad input → exit 2. */
export function kindOptionsFromFlags(flags: Record<string, string | boolean | undefined>): KindOptions {
  const clusterName =
    typeof flags['cluster-name'] === 'string' ? flags['cluster-name'] : DEFAULT_CLUSTER_NAME;
  if (!isValidClusterName(clusterName))
    throw new UsageError(
      `--cluster-name must be lowercase letters, digits and '-', at most 50 characters (got '${clusterName}')`,
    );
  const vault = parseVaultPlacement(flags.vault);
  if (!vault) throw new UsageError(`--vault must be in-cluster or external (got '${String(flags.vault)}')`);
  return { clusterName, vault, dryRun: flags['dry-run'] === true };
}

interface UpContext {
  shell: KindShell;
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
  runPath: string;
  writePrivate: (name: string, content: string) => string;
  cleanup: CleanupStack;
  keep: boolean;
  labId: string;
  extra: Record<string, string>;
}

export class KindLab implements LabProvider {
  readonly name = 'kind' as const;
  private readonly timeouts: typeof KIND_TIMEOUTS;

  constructor(
    readonly options: KindOptions,
    private readonly deps: KindDeps = {},
  ) {
    this.timeouts = { ...KIND_TIMEOUTS, ...deps.timeouts };
  }

  private vault(address: string, token: string): VaultClient {
    return new VaultClient({
      address,
      token,
      requestTimeoutMs: 3000,
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
    });
  }

  /** Every command and manifest `start()` would run, in order, without running any. */
  async plan(o: Pick<StartOptions, 'env' | 'name' | 'signal'>): Promise<string[]> {
    const token = '<random dev root token>';
    const shell = new DryRunShell();
    const runPath = join(labsRoot(o.env), o.name);
    shell.note(
      `kind provider, cluster '${this.options.clusterName}', Vault ${this.options.vault}, run directory ${runPath}`,
    );
    await this.bringUp(
      {
        shell,
        signal: o.signal,
        emit: () => {},
        runPath,
        writePrivate: (n) => {
          shell.note(`write ${join(runPath, n)} (mode 0600)`);
          return join(runPath, n);
        },
        cleanup: new CleanupStack(),
        keep: true,
        labId: o.name,
        extra: {},
      },
      token,
    );
    return shell.lines;
  }

  async start(options: StartOptions): Promise<StartedKindLab> {
    if (this.options.dryRun)
      throw new UsageError(
        '--dry-run prints a plan; it cannot start a lab (use `up --provider kind --dry-run`)',
      );
    const { signal, emit, env } = options;
    const tools = resolveKindTools(env, ['docker', 'kind', 'helm', 'kubectl']);
    const shell = new RealShell(tools, env);
    const started = performance.now();
    const cleanup = new CleanupStack();
    let run: RunDir;
    try {
      run = RunDir.create(options.name, env);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new LabError('E_LAB_EXISTS', `a lab named '${options.name}' already exists`, {
          hint: "use it, or stop it with 'vault-eso-lab down'",
        });
      throw e;
    }
    const keep = options.keep ?? false;
    const extra: Record<string, string> = {
      clusterName: this.options.clusterName,
      context: kindContext(this.options.clusterName),
      vault: this.options.vault,
    };
    const record: LabRecord = {
      schema: 1,
      id: options.name,
      name: options.name,
      provider: 'kind',
      state: 'starting',
      ownerPid: process.pid,
      createdAt: new Date().toISOString(),
      components: [],
      versions: {},
      extra,
    };
    run.writeRecord(record);
    cleanup.defer('remove run directory', () => {
      if (!keep) run.remove();
    });
    const rootToken = randomToken('lab_');
    secrets.add(rootToken);
    const ctx: UpContext = {
      shell,
      signal,
      emit,
      runPath: run.path,
      writePrivate: (n, c) => run.writePrivate(n, c),
      cleanup,
      keep,
      labId: options.name,
      extra,
    };
    try {
      const connection = await this.bringUp(ctx, rootToken);
      record.connection = connection;
      record.versions = kindVersions(this.options.vault);
      record.state = 'running';
      run.writeRecord(record);
      emit({
        kind: 'lab.ready',
        labId: record.id,
        provider: 'kind',
        durationMs: performance.now() - started,
      });
      return new StartedKindLab(run, record, {
        shell,
        cleanup,
        emit,
        keep,
        ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
        timeouts: this.timeouts,
      });
    } catch (e) {
      const failed = signal.aborted ? abortError(signal) : e;
      await this.onFailure(ctx, run, record);
      await cleanup.run(120_000, (ce) =>
        emit({ kind: 'lab.info', message: `cleanup: ${ce.what}: ${ce.error}` }),
      );
      throw failed;
    }
  }

  /** Export kind's logs into the run directory (kept, renamed `<name>-failed-<time>`, unless the run was aborted). */
  private async onFailure(ctx: UpContext, run: RunDir, record: LabRecord): Promise<void> {
    if (ctx.extra.clusterExists !== 'true') return;
    const dest = run.file('logs', 'kind');
    try {
      await ctx.shell.run('kind', ['export', 'logs', dest, '--name', this.options.clusterName], {
        signal: AbortSignal.timeout(120_000),
        reject: false,
      });
    } catch {
      /* best effort */
    }
    if (ctx.keep || !existsSync(dest)) return;
    // Keep the logs: move the run directory aside (its record says it is a failed kind start, for `down --all`).
    const aside = `${run.path}-failed-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    record.state = 'stopping';
    record.ownerPid = null;
    record.extra = { ...ctx.extra, failed: 'true', clusterDeleted: ctx.keep ? 'false' : 'true' };
    run.writeRecord(record);
    try {
      renameSync(run.path, aside);
      ctx.emit({ kind: 'lab.info', message: `kind logs exported to ${join(aside, 'logs', 'kind')}` });
    } catch {
      /* the cleanup removes it */
    }
  }

  private async bringUp(ctx: UpContext, rootToken: string): Promise<LabConnection> {
    const { shell, signal, emit } = ctx;
    const name = this.options.clusterName;
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

    // 2. Vault.
    let vaultAddress: string;
    let serverUrlForEso: string;
    let kubernetesHostForVault = IN_CLUSTER_KUBERNETES_HOST;
    let kubernetesCaPem: string | undefined;
    let outsideCluster = false;
    if (this.options.vault === 'in-cluster') {
      await step('vault', () => shell.run('helm', helmVaultArgs(target, rootToken), { signal }));
      vaultAddress = `http://127.0.0.1:${VAULT_NODE_PORT}`;
      serverUrlForEso = VAULT_IN_CLUSTER_URL;
    } else {
      const start = this.deps.startExternalVault ?? startExternalVaultContainer;
      if (shell.dryRun) {
        shell.note(
          `testcontainers: start ${kindPins.externalVaultImage} as vault-eso-lab-vault-${name} on Docker network 'kind' (dev mode, root token <random>)`,
        );
        vaultAddress = 'http://127.0.0.1:<mapped port>';
        serverUrlForEso = 'http://<container IP on the kind network>:8200';
      } else {
        const ev = await step('vault', () =>
          start({ clusterName: name, labId: ctx.labId, rootToken, network: 'kind', signal }),
        );
        ctx.extra.externalVaultId = ev.containerId;
        ctx.extra.externalVaultName = ev.containerName;
        ctx.cleanup.defer(`remove Vault container ${ev.containerName}`, async (s) => {
          if (ctx.keep) return;
          await shell.run('docker', ['rm', '-f', ev.containerId], { signal: s, reject: false });
        });
        vaultAddress = ev.hostAddress;
        serverUrlForEso = ev.networkAddress;
      }
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
      kubernetesCaPem = shell.dryRun ? undefined : Buffer.from(ca.stdout.trim(), 'base64').toString('utf8');
      outsideCluster = true;
    }

    // 3. ESO.
    await step('eso', () => shell.run('helm', helmEsoArgs(target), { signal }));

    // 4. Vault unsealed and answering where the harness reaches it.
    shell.note(`wait until ${vaultAddress}/v1/sys/health answers 200 (unsealed, active)`);
    if (!shell.dryRun)
      await waitFor(
        async () => {
          const h = await this.vault(vaultAddress, rootToken).health(signal);
          return h.httpStatus === 200
            ? { done: true, value: undefined }
            : { done: false, seen: `sys/health ${h.httpStatus}` };
        },
        {
          what: `Vault at ${vaultAddress}`,
          timeoutMs: this.timeouts.vault,
          intervalMs: this.deps.pollIntervalMs ?? 1000,
          signal,
        },
      );
    const unsealKey = await readUnsealKey(shell, this.options.vault, target, ctx.extra, signal);
    if (unsealKey) {
      secrets.add(unsealKey);
      ctx.writePrivate('vault-unseal-key', unsealKey + '\n');
    }
    ctx.writePrivate('vault-token', rootToken + '\n');

    // 5. ESO's webhook accepts a SecretStore (server-side dry-run: nothing is stored).
    shell.note('repeat until it succeeds: ESO webhook readiness (server-side dry-run of a SecretStore)');
    const probe = webhookProbeManifest(serverUrlForEso);
    await waitFor(
      async () => {
        const r = await shell.run('kubectl', webhookProbeArgs(target), {
          signal,
          input: probe,
          reject: false,
        });
        return r.exitCode === 0
          ? { done: true, value: undefined }
          : { done: false, seen: (r.stderr || r.stdout).trim().split('\n').at(-1) };
      },
      {
        what: "ESO's webhook to accept a SecretStore",
        timeoutMs: this.timeouts.webhook,
        intervalMs: this.deps.pollIntervalMs ?? 2000,
        signal,
      },
    );

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
    };
  }
}

async function readUnsealKey(
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
      : await shell.run('docker', ['logs', shell.dryRun ? '<container>' : (extra.externalVaultId ?? '')], {
          signal,
          reject: false,
        });
  return shell.dryRun ? undefined : parseUnsealKey(r.stdout + r.stderr);
}

export function kindVersions(vault: VaultPlacement): Record<string, string> {
  return {
    kind: kindPins.kindVersion,
    kubernetes: kindPins.nodeImage.replace(/^.*:(v[\d.]+).*$/, '$1'),
    vault:
      vault === 'in-cluster'
        ? `chart ${kindPins.vaultChart.version}`
        : kindPins.externalVaultImage.replace(/^.*:/, 'v'),
    eso: `chart ${kindPins.esoChart.version}`,
  };
}

interface KindInternals {
  shell: KindShell;
  cleanup: CleanupStack;
  emit: (e: LabEvent) => void;
  keep: boolean;
  fetch?: typeof fetch;
  timeouts: typeof KIND_TIMEOUTS;
}

/** A running kind lab: started here (owns the cleanup) or attached from its run directory (`down`, `status`). */
export class StartedKindLab extends RecordedLab {
  readonly provider = 'kind' as const;
  readonly faults: LabFaults;
  private readonly shell: KindShell;
  private readonly vault: VaultClient;
  private readonly timeouts: typeof KIND_TIMEOUTS;

  constructor(
    run: RunDir,
    record: LabRecord,
    private readonly internals: KindInternals | undefined,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    super(run, record, record.connection ?? placeholderConnection(record), internals?.cleanup);
    this.shell = internals?.shell ?? new RealShell(resolveKindTools(env, ['docker', 'kind', 'kubectl']), env);
    this.vault = new VaultClient({
      address: this.connection.vault.address,
      token: this.connection.vault.token,
      requestTimeoutMs: 3000,
      ...(internals?.fetch ? { fetch: internals.fetch } : {}),
    });
    this.timeouts = internals?.timeouts ?? KIND_TIMEOUTS;
    this.faults = this.makeFaults();
  }

  static attach(run: RunDir, record: LabRecord, env: NodeJS.ProcessEnv): StartedKindLab {
    return new StartedKindLab(run, record, undefined, env);
  }

  private get extra(): Record<string, string> {
    return this.record.extra ?? {};
  }

  private get target() {
    return { kubeconfig: this.connection.kubeconfigPath, context: this.extra.context ?? '' };
  }

  private kubectl(args: string[], signal: AbortSignal, reject = true) {
    return this.shell.run('kubectl', kubectlArgs(this.target, ...args), { signal, reject });
  }

  async esoLogTail(lines = 40): Promise<string> {
    try {
      const r = await this.kubectl(
        ['logs', '-n', ESO_NAMESPACE, `deployment/${ESO_RELEASE}`, `--tail=${lines}`],
        AbortSignal.timeout(15_000),
        false,
      );
      return secrets.redact(r.stdout);
    } catch {
      return '';
    }
  }

  async status(signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<ComponentStatus[]> {
    const name = this.extra.clusterName ?? '';
    const clusters = await this.shell.run('kind', ['get', 'clusters'], { signal, reject: false });
    const up = clusters.stdout
      .split('\n')
      .map((l) => l.trim())
      .includes(name);
    const out: ComponentStatus[] = [
      {
        name: 'kind-cluster',
        version: this.versions.kubernetes ?? '',
        healthy: up,
        detail: up ? name : `cluster '${name}' not found`,
      },
    ];
    let vaultOk = false;
    let vaultDetail = 'not answering';
    try {
      const h = await this.vault.health(signal);
      vaultOk = h.httpStatus === 200;
      vaultDetail = vaultOk ? 'unsealed' : h.sealed ? 'sealed' : `sys/health ${h.httpStatus}`;
    } catch (e) {
      vaultDetail = errorMessage(e);
    }
    out.push({ name: 'vault', version: this.versions.vault ?? '', healthy: vaultOk, detail: vaultDetail });
    const eso = up
      ? await this.kubectl(
          ['rollout', 'status', '-n', ESO_NAMESPACE, `deployment/${ESO_RELEASE}`, '--timeout=5s'],
          signal,
          false,
        )
      : undefined;
    out.push({
      name: 'eso',
      version: this.versions.eso ?? '',
      healthy: eso?.exitCode === 0,
      detail: eso ? (eso.stdout || eso.stderr).trim().split('\n').at(-1) : 'no cluster',
    });
    return out;
  }

  async stop(options: { keep?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const keep = options.keep ?? this.internals?.keep ?? false;
    if (this.internals && this.internals.cleanup.size > 0) {
      if (options.keep !== undefined) this.internals.keep = options.keep;
      await this.internals.cleanup.run(120_000);
    } else {
      this.record.state = 'stopping';
      this.run.writeRecord(this.record);
      if (!keep) {
        const signal = AbortSignal.timeout(180_000);
        if (this.extra.externalVaultId)
          await this.shell.run('docker', ['rm', '-f', this.extra.externalVaultId], { signal, reject: false });
        if (this.extra.clusterDeleted !== 'true' && this.extra.clusterName)
          await this.shell.run('kind', ['delete', 'cluster', '--name', this.extra.clusterName], { signal });
        this.run.remove();
      }
    }
    this.internals?.emit({ kind: 'lab.stopped', labId: this.id });
  }

  private async waitVault(signal: AbortSignal, want: (status: number) => boolean, what: string) {
    await waitFor(
      async () => {
        const h = await this.vault.health(signal);
        return want(h.httpStatus)
          ? { done: true, value: undefined }
          : { done: false, seen: `sys/health ${h.httpStatus}` };
      },
      { what, timeoutMs: this.timeouts.rollout, intervalMs: 500, signal },
    );
  }

  private makeFaults(): LabFaults {
    const external = this.extra.vault === 'external';
    return {
      ...sealFaults(this.vault, () => readTrim(this.run.file('vault-unseal-key'))),
      stopVault: async (signal) => {
        if (external) {
          await this.shell.run('docker', ['stop', this.extra.externalVaultId ?? ''], { signal });
          return;
        }
        await this.kubectl(
          ['scale', 'statefulset', VAULT_RELEASE, '-n', VAULT_NAMESPACE, '--replicas=0'],
          signal,
        );
        await this.kubectl(
          [
            'wait',
            '--for=delete',
            `pod/${VAULT_RELEASE}-0`,
            '-n',
            VAULT_NAMESPACE,
            `--timeout=${this.timeouts.rollout / 1000}s`,
          ],
          signal,
        );
      },
      startVault: async (signal) => {
        if (external) await this.shell.run('docker', ['start', this.extra.externalVaultId ?? ''], { signal });
        else {
          await this.kubectl(
            ['scale', 'statefulset', VAULT_RELEASE, '-n', VAULT_NAMESPACE, '--replicas=1'],
            signal,
          );
          await this.kubectl(
            [
              'rollout',
              'status',
              `statefulset/${VAULT_RELEASE}`,
              '-n',
              VAULT_NAMESPACE,
              `--timeout=${this.timeouts.rollout / 1000}s`,
            ],
            signal,
          );
        }
        await this.waitVault(signal, (s) => s === 200, 'Vault to answer after start');
        // Dev mode starts with a new unseal key.
        const key = await readUnsealKey(
          this.shell,
          external ? 'external' : 'in-cluster',
          this.target,
          this.extra,
          signal,
        );
        if (key) {
          secrets.add(key);
          this.run.writePrivate('vault-unseal-key', key + '\n');
        }
      },
      restartEso: async (signal) => {
        await this.kubectl(['rollout', 'restart', `deployment/${ESO_RELEASE}`, '-n', ESO_NAMESPACE], signal);
        await this.kubectl(
          [
            'rollout',
            'status',
            `deployment/${ESO_RELEASE}`,
            '-n',
            ESO_NAMESPACE,
            `--timeout=${this.timeouts.rollout / 1000}s`,
          ],
          signal,
        );
      },
    };
  }
}

function placeholderConnection(record: LabRecord): LabConnection {
  return {
    provider: 'kind',
    kubeconfigPath: '',
    vault: {
      address: '',
      token: '',
      serverUrlForEso: '',
      kubernetesHostForVault: '',
      outsideCluster: false,
      kvMount: 'secret',
    },
    isolation: { runId: record.id, namespaceSuffix: '', vaultPathPrefix: '', nameSuffix: '' },
    binDirs: [],
  };
}

function readTrim(p: string): string | undefined {
  try {
    return existsSync(p) ? readFileSync(p, 'utf8').trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}
