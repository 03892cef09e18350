/** What a process costs, read from /proc: resident memory and CPU time (user + system). Linux only. */
import { readFileSync } from 'node:fs';

/** Resident memory of a process (VmRSS), 0 when unreadable. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ: 100 on Linux for every architecture we run on). */
export const USER_HZ = 100;

/** CPU seconds (utime + stime) a process has used so far, from /proc/<pid>/stat; NaN when unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** This process's CPU seconds so far (user + system). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
