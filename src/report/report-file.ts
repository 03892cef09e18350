/** Writing report files: owner-only permissions, every string redacted. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SecretRegistry } from '../secrets/secret-registry.ts';

/** Write a report file (creating its directory), readable by the owner only. */
export async function writeReportFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600); // `mode` only applies when the file is created
}

/** Redact every string of a plain value (keys included). */
export function redactDeep<T>(value: T, registry: SecretRegistry): T {
  if (typeof value === 'string') return registry.redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, registry)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [registry.redact(k), redactDeep(v, registry)]),
    ) as T;
  return value;
}
