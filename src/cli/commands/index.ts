import type { Command } from '../command.ts';
import { doctorCommand } from './doctor.ts';
import { notImplemented } from './not-implemented.ts';

export const commands: readonly Command[] = [
  notImplemented('up', 'start a lab (local processes, kind cluster, or an existing context)'),
  notImplemented('down', 'stop a lab and remove its run directory'),
  notImplemented('status', 'show each lab component: version, pid, port, health'),
  notImplemented('env', 'print export lines (KUBECONFIG, VAULT_ADDR, VAULT_TOKEN, PATH) for hand use'),
  notImplemented('scenario', 'run, list or validate scenarios'),
  notImplemented('tutorial', 'walk through the Vault + ESO tutorial on a lab, step by step'),
  doctorCommand,
  notImplemented('bench', 'measure startup and rotation latency (JSON output)'),
];
