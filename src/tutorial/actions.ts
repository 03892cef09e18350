/**
 * Building blocks for the steps: a shell action that runs exactly the text it shows (through `sh -c`), the output
 * convention (stdout, stderr, the exit code when not 0), waits on ESO conditions, and the Secret watch shared by
 * the rotation actions.
 */
import { formatCondition, findCondition, readEsoObject, type EsoKind } from '../kube/external-secrets.ts';
import { SecretWatcher, kubeSecretWatchDeps } from '../kube/secret-watcher.ts';
import type { RunResult } from '../process/command.ts';
import type { ActionBlock, ActionResult, CliInvocation, TutorialRuntime } from './model.ts';

/** The tutorial's names. */
export const names = {
  kvPath: 'my-app/config',
  otherKvPath: 'other-app/config',
  /** The tutorial's literal value for every key of the first `vault kv put`. */
  placeholder: 'placeholder',
  policy: 'my-app-read',
  role: 'my-app-role',
  namespace: 'my-app',
  serviceAccount: 'my-app-sa',
  clusterRoleBinding: 'my-app-sa-tokenreview',
  secretStore: 'vault-backend',
  externalSecret: 'my-app-secrets',
  secret: 'my-app-user-password',
  /** The tutorial's Vault address inside the cluster (Helm release `hashicorp-vault`). */
  tutorialVaultServer: 'http://hashicorp-vault.hashicorp-vault.svc.cluster.local:8200',
  tutorialKubernetesHost: 'https://kubernetes.default.svc:443',
  tutorialRefreshInterval: '1h',
} as const;

/** Files the walkthrough writes into its work directory (commands run there). */
export const files = {
  ca: 'ca.crt',
  authConfig: 'auth-config.sh',
  role: 'role.sh',
  secretStore: 'secret-store.yaml',
  labSecretStore: 'secret-store.lab.yaml',
  externalSecret: 'external-secret.yaml',
  saToken: 'my-app-sa.jwt',
  appToken: 'my-app.token',
} as const;

/** Measured durations are printed as `N.NN s` so docs/tutorial.md can mark them as volatile. */
export function formatMeasured(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(2)} s`;
}

export const shell = (script: string): CliInvocation => ({ file: 'sh', args: ['-c', script] });

/** Output of a command: stdout then stderr, and the exit code when it is not 0. */
export function commandOutput(r: RunResult): string {
  const parts = [r.stdout.trimEnd(), r.stderr.trimEnd()].filter((p) => p.length > 0);
  if (r.exitCode !== 0) parts.push(`(exit code ${r.exitCode})`);
  return parts.join('\n');
}

/** stderr (where `sh -x` traces) before stdout, as a terminal shows them for these short scripts. */
export function traceOutput(r: RunResult): string {
  return [r.stderr.trimEnd(), r.stdout.trimEnd()].filter(Boolean).join('\n');
}

export interface ShellOptions {
  undo?: string;
  /** The command is shown because it fails: ok when it exits non-zero (and its output matches `failure`). */
  fails?: RegExp;
  /** Run, then judge or annotate the result (a `→ …` line); return ok=false when the point was not made. */
  judge?: (r: RunResult, rt: TutorialRuntime) => Promise<ActionResult> | ActionResult;
  timeoutMs?: number;
}

/** `display` is run as shown, through `sh -c`: what you read is what ran. */
export function shellAction(display: string, o: ShellOptions = {}): ActionBlock {
  return {
    kind: 'action',
    display: { lang: 'sh', text: display },
    async run(rt) {
      const r = await rt.cli(shell(display), o.timeoutMs ? { timeoutMs: o.timeoutMs } : {});
      if (o.judge) return o.judge(r, rt);
      const output = commandOutput(r);
      if (o.fails) {
        const shown = r.exitCode !== 0 && o.fails.test(output);
        return {
          output: shown ? output : `${output}\n→ expected this to fail with ${String(o.fails)}; it did not`,
          ok: shown,
        };
      }
      return { output, ok: r.exitCode === 0 };
    },
    ...(o.undo ? { undo: { display: o.undo, invocation: shell(o.undo) } } : {}),
  };
}

/** `kubectl wait` for a condition; on failure the object's current condition is added. */
export function waitAction(kind: EsoKind, name: string, condition = 'Ready'): ActionBlock {
  const resource = kind.toLowerCase();
  const display = `kubectl wait --for=condition=${condition} ${resource}/${name} -n ${names.namespace} --timeout=90s`;
  return {
    kind: 'action',
    display: { lang: 'sh', text: display },
    async run(rt) {
      const r = await rt.cli(shell(display), { timeoutMs: 120_000 });
      let output = commandOutput(r);
      if (r.exitCode !== 0) {
        const o = await readEsoObject(rt.kube, kind, name, names.namespace).catch(() => undefined);
        output += `\n${kind} ${names.namespace}/${name}: ${formatCondition(findCondition(o))}`;
      }
      return { output, ok: r.exitCode === 0 };
    },
  };
}

const WATCHER = 'watcher';

/** The watch on the tutorial's Secret, started on first use and kept for the run (stopped by the session). */
export async function secretWatcher(rt: TutorialRuntime): Promise<SecretWatcher> {
  let w = rt.state.get(WATCHER) as SecretWatcher | undefined;
  if (!w) {
    w = new SecretWatcher(names.namespace, names.secret, kubeSecretWatchDeps(rt.kube), rt.signal);
    await w.start();
    rt.state.set(WATCHER, w);
  }
  return w;
}

export function stopWatcher(state: Map<string, unknown>): Promise<void> {
  return (state.get(WATCHER) as SecretWatcher | undefined)?.stop() ?? Promise.resolve();
}

export function pick(data: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => k in data).map((k) => [k, data[k] as string]));
}
