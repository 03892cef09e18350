/**
 * Everything one walkthrough needs on a lab: a private work directory (0700) with the API server's CA, the
 * generated values (0600 files) and the rendered manifests; the lab's `vault`, `kubectl` and `sh` resolved on the
 * lab's PATH; an environment with exactly the lab's KUBECONFIG, VAULT_ADDR and VAULT_TOKEN (no VAULT_* or BAO_*
 * of the user's leaks in); Kubernetes clients for API checks and the Secret watch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PrerequisiteError } from '../errors.ts';
import { createKubeClients } from '../kube/client.ts';
import type { SecretWatcher } from '../kube/secret-watcher.ts';
import type { LabConnection } from '../labs/lab-provider.ts';
import { runCommand, which } from '../process/command.ts';
import { secrets } from '../secrets/secret-registry.ts';
import type { CliInvocation, TutorialContext, TutorialRuntime } from './model.ts';
import { BROKEN_CONFIG_FILE, CA_FILE, brokenAuthConfig, manifests, names } from './steps.ts';
import { createValue } from './values.ts';

/** The demo's refreshInterval (the tutorial's is 1h; the walkthrough says so where it matters). */
export const DEMO_REFRESH_INTERVAL = '10s';

export function createContext(
  connection: LabConnection,
  o: { seed?: string; workDir?: string } = {},
): TutorialContext {
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'vault-eso-lab-tutorial-'));
  const values = {
    password1: createValue('password-1', workDir, o.seed),
    apiKey: createValue('api_key-1', workDir, o.seed),
    password2: createValue('password-2', workDir, o.seed),
    password3: createValue('password-3', workDir, o.seed),
  };
  const ctx: TutorialContext = { connection, workDir, refreshInterval: DEMO_REFRESH_INTERVAL, values };
  if (connection.vault.kubernetesCaPem)
    writeFileSync(join(workDir, CA_FILE), connection.vault.kubernetesCaPem, { mode: 0o600 });
  for (const [file, text] of Object.entries(manifests(ctx)))
    writeFileSync(join(workDir, file), text, { mode: 0o600 });
  writeFileSync(join(workDir, BROKEN_CONFIG_FILE), brokenAuthConfig(ctx), { mode: 0o600 });
  return ctx;
}

/** The user's environment minus anything that could point the CLIs elsewhere, plus the lab's. */
export function labEnvironment(connection: LabConnection, base: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base))
    if (v !== undefined && !/^(VAULT_|BAO_)/.test(k) && k !== 'KUBECONFIG') env[k] = v;
  env.KUBECONFIG = connection.kubeconfigPath;
  env.VAULT_ADDR = connection.vault.address;
  env.VAULT_TOKEN = connection.vault.token;
  env.PATH = [...connection.binDirs, base.PATH ?? ''].filter(Boolean).join(delimiter);
  return env;
}

export interface TutorialSession {
  ctx: TutorialContext;
  rt: TutorialRuntime;
  close(): Promise<void>;
}

export function openSession(
  connection: LabConnection,
  o: { env: NodeJS.ProcessEnv; signal: AbortSignal; seed?: string },
): TutorialSession {
  secrets.add(connection.vault.token);
  // The tutorial's username is a literal, not a secret: keep it readable (and names that contain it intact).
  secrets.addLiteral(names.username);
  const env = labEnvironment(connection, o.env);
  const bins: Record<CliInvocation['file'], string> = { vault: '', kubectl: '', sh: '' };
  for (const name of Object.keys(bins) as CliInvocation['file'][]) {
    const found = which(name, env.PATH);
    if (!found)
      throw new PrerequisiteError(
        name,
        `the tutorial needs \`${name}\` and there is none on the lab's PATH`,
        {
          hint:
            name === 'sh'
              ? undefined
              : 'the local lab links vault and kubectl into <run>/bin; other labs need them on PATH',
        },
      );
    bins[name] = found;
  }
  const ctx = createContext(connection, o.seed ? { seed: o.seed } : {});
  const kube = createKubeClients(connection.kubeconfigPath, connection.context);
  const state = new Map<string, unknown>();
  const rt: TutorialRuntime = {
    ctx,
    signal: o.signal,
    kube,
    state,
    cli: (inv, opts = {}) => {
      const args =
        inv.file === 'kubectl' && connection.context
          ? [`--context=${connection.context}`, ...inv.args]
          : inv.args;
      return runCommand(bins[inv.file], args, {
        cwd: ctx.workDir,
        env,
        extendEnv: false,
        reject: false,
        timeoutMs: opts.timeoutMs ?? 60_000,
        signal: opts.signal ?? o.signal,
        ...(inv.input === undefined ? {} : { input: inv.input }),
      });
    },
  };
  return {
    ctx,
    rt,
    async close() {
      const w = state.get('watcher') as SecretWatcher | undefined;
      await w?.stop();
      rmSync(ctx.workDir, { recursive: true, force: true });
    },
  };
}
