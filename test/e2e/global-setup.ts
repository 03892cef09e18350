/**
 * Before any end-to-end test: make sure the local lab's components are built (a no-op with a warm cache; on a
 * fresh machine this is the one-time Go build, with progress on stderr), so `npm test` alone does all the set-up.
 */
import { ensureComponents } from '../../src/components/build.ts';
import { gatherNodeFacts, nodeBlocker } from '../../src/labs/local/node/node-support.ts';
import { formatLabEvent } from '../../src/report/lab-progress.ts';
import { componentOrder, nodeComponents } from '../../src/components/versions.ts';

export default async function setup(): Promise<void> {
  const f = gatherNodeFacts();
  // helm (optional for users) is needed by the tests that render ESO's chart with our values.
  await ensureComponents({
    // The node's components where this machine can run a node (runc needs libseccomp-dev: .ci/run installs it).
    only: [
      ...componentOrder,
      ...(nodeBlocker({ ...f, missing: [], runcRuns: true }) ? [] : nodeComponents),
      'helm',
    ],
    signal: AbortSignal.timeout(80 * 60_000),
    emit: (e) => {
      const line = formatLabEvent(e);
      if (line) process.stderr.write(`[lab build] ${line}\n`);
    },
  });
}
