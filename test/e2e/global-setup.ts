/**
 * Before any end-to-end test: make sure the local lab's components are built (a no-op with a warm cache; on a
 * fresh machine this is the one-time Go build, with progress on stderr), so `npm test` alone does all the set-up.
 */
import { ensureComponents } from '../../src/components/build.ts';
import { formatLabEvent } from '../../src/report/lab-progress.ts';

export default async function setup(): Promise<void> {
  await ensureComponents({
    signal: AbortSignal.timeout(80 * 60_000),
    emit: (e) => {
      const line = formatLabEvent(e);
      if (line) process.stderr.write(`[lab build] ${line}\n`);
    },
  });
}
