#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ (built by `npm run build`, which npm's `prepare` runs on install)
// when it is current; otherwise the TypeScript sources through tsx's loader, with a note (a slower start).
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** Newest modification time (ms) of the TypeScript sources under src/, or Infinity when unreadable. */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (e.name !== 'go') newest = Math.max(newest, newestSource(new URL(`${e.name}/`, dir)));
    } else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(new URL(e.name, dir)).mtimeMs);
  }
  return newest;
}

function distIsCurrent() {
  try {
    const stamp = statSync(new URL('dist/.build-stamp', root)).mtimeMs;
    return (
      stamp >= newestSource(new URL('src/', root)) &&
      stamp >= statSync(new URL('tsconfig.build.json', root)).mtimeMs
    );
  } catch {
    return false;
  }
}

let main;
if (process.env.VAULT_ESO_LAB_FROM_SOURCE !== '1' && distIsCurrent()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  if (process.env.VAULT_ESO_LAB_FROM_SOURCE !== '1')
    process.stderr.write(
      "note: dist/ is missing or older than src/ (run 'npm run build'); running the TypeScript sources through tsx\n",
    );
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
