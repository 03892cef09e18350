/** What a process costs, read from /proc: resident memory and CPU time (user + system). Linux only. */
import { readdirSync, readFileSync } from 'node:fs';

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

/** utime + stime of a /proc stat line (a process's or a thread's), in seconds. */
function statCpuSeconds(stat: string): number {
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** CPU seconds (utime + stime) a process has used so far, from /proc/<pid>/stat; NaN when unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** This process's CPU seconds so far (user + system). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * The machine's CPU time so far, all cores, from /proc/stat: busy and total in seconds (its first line), and how
 * many CPUs those totals cover (its `cpuN` lines).
 */
export function machineCpuSeconds(): { busy: number; total: number; cpus: number } {
  try {
    const lines = readFileSync('/proc/stat', 'utf8').split('\n');
    const v = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length;
    return { busy: (total - idle) / USER_HZ, total: total / USER_HZ, cpus };
  } catch {
    return { busy: NaN, total: NaN, cpus: NaN };
  }
}

/** The share of all cores' time that was busy between two readings of machineCpuSeconds (0–1). */
export function busyShare(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : NaN;
}

/**
 * CPU seconds so far of a process's main thread and of all its other threads (/proc/<pid>/task/*, utime + stime):
 * for Node, the JavaScript thread against V8's workers (compiler, GC) and libuv's pool — which all share one name.
 */
export function threadCpuSeconds(pid: number | 'self' = 'self'): Record<string, number> {
  const out: Record<string, number> = { main: 0, others: 0 };
  const dir = `/proc/${pid}/task`;
  let tids: string[] = [];
  try {
    tids = readdirSync(dir);
  } catch {
    return out;
  }
  const main = pid === 'self' ? String(process.pid) : String(pid);
  for (const tid of tids) {
    try {
      out[tid === main ? 'main' : 'others']! += statCpuSeconds(readFileSync(`${dir}/${tid}/stat`, 'utf8'));
    } catch {
      /* a thread that ended */
    }
  }
  return out;
}

/** `after - before` of threadCpuSeconds (threads that ended since `before` are not counted). */
export function threadCpuSince(
  before: Record<string, number>,
  after = threadCpuSeconds(),
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, Math.round((v - (before[k] ?? 0)) * 100) / 100]),
  );
}
