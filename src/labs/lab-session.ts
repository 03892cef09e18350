/**
 * Getting hold of a lab for a command: a running one (started by `up`) when there is one, else an ephemeral lab
 * of the chosen provider that is stopped when the command ends. `--provider auto` picks and says why.
 */
import { LabError, UsageError } from '../errors.ts';
import type { LabEvent } from '../report/events.ts';
import { chooseAutoProvider, detectKindTools } from './detect.ts';
import type { LabProvider, ProviderName, StartedLab } from './lab-provider.ts';
import { listRunDirs, RunDir } from './run-dir.ts';
import { deadComponents, isStale } from './local/stale.ts';
import { reapOrphanedPrivateVaults } from './local/private-vault.ts';
import { LocalLab, StartedLocalLab, ephemeralLabName } from './local/local-lab.ts';
import {
  checkVaultServerForProvider,
  recordedVaultServer,
  vaultServer,
  type VaultServerName,
} from './vault-server.ts';

export type ProviderChoiceName = ProviderName | 'auto';

export const DEFAULT_LAB = 'default';

/** `--node` / `--no-node` (both at once is a usage error). */
export function nodeChoice(flags: Record<string, string | boolean | undefined> = {}): 'auto' | 'on' | 'off' {
  if (flags.node && flags['no-node']) throw new UsageError('--node and --no-node exclude each other');
  return flags.node ? 'on' : flags['no-node'] ? 'off' : 'auto';
}

export function parseProvider(value: string | undefined): ProviderChoiceName {
  const v = value ?? 'auto';
  if (v === 'auto' || v === 'local' || v === 'kind' || v === 'existing') return v;
  throw new UsageError(`--provider must be one of auto, local, kind, existing (got '${v}')`);
}

/** Providers other than local register themselves here (keeps this module free of their imports' cost). */
const extraProviders = new Map<ProviderName, (opts: ProviderOptions) => LabProvider | Promise<LabProvider>>();

export interface ProviderOptions {
  env: NodeJS.ProcessEnv;
  /** Provider-specific options from the command line (e.g. kind --name, existing --context). */
  flags: Record<string, string | boolean | undefined>;
}

export function registerProvider(
  name: ProviderName,
  factory: (opts: ProviderOptions) => LabProvider | Promise<LabProvider>,
): void {
  extraProviders.set(name, factory);
}

export async function providerFor(name: ProviderName, opts: ProviderOptions): Promise<LabProvider> {
  if (name === 'local') return new LocalLab();
  const f = extraProviders.get(name);
  if (!f) throw new LabError('E_PROVIDER', `provider '${name}' is not available in this build`);
  return f(opts);
}

/** A lab that `up` started and that is still alive, if any (the first found; `default` preferred). */
export function findRunningLab(
  env: NodeJS.ProcessEnv,
  name?: string,
): { dir: RunDir; record: NonNullable<ReturnType<RunDir['readRecord']>> } | undefined {
  const all = listRunDirs(env).filter(
    (l): l is { dir: RunDir; record: NonNullable<typeof l.record> } =>
      l.record !== undefined &&
      l.record.state === 'running' &&
      l.record.ownerPid === null &&
      !isStale(l.record),
  );
  if (name) return all.find((l) => l.record.name === name);
  return all.find((l) => l.record.name === DEFAULT_LAB) ?? all[0];
}

const attachers = new Map<
  ProviderName,
  (
    dir: RunDir,
    record: NonNullable<ReturnType<RunDir['readRecord']>>,
    env: NodeJS.ProcessEnv,
  ) => StartedLab | Promise<StartedLab>
>();
attachers.set('local', (dir, record, env) => StartedLocalLab.attach(dir, record, env));

export function registerAttacher(
  name: ProviderName,
  f: (
    dir: RunDir,
    record: NonNullable<ReturnType<RunDir['readRecord']>>,
    env: NodeJS.ProcessEnv,
  ) => StartedLab | Promise<StartedLab>,
): void {
  attachers.set(name, f);
}

export async function attachLab(
  dir: RunDir,
  record: NonNullable<ReturnType<RunDir['readRecord']>>,
  env: NodeJS.ProcessEnv,
): Promise<StartedLab> {
  const a = attachers.get(record.provider);
  if (!a) throw new LabError('E_PROVIDER', `cannot attach to a '${record.provider}' lab`);
  return a(dir, record, env);
}

export interface AcquiredLab {
  lab: StartedLab;
  /** True when this command started the lab and must stop it. */
  ephemeral: boolean;
  /** Why this lab (for the progress line: "using running local lab 'default'"). */
  reason: string;
}

export async function acquireLab(o: {
  provider: ProviderChoiceName;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
  flags?: Record<string, string | boolean | undefined>;
  keep?: boolean;
  /** `--vault-server`: undefined = whatever a running lab runs, else the default (OpenBao). */
  vaultServer?: VaultServerName;
}): Promise<AcquiredLab> {
  if (o.provider !== 'auto') checkVaultServerForProvider(o.provider, o.vaultServer);
  const encryptSecrets = o.flags?.['encrypt-secrets'] === true;
  const running = findRunningLab(o.env);
  if (running && (o.provider === 'auto' || o.provider === running.record.provider)) {
    const runs = recordedVaultServer(running.record);
    if (o.vaultServer === undefined || runs === o.vaultServer) {
      const dead = deadComponents(running.record);
      if (dead.length)
        throw new LabError(
          'E_LAB_BROKEN',
          `the running lab '${running.record.name}' is broken: ${dead.join(', ')} ${dead.length === 1 ? 'is' : 'are'} not running`,
          { exitCode: 1, hint: `stop it with 'vault-eso-lab down --name ${running.record.name}'` },
        );
      if (encryptSecrets && running.record.extra?.encryptSecrets === undefined)
        throw new UsageError(
          `--encrypt-secrets: the running lab '${running.record.name}' stores Secrets in etcd unencrypted`,
          { hint: "stop it ('vault-eso-lab down') or start it with 'vault-eso-lab up --encrypt-secrets'" },
        );
      const reason = `using the running ${running.record.provider} lab '${running.record.name}' (left running afterwards)`;
      o.emit({ kind: 'lab.info', message: reason });
      // A scenario run killed while it had Vault servers of its own left them: stop them before using the lab.
      if (running.record.provider === 'local') await reapOrphanedPrivateVaults(running.dir);
      return { lab: await attachLab(running.dir, running.record, o.env), ephemeral: false, reason };
    }
    o.emit({
      kind: 'lab.info',
      message: `the running lab '${running.record.name}' runs ${runs ? vaultServer(runs).label : 'its own Vault'}, not ${vaultServer(o.vaultServer).label} (--vault-server ${o.vaultServer}): not using it`,
    });
  }
  let provider: ProviderName;
  let why: string;
  if (o.provider === 'auto') {
    const facts = await detectKindTools({ env: o.env, signal: o.signal });
    const c = chooseAutoProvider(facts);
    provider = c.provider;
    why = `auto picked ${c.provider}: ${c.reason}`;
    checkVaultServerForProvider(provider, o.vaultServer);
  } else {
    provider = o.provider;
    why = `provider ${provider} (as asked)`;
  }
  checkEncryptSecrets(provider, encryptSecrets);
  const p = await providerFor(provider, { env: o.env, flags: o.flags ?? {} });
  o.emit({ kind: 'lab.info', message: `${why}; starting an ephemeral lab (stopped afterwards)` });
  const lab = await p.start({
    signal: o.signal,
    emit: o.emit,
    env: o.env,
    name: ephemeralLabName(),
    keep: o.keep,
    vaultServer: o.vaultServer,
    ...(encryptSecrets ? { encryptSecrets } : {}),
    node: nodeChoice(o.flags),
  });
  return { lab, ephemeral: true, reason: `${why}; started an ephemeral lab, stopped afterwards` };
}

/** `--encrypt-secrets` configures the local lab's API server; other providers' clusters are not ours to change. */
export function checkEncryptSecrets(provider: ProviderName, encryptSecrets: boolean): void {
  if (encryptSecrets && provider !== 'local')
    throw new UsageError(`--encrypt-secrets is an option of the local lab (not of --provider ${provider})`, {
      hint: 'on kind or your own cluster, encryption at rest is configured on its API server',
    });
}

/** End a command's use of a lab: an ephemeral lab is stopped, or with `keep` handed over and left running. */
export async function releaseLab(
  a: AcquiredLab,
  o: { keep: boolean; say: (line: string) => void },
): Promise<void> {
  if (!a.ephemeral) return;
  if (o.keep) {
    a.lab.detach();
    o.say(`--keep: the lab is left running at ${a.lab.runDir}; stop it with 'vault-eso-lab down --all'`);
    return;
  }
  await a.lab.stop();
}
