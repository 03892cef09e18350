/** How to start one of this folder's child processes (`observer-child`, `wake-floor-child`) with node. */
import { fileURLToPath } from 'node:url';

export function childCommand(name: string): { file: string; pre: string[] } {
  const here = fileURLToPath(import.meta.url);
  // From dist/ the child is compiled JavaScript; from the sources it needs tsx's loader.
  return here.endsWith('.ts')
    ? { file: here.replace(/child-command\.ts$/, `${name}.ts`), pre: ['--expose-gc', '--import', 'tsx'] }
    : { file: here.replace(/child-command\.js$/, `${name}.js`), pre: ['--expose-gc'] };
}
