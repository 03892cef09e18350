/**
 * Where ESO v0.20.4's Vault provider reads a `remoteRef.key`, from the SecretStore's `path` (the mount) and
 * `version` — the same rules as its `buildPath`: with a `path`, a key that starts with `<path>/` (and, for v2,
 * `data/`) has it cut off, then v1 reads `<path>/<key>` and v2 `<path>/data/<key>`; without a `path`, the key's first
 * segment is the mount and v2 inserts `data/` after it unless the key already holds `/data/`.
 */
import type { KvLocation } from '../vault/kv-engine.ts';

export interface EsoReadPath extends KvLocation {
  /** The HTTP path ESO requests (`secret/data/my-app/config`, `kv1/my-app/config`). */
  apiPath: string;
}

export function esoReadPath(key: string, store: { mount?: string; version?: string }): EsoReadPath {
  const version = store.version === 'v1' ? 1 : 2;
  let rest = key.replace(/^\/+/, '');
  if (store.mount !== undefined && store.mount !== '') {
    const mount = store.mount.replace(/^\/+|\/+$/g, '');
    if (rest.startsWith(`${mount}/`)) {
      rest = rest.slice(mount.length + 1);
      if (version === 2 && rest.startsWith('data/')) rest = rest.slice(5);
    }
    return {
      mount,
      version,
      path: rest,
      apiPath: version === 2 ? `${mount}/data/${rest}` : `${mount}/${rest}`,
    };
  }
  const [mount = '', ...segments] = rest.split('/');
  let path = segments.join('/');
  if (version === 2 && path.startsWith('data/')) path = path.slice(5);
  return { mount, version, path, apiPath: version === 2 ? `${mount}/data/${path}` : `${mount}/${path}` };
}

/**
 * A property path in a secret's data, as ESO resolves it: the key itself when the data has it, else a gjson-style
 * dotted path into JSON values (`db.host`). Returns the value, or where the walk stopped and the keys found there.
 */
export function lookupProperty(
  data: Record<string, unknown>,
  property: string,
): { found: true; value: unknown } | { found: false; at: string; keys: string[] } {
  if (property in data) return { found: true, value: data[property] };
  let node: unknown = data;
  const walked: string[] = [];
  for (const seg of property.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !(seg in node))
      return {
        found: false,
        at: walked.join('.'),
        keys: node !== null && typeof node === 'object' && !Array.isArray(node) ? Object.keys(node) : [],
      };
    node = (node as Record<string, unknown>)[seg];
    walked.push(seg);
  }
  return { found: true, value: node };
}
