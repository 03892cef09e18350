/**
 * What every StartedLab shares: identity and connection come from its run directory's record (lab.json),
 * `detach()` hands the lab over by clearing the record's owner, and disposing stops it. Providers add how they
 * inject faults, report status and stop.
 */
import type { CleanupStack } from '../cleanup.ts';
import { secrets } from '../secrets/secret-registry.ts';
import type { ComponentStatus, LabConnection, LabFaults, ProviderName, StartedLab } from './lab-provider.ts';
import type { LabRecord, RunDir } from './run-dir.ts';

export abstract class RecordedLab implements StartedLab {
  abstract readonly provider: ProviderName;
  abstract readonly faults: LabFaults;
  readonly id: string;
  readonly runDir: string;
  readonly versions: Record<string, string>;
  protected stopped = false;

  protected constructor(
    protected readonly run: RunDir,
    protected readonly record: LabRecord,
    readonly connection: LabConnection,
    /** The cleanups of the process that started the lab; released on detach. */
    private readonly ownedCleanup?: CleanupStack,
  ) {
    this.id = record.id;
    this.runDir = run.path;
    this.versions = record.versions;
    if (connection.vault.token) secrets.add(connection.vault.token);
  }

  detach(): void {
    this.record.ownerPid = null;
    this.run.writeRecord(this.record);
    this.ownedCleanup?.release();
  }

  abstract esoLogTail(lines?: number): Promise<string>;
  abstract status(signal?: AbortSignal): Promise<ComponentStatus[]>;
  abstract stop(options?: { keep?: boolean }): Promise<void>;

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
