/** `up`, `down`, `status`, `env`: a lab's lifecycle from the command line. */
import { ExitCode, LabError, UsageError } from '../../errors.ts';
import {
  DEFAULT_LAB,
  attachLab,
  checkEncryptSecrets,
  findRunningLab,
  nodeChoice,
  parseProvider,
  providerFor,
} from '../../labs/lab-session.ts';
import { chooseAutoProvider, detectKindTools } from '../../labs/detect.ts';
import { isSeedBuild } from '../../labs/local/etcd-seed.ts';
import {
  checkVaultServerForProvider,
  parseVaultServer,
  recordedVaultServer,
  vaultServer,
} from '../../labs/vault-server.ts';
import { checkLabName, listRunDirs } from '../../labs/run-dir.ts';
import { deadComponents, liveComponents, reapStaleLabs } from '../../labs/local/stale.ts';
import type { StartedLab } from '../../labs/lab-provider.ts';
import { labProgress } from '../../report/lab-progress.ts';
import { boolOption, stringOption, type Command, type OptionSpec } from '../command.ts';
import { paint, table } from '../../terminal/output.ts';

const providerOption: Record<string, OptionSpec> = {
  provider: {
    type: 'string',
    description: 'auto | local | kind | existing (default auto)',
    valueName: 'name',
  },
};
/** `--vault-server` on up, scenario, tutorial and bench. */
export const vaultServerOption: Record<string, OptionSpec> = {
  'vault-server': {
    type: 'string',
    description:
      "local lab: openbao (default) | hashicorp (HashiCorp Vault, built on first use); a running lab's server is used when not given",
    valueName: 'name',
  },
};
const nameOption: Record<string, OptionSpec> = {
  name: {
    type: 'string',
    description: `lab name: lowercase letters, digits, '-' (default '${DEFAULT_LAB}')`,
    valueName: 'name',
  },
};

/** `--name`, checked before anything starts (exit 2); undefined when not given. */
function nameFlag(values: Parameters<Command['run']>[0]['values']): string | undefined {
  const name = stringOption(values, 'name');
  return name === undefined ? undefined : checkLabName(name, '--name');
}
export const kindExistingOptions: Record<string, OptionSpec> = {
  context: {
    type: 'string',
    description: 'existing provider: kubeconfig context to use (required)',
    valueName: 'ctx',
  },
  'cluster-name': { type: 'string', description: 'kind provider: cluster name', valueName: 'name' },
  vault: {
    type: 'string',
    description: 'kind provider: in-cluster (default) | external',
    valueName: 'where',
  },
  'dry-run': {
    type: 'boolean',
    description: 'kind provider: print the commands and manifests without running them',
  },
  node: {
    type: 'boolean',
    description:
      "local provider: start the lab's node (kubelet, containerd) or fail with the reason (exit 3)",
  },
  'no-node': { type: 'boolean', description: 'local provider: start no node (no pods)' },
};

/** Options for how a lab is started, shared by up, scenario and tutorial. */
export const labStartOptions: Record<string, OptionSpec> = {
  'encrypt-secrets': {
    type: 'boolean',
    description:
      'local provider: encrypt Secrets at rest in etcd (an EncryptionConfiguration with a random aescbc key)',
  },
};

function whereThingsAre(lab: StartedLab): string[] {
  const c = lab.connection;
  return [
    `run directory:  ${lab.runDir}`,
    `kubeconfig:     ${c.kubeconfigPath}`,
    `Vault address:  ${c.vault.address}`,
    `Vault token:    in ${lab.runDir}/vault-token (or: eval "$(vault-eso-lab env)")`,
    c.node
      ? `node:           ${c.node.name} (kubelet syncFrequency ${c.node.syncFrequency}; images ${c.node.images.join(', ')})`
      : `node:           none${c.noNode ? ` — ${c.noNode.replace(/^no node: /, '')}` : ''}`,
    `versions:       ${Object.entries(lab.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
}

export const upCommand: Command = {
  name: 'up',
  summary: 'start a lab (local processes, kind cluster, or an existing context) and leave it running',
  usage: 'up [--provider auto|local|kind|existing] [--vault-server openbao|hashicorp] [--name N]',
  options: {
    ...providerOption,
    ...vaultServerOption,
    ...nameOption,
    ...kindExistingOptions,
    ...labStartOptions,
    keep: {
      type: 'boolean',
      description: 'kind provider: if up fails or is interrupted, leave the half-made cluster for inspection',
    },
  },
  async run({ values, out, env, signal }) {
    const name = nameFlag(values) ?? DEFAULT_LAB;
    let provider = parseProvider(stringOption(values, 'provider'));
    const server = parseVaultServer(stringOption(values, 'vault-server'));
    if (provider !== 'auto') checkVaultServerForProvider(provider, server);
    await reapStaleLabs(env, (m) => out.info(m));
    const running = findRunningLab(env, name);
    if (running) {
      const runs = recordedVaultServer(running.record);
      if (server && runs !== server)
        throw new LabError(
          'E_LAB_EXISTS',
          `lab '${name}' is already running with ${runs ? vaultServer(runs).label : 'its own Vault'}, not ${vaultServer(server).label}`,
          { hint: "stop it first ('vault-eso-lab down'), or start another with --name", exitCode: 1 },
        );
      const dead = deadComponents(running.record);
      if (dead.length)
        throw new LabError(
          'E_LAB_BROKEN',
          `lab '${name}' is broken: ${dead.join(', ')} ${dead.length === 1 ? 'is' : 'are'} not running`,
          { exitCode: 1, hint: `stop it with 'vault-eso-lab down --name ${name}', then start it again` },
        );
      const lab = await attachLab(running.dir, running.record, env);
      out.info(`lab '${name}' is already running`);
      printLab(lab, Boolean(values.json), out);
      return ExitCode.passed;
    }
    if (provider === 'auto') {
      const c = chooseAutoProvider(await detectKindTools({ env, signal }));
      out.info(`provider auto → ${c.provider} (${c.reason})`);
      provider = c.provider;
      checkVaultServerForProvider(provider, server);
    }
    const p = await providerFor(provider, {
      env,
      flags: values as Record<string, string | boolean | undefined>,
    });
    if (boolOption(values, 'dry-run')) {
      // Only providers that can plan (kind) accept --dry-run: print the plan, start nothing.
      if (!('plan' in p) || typeof p.plan !== 'function')
        throw new UsageError(`--dry-run is only supported by --provider kind (not ${provider})`);
      const plan = p as unknown as {
        plan(o: { env: NodeJS.ProcessEnv; name: string; signal: AbortSignal }): Promise<string[]>;
      };
      for (const l of await plan.plan({ env, name, signal })) out.result(l);
      return ExitCode.passed;
    }
    const encryptSecrets = boolOption(values, 'encrypt-secrets');
    checkEncryptSecrets(provider, encryptSecrets);
    const lab = await p.start({
      signal,
      emit: labProgress(out),
      env,
      name,
      keep: boolOption(values, 'keep'),
      vaultServer: server,
      ...(encryptSecrets ? { encryptSecrets } : {}),
      node: nodeChoice(values as Record<string, string | boolean | undefined>),
    });
    lab.detach();
    printLab(lab, Boolean(values.json), out);
    return ExitCode.passed;
  },
};

function printLab(lab: StartedLab, json: boolean, out: Parameters<Command['run']>[0]['out']): void {
  if (json) {
    const { token: _t, ...vault } = lab.connection.vault;
    out.result(
      JSON.stringify(
        {
          id: lab.id,
          provider: lab.provider,
          runDir: lab.runDir,
          kubeconfig: lab.connection.kubeconfigPath,
          vault,
          versions: lab.versions,
          node: lab.connection.node ?? null,
          ...(lab.connection.noNode ? { noNode: lab.connection.noNode } : {}),
        },
        null,
        2,
      ),
    );
  } else for (const l of whereThingsAre(lab)) out.result(l);
}

export const downCommand: Command = {
  name: 'down',
  summary: 'stop a lab (SIGTERM, then SIGKILL) and remove its run directory',
  usage: 'down [--name N | --all] [--keep] [--json]',
  options: {
    ...nameOption,
    all: { type: 'boolean', description: 'stop every lab of this user' },
    keep: { type: 'boolean', description: 'keep the run directory (logs, kubeconfig) after stopping' },
  },
  async run({ values, out, env }) {
    const name = nameFlag(values) ?? DEFAULT_LAB;
    const reaped = await reapStaleLabs(env, (m) => out.info(m));
    // Directories kept by `down --keep` are not labs any more: nothing to stop, and --all leaves them.
    // A seed build in progress belongs to the start that runs it (it is reaped if that start is killed).
    const targets = listRunDirs(env).filter(
      (l) =>
        l.record &&
        l.record.state !== 'stopped' &&
        (l.record.name === name || (boolOption(values, 'all') && !isSeedBuild(l.record))),
    );
    const keep = boolOption(values, 'keep');
    const stopped: { name: string; provider: string; runDir: string; kept: boolean }[] = [];
    for (const t of targets) {
      const lab = await attachLab(t.dir, t.record!, env);
      await lab.stop({ keep });
      const runDir = (lab as { keptAt?: string }).keptAt ?? t.dir.path;
      stopped.push({ name: t.record!.name, provider: t.record!.provider, runDir, kept: keep });
      out.info(
        `stopped lab '${t.record!.name}' (${t.record!.provider})${keep ? `; run directory kept at ${runDir}` : ''}`,
      );
    }
    if (targets.length === 0)
      out.info(
        reaped.length ? `stopped ${reaped.length} leftover lab(s)` : `no lab named '${name}' is running`,
      );
    if (values.json) out.result(JSON.stringify({ stopped, leftoversCleared: reaped }, null, 2));
    return ExitCode.passed;
  },
};

export const statusCommand: Command = {
  name: 'status',
  summary: 'show each lab component: version, pid, port, health',
  usage: 'status [--name N] [--json]',
  options: { ...nameOption },
  async run({ values, out, env, signal }) {
    const running = findRunningLab(env, nameFlag(values));
    if (!running) {
      // No lab to use — but processes of a lab whose harness is gone may still hold ports: say so.
      const leftovers = listRunDirs(env)
        .filter((l) => l.record && l.record.state !== 'stopped')
        .map((l) => ({ id: l.record!.id, owner: l.record!.ownerPid, live: liveComponents(l.record!) }))
        .filter((l) => l.live.length > 0);
      if (values.json) out.result(JSON.stringify({ running: false, leftovers }, null, 2));
      else if (leftovers.length)
        for (const l of leftovers)
          out.result(
            `no lab is usable, but lab '${l.id}'${l.owner ? ` (its harness, pid ${l.owner}, is gone or still starting it)` : ''} still runs: ${l.live.join(', ')} — 'vault-eso-lab down --all' stops it`,
          );
      else out.result("no lab is running (start one with 'vault-eso-lab up')");
      return ExitCode.failed;
    }
    const lab = await attachLab(running.dir, running.record, env);
    const status = await lab.status(signal);
    const healthy = status.every((s) => s.healthy);
    if (values.json) {
      out.result(
        JSON.stringify(
          {
            running: true,
            id: lab.id,
            provider: lab.provider,
            runDir: lab.runDir,
            healthy,
            components: status,
          },
          null,
          2,
        ),
      );
    } else {
      out.result(`lab '${lab.id}' (${lab.provider}) — ${lab.runDir}`);
      out.result(
        table(
          status.map((s) => [
            s.name,
            s.version,
            String(s.pid ?? '-'),
            s.port ? `127.0.0.1:${s.port}` : '-',
            s.healthy ? paint(out, 'green', 'healthy') : paint(out, 'red', 'unhealthy'),
            s.detail ?? '',
          ]),
          ['component', 'version', 'pid', 'address', 'health', 'detail'],
        ),
      );
    }
    return healthy ? ExitCode.passed : ExitCode.failed;
  },
};

/** Quote for POSIX sh. */
export function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const envCommand: Command = {
  name: 'env',
  summary:
    'print export lines (KUBECONFIG, VAULT_ADDR, VAULT_TOKEN, PATH) for hand use: eval "$(vault-eso-lab env)"',
  usage: 'env [--name N]',
  options: { ...nameOption },
  async run({ values, out, env }) {
    const running = findRunningLab(env, nameFlag(values));
    if (!running) throw new LabError('E_NO_LAB', "no lab is running (start one with 'vault-eso-lab up')");
    const lab = await attachLab(running.dir, running.record, env);
    const c = lab.connection;
    const vars: Record<string, string> = {
      KUBECONFIG: c.kubeconfigPath,
      VAULT_ADDR: c.vault.address,
      VAULT_TOKEN: c.vault.token,
      PATH: [...c.binDirs, env.PATH ?? ''].join(':'),
      // The node's containerd, for the lab's `ctr` (e.g. `ctr images import my-image.tar`).
      ...(c.node?.containerdSocket
        ? { CONTAINERD_ADDRESS: c.node.containerdSocket, CONTAINERD_NAMESPACE: 'k8s.io' }
        : {}),
    };
    if (values.json) out.result(JSON.stringify(vars, null, 2));
    else for (const [k, v] of Object.entries(vars)) out.result(`export ${k}=${shQuote(v)}`);
    return ExitCode.passed;
  },
};
