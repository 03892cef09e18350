/**
 * The component builder with a FAKE `go` on PATH (a shell script that records its calls): only what is missing is
 * built, a failed build reports the tail of its log and where the full log is, and a stale lock is taken over.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureComponents } from '../../../src/components/build.ts';
import { binaryPath, componentDir } from '../../../src/components/cache.ts';
import { components } from '../../../src/components/versions.ts';
import { LabError } from '../../../src/errors.ts';
import type { LabEvent } from '../../../src/report/events.ts';
import { fakeBin } from '../../helpers/fake-tools.ts';

// A fake go: `go build ... -o OUT ...` writes OUT; `go list -m -f {{.Dir}} M` prints a dir with the CRD bundle.
function fakeGo(fail = false) {
  const bin = fakeBin();
  const modDir = mkdtempSync(join(tmpdir(), 'vel-fakemod-'));
  mkdirSync(join(modDir, 'deploy', 'crds'), { recursive: true });
  writeFileSync(join(modDir, 'deploy', 'crds', 'bundle.yaml'), 'kind: CustomResourceDefinition\n');
  bin.add(
    'go',
    `case "$1" in
  mod) exit 0 ;;
  list) echo "${modDir}" ;;
  build)
    ${fail ? 'echo "compile: undefined: something important" >&2; echo "# more context" >&2; exit 1' : ''}
    while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then shift; echo fake > "$1"; fi; shift; done ;;
esac`,
  );
  return bin;
}

describe('ensureComponents', () => {
  it('builds only what is missing, with progress events, and nothing twice', async () => {
    const bin = fakeGo();
    const env = {
      PATH: `${bin.dir}:/usr/bin:/bin`,
      XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'vel-cache-')),
    };
    const events: LabEvent[] = [];
    const built = await ensureComponents({
      signal: new AbortController().signal,
      emit: (e) => events.push(e),
      env,
      only: ['etcd', 'eso'],
    });
    expect(built).toEqual(['etcd', 'eso']);
    expect(existsSync(binaryPath(components.etcd, 'etcd', env))).toBe(true);
    expect(readFileSync(join(componentDir(components.eso, env), 'crds.yaml'), 'utf8')).toContain(
      'CustomResourceDefinition',
    );
    expect(
      events
        .filter((e) => e.kind === 'lab.component.built')
        .map((e) => (e as { component: string }).component),
    ).toEqual(['etcd', 'eso']);
    const builds = bin.calls().filter((c) => c.startsWith('go build'));
    expect(builds).toHaveLength(2);
    expect(builds[0]).toContain('-trimpath');
    // Second run: everything cached, go not called again.
    const again = await ensureComponents({
      signal: new AbortController().signal,
      emit: () => {},
      env,
      only: ['etcd', 'eso'],
    });
    expect(again).toEqual([]);
    expect(bin.calls().filter((c) => c.startsWith('go build'))).toHaveLength(2);
  });

  it('a failed build says which component, shows the log tail and where the full log is', async () => {
    const bin = fakeGo(true);
    const env = {
      PATH: `${bin.dir}:/usr/bin:/bin`,
      XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'vel-cache-')),
    };
    const err = await ensureComponents({
      signal: new AbortController().signal,
      emit: () => {},
      env,
      only: ['etcd'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    const e = err as LabError;
    expect(e.code).toBe('E_BUILD');
    expect(e.message).toContain('building etcd');
    expect(e.message).toContain('undefined: something important');
    expect(e.message).toMatch(/full log: .*build-etcd-v[\d.]+\.log/);
    expect(existsSync(binaryPath(components.etcd, 'etcd', env))).toBe(false);
  });

  it('takes over a lock whose owner is dead', async () => {
    const bin = fakeGo();
    const env = {
      PATH: `${bin.dir}:/usr/bin:/bin`,
      XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'vel-cache-')),
    };
    mkdirSync(componentDir(components.etcd, env), { recursive: true });
    writeFileSync(join(componentDir(components.etcd, env), '.build.lock'), '999999'); // no such pid
    const built = await ensureComponents({
      signal: new AbortController().signal,
      emit: () => {},
      env,
      only: ['etcd'],
    });
    expect(built).toEqual(['etcd']);
    expect(existsSync(join(componentDir(components.etcd, env), '.build.lock'))).toBe(false);
  });

  it('without go on PATH it is a missing prerequisite (exit 3)', async () => {
    const env = {
      PATH: mkdtempSync(join(tmpdir(), 'vel-empty-')),
      XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'vel-cache-')),
    };
    const err = (await ensureComponents({
      signal: new AbortController().signal,
      emit: () => {},
      env,
      only: ['etcd'],
    }).catch((e: unknown) => e)) as LabError;
    expect(err.exitCode).toBe(3);
  });
});
