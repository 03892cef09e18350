/**
 * The values the tutorial writes to Vault: random (or, for tests, derived from VAULT_ESO_LAB_TUTORIAL_SEED so a
 * test can check they never reach the output), registered with the redaction registry the moment they exist, and
 * written to 0600 files without a trailing newline so `vault kv put key=@file` keeps them off every command line.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secrets, shortHash } from '../secrets/secret-registry.ts';
import type { GeneratedValue } from './model.ts';

export const SEED_ENV = 'VAULT_ESO_LAB_TUTORIAL_SEED';

/** 24 URL-safe characters (144 bits). With a seed: HMAC-SHA256(seed, label), for tests only. */
export function generateValue(label: string, seed?: string): string {
  const bytes = seed ? createHmac('sha256', seed).update(label).digest().subarray(0, 18) : randomBytes(18);
  return bytes.toString('base64url');
}

export function createValue(label: string, workDir: string, seed?: string): GeneratedValue {
  const value = generateValue(label, seed);
  secrets.add(value);
  const file = join(workDir, label);
  writeFileSync(file, value, { mode: 0o600 });
  return { label, value, hash: shortHash(value), file };
}

/** How a generated value appears in a displayed command: never the value, only its short hash. */
export function shownValue(v: Pick<GeneratedValue, 'hash'>, what = 'generated'): string {
  return `<${what}, sha256:${v.hash}>`;
}
