/**
 * The command table, loaded lazily: `--help` and the dispatch need only names and summaries, so a command's module
 * (and what it pulls in: the Kubernetes client, testcontainers, zod schemas, …) is imported only when that command
 * runs. The summaries here are checked against the commands' own by a unit test.
 */
import type { Command } from '../command.ts';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Providers other than local register themselves on import; every command that may start a lab needs them. */
const withProviders = async <T>(module: Promise<T>): Promise<T> => {
  await import('../../labs/providers.ts');
  return module;
};

export const commands: readonly CommandEntry[] = [
  {
    name: 'up',
    summary: 'start a lab (local processes, kind cluster, or an existing context) and leave it running',
    load: async () => (await withProviders(import('./lab-commands.ts'))).upCommand,
  },
  {
    name: 'down',
    summary: 'stop a lab (SIGTERM, then SIGKILL) and remove its run directory',
    load: async () => (await withProviders(import('./lab-commands.ts'))).downCommand,
  },
  {
    name: 'status',
    summary: 'show each lab component: version, pid, port, health',
    load: async () => (await withProviders(import('./lab-commands.ts'))).statusCommand,
  },
  {
    name: 'env',
    summary:
      'print export lines (KUBECONFIG, VAULT_ADDR, VAULT_TOKEN, PATH) for hand use: eval "$(vault-eso-lab env)"',
    load: async () => (await withProviders(import('./lab-commands.ts'))).envCommand,
  },
  {
    name: 'scenario',
    summary: 'run, list or validate scenarios',
    load: async () => (await withProviders(import('./scenario.ts'))).scenarioCommand,
  },
  {
    name: 'tutorial',
    summary: 'walk through the Vault + ESO tutorial on a lab, step by step',
    load: async () => (await withProviders(import('./tutorial.ts'))).tutorialCommand,
  },
  {
    name: 'doctor',
    summary: 'check what each provider needs and whether it is there',
    load: async () => (await withProviders(import('./doctor.ts'))).doctorCommand,
  },
  {
    name: 'build',
    summary: "build the local lab's components from Go modules into the user cache (only what is missing)",
    load: async () => (await import('./build.ts')).buildCommand,
  },
  {
    name: 'bench',
    summary: 'measure startup, rotation latency and scale on the local lab (JSON output)',
    load: async () => (await withProviders(import('./bench.ts'))).benchCommand,
  },
];
