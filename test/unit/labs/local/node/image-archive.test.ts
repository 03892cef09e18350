import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { imageArchive, tar } from '../../../../../src/labs/local/node/image-archive.ts';

const dir = mkdtempSync(join(tmpdir(), 'vel-image-'));
const bin = join(dir, 'consumer');
writeFileSync(bin, 'not really an ELF, but bytes');

/** Entries of a tar as GNU tar lists them (a real tool reads our archive). */
function listTar(buf: Buffer): string[] {
  const f = join(dir, `t-${Math.random()}.tar`);
  writeFileSync(f, buf);
  return execFileSync('tar', ['-tvf', f], { encoding: 'utf8' }).trim().split('\n');
}

function extract(buf: Buffer, member: string): Buffer {
  const f = join(dir, `x-${Math.random()}.tar`);
  writeFileSync(f, buf);
  return execFileSync('tar', ['-xOf', f, member]);
}

describe('tar', () => {
  it('writes files, directories and symlinks that GNU tar reads back', () => {
    const lines = listTar(
      tar([
        { name: 'a.txt', type: 'file', mode: 0o644, data: Buffer.from('hello') },
        { name: 'bin/', type: 'dir', mode: 0o755 },
        { name: 'bin/cat', type: 'symlink', mode: 0o777, linkname: '/consumer' },
      ]),
    );
    expect(lines[0]).toMatch(/^-rw-r--r-- root\/root\s+5 .* a\.txt$/);
    expect(lines[1]).toMatch(/^drwxr-xr-x .* bin\/$/);
    expect(lines[2]).toMatch(/^lrwxrwxrwx .* bin\/cat -> \/consumer$/);
  });
});

describe('image archive', () => {
  const spec = {
    ref: 'localhost/vault-eso-lab/consumer:v1',
    binary: { path: bin, name: 'consumer' },
    links: ['cat', 'printenv'],
    entrypoint: ['/consumer'],
    user: '65534:65534',
  };
  it('is a docker-archive: manifest, config with the layer diff id, one layer with the binary and its links', () => {
    const { archive, imageId } = imageArchive(spec);
    const manifest = JSON.parse(extract(archive, 'manifest.json').toString()) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.RepoTags).toEqual(['localhost/vault-eso-lab/consumer:v1']);
    expect(`sha256:${manifest[0]!.Config.replace('.json', '')}`).toBe(imageId);
    const config = JSON.parse(extract(archive, manifest[0]!.Config).toString()) as {
      os: string;
      config: { Entrypoint: string[]; User: string };
      rootfs: { diff_ids: string[] };
    };
    expect(config.os).toBe('linux');
    expect(config.config).toMatchObject({ Entrypoint: ['/consumer'], User: '65534:65534' });
    const layer = extract(archive, manifest[0]!.Layers[0]!);
    expect(config.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(layer).digest('hex')}`]);
    const entries = listTar(layer).join('\n');
    expect(entries).toMatch(/-rwxr-xr-x .* consumer/);
    expect(entries).toMatch(/bin\/cat -> \/consumer/);
    expect(entries).toMatch(/bin\/printenv -> \/consumer/);
  });
  it('is reproducible: the same binary gives the same image id, another binary another one', () => {
    const first = imageArchive(spec).imageId;
    expect(imageArchive(spec).imageId).toBe(first);
    writeFileSync(bin, 'another binary');
    expect(imageArchive(spec).imageId).not.toBe(first);
  });
});
