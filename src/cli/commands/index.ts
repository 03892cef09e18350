import type { Command } from '../command.ts';
import '../../labs/providers.ts';
import { doctorCommand } from './doctor.ts';
import { buildCommand } from './build.ts';
import { scenarioCommand } from './scenario.ts';
import { benchCommand } from './bench.ts';
import { notImplemented } from './not-implemented.ts';
import { downCommand, envCommand, statusCommand, upCommand } from './lab-commands.ts';

export const commands: readonly Command[] = [
  upCommand,
  downCommand,
  statusCommand,
  envCommand,
  scenarioCommand,
  notImplemented('tutorial', 'walk through the Vault + ESO tutorial on a lab, step by step'),
  doctorCommand,
  buildCommand,
  benchCommand,
];
