/**
 * Where the kind provider's command-line tools are: on PATH first, else the copies `vault-eso-lab build helm kind`
 * put in the component cache. docker and kubectl are looked up the same way (kubectl falls back to the local lab's).
 */
import { existsSync } from 'node:fs';
import { PrerequisiteError } from '../../errors.ts';
import { which } from '../../process/command.ts';
import { binaryPath } from '../../components/cache.ts';
import { components } from '../../components/versions.ts';

export type KindToolName = 'docker' | 'kind' | 'helm' | 'kubectl';

export interface KindTools {
  docker: string;
  kind: string;
  helm: string;
  kubectl: string;
}

/** The cached build of a tool, when there is one. */
export function cachedTool(name: KindToolName, env: NodeJS.ProcessEnv): string | undefined {
  const pin =
    name === 'kind'
      ? components.kind
      : name === 'helm'
        ? components.helm
        : name === 'kubectl'
          ? components.kubernetes
          : undefined;
  if (!pin) return undefined;
  const p = binaryPath(pin, name, env);
  return existsSync(p) ? p : undefined;
}

export function findTool(name: KindToolName, env: NodeJS.ProcessEnv): string | undefined {
  return which(name, env.PATH) ?? cachedTool(name, env);
}

/** How a user gets a missing tool. */
export function installHint(name: KindToolName): string {
  switch (name) {
    case 'docker':
      return 'install a Docker engine (Docker Desktop, Docker CE or a compatible one) and start it';
    case 'kind':
    case 'helm':
      return `install ${name}, or build it from source: vault-eso-lab build ${name}`;
    case 'kubectl':
      return 'install kubectl, or build it with the local lab: vault-eso-lab build kubernetes';
  }
}

/** Resolve every tool the kind provider runs, or say which is missing and how to get it. */
export function resolveKindTools(env: NodeJS.ProcessEnv, needed: readonly KindToolName[]): KindTools {
  const found: Partial<KindTools> = {};
  const missing: KindToolName[] = [];
  for (const n of needed) {
    const p = findTool(n, env);
    if (p) found[n] = p;
    else missing.push(n);
  }
  if (missing.length)
    throw new PrerequisiteError(
      missing.join(', '),
      `the kind provider needs ${missing.join(', ')} (not found)`,
      {
        hint: missing.map(installHint).join('; '),
      },
    );
  return { docker: 'docker', kind: 'kind', helm: 'helm', kubectl: 'kubectl', ...found };
}
