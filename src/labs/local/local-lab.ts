/**
 * The local provider: a real control plane (etcd, kube-apiserver, kube-controller-manager), an OpenBao dev server
 * and the real ESO controller, all as local processes bound to 127.0.0.1. `LocalLab.start()` brings them up in
 * order, each with a readiness probe and a timeout, and returns a StartedLocalLab that stops them in reverse.
 * Every component is (re)started through one path, `launch()`, which records it in lab.json — so a lab attached
 * from another process (`up` then `scenario`) can restart OpenBao or ESO for fault scenarios too.
 */
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CleanupStack } from '../../cleanup.ts';
import { ComponentStartError, LabError, abortError, errorMessage } from '../../errors.ts';
import {
  isAlive,
  processExecutable,
  startDaemon,
  stopProcessGroup,
  tailLines,
} from '../../process/command.ts';
import { binaryPath, componentDir } from '../../components/cache.ts';
import { ensureComponents } from '../../components/build.ts';
import { components } from '../../components/versions.ts';
import { secrets } from '../../report/redact.ts';
import { sleep, waitFor } from '../../time.ts';
import type { LabEvent } from '../../report/events.ts';
import type {
  ComponentStatus,
  LabConnection,
  LabFaults,
  LabProvider,
  StartOptions,
} from '../lab-provider.ts';
import { RunDir, type LabRecord } from '../run-dir.ts';
import { RecordedLab } from '../recorded-lab.ts';
import { generatePki, randomToken } from './pki.ts';
import { freePorts } from './ports.ts';
import { httpCall } from '../http-call.ts';
import { sealFaults } from '../vault-seal.ts';
import { applyEsoManifests } from './crds.ts';
import { ESO_NAMESPACE, ESO_RBAC_FILE, ESO_SERVICE_ACCOUNT } from '../../components/eso-chart.ts';
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
import { vaultServer, type VaultServer } from '../vault-server.ts';
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

/** The versions a local lab records, naming its real Vault server. */
export function localVersions(server: VaultServer): Record<string, string> {
  return {
    kubernetes: components.kubernetes.version,
    etcd: components.etcd.version,
    [server.component]: server.pin.version,
    eso: components.eso.version,
  };
}

type Probe = (signal: AbortSignal) => Promise<{ done: boolean; seen?: string }>;

/** How to start one component and how to tell it is ready. */
interface ComponentSpec {
  name: string;
  version: string;
  file: string;
  args: string[];
  env: Record<string, string>;
  port?: number;
  what: string;
  timeoutMs: number;
  probe: Probe;
}

/** Start a component, record it in lab.json, wait until it is ready (or exited), and say so. */
async function launch(
  run: RunDir,
  record: LabRecord,
  spec: ComponentSpec,
  signal: AbortSignal,
  emit: (e: LabEvent) => void,
): Promise<void> {
  emit({ kind: 'lab.component.starting', component: spec.name });
  const logFile = run.logFile(spec.name);
  const d = startDaemon({ name: spec.name, file: spec.file, args: spec.args, env: spec.env, logFile });
  record.components = [
    ...record.components.filter((c) => c.name !== spec.name),
    { name: spec.name, version: spec.version, pid: d.pid, port: spec.port, exe: spec.file, logFile },
  ];
  run.writeRecord(record);
  const t0 = performance.now();
  let exited: string | undefined;
  try {
    await waitFor(
      async () => {
        if (d.hasExited()) {
          // Fail fast: a component that exited will not become ready.
          const ex = await d.exited;
          exited = `exited with ${ex.signal ?? `code ${ex.code}`} before it was ready`;
          return { done: true, value: undefined };
        }
        const r = await spec.probe(signal);
        return r.done ? { done: true, value: undefined } : { done: false, seen: r.seen };
      },
      { what: spec.what, timeoutMs: spec.timeoutMs, intervalMs: 100, signal },
    );
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    throw new ComponentStartError(
      spec.name,
      errorMessage(e),
      { logFile, logTail: readTail(logFile) },
      { cause: e },
    );
  }
  if (exited) throw new ComponentStartError(spec.name, exited, { logFile, logTail: readTail(logFile) });
  emit({
    kind: 'lab.component.ready',
    component: spec.name,
    durationMs: performance.now() - t0,
    pid: d.pid,
    port: spec.port,
  });
}

/** Stop one recorded component (only while its pid still runs the recorded executable). */
async function stopComponent(record: LabRecord, name: string): Promise<void> {
  const c = record.components.find((x) => x.name === name);
  if (!c?.pid || !isAlive(c.pid)) return;
  const exe = processExecutable(c.pid);
  if (c.exe && exe && exe !== c.exe) return;
  await stopProcessGroup(c.pid, 5000);
}

function vaultSpec(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  port: number,
  token: string,
  server: VaultServer,
): ComponentSpec {
  return {
    name: server.component,
    version: server.pin.version,
    file: binaryPath(server.pin, server.binary, env),
    args: vaultArgs(port),
    env: vaultEnv(baseEnv(run), token, server.name),
    port,
    what: `${server.label} sys/health`,
    timeoutMs: READY_TIMEOUT_MS.vault,
    probe: async (signal) => {
      const r = await httpCall(`http://127.0.0.1:${port}/v1/sys/health`, { signal });
      return { done: r.status === 200, seen: `${r.status} ${r.body.slice(0, 120)}` };
    },
  };
}

function esoSpec(run: RunDir, env: NodeJS.ProcessEnv, port: number, kubeconfig: string): ComponentSpec {
  const eso = components.eso;
  return {
    name: 'eso',
    version: eso.version,
    file: binaryPath(eso, 'external-secrets', env),
    args: esoArgs(port),
    env: esoEnv(baseEnv(run), kubeconfig),
    port,
    what: 'ESO health endpoint',
    timeoutMs: READY_TIMEOUT_MS.eso,
    probe: async (signal) => {
      const r = await httpCall(`http://127.0.0.1:${port}/healthz`, { signal });
      return { done: r.status === 200, seen: `${r.status}` };
    },
  };
}

/** A year-long token for ESO's ServiceAccount (the lab lives far shorter; `up` labs may live for days). */
async function serviceAccountToken(
  server: string,
  ca: string,
  adminToken: string,
  signal: AbortSignal,
): Promise<string> {
  const r = await httpCall(
    `${server}/api/v1/namespaces/${ESO_NAMESPACE}/serviceaccounts/${ESO_SERVICE_ACCOUNT}/token`,
    {
      method: 'POST',
      ca,
      headers: { authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 31_536_000 },
      }),
      signal,
    },
  );
  const token =
    r.status === 201 || r.status === 200
      ? (JSON.parse(r.body) as { status?: { token?: string } }).status?.token
      : undefined;
  if (!token)
    throw new ComponentStartError(
      'eso',
      `could not get a token for ServiceAccount ${ESO_NAMESPACE}/${ESO_SERVICE_ACCOUNT}: HTTP ${r.status}`,
      {},
    );
  return token;
}

function countUnsealKeys(logFile: string): number {
  try {
    return [...readFileSync(logFile, 'utf8').matchAll(/Unseal Key:\s*\S+/g)].length;
  } catch {
    return 0;
  }
}

/**
 * Dev mode prints a fresh unseal key at every start, a moment after sys/health already answers: wait for the
 * key line of this start (the `before`+1-th), then keep it in `vault-unseal-key` (0600).
 */
async function captureUnsealKey(
  run: RunDir,
  before: number,
  signal: AbortSignal,
  server: VaultServer,
): Promise<void> {
  const log = run.logFile(server.component);
  await waitFor(
    async () =>
      countUnsealKeys(log) > before
        ? { done: true as const, value: undefined }
        : { done: false as const, seen: 'no unseal key line yet' },
    {
      what: `${server.label}'s unseal key in its log`,
      timeoutMs: 10_000,
      intervalMs: 50,
      signal,
    },
  ).catch(() => undefined);
  const key = readUnsealKey(log);
  if (key) {
    secrets.add(key);
    run.writePrivate('vault-unseal-key', key + '\n');
  }
}

export class LocalLab implements LabProvider {
  readonly name = 'local' as const;

  async start(options: StartOptions): Promise<StartedLocalLab> {
    const { signal, emit, env } = options;
    const started = performance.now();
    await reapStaleLabs(env, (m) => emit({ kind: 'lab.info', message: m }));
    await ensureComponents({ signal, emit, env });
    const vaultSrv = vaultServer(options.vaultServer);
    // HashiCorp Vault is optional: built when first asked for.
    if (vaultSrv.component !== 'openbao')
      await ensureComponents({ signal, emit, env, only: [vaultSrv.component] });
    if (signal.aborted) throw abortError(signal);

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
      versions: localVersions(vaultSrv),
      vaultServer: vaultSrv.name,
    };
    run.writeRecord(record);
    // Runs after the per-component stops: whatever lab.json still lists as running (e.g. a restarted OpenBao).
    cleanup.defer('stop recorded components', () => stopRecordedComponents(run.readRecord() ?? record));

    const start = async (spec: ComponentSpec) => {
      cleanup.defer(`stop ${spec.name}`, async () => {
        await stopComponent(run.readRecord() ?? record, spec.name);
        emit({ kind: 'lab.component.stopped', component: spec.name });
      });
      await launch(run, record, spec, signal, emit);
    };

    try {
      const pki = await generatePki();
      const adminToken = randomToken();
      const kcmToken = randomToken();
      const vaultToken = randomToken('lab_'); // OpenBao refuses custom root token ids with its own prefixes (hvs., s.)
      for (const t of [adminToken, kcmToken, vaultToken]) secrets.add(t);
      mkdirSync(run.file('home'), { mode: 0o700 });
      const files: LabFiles = {
        caCert: run.writePrivate('ca.crt', pki.caCertPem),
        servingCert: run.writePrivate('apiserver.crt', pki.servingCertPem),
        servingKey: run.writePrivate('apiserver.key', pki.servingKeyPem),
        saKey: run.writePrivate('sa.key', pki.saKeyPem),
        saPub: run.writePrivate('sa.pub', pki.saPubPem),
        tokensCsv: run.writePrivate(
          'tokens.csv',
          `${adminToken},lab-admin,lab-admin,"system:masters"\n${kcmToken},system:kube-controller-manager,kcm,"system:masters"\n`,
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
        kubeconfigYaml({ server, caPem: pki.caCertPem, token: adminToken, user: 'lab-admin' }),
      );
      run.writePrivate(
        'kcm.kubeconfig',
        kubeconfigYaml({ server, caPem: pki.caCertPem, token: kcmToken, user: 'kcm' }),
      );
      run.writePrivate('vault-token', vaultToken + '\n');

      const env0 = baseEnv(run);
      const k8s = components.kubernetes;

      await start({
        name: 'etcd',
        version: components.etcd.version,
        file: binaryPath(components.etcd, 'etcd', env),
        args: etcdArgs(files, ports),
        env: env0,
        port: ports.etcdClient,
        what: 'etcd /health',
        timeoutMs: READY_TIMEOUT_MS.etcd,
        probe: async (s) => {
          const r = await httpCall(`http://127.0.0.1:${ports.etcdClient}/health`, { signal: s });
          return {
            done: r.status === 200 && r.body.includes('"true"'),
            seen: `${r.status} ${r.body.slice(0, 80)}`,
          };
        },
      });

      await start({
        name: 'kube-apiserver',
        version: k8s.version,
        file: binaryPath(k8s, 'kube-apiserver', env),
        args: apiserverArgs(files, ports),
        env: env0,
        port: ports.apiserver,
        what: 'kube-apiserver /readyz',
        timeoutMs: READY_TIMEOUT_MS.apiserver,
        probe: async (s) => {
          const r = await httpCall(`${server}/readyz`, { ca: pki.caCertPem, signal: s });
          return { done: r.status === 200, seen: `${r.status} ${r.body.slice(-120)}` };
        },
      });

      // ESO's CRDs, server-side, then Established — before kube-controller-manager, so that its garbage collector
      // discovers ESO's kinds at start instead of at its next 30 s discovery resync (owned Secrets are then
      // collected as soon as their ExternalSecret goes).
      emit({ kind: 'lab.component.starting', component: 'eso-crds' });
      const t0 = performance.now();
      await applyEsoManifests({
        kubectl: binaryPath(k8s, 'kubectl', env),
        kubeconfig: files.adminKubeconfig,
        crds: `${componentDir(components.eso, env)}/crds.yaml`,
        rbac: ESO_RBAC_FILE,
        env: env0,
        signal,
        timeoutMs: READY_TIMEOUT_MS.crds,
      });
      // ESO runs as the chart's ServiceAccount, with exactly the chart's RBAC: a token from the TokenRequest API.
      const esoToken = await serviceAccountToken(server, pki.caCertPem, adminToken, signal);
      secrets.add(esoToken);
      run.writePrivate(
        'eso.kubeconfig',
        kubeconfigYaml({
          server,
          caPem: pki.caCertPem,
          token: esoToken,
          user: `${ESO_NAMESPACE}-${ESO_SERVICE_ACCOUNT}`,
        }),
      );
      emit({ kind: 'lab.component.ready', component: 'eso-crds', durationMs: performance.now() - t0 });

      // Ready when its health port answers and the service-account controller has done its work.
      await start({
        name: 'kube-controller-manager',
        version: k8s.version,
        file: binaryPath(k8s, 'kube-controller-manager', env),
        args: kcmArgs(files, ports),
        env: env0,
        port: ports.kcm,
        what: 'kube-controller-manager to create the default ServiceAccount',
        timeoutMs: READY_TIMEOUT_MS.kcm,
        probe: async (s) => {
          const h = await httpCall(`https://127.0.0.1:${ports.kcm}/healthz`, { insecure: true, signal: s });
          if (h.status !== 200) return { done: false, seen: `healthz ${h.status}` };
          const r = await httpCall(`${server}/api/v1/namespaces/default/serviceaccounts/default`, {
            ca: pki.caCertPem,
            headers: { authorization: `Bearer ${adminToken}` },
            signal: s,
          });
          return { done: r.status === 200, seen: `default ServiceAccount: ${r.status}` };
        },
      });

      const keysBefore = countUnsealKeys(run.logFile(vaultSrv.component));
      await start(vaultSpec(run, env, ports.vault, vaultToken, vaultSrv));
      await captureUnsealKey(run, keysBefore, signal, vaultSrv);

      await start(esoSpec(run, env, ports.esoHealth, run.file('eso.kubeconfig')));

      const vaultAddr = `http://127.0.0.1:${ports.vault}`;
      const connection: LabConnection = {
        provider: 'local',
        kubeconfigPath: files.adminKubeconfig,
        vault: {
          address: vaultAddr,
          token: vaultToken,
          serverUrlForEso: vaultAddr,
          kubernetesHostForVault: server,
          kubernetesCaPem: pki.caCertPem,
          outsideCluster: true,
          kvMount: 'secret',
        },
        isolation: { runId: id, namespaceSuffix: '', vaultPathPrefix: '', nameSuffix: '' },
        binDirs: [run.file('bin')],
      };
      linkBinDir(run, env, vaultSrv);
      record.connection = connection;
      record.state = 'running';
      run.writeRecord(record);
      emit({ kind: 'lab.ready', labId: id, provider: 'local', durationMs: performance.now() - started });
      return new StartedLocalLab(run, record, env, { cleanup, emit, keep: options.keep ?? false });
    } catch (e) {
      await cleanup.run(15_000, (ce) =>
        emit({ kind: 'lab.info', message: `cleanup: ${ce.what}: ${ce.error}` }),
      );
      if (signal.aborted) throw abortError(signal);
      throw e;
    }
  }
}

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

/** The newest "Unseal Key: <base64>" line of the Vault server's log (dev mode prints one at every start). */
export function readUnsealKey(logFile: string): string | undefined {
  try {
    const text = readFileSync(logFile, 'utf8');
    const all = [...text.matchAll(/Unseal Key:\s*(\S+)/g)];
    return all.at(-1)?.[1];
  } catch {
    return undefined;
  }
}

/** `<run>/bin` holds `vault` (→ the lab's server: bao, also as `bao`, or HashiCorp's vault) and `kubectl`. */
function linkBinDir(run: RunDir, env: NodeJS.ProcessEnv, server: VaultServer): void {
  mkdirSync(run.file('bin'), { recursive: true, mode: 0o700 });
  const bin = binaryPath(server.pin, server.binary, env);
  symlinkSync(bin, run.file('bin', 'vault'));
  if (server.binary !== 'vault') symlinkSync(bin, run.file('bin', server.binary));
  symlinkSync(binaryPath(components.kubernetes, 'kubectl', env), run.file('bin', 'kubectl'));
}

/** What only the process that started the lab has. */
interface Ownership {
  cleanup: CleanupStack;
  emit: (e: LabEvent) => void;
  keep: boolean;
}

/**
 * A running local lab. Created by LocalLab.start() (owns the processes), or by `attach()` from a run directory
 * written by another process (`status`, `down`, a scenario reusing a lab that `up` started).
 */
export class StartedLocalLab extends RecordedLab {
  readonly provider = 'local' as const;
  readonly faults: LabFaults;
  private readonly server: VaultServer;

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

  async esoLogTail(lines = 40): Promise<string> {
    return readTail(this.run.logFile('eso'), lines);
  }

  async status(signal?: AbortSignal): Promise<ComponentStatus[]> {
    const rec = this.run.readRecord() ?? this.record;
    const get = async (url: string, o: { ca?: string; insecure?: boolean } = {}) =>
      (await httpCall(url, { ...o, signal, timeoutMs: 2000 })).status === 200;
    const probes: Record<string, (port: number) => Promise<boolean>> = {
      etcd: (p) => get(`http://127.0.0.1:${p}/health`),
      'kube-apiserver': (p) =>
        get(`https://127.0.0.1:${p}/readyz`, { ca: this.connection.vault.kubernetesCaPem }),
      'kube-controller-manager': (p) => get(`https://127.0.0.1:${p}/healthz`, { insecure: true }),
      [this.server.component]: (p) => get(`http://127.0.0.1:${p}/v1/sys/health`),
      eso: (p) => get(`http://127.0.0.1:${p}/healthz`),
    };
    return Promise.all(
      rec.components.map(async (c): Promise<ComponentStatus> => {
        const alive = c.pid !== undefined && isAlive(c.pid);
        let healthy = false;
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
    const keep = options.keep ?? this.owned?.keep ?? false;
    if (this.owned && this.owned.cleanup.size > 0) {
      // Owned: stop in reverse start order; the run-dir cleanup honours `keep` from start.
      await this.owned.cleanup.run(15_000);
      if (!keep) this.run.remove();
    } else {
      this.record.state = 'stopping';
      this.run.writeRecord(this.record);
      await stopRecordedComponents(this.run.readRecord() ?? this.record);
      if (!keep) this.run.remove();
    }
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
        const spec = esoSpec(this.run, this.env, this.port('eso'), this.run.file('eso.kubeconfig'));
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

/** A short random lab id for ephemeral runs. */
export function ephemeralLabName(): string {
  return `run-${randomBytes(4).toString('hex')}`;
}
