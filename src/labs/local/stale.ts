/**
 * Leftovers of a harness killed with SIGKILL: lab directories whose owner process is dead while the lab was still
 * owned (ephemeral, or `up` mid-start). Their components are stopped (after checking the pid still runs the
 * recorded executable, so a reused pid is never killed) and the directory is removed.
 */
import { isAlive, processExecutable, stopMarkedProcesses, stopProcessGroup } from '../../process/command.ts';
import { cleanupNodeLeftovers } from './node/local-node.ts';
import { listRunDirs, type LabRecord } from '../run-dir.ts';

export async function stopRecordedComponents(record: LabRecord): Promise<void> {
  for (const c of [...record.components].reverse()) {
    if (!runs(c)) continue; // gone, or the pid now belongs to something else
    await stopProcessGroup(c.pid!, 5000);
  }
}

/** Components of a recorded lab that no longer run (a lab with any of them is broken). */
export function deadComponents(record: LabRecord): string[] {
  if (record.provider !== 'local') return [];
  return record.components.filter((c) => !runs(c)).map((c) => `${c.name}${c.pid ? ` (pid ${c.pid})` : ''}`);
}

/** Components of a recorded lab that still run. */
export function liveComponents(record: LabRecord): string[] {
  return record.components
    .filter(runs)
    .map((c) => `${c.name} (pid ${c.pid}${c.port ? `, 127.0.0.1:${c.port}` : ''})`);
}

/** A recorded component still runs its recorded executable. */
function runs(c: LabRecord['components'][number]): boolean {
  if (c.pid === undefined || !isAlive(c.pid)) return false;
  const exe = processExecutable(c.pid);
  return !(c.exe && exe && exe !== c.exe);
}

/**
 * A lab nobody will stop any more: its owning harness is gone, or (a local lab handed off by `up`) none of its
 * processes runs any longer — after a reboot, or when they were killed by hand.
 */
export function isStale(record: LabRecord | undefined): boolean {
  if (!record) return true;
  // Kept on purpose (`down --keep`): logs for a person to read, never reaped.
  if (record.state === 'stopped') return false;
  if (record.ownerPid !== null) return !isAlive(record.ownerPid);
  if (record.provider !== 'local' || record.components.length === 0) return false;
  return !record.components.some(runs);
}

/** Stop and remove every stale local lab; returns the ids reaped. */
export async function reapStaleLabs(
  env: NodeJS.ProcessEnv,
  say: (m: string) => void = () => {},
): Promise<string[]> {
  const reaped: string[] = [];
  for (const { dir, record } of listRunDirs(env)) {
    if (record && record.provider !== 'local') continue;
    if (!isStale(record)) continue;
    if (record) {
      say(
        record.ownerPid === null
          ? `clearing lab '${record.id}': none of its processes runs any more`
          : `stopping leftovers of lab '${record.id}' (its harness, pid ${record.ownerPid}, is gone)`,
      );
      await stopRecordedComponents(record);
    }
    // Processes started but never recorded (a harness killed between the two) carry the run dir's marker.
    await stopMarkedProcesses(dir.path);
    await cleanupNodeLeftovers(dir.path);
    dir.remove();
    reaped.push(record?.id ?? dir.path);
  }
  return reaped;
}
