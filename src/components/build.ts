/**
 * Build the local lab's components from Go modules with the machine's Go, once per user: each binary goes to
 * `<cache>/components/<name>-<version>/`, built through the wrapper module in src/components/go/<name>/.
 * Only what is missing is built; a lock file stops two builds of one component racing; a failed build reports
 * the last lines of its log and where the full log is.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { LabError, PrerequisiteError, CommandError, throwIfAborted } from '../errors.ts';
import { runCommand, tailLines, isAlive, which } from '../process/command.ts';
import { sleep } from '../time.ts';
import { repoRoot, cacheRoot } from '../paths.ts';
import type { LabEvent } from '../report/events.ts';
import { binaryPath, componentDir } from './cache.ts';
import { componentOrder, components, type ComponentName, type ComponentPin } from './versions.ts';

export interface BuildOptions {
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
  env?: NodeJS.ProcessEnv;
  /** Build these (default: all). */
  only?: readonly ComponentName[];
}

export function wrapperDir(pin: ComponentPin): string {
  return join(repoRoot, 'src', 'components', 'go', pin.name);
}

export function buildLogFile(pin: ComponentPin, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'logs', `build-${pin.name}-${pin.version}.log`);
}

function isComplete(pin: ComponentPin, env: NodeJS.ProcessEnv): boolean {
  return (
    pin.binaries.every((b) => existsSync(binaryPath(pin, b.name, env))) &&
    (pin.files ?? []).every((f) => existsSync(join(componentDir(pin, env), f.name)))
  );
}

/** Ensure every (or the chosen) component is built; returns the names that had to be built. */
export async function ensureComponents(options: BuildOptions): Promise<ComponentName[]> {
  const env = options.env ?? process.env;
  const names = options.only ?? componentOrder;
  const built: ComponentName[] = [];
  for (const name of names) {
    const pin = components[name];
    if (isComplete(pin, env)) continue;
    await buildComponent(pin, { ...options, env });
    built.push(name);
  }
  return built;
}

async function buildComponent(
  pin: ComponentPin,
  options: BuildOptions & { env: NodeJS.ProcessEnv },
): Promise<void> {
  const { env, signal, emit } = options;
  const go = which('go', env.PATH);
  if (!go)
    throw new PrerequisiteError('go', `building ${pin.name} ${pin.version} needs Go (none on PATH)`, {
      hint: 'install Go 1.26+ (or run on a machine where the components are cached)',
    });
  if (pin.cgo) await checkCgoPrerequisites(pin, env, signal);
  const dir = componentDir(pin, env);
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(cacheRoot(env), 'logs'), { recursive: true });
  const release = await acquireLock(join(dir, '.build.lock'), pin, options);
  try {
    // Another process may have finished it while we waited for the lock.
    if (isComplete(pin, env)) return;
    const logFile = buildLogFile(pin, env);
    writeFileSync(logFile, `# build of ${pin.name} ${pin.version} started ${new Date().toISOString()}\n`);
    const started = performance.now();
    let currentStep = 'downloading modules';
    const ticker = setInterval(
      () =>
        emit({
          kind: 'lab.component.building',
          component: pin.name,
          step: currentStep,
          elapsedMs: performance.now() - started,
        }),
      5000,
    );
    try {
      const goEnv = buildEnv(env, pin);
      emit({ kind: 'lab.component.building', component: pin.name, step: currentStep, elapsedMs: 0 });
      await runGo(go, ['mod', 'download'], pin, goEnv, logFile, signal);
      for (const b of pin.binaries) {
        if (existsSync(binaryPath(pin, b.name, env))) continue;
        currentStep = `compiling ${b.name}`;
        emit({
          kind: 'lab.component.building',
          component: pin.name,
          step: currentStep,
          elapsedMs: performance.now() - started,
        });
        const out = binaryPath(pin, b.name, env);
        const tmp = `${out}.tmp-${process.pid}`;
        const args = ['build', '-trimpath', '-o', tmp];
        if (pin.tags?.length) args.push('-tags', pin.tags.join(','));
        if (pin.ldflags?.length) args.push('-ldflags', pin.ldflags.join(' '));
        args.push(b.pkg);
        await runGo(go, args, pin, goEnv, logFile, signal);
        chmodSync(tmp, 0o755);
        renameSync(tmp, out);
      }
      for (const f of pin.files ?? []) {
        if (existsSync(join(dir, f.name))) continue;
        currentStep = `copying ${f.name}`;
        const r = await runGo(go, ['list', '-m', '-f', '{{.Dir}}', f.module], pin, goEnv, logFile, signal);
        const src = join(r.trim(), f.path);
        copyFileSync(src, join(dir, f.name));
      }
    } finally {
      clearInterval(ticker);
    }
    emit({
      kind: 'lab.component.built',
      component: pin.name,
      durationMs: performance.now() - started,
      cached: false,
    });
  } finally {
    release();
  }
}

/** A cgo build needs a C compiler, pkg-config and the C libraries' headers: say which package is missing. */
async function checkCgoPrerequisites(
  pin: ComponentPin,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<void> {
  const missing: string[] = [];
  if (!which('gcc', env.PATH) && !which('cc', env.PATH)) missing.push('gcc');
  if (!which('pkg-config', env.PATH)) missing.push('pkg-config');
  else
    for (const lib of pin.pkgConfig ?? []) {
      const r = await runCommand('pkg-config', ['--exists', lib.name], { env, reject: false, signal });
      if (r.exitCode !== 0) missing.push(lib.debian);
    }
  if (missing.length)
    throw new PrerequisiteError(
      missing.join(', '),
      `building ${pin.name} ${pin.version} needs cgo: ${missing.join(', ')} missing`,
      { hint: `Debian: apt-get install -y ${missing.join(' ')}` },
    );
}

function buildEnv(env: NodeJS.ProcessEnv, pin: ComponentPin): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...env,
    CGO_ENABLED: pin.cgo ? '1' : '0',
    GO111MODULE: 'on',
    GOFLAGS: '-mod=readonly -buildvcs=false',
  };
  // Never let a lab build pick up a user's workspace file.
  e.GOWORK = 'off';
  return e;
}

async function runGo(
  go: string,
  args: string[],
  pin: ComponentPin,
  env: NodeJS.ProcessEnv,
  logFile: string,
  signal: AbortSignal,
): Promise<string> {
  try {
    const r = await runCommand(go, args, { cwd: wrapperDir(pin), env, extendEnv: false, signal, logFile });
    return r.stdout;
  } catch (e) {
    if (e instanceof CommandError && !e.isCanceled) {
      let tail = '';
      try {
        tail = tailLines(readFileSync(logFile, 'utf8'), 25);
      } catch {
        /* no log */
      }
      throw new LabError(
        'E_BUILD',
        `building ${pin.name} ${pin.version} failed: go ${args.slice(0, 2).join(' ')}\n${tail}\nfull log: ${logFile}`,
        {
          cause: e,
          hint: 'check that the Go module proxy answers (vault-eso-lab doctor) and that Go is 1.26 or newer',
        },
      );
    }
    throw e;
  }
}

/** A lock file holding the builder's pid; a lock whose owner is dead is taken over. */
async function acquireLock(path: string, pin: ComponentPin, options: BuildOptions): Promise<() => void> {
  let announced = false;
  for (;;) {
    throwIfAborted(options.signal);
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSafe(path));
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!announced) {
        options.emit({
          kind: 'lab.info',
          message: `waiting for another build of ${pin.name} (pid ${owner})`,
        });
        announced = true;
      }
      await sleep(1000, options.signal);
    }
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
