import type { Command } from '../command.ts';
import '../../labs/providers.ts';
import { doctorCommand } from './doctor.ts';
import { buildCommand } from './build.ts';
import { scenarioCommand } from './scenario.ts';
import { tutorialCommand } from './tutorial.ts';
import { benchCommand } from './bench.ts';
import { downCommand, envCommand, statusCommand, upCommand } from './lab-commands.ts';

export const commands: readonly Command[] = [
  upCommand,
  downCommand,
  statusCommand,
  envCommand,
  scenarioCommand,
  tutorialCommand,
  doctorCommand,
  buildCommand,
  benchCommand,
];
