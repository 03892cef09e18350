/**
 * Before any end-to-end test: make sure the local lab's components are built (a no-op with a warm cache; on a
 * fresh machine this is the one-time Go build, with progress on stderr), so `npm test` alone does all the set-up.
 */
import { ensureComponents } from '../../src/components/build.ts';
import { formatLabEvent } from '../../src/report/lab-progress.ts';
import { componentOrder } from '../../src/components/versions.ts';

export default async function setup(): Promise<void> {
  // helm (optional for users) is needed by the tests that render ESO's chart with our values.
  await ensureComponents({
    only: [...componentOrder, 'helm'],
    signal: AbortSignal.timeout(80 * 60_000),
    emit: (e) => {
      const line = formatLabEvent(e);
      if (line) process.stderr.write(`[lab build] ${line}\n`);
    },
  });
}
