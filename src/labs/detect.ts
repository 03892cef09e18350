/**
 * What is on this machine, for `doctor` and for `--provider auto`: each probe runs the real tool (found on PATH)
 * with a short timeout and reports what it found, never throwing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runCommand, which } from '../process/command.ts';
import { inspectCache, type CachedComponent } from '../components/cache.ts';
import { componentOrder, nodeComponents } from '../components/versions.ts';
import { cachedTool } from './kind/tools.ts';

export interface Probe {
  name: string;
  ok: boolean;
  /** Version or short state, e.g. "v20.20.2", "not found", "client only: engine not reachable". */
  detail: string;
  path?: string;
}

export interface MachineFacts {
  node: Probe;
  go: Probe;
  goProxy: Probe;
  docker: Probe;
  kind: Probe;
  helm: Probe;
  kubectl: Probe;
  cache: CachedComponent[];
}

export type KindTools = Pick<MachineFacts, 'docker' | 'kind' | 'helm'>;

interface ProbeEnv {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

const MIN_NODE = [20, 19];

export function probeNode(version = process.versions.node): Probe {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > (MIN_NODE[0] ?? 0) || (major === MIN_NODE[0] && minor >= (MIN_NODE[1] ?? 0));
  return { name: 'node', ok, detail: `v${version}${ok ? '' : ` (needs >= ${MIN_NODE.join('.')})`}` };
}

async function tool(
  name: string,
  args: string[],
  { env, signal }: ProbeEnv,
  parse: (stdout: string) => string = (s) => s.trim().split('\n')[0] ?? '',
  fallback?: string,
): Promise<Probe> {
  const path = which(name, env.PATH) ?? fallback;
  if (!path) return { name, ok: false, detail: 'not found on PATH' };
  try {
    const r = await runCommand(path, args, {
      env,
      extendEnv: false,
      timeoutMs: 10_000,
      signal,
      reject: false,
    });
    if (r.exitCode !== 0)
      return {
        name,
        ok: false,
        path,
        detail: `'${name} ${args.join(' ')}' failed: ${firstLine(r.stderr || r.stdout)}`,
      };
    return { name, ok: true, path, detail: parse(r.stdout) };
  } catch (e) {
    return { name, ok: false, path, detail: e instanceof Error ? firstLine(e.message) : String(e) };
  }
}

function firstLine(s: string): string {
  return (s.trim().split('\n')[0] ?? '').slice(0, 120);
}

export async function probeGo(p: ProbeEnv): Promise<Probe> {
  return tool('go', ['version'], p, (s) => s.trim().replace(/^go version /, ''));
}

/** Does the Go module proxy answer? Resolve a small module's latest version through the go command itself. */
export async function probeGoProxy(p: ProbeEnv): Promise<Probe> {
  const path = which('go', p.env.PATH);
  if (!path) return { name: 'go module proxy', ok: false, detail: 'no go on PATH' };
  const r = await runCommand(path, ['list', '-m', '-json', 'golang.org/x/mod@latest'], {
    env: { ...p.env, GO111MODULE: 'on', GOFLAGS: '-mod=mod' },
    extendEnv: false,
    timeoutMs: 20_000,
    signal: p.signal,
    reject: false,
    cwd: '/',
  }).catch((e: unknown) => ({ exitCode: 1, stdout: '', stderr: String(e) }));
  if (r.exitCode !== 0)
    return { name: 'go module proxy', ok: false, detail: `not answering: ${firstLine(r.stderr)}` };
  return { name: 'go module proxy', ok: true, detail: 'answers' };
}

/**
 * Where the Docker client would connect when nothing says otherwise (no DOCKER_HOST, DOCKER_CONTEXT or current
 * context in its config): the default socket. Undefined when something else decides.
 */
function defaultDockerSocket(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DOCKER_HOST || env.DOCKER_CONTEXT) return undefined;
  const config = join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
  try {
    const c = JSON.parse(readFileSync(config, 'utf8')) as { currentContext?: string };
    if (c.currentContext && c.currentContext !== 'default') return undefined;
  } catch {
    /* no config: the default context */
  }
  return '/var/run/docker.sock';
}

/** A Docker client alone is not enough: ask the engine for its version. */
export async function probeDocker(p: ProbeEnv): Promise<Probe> {
  const path = which('docker', p.env.PATH);
  if (!path) return { name: 'docker engine', ok: false, detail: 'no docker client on PATH' };
  // The default context with no socket: nothing to ask (and no client to spawn on every start).
  const socket = defaultDockerSocket(p.env);
  if (socket && !existsSync(socket))
    return {
      name: 'docker engine',
      ok: false,
      path,
      detail: `client only: engine not reachable (no ${socket})`,
    };
  const r = await runCommand(path, ['version', '--format', '{{.Server.Version}}'], {
    env: p.env,
    extendEnv: false,
    timeoutMs: 10_000,
    signal: p.signal,
    reject: false,
  }).catch((e: unknown) => ({ exitCode: 1, stdout: '', stderr: String(e) }));
  const v = r.stdout.trim();
  if (r.exitCode !== 0 || !v)
    return { name: 'docker engine', ok: false, path, detail: `client only: engine not reachable` };
  return { name: 'docker engine', ok: true, path, detail: `engine ${v}` };
}

/**
 * What `--provider auto` needs to know: the kind path's three tools (no Go, no module proxy: those are slow). Without
 * a Docker engine kind is out whatever else is there, so kind and helm are not asked then.
 */
export async function detectKindTools(p: ProbeEnv): Promise<KindTools> {
  const docker = await probeDocker(p);
  if (!docker.ok) {
    const skipped = (name: string): Probe => ({ name, ok: false, detail: 'not checked (no Docker engine)' });
    return { docker, kind: skipped('kind'), helm: skipped('helm') };
  }
  const [kind, helm] = await Promise.all([probeKind(p), probeHelm(p)]);
  return { docker, kind, helm };
}

const probeKind = (p: ProbeEnv) => tool('kind', ['version'], p, undefined, cachedTool('kind', p.env));
const probeHelm = (p: ProbeEnv) =>
  tool('helm', ['version', '--short'], p, undefined, cachedTool('helm', p.env));

export async function detectMachine(p: ProbeEnv): Promise<MachineFacts> {
  const [go, goProxy, docker, kind, helm, kubectl] = await Promise.all([
    probeGo(p),
    probeGoProxy(p),
    probeDocker(p),
    probeKind(p),
    probeHelm(p),
    tool('kubectl', ['version', '--client', '-o', 'json'], p, (s) => {
      try {
        return (
          (JSON.parse(s) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ??
          'unknown'
        );
      } catch {
        return firstLine(s);
      }
    }),
  ]);
  return {
    node: probeNode(),
    go,
    goProxy,
    docker,
    kind,
    helm,
    kubectl,
    cache: inspectCache(p.env, [...componentOrder, ...nodeComponents]),
  };
}

import type { ProviderName } from './lab-provider.ts';
export type { ProviderName };

export interface ProviderChoice {
  provider: ProviderName;
  reason: string;
}

/** What `--provider auto` picks when no lab is running: kind when Docker, kind and helm are all there, else local. */
export function chooseAutoProvider(f: KindTools): ProviderChoice {
  if (f.docker.ok && f.kind.ok && f.helm.ok)
    return { provider: 'kind', reason: 'a Docker engine answers and kind and helm are installed' };
  if (!f.docker.ok)
    return { provider: 'local', reason: 'kind needs a Docker engine; the local lab runs everywhere Go runs' };
  const missing = [!f.kind.ok && 'kind', !f.helm.ok && 'helm'].filter(Boolean).join(', ');
  return { provider: 'local', reason: `kind needs ${missing}; the local lab runs everywhere Go runs` };
}

export interface ProviderReadiness {
  provider: ProviderName;
  ready: boolean;
  needs: string;
  missing: string[];
}

export function providerReadiness(f: MachineFacts): ProviderReadiness[] {
  const cacheComplete = f.cache.every((c) => c.complete);
  const local: string[] = [];
  if (!f.node.ok) local.push('node >= 20.19');
  if (!cacheComplete && !f.go.ok) local.push('go (to build the lab components)');
  if (!cacheComplete && f.go.ok && !f.goProxy.ok)
    local.push('Go module proxy (to download the lab components)');
  const kind: string[] = [];
  if (!f.docker.ok) kind.push('Docker engine');
  if (!f.kind.ok) kind.push('kind');
  if (!f.helm.ok) kind.push('helm');
  const existing: string[] = [];
  if (!f.kubectl.ok) existing.push('kubectl (optional, for hand use)');
  return [
    {
      provider: 'local',
      ready: local.length === 0,
      needs: 'node, go + module proxy (or cached components)',
      missing: local,
    },
    { provider: 'kind', ready: kind.length === 0, needs: 'Docker engine, kind, helm', missing: kind },
    {
      provider: 'existing',
      ready: true,
      needs: 'a kubeconfig context with ESO, VAULT_ADDR/VAULT_TOKEN',
      missing: existing,
    },
  ];
}
