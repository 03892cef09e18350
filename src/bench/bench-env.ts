/** An isolated state dir, so a benchmark never touches the user's running lab. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function benchEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vel-bench-'));
  return {
    env: { ...env, VAULT_ESO_LAB_STATE_DIR: dir },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
