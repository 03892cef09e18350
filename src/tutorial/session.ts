/**
 * Everything one walkthrough needs on a lab: a private work directory (0700) inside the lab's run directory —
 * so that a killed walkthrough's files (the generated passwords among them) go with the lab and are never left
 * in /tmp — holding the API server's CA, the generated values (0600 files) and the tutorial's files byte for byte;
 * the lab's `vault`, `kubectl` and `sh` resolved on the lab's PATH; an environment with exactly the lab's
 * KUBECONFIG, VAULT_ADDR and VAULT_TOKEN (no VAULT_* or BAO_* of the user's leaks in); Kubernetes clients for API
 * checks and the Secret watch.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PrerequisiteError } from '../errors.ts';
import { createKubeClients } from '../kube/client.ts';
import type { LabConnection, StartedLab } from '../labs/lab-provider.ts';
import { secretsEncryption } from '../labs/local/etcd-access.ts';
import { runCommand, which } from '../process/command.ts';
import { secrets } from '../report/redact.ts';
import { files, names, stopWatcher } from './actions.ts';
import type { CliInvocation, TutorialContext, TutorialRuntime } from './model.ts';
import { labSecretStore } from './steps-kubernetes.ts';
import { AUTH_CONFIG, EXTERNAL_SECRET_YAML, ROLE_WRITE, SECRET_STORE_YAML } from './tutorial-text.ts';
import { createValue } from './values.ts';

/** Work directories are `<run dir>/tutorial-XXXXXX`. */
export const WORK_DIR_PREFIX = 'tutorial-';

export type TutorialLab = Pick<StartedLab, 'id' | 'provider' | 'runDir' | 'connection'>;

export function createContext(
  lab: TutorialLab,
  o: { seed?: string; workDir?: string } = {},
): TutorialContext {
  const workDir = o.workDir ?? mkdtempSync(join(lab.runDir, WORK_DIR_PREFIX));
  chmodSync(workDir, 0o700);
  const values = {
    password1: createValue('password-1', workDir, o.seed),
    otherApp: createValue('other-app-password', workDir, o.seed),
  };
  const encryption = lab.provider === 'local' ? secretsEncryption(lab) : undefined;
  const ctx: TutorialContext = {
    connection: lab.connection,
    lab: { id: lab.id, provider: lab.provider, runDir: lab.runDir },
    workDir,
    values,
    ...(encryption ? { secretsEncryption: encryption } : {}),
  };
  const write = (file: string, text: string) => writeFileSync(join(workDir, file), text, { mode: 0o600 });
  if (lab.connection.vault.kubernetesCaPem) write(files.ca, lab.connection.vault.kubernetesCaPem);
  write(files.authConfig, AUTH_CONFIG + '\n');
  write(files.role, ROLE_WRITE + '\n');
  write(files.secretStore, SECRET_STORE_YAML + '\n');
  write(files.labSecretStore, labSecretStore(ctx) + '\n');
  write(files.externalSecret, EXTERNAL_SECRET_YAML + '\n');
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

export async function openSession(
  lab: TutorialLab,
  o: { env: NodeJS.ProcessEnv; signal: AbortSignal; seed?: string },
): Promise<TutorialSession> {
  const connection = lab.connection;
  secrets.add(connection.vault.token);
  // The tutorial's literal value is public text, not a secret: keep it readable wherever it appears.
  secrets.addLiteral(names.placeholder);
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
  const kube = createKubeClients(connection.kubeconfigPath, connection.context);
  const ctx = createContext(lab, o.seed ? { seed: o.seed } : {});
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
      await stopWatcher(state);
      rmSync(ctx.workDir, { recursive: true, force: true });
    },
  };
}
