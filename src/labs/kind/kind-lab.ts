/**
 * The kind provider: a one-node kind cluster (created, or reused when one of that name exists), Vault (dev mode,
 * Helm release `hashicorp-vault` — or a container on the kind network with `--vault external`) and ESO from its
 * Helm chart. `start()` waits until Vault answers through the mapped port and ESO's webhook accepts a server-side
 * dry-run of a SecretStore. A failure (or Ctrl-C) exports kind's logs into the run directory and deletes what this
 * run created, unless `keep`. The bring-up itself (kind-bring-up.ts) is one code path: `start()` hands it a shell
 * that runs every step, `plan()` (`--dry-run`) one that records it; the running lab is started-kind-lab.ts.
 */
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { CleanupStack } from '../../cleanup.ts';
import { LabError, UsageError, abortError } from '../../errors.ts';
import { kindPins } from '../../components/versions.ts';
import { labsRoot } from '../../paths.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import type { LabProvider, StartOptions } from '../lab-provider.ts';
import { RunDir, type LabRecord } from '../run-dir.ts';
import { randomToken } from '../local/pki.ts';
import { bringUp, type BringUpContext } from './kind-bring-up.ts';
import { ensureComponents } from '../../components/build.ts';
import { ensureNodeImageArchives, nodeImageArchivePaths } from '../local/node/node-images.ts';
import { DryRunShell, RealShell } from './kind-shell.ts';
import type { ExternalVaultStarter } from './external-vault.ts';
import {
  DEFAULT_CLUSTER_NAME,
  KIND_TIMEOUTS,
  isValidClusterName,
  kindContext,
  parseVaultPlacement,
  type VaultPlacement,
} from './kind-spec.ts';
import { StartedKindLab } from './started-kind-lab.ts';
import { resolveKindTools } from './tools.ts';

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

export class KindLab implements LabProvider {
  readonly name = 'kind' as const;
  private readonly timeouts: typeof KIND_TIMEOUTS;

  constructor(
    readonly options: KindOptions,
    private readonly deps: KindDeps = {},
  ) {
    this.timeouts = { ...KIND_TIMEOUTS, ...deps.timeouts };
  }

  /** The same bring-up context for `plan()` (recorded) and `start()` (run). */
  private context(
    c: Omit<BringUpContext, 'clusterName' | 'vault' | 'timeouts' | 'pollIntervalMs' | 'fetch'>,
  ): BringUpContext {
    return {
      ...c,
      clusterName: this.options.clusterName,
      vault: this.options.vault,
      timeouts: this.timeouts,
      ...(this.deps.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.deps.pollIntervalMs }),
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
    };
  }

  /** Every command and manifest `start()` would run, in order, without running any. */
  async plan(o: Pick<StartOptions, 'env' | 'name' | 'signal'>): Promise<string[]> {
    const token = '<random dev root token>';
    const shell = new DryRunShell();
    const runPath = join(labsRoot(o.env), o.name);
    shell.note(
      `kind provider, cluster '${this.options.clusterName}', Vault ${this.options.vault}, run directory ${runPath}`,
    );
    await bringUp(
      this.context({
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
        nodeImages: nodeImageArchivePaths(o.env),
      }),
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
    const shell = new RealShell(tools, env, this.deps.startExternalVault);
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
    const ctx = this.context({
      shell,
      signal,
      emit,
      runPath: run.path,
      writePrivate: (n, c) => run.writePrivate(n, c),
      cleanup,
      keep,
      labId: options.name,
      extra,
      nodeImages: [],
    });
    try {
      // The node images are built from this repository's Go sources (a second's build, then cached).
      await ensureComponents({ only: ['node-images'], signal, emit, env: options.env });
      ctx.nodeImages = ensureNodeImageArchives(options.env);
      const connection = await bringUp(ctx, rootToken);
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
  private async onFailure(ctx: BringUpContext, run: RunDir, record: LabRecord): Promise<void> {
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
