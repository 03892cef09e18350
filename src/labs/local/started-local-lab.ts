/**
 * A running local lab. Created by LocalLab.start() (owns the processes), or by `attach()` from a run directory
 * written by another process (`status`, `down`, a scenario reusing a lab that `up` started). Faults restart
 * OpenBao or ESO through the same `launch()` as the start, recorded in lab.json, so they work from any process.
 */
import { readFileSync } from 'node:fs';
import type { CleanupStack } from '../../cleanup.ts';
import { LabError, errorMessage } from '../../errors.ts';
import { isAlive, stopMarkedProcesses } from '../../process/command.ts';
import type { LabEvent } from '../../report/events.ts';
import { sleep } from '../../time.ts';
import type { ComponentStatus, LabFaults, PrivateVault } from '../lab-provider.ts';
import { RecordedLab } from '../recorded-lab.ts';
import type { LabRecord, RunDir } from '../run-dir.ts';
import { httpCall } from '../http-call.ts';
import { sealFaults } from '../vault-seal.ts';
import { VaultClient } from '../../vault/client.ts';
import { esoSpec } from './control-plane.ts';
import { launch, readTail, stopComponent } from './launch.ts';
import { cleanupNodeLeftovers, nodeImageList } from './node/local-node.ts';
import { captureUnsealKey, countUnsealKeys, readUnsealKey, vaultSpec } from './openbao.ts';
import { reapOrphanedPrivateVaults, startPrivateVault } from './private-vault.ts';
import { stopRecordedComponents } from './stale.ts';
import { vaultServer, type VaultServer } from '../vault-server.ts';

/** What only the process that started the lab has. */
export interface Ownership {
  cleanup: CleanupStack;
  emit: (e: LabEvent) => void;
  /** Shared with the start's cleanup: whether stopping leaves the run directory. */
  ownership: { keep: boolean };
}

export class StartedLocalLab extends RecordedLab {
  readonly provider = 'local' as const;
  readonly faults: LabFaults;
  private readonly server: VaultServer;
  /** Where the run directory was kept by `stop({ keep: true })`. */
  keptAt: string | undefined;

  constructor(
    run: RunDir,
    record: LabRecord,
    private readonly env: NodeJS.ProcessEnv,
    private readonly owned: Ownership | undefined,
  ) {
    if (!record.connection)
      throw new LabError('E_LAB_STATE', `lab ${record.id} has no connection recorded (still starting?)`);
    super(run, record, record.connection, owned?.cleanup);
    this.server = vaultServer(record.vaultServer);
    this.faults = this.makeFaults();
  }

  static attach(run: RunDir, record: LabRecord, env: NodeJS.ProcessEnv = process.env): StartedLocalLab {
    return new StartedLocalLab(run, record, env, undefined);
  }

  async listNodeImages(signal?: AbortSignal): Promise<string[]> {
    const socket = this.connection.node?.containerdSocket;
    return socket ? nodeImageList(socket, this.env, signal) : [];
  }

  /** ESO's log file (JSON lines, debug level), for figures over a whole run (bench scale). */
  esoLogFile(): string {
    return this.run.logFile('eso');
  }

  async esoLogTail(lines = 40): Promise<string> {
    return readTail(this.run.logFile('eso'), lines);
  }

  /** A Vault dev server of one scenario's own (see private-vault.ts); the caller stops it. */
  privateVault(tag: string, signal: AbortSignal): Promise<PrivateVault> {
    return startPrivateVault({
      run: this.run,
      env: this.env,
      server: this.server,
      base: this.connection.vault,
      tag,
      signal,
    });
  }

  async status(signal?: AbortSignal): Promise<ComponentStatus[]> {
    // A scenario run killed with a private Vault server running leaves it: the next look at the lab stops it.
    await reapOrphanedPrivateVaults(this.run);
    const rec = this.run.readRecord() ?? this.record;
    const ca = this.connection.vault.kubernetesCaPem;
    const get = async (
      url: string,
      o: { ca?: string; insecure?: boolean; cert?: string; key?: string } = {},
    ) => (await httpCall(url, { ...o, signal, timeoutMs: 2000 })).status === 200;
    const file = (n: string) => readFileSync(this.run.file(n), 'utf8');
    const probes: Record<string, (port: number) => Promise<boolean>> = {
      etcd: (p) =>
        get(`https://127.0.0.1:${p}/health`, {
          ca,
          cert: file('etcd-client.crt'),
          key: file('etcd-client.key'),
        }),
      'kube-apiserver': (p) => get(`https://127.0.0.1:${p}/readyz`, { ca }),
      'kube-controller-manager': (p) => get(`https://127.0.0.1:${p}/healthz`, { insecure: true }),
      'kube-scheduler': (p) => get(`https://127.0.0.1:${p}/healthz`, { insecure: true }),
      [this.server.component]: async (p) =>
        (
          await new VaultClient({
            address: `http://127.0.0.1:${p}`,
            token: '',
            requestTimeoutMs: 2000,
          }).health(signal)
        ).httpStatus === 200,
      eso: (p) => get(`http://127.0.0.1:${p}/healthz`),
    };
    return Promise.all(
      rec.components.map(async (c): Promise<ComponentStatus> => {
        const alive = c.pid !== undefined && isAlive(c.pid);
        let healthy = alive && !probes[c.name];
        let detail = alive ? 'running' : 'not running';
        const probe = probes[c.name];
        if (alive && c.port !== undefined && probe) {
          try {
            healthy = await probe(c.port);
            if (!healthy) detail = c.name === this.server.component ? 'sealed or not ready' : 'not ready';
          } catch (e) {
            detail = errorMessage(e);
          }
        }
        return { name: c.name, version: c.version, pid: c.pid, port: c.port, healthy, detail };
      }),
    );
  }

  async stop(options: { keep?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (options.keep !== undefined && this.owned) this.owned.ownership.keep = options.keep;
    const keep = options.keep ?? this.owned?.ownership.keep ?? false;
    if (this.owned && this.owned.cleanup.size > 0) {
      // Owned: stop in reverse start order; the run-dir cleanup honours `keep` (set just above).
      await this.owned.cleanup.run(15_000);
    } else {
      this.record.state = 'stopping';
      this.run.writeRecord(this.record);
      await stopRecordedComponents(this.run.readRecord() ?? this.record);
      await stopMarkedProcesses(this.run.path);
      await cleanupNodeLeftovers(this.run.path);
      if (!keep) this.run.remove();
    }
    if (keep) this.keptAt = this.run.keepAs(this.run.readRecord() ?? this.record);
    this.owned?.emit({ kind: 'lab.stopped', labId: this.id });
  }

  private port(name: string): number {
    const p = this.record.components.find((c) => c.name === name)?.port;
    if (p === undefined) throw new LabError('E_LAB_STATE', `lab ${this.id} has no port recorded for ${name}`);
    return p;
  }

  private emit(e: LabEvent): void {
    this.owned?.emit(e);
  }

  private async startVault(signal: AbortSignal): Promise<void> {
    const name = this.server.component;
    const before = countUnsealKeys(this.run.logFile(name));
    const spec = vaultSpec(this.run, this.env, this.port(name), this.connection.vault.token, this.server);
    await launch(this.run, this.record, spec, signal, (e) => this.emit(e));
    await captureUnsealKey(this.run, before, signal, this.server);
  }

  private makeFaults(): LabFaults {
    return {
      ...sealFaults(
        this.connection,
        () =>
          readUnsealKey(this.run.logFile(this.server.component)) ??
          readFileTrim(this.run.file('vault-unseal-key')),
      ),
      stopVault: async () => {
        await stopComponent(this.record, this.server.component);
        // The same port is reused on start: make sure it is released.
        await sleep(100);
      },
      startVault: (signal) => this.startVault(signal),
      restartEso: async (signal) => {
        await stopComponent(this.record, 'eso');
        const extra = this.record.extra?.esoArgs?.split(' ').filter(Boolean) ?? [];
        const spec = esoSpec(this.run, this.env, this.port('eso'), this.run.file('eso.kubeconfig'), extra);
        await launch(this.run, this.record, spec, signal, (e) => this.emit(e));
      },
    };
  }
}

function readFileTrim(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
