/** The per-user component cache: `<cache>/components/<name>-<version>/<binary>`, never inside the repo. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../paths.ts';
import { componentOrder, components, type ComponentName, type ComponentPin } from './versions.ts';

export function componentsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'components');
}

export function componentDir(pin: ComponentPin, env: NodeJS.ProcessEnv = process.env): string {
  return join(componentsDir(env), `${pin.name}-${pin.version}`);
}

export function binaryPath(pin: ComponentPin, binary: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(componentDir(pin, env), binary);
}

export interface CachedComponent {
  pin: ComponentPin;
  dir: string;
  /** Every binary present and executable. */
  complete: boolean;
  binaries: { name: string; path: string; present: boolean; sizeBytes: number }[];
}

export function inspectCache(
  env: NodeJS.ProcessEnv = process.env,
  names: readonly ComponentName[] = componentOrder,
): CachedComponent[] {
  return names.map((name) => {
    const pin = components[name];
    const binaries = pin.binaries.map((b) => {
      const path = binaryPath(pin, b.name, env);
      const present = existsSync(path);
      return { name: b.name, path, present, sizeBytes: present ? statSync(path).size : 0 };
    });
    return { pin, dir: componentDir(pin, env), complete: binaries.every((b) => b.present), binaries };
  });
}
