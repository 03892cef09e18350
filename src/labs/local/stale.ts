/**
 * Leftovers of a harness killed with SIGKILL: lab directories whose owner process is dead while the lab was still
 * owned (ephemeral, or `up` mid-start). Their components are stopped (after checking the pid still runs the
 * recorded executable, so a reused pid is never killed) and the directory is removed.
 */
import { isAlive, processExecutable, stopProcessGroup } from '../../process/command.ts';
import { listRunDirs, type LabRecord } from '../run-dir.ts';

export async function stopRecordedComponents(record: LabRecord): Promise<void> {
  for (const c of [...record.components].reverse()) {
    if (c.pid === undefined || !isAlive(c.pid)) continue;
    const exe = processExecutable(c.pid);
    if (c.exe && exe && exe !== c.exe) continue; // pid reused by something else
    await stopProcessGroup(c.pid, 5000);
  }
}

export function isStale(record: LabRecord | undefined): boolean {
  if (!record) return true;
  if (record.ownerPid === null) return false; // handed off by `up`: alive until `down`
  return !isAlive(record.ownerPid);
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
      say(`stopping leftovers of lab '${record.id}' (its harness, pid ${record.ownerPid}, is gone)`);
      await stopRecordedComponents(record);
    }
    dir.remove();
    reaped.push(record?.id ?? dir.path);
  }
  return reaped;
}
