/**
 * The local provider: a real control plane (etcd, kube-apiserver, kube-controller-manager), an OpenBao dev server
 * and the real ESO controller, all as local processes bound to 127.0.0.1. `LocalLab.start()` brings them up in
 * order, each with a readiness probe and a timeout, and returns a StartedLocalLab that stops them in reverse.
 */
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CleanupStack } from '../../cleanup.ts';
import { ComponentStartError, LabError, abortError, errorMessage, throwIfAborted } from '../../errors.ts';
import { isAlive, startDaemon, tailLines, type Daemon } from '../../process/command.ts';
import { binaryPath, componentDir } from '../../components/cache.ts';
import { ensureComponents } from '../../components/build.ts';
import { components } from '../../components/versions.ts';
import { secrets } from '../../report/redact.ts';
import { waitFor } from '../../time.ts';
import type { LabEvent } from '../../report/events.ts';
import type {
  ComponentStatus,
  LabConnection,
  LabFaults,
  LabProvider,
  StartOptions,
  StartedLab,
} from '../lab-provider.ts';
import { RunDir, type ComponentRecord, type LabRecord } from '../run-dir.ts';
import { generatePki, randomToken } from './pki.ts';
import { freePorts } from './ports.ts';
import { httpCall } from '../http-call.ts';
import { sealFaults } from '../vault-seal.ts';
import { applyCrds } from './crds.ts';
import { reapStaleLabs, stopRecordedComponents } from './stale.ts';
import {
  apiserverArgs,
  baseEnv,
  etcdArgs,
  kcmArgs,
  type LabFiles,
  type LabPorts,
} from './component-specs.ts';
import { esoArgs, esoEnv, vaultArgs, vaultEnv } from './vault-eso-specs.ts';
import { kubeconfigYaml } from './kubeconfig.ts';

const READY_TIMEOUT_MS = {
  etcd: 20_000,
  apiserver: 60_000,
  kcm: 40_000,
  vault: 20_000,
  crds: 60_000,
  eso: 60_000,
};

export const LOCAL_VERSIONS = {
  kubernetes: components.kubernetes.version,
  etcd: components.etcd.version,
  openbao: components.openbao.version,
  eso: components.eso.version,
};

interface Secrets {
  adminToken: string;
  kcmToken: string;
  vaultToken: string;
  unsealKey?: string;
}

export class LocalLab implements LabProvider {
  readonly name = 'local' as const;

  async start(options: StartOptions): Promise<StartedLocalLab> {
    const { signal, emit, env } = options;
    const started = performance.now();
    await reapStaleLabs(env, (m) => emit({ kind: 'lab.info', message: m }));
    await ensureComponents({ signal, emit, env });
    throwIfAborted(signal);

    const cleanup = new CleanupStack();
    let run: RunDir;
    try {
      run = RunDir.create(options.name, env);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new LabError('E_LAB_EXISTS', `a lab named '${options.name}' is already running`, {
          hint: "use it (scenarios pick it up), or stop it with 'vault-eso-lab down'",
          exitCode: 1,
        });
      throw e;
    }
    cleanup.defer('remove run directory', () => {
      if (!options.keep) run.remove();
    });
    const id = options.name;
    const record: LabRecord = {
      schema: 1,
      id,
      name: options.name,
      provider: 'local',
      state: 'starting',
      ownerPid: process.pid,
      createdAt: new Date().toISOString(),
      components: [],
      versions: { ...LOCAL_VERSIONS },
    };
    run.writeRecord(record);

    const daemons = new Map<string, Daemon>();
    const startComponent = (
      name: string,
      version: string,
      file: string,
      args: string[],
      daemonEnv: Record<string, string>,
      port?: number,
    ) => {
      emit({ kind: 'lab.component.starting', component: name });
      const logFile = run.logFile(name);
      const d = startDaemon({ name, file, args, env: daemonEnv, logFile });
      daemons.set(name, d);
      const rec: ComponentRecord = { name, version, pid: d.pid, port, exe: file, logFile };
      record.components = [...record.components.filter((c) => c.name !== name), rec];
      run.writeRecord(record);
      cleanup.defer(`stop ${name}`, async () => {
        await d.stop();
        emit({ kind: 'lab.component.stopped', component: name });
      });
      return d;
    };

    try {
      const pki = await generatePki();
      const tokens: Secrets = {
        adminToken: randomToken(),
        kcmToken: randomToken(),
        vaultToken: randomToken('lab_'),
      };
      for (const t of [tokens.adminToken, tokens.kcmToken, tokens.vaultToken]) secrets.add(t);
      mkdirSync(run.file('home'), { mode: 0o700 });
      const files: LabFiles = {
        caCert: run.writePrivate('ca.crt', pki.caCertPem),
        servingCert: run.writePrivate('apiserver.crt', pki.servingCertPem),
        servingKey: run.writePrivate('apiserver.key', pki.servingKeyPem),
        saKey: run.writePrivate('sa.key', pki.saKeyPem),
        saPub: run.writePrivate('sa.pub', pki.saPubPem),
        tokensCsv: run.writePrivate(
          'tokens.csv',
          `${tokens.adminToken},lab-admin,lab-admin,"system:masters"\n${tokens.kcmToken},system:kube-controller-manager,kcm,"system:masters"\n`,
        ),
        adminKubeconfig: run.file('kubeconfig'),
        kcmKubeconfig: run.file('kcm.kubeconfig'),
        etcdData: run.file('etcd-data'),
        apiserverCertDir: run.file('apiserver-certs'),
        kcmCertDir: run.file('kcm-certs'),
      };
      const [etcdClient, etcdPeer, apiserver, kcm, vault, esoHealth] = await freePorts(6);
      const ports: LabPorts = {
        etcdClient: etcdClient!,
        etcdPeer: etcdPeer!,
        apiserver: apiserver!,
        kcm: kcm!,
        vault: vault!,
        esoHealth: esoHealth!,
      };
      const server = `https://127.0.0.1:${ports.apiserver}`;
      run.writePrivate(
        'kubeconfig',
        kubeconfigYaml({ server, caPem: pki.caCertPem, token: tokens.adminToken, user: 'lab-admin' }),
      );
      run.writePrivate(
        'kcm.kubeconfig',
        kubeconfigYaml({ server, caPem: pki.caCertPem, token: tokens.kcmToken, user: 'kcm' }),
      );
      run.writePrivate('vault-token', tokens.vaultToken + '\n');

      const env0 = baseEnv(run);
      const k8s = components.kubernetes;
      const ready = async (
        name: string,
        timeoutMs: number,
        what: string,
        probe: () => Promise<{ done: boolean; seen?: string }>,
        port?: number,
      ) => {
        const t0 = performance.now();
        const d = daemons.get(name);
        try {
          await waitFor(
            async () => {
              if (d?.hasExited()) {
                const ex = await d.exited;
                throw new ComponentExited(`exited with ${ex.signal ?? `code ${ex.code}`}`);
              }
              const r = await probe();
              return r.done ? { done: true, value: undefined } : { done: false, seen: r.seen };
            },
            { what, timeoutMs, intervalMs: 100, signal },
          );
        } catch (e) {
          if (signal.aborted) throw abortError(signal);
          const logFile = run.logFile(name);
          throw new ComponentStartError(
            name,
            errorMessage(e),
            { logFile, logTail: readTail(logFile) },
            { cause: e },
          );
        }
        emit({
          kind: 'lab.component.ready',
          component: name,
          durationMs: performance.now() - t0,
          pid: d?.pid,
          port,
        });
      };

      // etcd
      startComponent(
        'etcd',
        components.etcd.version,
        binaryPath(components.etcd, 'etcd', env),
        etcdArgs(files, ports),
        env0,
        ports.etcdClient,
      );
      await ready(
        'etcd',
        READY_TIMEOUT_MS.etcd,
        'etcd /health',
        async () => {
          const r = await httpCall(`http://127.0.0.1:${ports.etcdClient}/health`, { signal });
          return {
            done: r.status === 200 && r.body.includes('"true"'),
            seen: `${r.status} ${r.body.slice(0, 80)}`,
          };
        },
        ports.etcdClient,
      );

      // kube-apiserver
      startComponent(
        'kube-apiserver',
        k8s.version,
        binaryPath(k8s, 'kube-apiserver', env),
        apiserverArgs(files, ports),
        env0,
        ports.apiserver,
      );
      await ready(
        'kube-apiserver',
        READY_TIMEOUT_MS.apiserver,
        'kube-apiserver /readyz',
        async () => {
          const r = await httpCall(`${server}/readyz`, { ca: pki.caCertPem, signal });
          return { done: r.status === 200, seen: `${r.status} ${r.body.slice(-120)}` };
        },
        ports.apiserver,
      );

      // kube-controller-manager: ready when its health port answers and the service-account controller works.
      startComponent(
        'kube-controller-manager',
        k8s.version,
        binaryPath(k8s, 'kube-controller-manager', env),
        kcmArgs(files, ports),
        env0,
        ports.kcm,
      );
      await ready(
        'kube-controller-manager',
        READY_TIMEOUT_MS.kcm,
        'kube-controller-manager to create the default ServiceAccount',
        async () => {
          const h = await httpCall(`https://127.0.0.1:${ports.kcm}/healthz`, { insecure: true, signal });
          if (h.status !== 200) return { done: false, seen: `healthz ${h.status}` };
          const r = await httpCall(`${server}/api/v1/namespaces/default/serviceaccounts/default`, {
            ca: pki.caCertPem,
            headers: { authorization: `Bearer ${tokens.adminToken}` },
            signal,
          });
          return { done: r.status === 200, seen: `default ServiceAccount: ${r.status}` };
        },
        ports.kcm,
      );

      // OpenBao dev server
      const bao = components.openbao;
      const vaultAddr = `http://127.0.0.1:${ports.vault}`;
      const startVault = async () => {
        startComponent(
          'openbao',
          bao.version,
          binaryPath(bao, 'bao', env),
          vaultArgs(ports.vault),
          vaultEnv(env0, tokens.vaultToken),
          ports.vault,
        );
        await ready(
          'openbao',
          READY_TIMEOUT_MS.vault,
          'OpenBao sys/health',
          async () => {
            const r = await httpCall(`${vaultAddr}/v1/sys/health`, { signal });
            return { done: r.status === 200, seen: `${r.status} ${r.body.slice(0, 120)}` };
          },
          ports.vault,
        );
        const key = readUnsealKey(run.logFile('openbao'));
        if (key) {
          tokens.unsealKey = key;
          secrets.add(key);
          run.writePrivate('vault-unseal-key', key + '\n');
        }
      };
      await startVault();

      // ESO's CRDs, server-side, then Established.
      emit({ kind: 'lab.component.starting', component: 'eso-crds' });
      const t0 = performance.now();
      await applyCrds({
        kubectl: binaryPath(k8s, 'kubectl', env),
        kubeconfig: files.adminKubeconfig,
        bundle: `${componentDir(components.eso, env)}/crds.yaml`,
        env: env0,
        signal,
        timeoutMs: READY_TIMEOUT_MS.crds,
      });
      emit({ kind: 'lab.component.ready', component: 'eso-crds', durationMs: performance.now() - t0 });

      // ESO controller
      const eso = components.eso;
      const startEso = async () => {
        startComponent(
          'eso',
          eso.version,
          binaryPath(eso, 'external-secrets', env),
          esoArgs(ports.esoHealth),
          esoEnv(env0, files.adminKubeconfig),
          ports.esoHealth,
        );
        await ready(
          'eso',
          READY_TIMEOUT_MS.eso,
          'ESO health endpoint',
          async () => {
            const r = await httpCall(`http://127.0.0.1:${ports.esoHealth}/healthz`, { signal });
            return { done: r.status === 200, seen: `${r.status}` };
          },
          ports.esoHealth,
        );
      };
      await startEso();

      const connection: LabConnection = {
        provider: 'local',
        kubeconfigPath: files.adminKubeconfig,
        vault: {
          address: vaultAddr,
          token: tokens.vaultToken,
          serverUrlForEso: vaultAddr,
          kubernetesHostForVault: server,
          kubernetesCaPem: pki.caCertPem,
          outsideCluster: true,
          kvMount: 'secret',
        },
        isolation: { runId: id, namespaceSuffix: '', vaultPathPrefix: '', nameSuffix: '' },
        binDirs: [run.file('bin')],
      };
      linkBinDir(run, env);
      record.connection = connection;
      record.state = 'running';
      run.writeRecord(record);
      emit({ kind: 'lab.ready', labId: id, provider: 'local', durationMs: performance.now() - started });

      const lab = new StartedLocalLab(run, record, {
        daemons,
        cleanup,
        emit,
        keep: options.keep ?? false,
        restart: { vault: startVault, eso: startEso },
        unsealKey: () => tokens.unsealKey,
      });
      return lab;
    } catch (e) {
      const failed = e;
      await cleanup.run(15_000, (ce) =>
        emit({ kind: 'lab.info', message: `cleanup: ${ce.what}: ${ce.error}` }),
      );
      if (signal.aborted) throw abortError(signal);
      throw failed;
    }
  }
}

class ComponentExited extends Error {}

/** The last lines of a log, preceded by earlier error lines that the tail would miss. */
function readTail(file: string, n = 25): string {
  try {
    const text = readFileSync(file, 'utf8');
    const tail = tailLines(text, n);
    const errors = text
      .split('\n')
      .filter((l) => /\b(error|fatal|panic)\b/i.test(l) && !tail.includes(l))
      .slice(-5);
    return secrets.redact([...errors, ...(errors.length ? ['...'] : []), tail].join('\n'));
  } catch {
    return '';
  }
}

/** Dev mode prints "Unseal Key: <base64>" once at start. */
export function readUnsealKey(logFile: string): string | undefined {
  try {
    const text = readFileSync(logFile, 'utf8');
    const all = [...text.matchAll(/Unseal Key:\s*(\S+)/g)];
    return all.at(-1)?.[1];
  } catch {
    return undefined;
  }
}

/** `<run>/bin` holds `vault` (→ bao) and `kubectl` links for hand use and the tutorial. */
function linkBinDir(run: RunDir, env: NodeJS.ProcessEnv): void {
  mkdirSync(run.file('bin'), { recursive: true, mode: 0o700 });
  const bao = binaryPath(components.openbao, 'bao', env);
  symlinkSync(bao, run.file('bin', 'vault'));
  symlinkSync(bao, run.file('bin', 'bao'));
  symlinkSync(binaryPath(components.kubernetes, 'kubectl', env), run.file('bin', 'kubectl'));
}

interface LocalInternals {
  daemons: Map<string, Daemon>;
  cleanup: CleanupStack;
  emit: (e: LabEvent) => void;
  keep: boolean;
  restart?: { vault: () => Promise<void>; eso: () => Promise<void> };
  unsealKey: () => string | undefined;
}

/**
 * A running local lab. Created by LocalLab.start() (owns the processes), or by `attach()` from a run directory
 * written by another process (`status`, `down`, a scenario reusing a lab that `up` started).
 */
export class StartedLocalLab implements StartedLab {
  readonly provider = 'local' as const;
  readonly id: string;
  readonly runDir: string;
  readonly connection: LabConnection;
  readonly versions: Record<string, string>;
  readonly faults: LabFaults;
  private stopped = false;

  constructor(
    private readonly run: RunDir,
    private readonly record: LabRecord,
    private readonly internals: LocalInternals | undefined,
  ) {
    if (!record.connection)
      throw new LabError('E_LAB_STATE', `lab ${record.id} has no connection recorded (still starting?)`);
    this.id = record.id;
    this.runDir = run.path;
    this.connection = record.connection;
    this.versions = record.versions;
    secrets.add(this.connection.vault.token);
    this.faults = this.makeFaults();
  }

  static attach(run: RunDir, record: LabRecord): StartedLocalLab {
    return new StartedLocalLab(run, record, undefined);
  }

  /** Hand the processes over: this process no longer owns them (used by `up`). */
  detach(): void {
    this.record.ownerPid = null;
    this.run.writeRecord(this.record);
    this.internals?.cleanup.release();
  }

  async esoLogTail(lines = 40): Promise<string> {
    return readTail(this.run.logFile('eso'), lines);
  }

  async status(signal?: AbortSignal): Promise<ComponentStatus[]> {
    const rec = this.run.readRecord() ?? this.record;
    const probes: Record<string, (port: number) => Promise<boolean>> = {
      etcd: async (p) =>
        (await httpCall(`http://127.0.0.1:${p}/health`, { signal, timeoutMs: 2000 })).status === 200,
      'kube-apiserver': async (p) =>
        (
          await httpCall(`https://127.0.0.1:${p}/readyz`, {
            ca: this.connection.vault.kubernetesCaPem,
            signal,
            timeoutMs: 2000,
          })
        ).status === 200,
      'kube-controller-manager': async (p) =>
        (await httpCall(`https://127.0.0.1:${p}/healthz`, { insecure: true, signal, timeoutMs: 2000 }))
          .status === 200,
      openbao: async (p) =>
        (await httpCall(`http://127.0.0.1:${p}/v1/sys/health`, { signal, timeoutMs: 2000 })).status === 200,
      eso: async (p) =>
        (await httpCall(`http://127.0.0.1:${p}/healthz`, { signal, timeoutMs: 2000 })).status === 200,
    };
    return Promise.all(
      rec.components.map(async (c): Promise<ComponentStatus> => {
        const alive = c.pid !== undefined && isAlive(c.pid);
        let healthy = false;
        let detail = alive ? 'running' : 'not running';
        if (alive && c.port !== undefined && probes[c.name]) {
          try {
            healthy = await probes[c.name]!(c.port);
            if (!healthy) detail = c.name === 'openbao' ? 'sealed or not ready' : 'not ready';
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
    const keep = options.keep ?? this.internals?.keep ?? false;
    if (this.internals && this.internals.cleanup.size > 0) {
      // Owned: stop in reverse start order, then remove the run dir.
      await this.internals.cleanup.run(15_000);
      if (keep) return; // the run-dir cleanup honoured `keep` from start; nothing else to do
      this.run.remove();
    } else {
      this.record.state = 'stopping';
      this.run.writeRecord(this.record);
      await stopRecordedComponents(this.run.readRecord() ?? this.record);
      if (!keep) this.run.remove();
    }
    this.internals?.emit({ kind: 'lab.stopped', labId: this.id });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private makeFaults(): LabFaults {
    const needOwned = (what: string) => {
      if (!this.internals?.restart)
        throw new LabError(
          'E_FAULT_UNSUPPORTED',
          `${what} needs the process that started the lab (run the scenario without a separate 'up')`,
        );
      return this.internals;
    };
    return {
      ...sealFaults(
        this.connection,
        () =>
          readUnsealKey(this.run.logFile('openbao')) ??
          this.internals?.unsealKey() ??
          readFileTrim(this.run.file('vault-unseal-key')),
      ),
      stopVault: async () => {
        const i = needOwned('stopVault');
        await i.daemons.get('openbao')?.stop();
      },
      startVault: async (signal) => {
        const i = needOwned('startVault');
        throwIfAborted(signal);
        await i.restart!.vault();
      },
      restartEso: async (signal) => {
        const i = needOwned('restartEso');
        await i.daemons.get('eso')?.stop();
        throwIfAborted(signal);
        await i.restart!.eso();
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

/** A short random lab id for ephemeral runs. */
export function ephemeralLabName(): string {
  return `run-${randomBytes(4).toString('hex')}`;
}
