/** How to start one of this folder's child processes (`observer-child`, `wake-floor-child`) with node. */
import { fileURLToPath } from 'node:url';

/**
 * `--no-memory-reducer`: a harness is idle between bursts of events, which is when V8's memory reducer starts full
 * collections to shrink a heap that has no need to shrink — measured at N=500, two major and two incremental
 * collections, 50 ms of a 0.16 s watch. `--expose-gc`: the child collects its set-up garbage before it is ready.
 */
const FLAGS = ['--expose-gc', '--no-memory-reducer'];

export function childCommand(name: string): { file: string; pre: string[] } {
  const here = fileURLToPath(import.meta.url);
  // From dist/ the child is compiled JavaScript; from the sources it needs tsx's loader.
  return here.endsWith('.ts')
    ? { file: here.replace(/child-command\.ts$/, `${name}.ts`), pre: [...FLAGS, '--import', 'tsx'] }
    : { file: here.replace(/child-command\.js$/, `${name}.js`), pre: FLAGS };
}
