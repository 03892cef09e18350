/** Where the tool keeps things: build caches in the user cache dir, lab run directories in the user state dir. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'vault-eso-lab');
}

export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VAULT_ESO_LAB_STATE_DIR) return env.VAULT_ESO_LAB_STATE_DIR;
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/')
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(base, 'vault-eso-lab');
}

/** Directory holding one run directory per lab (`default` for `up`, a random id for ephemeral scenario labs). */
export function labsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), 'labs');
}

/** The repository root (scenarios/, kind/, helm-values/ live there). */
export const repoRoot = new URL('../', import.meta.url).pathname.replace(/\/$/, '');
