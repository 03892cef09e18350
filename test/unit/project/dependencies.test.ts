/**
 * Every package listed in package.json is used: imported by the tool, its scripts or tests, or run as a command
 * by an npm script. A listed package that nothing uses is a defect (it costs every install and hides what the
 * tool really depends on).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../src/paths.ts';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

/** Used without an import, and why. */
const notImported: Record<string, string> = {
  '@types/node': 'type declarations for tsc',
  typescript: 'tsc in `npm run typecheck`',
  eslint: 'the `npm run lint` command',
  prettier: 'the `npm run lint` command',
  vite: 'a required peer dependency of vitest 4',
};

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'go' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|js|mjs)$/.test(e)) out.push(p);
  }
  return out;
}

const code = [
  ...['src', 'scripts', 'bin', 'test'].flatMap((d) => sources(join(repoRoot, d))),
  join(repoRoot, 'vitest.config.ts'),
  join(repoRoot, 'eslint.config.js'),
]
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

function imported(name: string): boolean {
  const n = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(from\\s+|import\\s*\\(\\s*|import\\s+|register\\(\\s*)['"]${n}(/[^'"]*)?['"]`).test(
    code,
  );
}

describe('package.json', () => {
  const listed = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)];
  it.each(listed)('%s is used', (name) => {
    if (name in notImported) {
      const why = notImported[name] ?? '';
      expect(why, `${name} is listed as used without an import`).not.toBe('');
      return;
    }
    expect(imported(name), `${name} is listed in package.json but nothing imports it`).toBe(true);
  });

  it('the exceptions are all still listed', () => {
    for (const name of Object.keys(notImported)) expect(listed).toContain(name);
  });
});
