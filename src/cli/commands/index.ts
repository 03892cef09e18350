import type { Command } from '../command.ts';
import { doctorCommand } from './doctor.ts';
import { buildCommand } from './build.ts';
import { notImplemented } from './not-implemented.ts';
import { downCommand, envCommand, statusCommand, upCommand } from './lab-commands.ts';

export const commands: readonly Command[] = [
  upCommand,
  downCommand,
  statusCommand,
  envCommand,
  notImplemented('scenario', 'run, list or validate scenarios'),
  notImplemented('tutorial', 'walk through the Vault + ESO tutorial on a lab, step by step'),
  doctorCommand,
  buildCommand,
  notImplemented('bench', 'measure startup and rotation latency (JSON output)'),
];
