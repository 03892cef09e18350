/**
 * The etcd seed's WAL handling: the seed keeps each WAL file without its zero-filled preallocated tail, and a copy
 * into a lab gets its full length back (as a hole that reads as the same zeros). The seed build itself runs against
 * the real etcd and API server in the e2e suite (every local lab starts from it).
 */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SEED_UNUSED_MS,
  compactWal,
  copySeed,
  pruneSeeds,
  seedBuilt,
  type SeedInfo,
} from '../../../../src/labs/local/etcd-seed-store.ts';

function fakeSeed() {
  const dir = mkdtempSync(join(tmpdir(), 'vel-seed-'));
  const wal = join(dir, 'member', 'wal');
  mkdirSync(wal, { recursive: true });
  mkdirSync(join(dir, 'member', 'snap'));
  writeFileSync(join(dir, 'member', 'snap', 'db'), 'bolt');
  // 10,000 bytes of records (with zeros inside them), then 2 MiB of preallocated zeros.
  const records = Buffer.alloc(10_000, 7);
  records.fill(0, 100, 5000);
  const original = Buffer.concat([records, Buffer.alloc(2 << 20)]);
  writeFileSync(join(wal, '0000000000000000-0000000000000000.wal'), original);
  writeFileSync(join(wal, '0.tmp'), 'not a wal');
  return { dir, wal, original };
}

describe('etcd seed', () => {
  it('keeps a WAL without its zero tail and gives a copy its full length back, byte for byte', () => {
    const { dir, wal, original } = fakeSeed();
    const name = '0000000000000000-0000000000000000.wal';
    const sizes = compactWal(wal);
    expect(sizes).toEqual({ [name]: original.length });
    // Cut at the 4 KiB boundary after the last record byte; zeros inside the records are kept.
    expect(statSync(join(wal, name)).size).toBe(12_288);
    expect(seedBuilt({ key: 'k', dir })).toBe(false); // no seed.json yet: not complete
    const info: SeedInfo = { key: 'k', versions: {}, createdAt: '', walSizes: sizes };
    writeFileSync(join(dir, 'seed.json'), JSON.stringify(info));
    expect(seedBuilt({ key: 'k', dir })).toBe(true);

    const lab = join(mkdtempSync(join(tmpdir(), 'vel-lab-')), 'etcd-data');
    copySeed({ key: 'k', dir }, lab);
    const copied = readFileSync(join(lab, 'member', 'wal', name));
    expect(copied.length).toBe(original.length);
    expect(copied.equals(original)).toBe(true);
    expect(statSync(lab).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(lab, 'member', 'snap', 'db'), 'utf8')).toBe('bolt');
  });

  it('prunes seeds of other keys that no start used for 30 days, and nothing else', () => {
    const root = mkdtempSync(join(tmpdir(), 'vel-seeds-'));
    const now = Date.now();
    const seedAt = (key: string, usedMsAgo: number) => {
      mkdirSync(join(root, key));
      writeFileSync(join(root, key, 'seed.json'), '{}');
      const t = new Date(now - usedMsAgo);
      utimesSync(join(root, key, 'seed.json'), t, t);
    };
    seedAt('aaaaaaaaaaaaaaaa', SEED_UNUSED_MS + 60_000); // old, unused
    seedAt('bbbbbbbbbbbbbbbb', 60_000); // used a minute ago
    seedAt('cccccccccccccccc', SEED_UNUSED_MS * 2); // the current key, however old
    mkdirSync(join(root, '.tmp-1-ab'));
    expect(pruneSeeds(root, 'cccccccccccccccc', now)).toEqual(['aaaaaaaaaaaaaaaa']);
    expect(readdirSync(root).sort()).toEqual(['.tmp-1-ab', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc']);
  });

  it('is not whole when seed.json names another key, does not parse, or a WAL file it lists is gone', () => {
    const { dir, wal } = fakeSeed();
    const name = '0000000000000000-0000000000000000.wal';
    const info: SeedInfo = { key: 'k', versions: {}, createdAt: '', walSizes: compactWal(wal) };
    writeFileSync(join(dir, 'seed.json'), JSON.stringify(info));
    expect(seedBuilt({ key: 'k', dir })).toBe(true);
    expect(seedBuilt({ key: 'other', dir })).toBe(false);
    rmSync(join(wal, name));
    expect(seedBuilt({ key: 'k', dir })).toBe(false);
    expect(() => copySeed({ key: 'k', dir }, join(dir, 'copy'))).toThrow(/is not whole/);
    writeFileSync(join(dir, 'seed.json'), '{"key":');
    expect(seedBuilt({ key: 'k', dir })).toBe(false);
  });
});
