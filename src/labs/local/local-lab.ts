/**
 * The local provider: a real control plane (etcd, kube-apiserver, kube-controller-manager), an OpenBao dev server,
 * the real ESO controller and — where the machine can run one — a real node (containerd + runc + CNI, kubelet,
 * kube-scheduler), all as local processes bound to 127.0.0.1. `LocalLab.start()` starts independent parts at the
 * same time (OpenBao and containerd need nothing else; the API server chain and the node join where they meet),
 * each through `launch()` with a readiness probe, and returns a StartedLocalLab that stops them in reverse.
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CleanupStack } from '../../cleanup.ts';
import { LabError, PrerequisiteError, abortError, errorMessage } from '../../errors.ts';
import { stopMarkedProcesses } from '../../process/command.ts';
import { ensureComponents } from '../../components/build.ts';
import { components, nodeComponents } from '../../components/versions.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import type { LabConnection, LabProvider, StartOptions } from '../lab-provider.ts';
import { RunDir, type LabRecord } from '../run-dir.ts';
import { ESO_NAMESPACE, ESO_RBAC_FILE, ESO_SERVICE_ACCOUNT } from '../../components/eso-chart.ts';
import { generatePki, randomToken } from './pki.ts';
import { PortReservation } from './ports.ts';
import { applyEsoManifests, esoCrdsFile, waitForCrdApi, waitForEstablished } from './crds.ts';
import { ensureEtcdSeed } from './etcd-seed.ts';
import { copySeed } from './etcd-seed-store.ts';
import { reapStaleLabs, stopRecordedComponents } from './stale.ts';
import type { LabPorts } from './component-specs.ts';
import {
  apiserverSpec,
  esoSpec,
  etcdSpec,
  kcmSpec,
  READY_TIMEOUT_MS,
  SEEDED_HOOKS,
  waitForApiHealthz,
} from './control-plane.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { ENCRYPTION_PROVIDER, writeEncryptionConfig } from './encryption-at-rest.ts';
import { launch, stopComponent, type ComponentSpec } from './launch.ts';
import { captureUnsealKey, countUnsealKeys, vaultSpec } from './openbao.ts';
import { vaultServer, type VaultServer } from '../vault-server.ts';
import { serviceAccountToken } from './service-account-token.ts';
import { cleanupNodeLeftovers, startNode, type NodeInfo } from './node/local-node.ts';
import { decideNode, gatherNodeFacts, nodeBlocker, type NodeDecision } from './node/node-support.ts';
import { StartedLocalLab } from './started-local-lab.ts';
import { linkBinDir, writeLabFiles } from './lab-files.ts';

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

/** The kubelet's syncFrequency on the lab's node (Kubernetes' default is 1m, with up to 50% jitter). */
export const NODE_SYNC_FREQUENCY = '2s';

/**
 * Whether this lab gets a node: decided before anything starts. `auto` builds the node's components when the
 * machine can run a node and goes without one (saying why) if that build fails; `on` makes any reason fatal (exit 3).
 */
async function chooseNode(options: StartOptions): Promise<NodeDecision> {
  const choice = options.node ?? 'auto';
  if (choice === 'off') return decideNode(gatherNodeFacts(options.env), 'off');
  const before = gatherNodeFacts(options.env);
  // Everything but "not built yet" rules a node out without building anything.
  const blocker = nodeBlocker({ ...before, missing: [], runcRuns: before.runcRuns ?? true });
  if (!blocker) {
    try {
      await ensureComponents({ ...options, only: nodeComponents });
    } catch (e) {
      if (choice === 'on' || options.signal.aborted) throw e;
      options.emit({
        kind: 'lab.info',
        message: `no node: building its components failed: ${errorMessage(e)}`,
      });
      return {
        run: false,
        reason: `no node: building its components failed (${errorMessage(e).split('\n')[0]})`,
      };
    }
  }
  const d = decideNode(gatherNodeFacts(options.env), choice);
  if (!d.run && choice === 'on')
    throw new PrerequisiteError(
      'node',
      `--node: this machine cannot run the lab's node: ${d.reason.replace(/^no node: /, '')}`,
    );
  return d;
}

export class LocalLab implements LabProvider {
  readonly name = 'local' as const;

  async start(options: StartOptions): Promise<StartedLocalLab> {
    const { signal, emit, env } = options;
    const started = performance.now();
    // Everything the lab's processes create is the user's alone (they inherit the umask): dirs 0700, files 0600.
    process.umask(0o077);
    await reapStaleLabs(env, (m) => emit({ kind: 'lab.info', message: m }));
    await ensureComponents({ signal, emit, env });
    const vaultSrv = vaultServer(options.vaultServer);
    // HashiCorp Vault is optional: built when first asked for.
    if (vaultSrv.component !== 'openbao')
      await ensureComponents({ signal, emit, env, only: [vaultSrv.component] });
    const node = await chooseNode(options);
    emit({ kind: 'lab.info', message: node.reason });
    // etcd starts from the cached seed (bootstrapped, ESO's CRDs in place) — built now if this is the first start.
    const seed = await ensureEtcdSeed({ env, signal, emit });
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
    const ownership = { keep: options.keep ?? false };
    cleanup.defer('remove run directory', () => {
      if (!ownership.keep) run.remove();
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
      vaultServer: vaultSrv.name,
      ...(seed ? { extra: { etcdSeed: seed.key } } : {}),
      versions: {
        ...localVersions(vaultSrv),
        ...(node.run
          ? {
              containerd: components.containerd.version,
              runc: components.runc.version,
              'cni-plugins': components['cni-plugins'].version,
            }
          : {}),
      },
    };
    run.writeRecord(record);
    // Runs after the per-component stops: whatever lab.json still lists, then any process carrying this run
    // directory's marker (started but not yet recorded when a start was interrupted), then the node's leftovers.
    cleanup.defer('stop leftover processes and node devices', async () => {
      await stopRecordedComponents(run.readRecord() ?? record);
      await stopMarkedProcesses(run.path);
      await cleanupNodeLeftovers(run.path);
    });

    // Stop the lab's own work when the start fails part-way (a failed component must not leave others waiting).
    const failFast = new AbortController();
    const onAbort = () => failFast.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const s = AbortSignal.any([signal, failFast.signal]);
    // Every concurrent probe, wait and request listens on it for a moment: more than Node's default warning level.
    setMaxListeners(100, s);
    const deferStop = (name: string) =>
      cleanup.defer(`stop ${name}`, async () => {
        await stopComponent(run.readRecord() ?? record, name);
        emit({ kind: 'lab.component.stopped', component: name });
      });
    const start = async (spec: ComponentSpec) => {
      deferStop(spec.name);
      await reservation.release(...(spec.port !== undefined ? [spec.port] : []), ...(spec.otherPorts ?? []));
      await launch(run, record, spec, s, emit);
    };
    const reservation = await PortReservation.reserve(9);

    try {
      const pki = await generatePki();
      const adminToken = randomToken();
      const kcmToken = randomToken();
      const schedulerToken = randomToken();
      const vaultToken = randomToken('lab_'); // OpenBao refuses custom root token ids with its own prefixes (hvs., s.)
      for (const t of [adminToken, kcmToken, schedulerToken, vaultToken]) secrets.add(t);
      mkdirSync(run.file('home'), { mode: 0o700 });
      const files = writeLabFiles(run, pki, { adminToken, kcmToken, schedulerToken });
      if (seed) copySeed(seed, files.etcdData);
      const esoExtra = [...(options.esoArgs ?? [])];
      if (esoExtra.length) {
        record.extra = { ...record.extra, esoArgs: esoExtra.join(' ') };
        run.writeRecord(record);
      }
      if (options.encryptSecrets) {
        files.encryptionConfig = writeEncryptionConfig(run);
        record.extra = { ...record.extra, encryptSecrets: ENCRYPTION_PROVIDER };
        run.writeRecord(record);
      }
      const [etcdClient, etcdPeer, apiserver, kcm, vault, esoHealth, kubelet, scheduler] =
        reservation.ports as [number, number, number, number, number, number, number, number];
      const ports: LabPorts = { etcdClient, etcdPeer, apiserver, kcm, vault, esoHealth };
      const server = `https://127.0.0.1:${ports.apiserver}`;
      run.writePrivate(
        'kubeconfig',
        kubeconfigYaml({ server, caPem: pki.caCertPem, token: adminToken, user: 'lab-admin' }),
      );
      run.writePrivate(
        'kcm.kubeconfig',
        kubeconfigYaml({ server, caPem: pki.caCertPem, token: kcmToken, user: 'kcm' }),
      );
      run.writePrivate(
        'scheduler.kubeconfig',
        kubeconfigYaml({
          server,
          caPem: pki.caCertPem,
          token: schedulerToken,
          user: 'system:kube-scheduler',
        }),
      );
      run.writePrivate('vault-token', vaultToken + '\n');

      // OpenBao needs nothing else: it starts alongside the Kubernetes chain.
      const vaultReady = (async () => {
        const keysBefore = countUnsealKeys(run.logFile(vaultSrv.component));
        await start(vaultSpec(run, env, ports.vault, vaultToken, vaultSrv));
        await captureUnsealKey(run, keysBefore, s, vaultSrv);
      })();
      vaultReady.catch(() => failFast.abort());

      const etcdReady = start(etcdSpec(run, env, files, ports, pki));
      etcdReady.catch(() => failFast.abort());
      const apiReady = (async () => {
        await etcdReady;
        await start(apiserverSpec(run, env, files, ports, pki, seed ? { readyzExclude: SEEDED_HOOKS } : {}));
      })();
      apiReady.catch(() => failFast.abort());

      // ESO's CRDs Established before kube-controller-manager starts, so that its garbage collector discovers ESO's
      // kinds at start instead of at its next 30 s discovery resync. From the seed they are already there: served
      // once the API server has read them. Without one they are applied as soon as the API server serves the CRD
      // API, alongside the rest of its start (its /readyz comes ≈1.5 s later).
      const crdsReady = (async () => {
        await etcdReady;
        const crds = esoCrdsFile(env);
        const api = {
          server,
          caPem: pki.caCertPem,
          token: adminToken,
          signal: s,
          timeoutMs: READY_TIMEOUT_MS.crds,
        };
        emit({ kind: 'lab.component.starting', component: 'eso-crds' });
        const t0 = performance.now();
        if (seed) await waitForEstablished({ ...api, crds });
        else {
          await waitForCrdApi(api);
          await applyEsoManifests({ ...api, crds, rbac: ESO_RBAC_FILE });
        }
        emit({ kind: 'lab.component.ready', component: 'eso-crds', durationMs: performance.now() - t0 });
      })();
      crdsReady.catch(() => failFast.abort());

      // kube-controller-manager (system:masters) needs the CRDs Established, and it polls /healthz once a second
      // before its controllers start (/healthz waits for the post-start hooks, ≈1.1 s after the API server serves):
      // started once /healthz answers, its first poll passes instead of a later one.
      const kcmReady = (async () => {
        await crdsReady;
        await waitForApiHealthz({ server, caPem: pki.caCertPem, signal: s, timeoutMs: READY_TIMEOUT_MS.kcm });
        await start(kcmSpec(run, env, files, ports, pki, adminToken, node.run));
      })();
      kcmReady.catch(() => failFast.abort());

      // ESO needs the bootstrap roles too (system:discovery for its REST mapper): the API server ready, as well.
      const esoReady = (async () => {
        await Promise.all([crdsReady, apiReady]);
        // ESO runs as the chart's ServiceAccount, with exactly the chart's RBAC: a token from the TokenRequest API.
        const esoToken = await serviceAccountToken(server, pki.caCertPem, adminToken, s);
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
        await start(esoSpec(run, env, ports.esoHealth, run.file('eso.kubeconfig'), esoExtra));
      })();
      esoReady.catch(() => failFast.abort());

      // The kubelet and scheduler wait for the API server (and their ports); containerd and the images do not.
      const nodeMayRegister = apiReady.then(() => reservation.release(kubelet, scheduler));
      nodeMayRegister.catch(() => {}); // a failed API server is reported by apiReady itself
      const nodeReady: Promise<NodeInfo | undefined> = node.run
        ? (async () => {
            return startNode({
              run,
              record,
              env,
              signal: s,
              emit,
              pki,
              caFile: files.caCert,
              apiserverUrl: server,
              adminToken,
              schedulerToken,
              ports: { kubelet, scheduler },
              syncFrequency: NODE_SYNC_FREQUENCY,
              onStart: deferStop,
              // The node is schedulable once the node-lifecycle controller has removed its registration taint.
              controllersReady: kcmReady,
              apiReady: nodeMayRegister,
            });
          })()
        : Promise.resolve(undefined);
      nodeReady.catch(() => failFast.abort());

      const results = await Promise.allSettled([
        vaultReady,
        apiReady,
        crdsReady,
        kcmReady,
        esoReady,
        nodeReady,
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw firstCause(results, signal);
      const nodeInfo = (results[5] as PromiseFulfilledResult<NodeInfo | undefined>).value;
      await reservation.releaseAll();

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
        ...(nodeInfo
          ? {
              node: {
                name: nodeInfo.name,
                syncFrequency: nodeInfo.syncFrequency,
                images: nodeInfo.images,
                containerdSocket: nodeInfo.containerdSocket,
              },
            }
          : { noNode: node.reason }),
      };
      linkBinDir(run, env, !!nodeInfo, vaultSrv);
      record.connection = connection;
      record.state = 'running';
      run.writeRecord(record);
      emit({ kind: 'lab.ready', labId: id, provider: 'local', durationMs: performance.now() - started });
      return new StartedLocalLab(run, record, env, { cleanup, emit, ownership });
    } catch (e) {
      failFast.abort();
      await reservation.releaseAll();
      await cleanup.run(15_000, (ce) =>
        emit({ kind: 'lab.info', message: `cleanup: ${ce.what}: ${ce.error}` }),
      );
      if (signal.aborted) throw abortError(signal);
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** The error that started a failed start (not the aborts it caused in the parts running alongside). */
function firstCause(results: PromiseSettledResult<unknown>[], signal: AbortSignal): unknown {
  const errors = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  if (signal.aborted) return abortError(signal);
  return errors.find((e) => !(e instanceof Error && e.name === 'AbortedError')) ?? errors[0];
}

/** A short random lab id for ephemeral runs. */
export function ephemeralLabName(): string {
  return `run-${randomBytes(4).toString('hex')}`;
}

export { StartedLocalLab };
