/**
 * Image archives without a registry or a Docker engine: one config and one layer, written as a docker-archive tar
 * (`manifest.json` + config + `layer.tar`), the format `ctr images import`, `docker load` and `kind load
 * image-archive` all accept. The layer holds a static binary (and links to it); entries are written with fixed
 * owners and times, so the same binary always gives the same image digest.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

interface TarEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Buffer;
  linkname?: string;
}

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512, 0);
  if (Buffer.byteLength(e.name) > 100) throw new Error(`tar entry name too long: ${e.name}`);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime: fixed, for reproducible digests
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder
  h.write(e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', 156, 1, 'ascii');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

/** A POSIX ustar archive of the entries, in order. */
export function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(header(e, data.length), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

export interface ImageSpec {
  /** Full reference, e.g. `localhost/vault-eso-lab/consumer:v1`. */
  ref: string;
  /** The static binary, placed at `/<name>`. */
  binary: { path: string; name: string };
  /** Extra names in /bin linking to the binary (a multi-call binary). */
  links?: string[];
  entrypoint: string[];
  user: string;
}

export function goArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The docker-archive tar for one image, and its config digest (the image id containerd reports). */
export function imageArchive(spec: ImageSpec): { archive: Buffer; imageId: string } {
  const entries: TarEntry[] = [
    { name: spec.binary.name, type: 'file', mode: 0o755, data: readFileSync(spec.binary.path) },
    { name: 'tmp/', type: 'dir', mode: 0o1777 },
  ];
  if (spec.links?.length) {
    entries.push({ name: 'bin/', type: 'dir', mode: 0o755 });
    for (const l of spec.links)
      entries.push({ name: `bin/${l}`, type: 'symlink', mode: 0o777, linkname: `/${spec.binary.name}` });
  }
  const layer = tar(entries);
  const diffId = sha256(layer);
  const config = JSON.stringify({
    architecture: goArch(),
    os: 'linux',
    config: {
      Entrypoint: spec.entrypoint,
      Env: ['PATH=/bin'],
      User: spec.user,
      WorkingDir: '/',
      Labels: { 'org.opencontainers.image.source': 'vault-eso-lab (built locally from Go sources)' },
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created_by: 'vault-eso-lab image-archive', created: '1970-01-01T00:00:00Z' }],
    created: '1970-01-01T00:00:00Z',
  });
  const configId = sha256(config);
  const manifest = JSON.stringify([
    { Config: `${configId}.json`, RepoTags: [spec.ref], Layers: [`${diffId}/layer.tar`] },
  ]);
  const archive = tar([
    { name: `${diffId}/`, type: 'dir', mode: 0o755 },
    { name: `${diffId}/layer.tar`, type: 'file', mode: 0o644, data: layer },
    { name: `${configId}.json`, type: 'file', mode: 0o644, data: Buffer.from(config) },
    { name: 'manifest.json', type: 'file', mode: 0o644, data: Buffer.from(manifest) },
  ]);
  return { archive, imageId: `sha256:${configId}` };
}
