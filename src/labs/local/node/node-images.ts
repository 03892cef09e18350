/**
 * The node's two images as archives in the component cache (`<cache>/components/node-images-<v>/*.tar`), written
 * once from the built binaries: `pause` (every pod sandbox) and `consumer` (the pod scenarios' application, also
 * answering `cat` and `printenv` for exec). Imported into the lab's containerd at start; loaded into kind by the
 * kind provider.
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryPath, componentDir } from '../../../components/cache.ts';
import { components, nodeImages } from '../../../components/versions.ts';
import { imageArchive, type ImageSpec } from './image-archive.ts';

export interface NodeImage {
  ref: string;
  archive: string;
}

function specs(env: NodeJS.ProcessEnv): { file: string; spec: ImageSpec }[] {
  const pin = components['node-images'];
  return [
    {
      file: 'pause.tar',
      spec: {
        ref: nodeImages.pause,
        binary: { path: binaryPath(pin, 'pause', env), name: 'pause' },
        entrypoint: ['/pause'],
        user: '65535:65535',
      },
    },
    {
      file: 'consumer.tar',
      spec: {
        ref: nodeImages.consumer,
        binary: { path: binaryPath(pin, 'consumer', env), name: 'consumer' },
        links: ['cat', 'printenv'],
        entrypoint: ['/consumer'],
        user: '65534:65534',
      },
    },
  ];
}

/** The archives, written if missing (the binaries must be built: `vault-eso-lab build node-images`). */
export function ensureNodeImageArchives(env: NodeJS.ProcessEnv = process.env): NodeImage[] {
  const dir = componentDir(components['node-images'], env);
  return specs(env).map(({ file, spec }) => {
    const archive = join(dir, file);
    if (!existsSync(archive)) {
      const tmp = `${archive}.tmp-${process.pid}`;
      writeFileSync(tmp, imageArchive(spec).archive, { mode: 0o644 });
      renameSync(tmp, archive);
    }
    return { ref: spec.ref, archive };
  });
}
