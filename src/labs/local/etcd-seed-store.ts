/**
 * The etcd seed on disk: what a whole seed is (`seed.json`, etcd's database, the WAL files it lists), copying one into
 * a lab with its WAL tails restored, trimming those tails when a seed is kept, pruning seeds nobody uses, and the
 * lock that lets one start build a seed while another waits.
 */
import {
  closeSync,
  cpSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../../errors.ts';
import { isAlive } from '../../process/command.ts';
import { waitFor } from '../../time.ts';

export interface EtcdSeed {
  /** The seed's key: a hash of everything that decides its contents. */
  key: string;
  /** Its directory in the cache (`member/` is etcd's data). */
  dir: string;
}

/**
 * The seed's description when the seed is whole: its `seed.json` parses and names this key, and etcd's database and
 * every WAL file it lists are there. A build is moved into place whole, so anything less was damaged afterwards.
 */
export function readSeed(seed: EtcdSeed): SeedInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(seed.dir, 'seed.json'), 'utf8')) as SeedInfo;
    if (info.key !== seed.key || typeof info.walSizes !== 'object' || !info.walSizes) return undefined;
    const member = join(seed.dir, 'member');
    const files = [
      join(member, 'snap', 'db'),
      ...Object.keys(info.walSizes).map((w) => join(member, 'wal', w)),
    ];
    return files.every((f) => statSync(f).isFile()) && Object.keys(info.walSizes).length > 0
      ? info
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the seed has been built and is whole. */
export function seedBuilt(seed: EtcdSeed): boolean {
  return readSeed(seed) !== undefined;
}

export interface SeedInfo {
  key: string;
  versions: Record<string, string>;
  createdAt: string;
  /** WAL files kept without their zero-filled preallocated tail: their full length, restored as a hole. */
  walSizes: Record<string, number>;
}

/**
 * Copy the seed's etcd data into a new lab's (empty, not yet existing) etcd data directory. etcd preallocates
 * each WAL file (64 MB of zeros after a few MB of records); the seed keeps only the records, and the copy gets
 * its full length back as a sparse tail (reads as the same zeros), so a start copies ≈5 MB instead of ≈66 MB.
 */
export function copySeed(seed: EtcdSeed, etcdDataDir: string): void {
  const info = readSeed(seed);
  if (!info) throw new LabError('E_SEED', `the etcd seed in ${seed.dir} is not whole`);
  mkdirSync(etcdDataDir, { mode: 0o700 });
  cpSync(join(seed.dir, 'member'), join(etcdDataDir, 'member'), { recursive: true });
  for (const [name, size] of Object.entries(info.walSizes ?? {}))
    truncateSync(join(etcdDataDir, 'member', 'wal', name), size);
  // Its last use, for pruneSeeds.
  const now = new Date();
  utimesSync(join(seed.dir, 'seed.json'), now, now);
}

/** A seed no start has copied for this long is removed when another one is built. */
export const SEED_UNUSED_MS = 30 * 86_400_000;

/**
 * Remove the seeds of other keys (older versions or manifests) that no start has used for `SEED_UNUSED_MS`; returns
 * their keys. A seed's last use is its `seed.json`'s modification time.
 */
export function pruneSeeds(root: string, keep: string, now = Date.now()): string[] {
  const removed: string[] = [];
  for (const entry of existsSync(root) ? readdirSync(root) : []) {
    if (entry === keep || !/^[0-9a-f]{16}$/.test(entry)) continue;
    let used: number;
    try {
      used = statSync(join(root, entry, 'seed.json')).mtimeMs;
    } catch {
      continue; // not a seed, or one being looked at: left alone
    }
    if (now - used < SEED_UNUSED_MS) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}

/** Cut the zero-filled tail of each WAL file in `walDir`; returns each one's full length (for copySeed). */
export function compactWal(walDir: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const f of readdirSync(walDir).filter((n) => n.endsWith('.wal')))
    sizes[f] = dropZeroTail(join(walDir, f));
  return sizes;
}

/** Cut a file's zero-filled tail (at a 4 KiB boundary); returns its length before. */
function dropZeroTail(file: string): number {
  const fd = openSync(file, 'r+');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(1 << 20);
    let end = size;
    while (end > 0) {
      const from = Math.max(0, end - chunk.length);
      const got = readSync(fd, chunk, 0, end - from, from);
      let i = got - 1;
      while (i >= 0 && chunk[i] === 0) i--;
      if (i >= 0) {
        end = from + i + 1;
        break;
      }
      end = from;
    }
    ftruncateSync(fd, Math.min(size, Math.ceil(end / 4096) * 4096));
    return size;
  } finally {
    closeSync(fd);
  }
}

/** Copies left by a build whose process is gone (killed between copy and rename). */
export function removeAbandonedCopies(root: string): void {
  for (const entry of readdirSync(root)) {
    const m = /^\.tmp-(\d+)-/.exec(entry);
    if (m && !isAlive(Number(m[1]))) rmSync(join(root, entry), { recursive: true, force: true });
  }
}

/**
 * The build lock for one seed (`.<key>.lock`, holding the builder's pid). Taken: a release function. Another live
 * process holding it: wait until it ends (its lock gone), then `undefined` if it left the seed built, or take the
 * lock for a build of our own. A lock whose process is gone is taken over.
 */
export async function takeBuildLock(
  root: string,
  seed: EtcdSeed,
  signal: AbortSignal,
  waiting: (pid: number) => void,
): Promise<{ release: () => void } | undefined> {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const file = join(root, `.${seed.key}.lock`);
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return { release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(file, 'utf8').trim());
    if (!owner || !isAlive(owner)) {
      rmSync(file, { force: true });
      continue;
    }
    waiting(owner);
    await waitFor(
      async () =>
        existsSync(file) && isAlive(owner)
          ? { done: false, seen: `pid ${owner} is building the etcd seed` }
          : { done: true, value: undefined },
      { what: 'the other start to finish the etcd seed', timeoutMs: 120_000, intervalMs: 100, signal },
    );
    if (seedBuilt(seed)) return undefined;
  }
}
