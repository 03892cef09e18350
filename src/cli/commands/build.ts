import { ExitCode } from '../../errors.ts';
import { ensureComponents } from '../../components/build.ts';
import { inspectCache } from '../../components/cache.ts';
import {
  allComponentNames,
  componentOrder,
  nodeComponents,
  optionalComponents,
  type ComponentName,
} from '../../components/versions.ts';
import { labProgress } from '../../report/lab-progress.ts';
import { UsageError } from '../../errors.ts';
import { gatherNodeFacts, nodeBlocker } from '../../labs/local/node/node-support.ts';
import type { Command } from '../command.ts';

export const buildCommand: Command = {
  name: 'build',
  summary: "build the local lab's components from Go modules into the user cache (only what is missing)",
  usage: `build [${allComponentNames.join('|')} ...]`,
  details: `Without names: the local lab's components (${componentOrder.join(', ')}) and, where this machine can run the lab's node, the node's (${nodeComponents.join(', ')}). ${optionalComponents.join(' and ')} (for the kind provider) are built only when named.`,
  options: {},
  allowPositionals: true,
  async run({ positionals, out, env, signal, values }) {
    for (const p of positionals)
      if (!allComponentNames.includes(p as ComponentName))
        throw new UsageError(`unknown component '${p}' (one of ${allComponentNames.join(', ')})`);
    let only = positionals.length ? (positionals as ComponentName[]) : undefined;
    if (!only) {
      const f = gatherNodeFacts(env);
      const why = nodeBlocker({ ...f, missing: [], runcRuns: f.runcRuns ?? true });
      only = [...componentOrder, ...(why ? [] : nodeComponents)];
      if (why) out.info(`not building the node's components: ${why}`);
    }
    const built = await ensureComponents({ signal, emit: labProgress(out), env, only });
    const cache = inspectCache(env, only);
    if (values.json)
      out.result(
        JSON.stringify(
          {
            built,
            cache: cache.map((c) => ({
              component: c.pin.name,
              version: c.pin.version,
              dir: c.dir,
              complete: c.complete,
            })),
          },
          null,
          2,
        ),
      );
    else
      for (const c of cache)
        out.result(
          `${c.pin.name} ${c.pin.version}: ${built.includes(c.pin.name) ? 'built' : 'cached'} (${c.dir})`,
        );
    return ExitCode.passed;
  },
};
