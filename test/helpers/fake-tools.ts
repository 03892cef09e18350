/**
 * Fake command-line tools for tests: tiny shell scripts put first on PATH that answer like the real tool and
 * append their arguments to a record file. Named as fakes; used only for what cannot run here (docker, kind, helm).
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeBin {
  dir: string;
  recordFile: string;
  /** Add a fake `name` whose body is a POSIX sh script (args in "$@"); every call is recorded first. */
  add(name: string, body: string): void;
  /** The recorded calls, one `name arg1 arg2` line each. */
  calls(): string[];
}

export function fakeBin(): FakeBin {
  const dir = mkdtempSync(join(tmpdir(), 'vel-fakebin-'));
  const recordFile = join(dir, 'calls.log');
  return {
    dir,
    recordFile,
    add(name, body) {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\necho "${name} $*" >> "${recordFile}"\n${body}\n`);
      chmodSync(p, 0o755);
    },
    calls() {
      return existsSync(recordFile)
        ? readFileSync(recordFile, 'utf8').trim().split('\n').filter(Boolean)
        : [];
    },
  };
}
