/**
 * The local lab's etcd seed: an etcd data directory that a kube-apiserver has already bootstrapped (system
 * namespaces, bootstrap RBAC, priority classes, the `kubernetes` Service) and that already holds ESO's CRDs
 * (Established) and the chart's RBAC. It is built once per set of versions, kept in the user cache, and copied into
 * each new lab's run dir, so a lab's API server starts on data it only has to check, and ESO's CRDs are served
 * without being applied and established again.
 *
 * What is one lab's own never enters it: it is built by an API server of its own, with a throwaway PKI and tokens;
 * the API server's identity lease, its events and the ConfigMap that carries its CA are deleted before it is kept;
 * and a seed that holds any Secret is refused. The build runs in a run directory of its own under the state dir,
 * owned by this process, so a build killed half-way is reaped like any other lab.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CleanupStack } from '../../cleanup.ts';
import { LabError, errorMessage } from '../../errors.ts';
import { binaryPath } from '../../components/cache.ts';
import { ESO_RBAC_FILE } from '../../components/eso-chart.ts';
import { components } from '../../components/versions.ts';
import { compactEtcd, countEtcdKeys, deleteEtcdPrefix, type EtcdEndpoint } from '../../kube/etcd-reader.ts';
import { stopMarkedProcesses } from '../../process/command.ts';
import { cacheRoot } from '../../paths.ts';
import type { LabEvent } from '../../report/events.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { RunDir, type LabRecord } from '../run-dir.ts';
import { SERVICE_CLUSTER_IP_RANGE, apiserverArgs, type LabFiles, type LabPorts } from './component-specs.ts';
import { apiserverSpec, etcdSpec, READY_TIMEOUT_MS } from './control-plane.ts';
import { applyEsoManifests, esoCrdsFile } from './crds.ts';
import { writeLabFiles } from './lab-files.ts';
import { launch, stopComponent } from './launch.ts';
import { generatePki, randomToken } from './pki.ts';
import { PortReservation } from './ports.ts';
import { stopRecordedComponents } from './stale.ts';
import {
  compactWal,
  pruneSeeds,
  removeAbandonedCopies,
  seedBuilt,
  takeBuildLock,
  type EtcdSeed,
  type SeedInfo,
} from './etcd-seed-store.ts';

/** Bump when what goes into a seed changes in a way the inputs below do not show. */
const SEED_FORMAT = 3;

/** The name prefix of a seed build's run directory. */
export const SEED_RUN_PREFIX = 'etcd-seed-';
const SEED_PURPOSE = 'etcd seed build';

/** A run directory that is a seed build, not a lab. */
export function isSeedBuild(record: LabRecord): boolean {
  return record.extra?.purpose === SEED_PURPOSE;
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** An object whose every field reads as the same placeholder (files and ports in a command line). */
function placeholders<T extends object>(what: string): T {
  return new Proxy(
    {},
    { get: (_, k) => (k === 'encryptionConfig' ? undefined : `<${what}:${String(k)}>`) },
  ) as T;
}

function seedsRoot(env: NodeJS.ProcessEnv): string {
  return join(cacheRoot(env), 'etcd-seeds');
}

/** Where the seed for these versions and manifests lives (whether or not it has been built). */
export function etcdSeedFor(env: NodeJS.ProcessEnv): EtcdSeed {
  const inputs = {
    format: SEED_FORMAT,
    kubernetes: components.kubernetes.version,
    etcd: components.etcd.version,
    eso: components.eso.version,
    crds: sha256File(esoCrdsFile(env)),
    rbac: sha256File(ESO_RBAC_FILE),
    serviceClusterIpRange: SERVICE_CLUSTER_IP_RANGE,
    // The API server's command line with its files and ports left out (what it stores does not depend on them),
    // and the two binaries as built (a rebuild under the same version makes a new seed).
    apiserverArgs: apiserverArgs(placeholders<LabFiles>('file'), placeholders<LabPorts>('port')),
    binaries: ['kube-apiserver', 'etcd'].map((b) => {
      const st = statSync(binaryPath(b === 'etcd' ? components.etcd : components.kubernetes, b, env));
      return `${b}:${st.size}:${Math.round(st.mtimeMs)}`;
    }),
  };
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  return { key, dir: join(seedsRoot(env), key) };
}

/**
 * The seed for this lab's versions: the cached one, or one built now (≈6 s, once). A build that fails is said and
 * the lab starts from an empty etcd, as it did before seeds; an interrupted one is not swallowed.
 */
export async function ensureEtcdSeed(o: {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
}): Promise<EtcdSeed | undefined> {
  const seed = etcdSeedFor(o.env);
  const root = seedsRoot(o.env);
  if (existsSync(root)) removeAbandonedCopies(root);
  if (seedBuilt(seed)) return seed;
  if (existsSync(seed.dir)) {
    o.emit({
      kind: 'lab.info',
      message: `the etcd seed ${seed.key} is damaged: removing it and making it again`,
    });
    rmSync(seed.dir, { recursive: true, force: true });
  }
  const t0 = performance.now();
  try {
    // One build at a time per seed: a start that finds another one building waits for its result.
    const lock = await takeBuildLock(root, seed, o.signal, (pid) =>
      o.emit({ kind: 'lab.info', message: `waiting for another start (pid ${pid}) to finish the etcd seed` }),
    );
    if (!lock) return seed; // built by the other start meanwhile
    try {
      o.emit({
        kind: 'lab.info',
        message: "preparing the etcd seed (once per version set): an API server's bootstrap with ESO's CRDs",
      });
      await buildSeed(seed, o);
    } finally {
      lock.release();
    }
  } catch (e) {
    if (o.signal.aborted) throw e;
    o.emit({
      kind: 'lab.info',
      message: `no etcd seed (${errorMessage(e).split('\n')[0]}): starting from an empty etcd`,
    });
    return undefined;
  }
  o.emit({
    kind: 'lab.info',
    message: `etcd seed ${seed.key} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached)`,
  });
  return seed;
}

async function buildSeed(seed: EtcdSeed, o: { env: NodeJS.ProcessEnv; signal: AbortSignal }): Promise<void> {
  const { env } = o;
  // Probes and requests listen on it side by side: more than Node's default warning level.
  const signal = AbortSignal.any([o.signal]);
  setMaxListeners(100, signal);
  // The seeds' directory exists (the build lock is in it) and abandoned copies were cleared by ensureEtcdSeed.
  const root = seedsRoot(env);
  const cleanup = new CleanupStack();
  const name = `${SEED_RUN_PREFIX}${randomBytes(4).toString('hex')}`;
  const run = RunDir.create(name, env);
  cleanup.defer('remove the seed build directory', () => run.remove());
  const record: LabRecord = {
    schema: 1,
    id: name,
    name,
    provider: 'local',
    state: 'starting',
    ownerPid: process.pid,
    createdAt: new Date().toISOString(),
    components: [],
    versions: { kubernetes: components.kubernetes.version, etcd: components.etcd.version },
    extra: { purpose: SEED_PURPOSE },
  };
  run.writeRecord(record);
  cleanup.defer('stop the seed build processes', async () => {
    await stopRecordedComponents(run.readRecord() ?? record);
    await stopMarkedProcesses(run.path);
  });
  const reservation = await PortReservation.reserve(3);
  cleanup.defer('release ports', () => reservation.releaseAll());
  const quiet = () => {};
  try {
    const pki = await generatePki(1);
    const adminToken = randomToken();
    secrets.add(adminToken);
    mkdirSync(run.file('home'), { mode: 0o700 });
    const files = writeLabFiles(run, pki, {
      adminToken,
      kcmToken: randomToken(),
      schedulerToken: randomToken(),
    });
    const [etcdClient, etcdPeer, apiserver] = reservation.ports as [number, number, number];
    const ports: LabPorts = { etcdClient, etcdPeer, apiserver, kcm: 0, vault: 0, esoHealth: 0 };
    await reservation.release(etcdClient, etcdPeer);
    await launch(run, record, etcdSpec(run, env, files, ports, pki), signal, quiet);
    await reservation.release(apiserver);
    await launch(run, record, apiserverSpec(run, env, files, ports, pki), signal, quiet);
    await applyEsoManifests({
      server: `https://127.0.0.1:${apiserver}`,
      caPem: pki.caCertPem,
      token: adminToken,
      crds: esoCrdsFile(env),
      rbac: ESO_RBAC_FILE,
      signal,
      timeoutMs: READY_TIMEOUT_MS.crds,
    });
    await stopComponent(record, 'kube-apiserver');
    const etcd: EtcdEndpoint = {
      url: `https://127.0.0.1:${etcdClient}`,
      caPem: pki.caCertPem,
      certPem: pki.etcdClient.certPem,
      keyPem: pki.etcdClient.keyPem,
    };
    // This API server's own: its identity lease, its events, the ConfigMap with its client CA (each lab's API
    // server writes its own at start).
    for (const prefix of [
      '/registry/leases/',
      '/registry/events/',
      '/registry/configmaps/kube-system/extension-apiserver-authentication',
    ])
      await deleteEtcdPrefix(etcd, prefix, { signal });
    const held = await countEtcdKeys(etcd, '/registry/secrets/', { signal });
    if (held > 0) throw new LabError('E_SEED', `the seed's etcd holds ${held} Secret(s): not kept`);
    // The deleted keys' old revisions go too (compaction), and the space they took (defragmentation).
    await compactEtcd(etcd, { signal });
    // SIGTERM: etcd ends cleanly, its data complete on disk.
    await stopComponent(record, 'etcd');
    // Copied whole into the cache beside the final place, then renamed into it: a seed is there whole or not at all.
    const tmp = join(root, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    cleanup.defer('remove the seed copy', () => rmSync(tmp, { recursive: true, force: true }));
    mkdirSync(tmp, { mode: 0o700 });
    // etcd's preallocated next WAL segment (`N.tmp`, 64 MB of zeros) is not part of its data.
    cpSync(join(files.etcdData, 'member'), join(tmp, 'member'), {
      recursive: true,
      filter: (src) => !src.endsWith('.tmp'),
    });
    const walSizes = compactWal(join(tmp, 'member', 'wal'));
    const info: SeedInfo = {
      key: seed.key,
      versions: seedVersions(),
      createdAt: new Date().toISOString(),
      walSizes,
    };
    writeFileSync(join(tmp, 'seed.json'), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    try {
      renameSync(tmp, seed.dir);
    } catch (e) {
      // Another process made the same seed meanwhile (the build lock was given up as stale): theirs, if whole.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !seedBuilt(seed)) throw e;
    }
    pruneSeeds(root, seed.key);
  } finally {
    await cleanup.run(15_000, () => {});
  }
}

function seedVersions(): Record<string, string> {
  return {
    kubernetes: components.kubernetes.version,
    etcd: components.etcd.version,
    eso: components.eso.version,
  };
}
