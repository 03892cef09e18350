/** The one error shape for every Vault call: method, path, HTTP status and Vault's own `errors` list. */
import { LabError } from '../errors.ts';

/** Vault answered with a non-2xx status (or could not be reached: status 0). Tokens and values never appear. */
export class VaultRequestError extends LabError {
  override readonly name = 'VaultRequestError';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly errors: readonly string[];
  constructor(method: string, path: string, status: number, errors: readonly string[], cause?: unknown) {
    const why = status === 0 ? 'unreachable' : `HTTP ${status}`;
    const detail = errors.length ? `: ${errors.join('; ')}` : '';
    super('E_VAULT', `vault ${method} ${path}: ${why}${detail}`, cause === undefined ? {} : { cause });
    this.method = method;
    this.path = path;
    this.status = status;
    this.errors = errors;
  }

  get permissionDenied(): boolean {
    return this.status === 403;
  }
  get sealed(): boolean {
    return this.status === 503 || this.errors.some((e) => /sealed/i.test(e));
  }
  get unreachable(): boolean {
    return this.status === 0;
  }
}
