/**
 * Secret values never reach output. Values are shown as short hashes; every value the run generates or reads is
 * registered here, and, as a second line of defence, `redact()` scrubs them from everything the tool writes
 * about a run: the console, JSON and JUnit reporters, lab progress, the tutorial, evidence and log tails, kind's
 * command errors and the CLI's error messages (src/cli/main.ts). The one deliberate exception is
 * `vault-eso-lab env`, whose job is to print the lab's own `VAULT_TOKEN` for `eval`.
 */
import { createHash } from 'node:crypto';

/** Short, non-reversible fingerprint of a value: the first 8 hex chars of its SHA-256. */
export type ShortHash = string;

/** A Secret as shown to humans and reports: key names with short hashes. */
export type MaskedData = Record<string, ShortHash>;

export function shortHash(value: string): ShortHash {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

export function maskData(data: Record<string, string>): MaskedData {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, shortHash(v)]));
}

export function formatMasked(data: Record<string, string>): string {
  const entries = Object.entries(maskData(data));
  return entries.length ? entries.map(([k, h]) => `${k}=sha256:${h}`).join(', ') : '(no keys)';
}

export class SecretRegistry {
  private readonly values = new Set<string>();
  private readonly literals = new Set<string>();

  /** Register a sensitive value (ignored when too short to be meaningful to scrub, or written in a scenario file). */
  add(value: string): void {
    if (value.length >= 6 && !this.literals.has(value)) this.values.add(value);
  }

  /**
   * A value the user wrote literally in a scenario file (e.g. `username: my-app-user`) is not scrubbed: it is
   * already public, and scrubbing it would garble names that contain it (`my-app-user-password`). Values the run
   * generates are always scrubbed.
   */
  addLiteral(value: string): void {
    this.literals.add(value);
    this.values.delete(value);
  }

  has(value: string): boolean {
    return this.values.has(value);
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.values)
      if (out.includes(v)) out = out.split(v).join(`<redacted sha256:${shortHash(v)}>`);
    return out;
  }
}

/** The process-wide registry used by reporters and log tails. */
export const secrets = new SecretRegistry();
