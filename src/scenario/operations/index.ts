/** Every operation a scenario can use, keyed by its YAML name. */
import type { OperationHandler } from '../operation.ts';
import type { ScenarioRuntime } from '../runtime.ts';
import { sleepOperation } from './sleep.ts';
import {
  restartEsoOperation,
  sealVaultOperation,
  startVaultOperation,
  stopVaultOperation,
  unsealVaultOperation,
} from './faults.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const operations: OperationHandler<ScenarioRuntime, any>[] = [
  sleepOperation,
  sealVaultOperation,
  unsealVaultOperation,
  stopVaultOperation,
  startVaultOperation,
  restartEsoOperation,
];
