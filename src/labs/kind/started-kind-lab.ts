/**
 * A running kind lab: started by `up`/a scenario (owns the cleanup) or attached from its run directory (`down`,
 * `status`). Status through kind, the Vault client and kubectl; faults: seal/unseal through Vault's API,
 * stop/start = scale Vault's StatefulSet (or stop/start its container), restartEso = rollout restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CleanupStack } from '../../cleanup.ts';
import { errorMessage } from '../../errors.ts';
import type { LabEvent } from '../../report/events.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { waitFor } from '../../time.ts';
import { VaultClient } from '../../vault/client.ts';
import type { ComponentStatus, LabConnection, LabFaults } from '../lab-provider.ts';
import { RecordedLab } from '../recorded-lab.ts';
import type { LabRecord, RunDir } from '../run-dir.ts';
import { sealFaults } from '../vault-seal.ts';
import { readUnsealKey } from './kind-bring-up.ts';
import { RealShell, type KindShell } from './kind-shell.ts';
import {
  ESO_NAMESPACE,
  ESO_RELEASE,
  KIND_TIMEOUTS,
  VAULT_NAMESPACE,
  VAULT_RELEASE,
  kubectlArgs,
} from './kind-spec.ts';
import { resolveKindTools } from './tools.ts';

export interface KindInternals {
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
