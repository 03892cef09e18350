/** Every operation a scenario can use, keyed by its YAML name. */
import type { OperationHandler } from '../operation.ts';
import type { ScenarioRuntime } from '../runtime.ts';
import { applyOperation, deleteOperation } from './apply.ts';
import { assertConditionOperation } from './assert-condition.ts';
import { assertEtcdOperation } from './assert-etcd.ts';
import { assertSecretOperation } from './assert-secret.ts';
import {
  restartEsoOperation,
  sealVaultOperation,
  startVaultOperation,
  stopVaultOperation,
  unsealVaultOperation,
} from './faults.ts';
import { esoSettledOperation } from './eso-settled.ts';
import { forceSyncOperation } from './force-sync.ts';
import { assertPodEnvOperation, assertPodFileOperation } from './pod-values.ts';
import { reloadOnChangeOperation } from './reload-on-change.ts';
import { rolloutRestartOperation } from './rollout-restart.ts';
import { rotateOperation } from './rotate.ts';
import { assertSecretAbsentOperation, expectUnchangedOperation } from './secret-stability.ts';
import { sleepOperation } from './sleep.ts';
import { vaultKvOperation } from './vault-kv.ts';
import { vaultPolicyOperation, vaultRoleOperation } from './vault-policy.ts';
import { vaultSetupOperation } from './vault-setup.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const operations: OperationHandler<ScenarioRuntime, any>[] = [
  vaultSetupOperation,
  vaultKvOperation,
  vaultPolicyOperation,
  vaultRoleOperation,
  rotateOperation,
  applyOperation,
  deleteOperation,
  assertSecretOperation,
  assertConditionOperation,
  assertEtcdOperation,
  expectUnchangedOperation,
  assertSecretAbsentOperation,
  forceSyncOperation,
  esoSettledOperation,
  sleepOperation,
  sealVaultOperation,
  unsealVaultOperation,
  stopVaultOperation,
  startVaultOperation,
  restartEsoOperation,
  assertPodFileOperation,
  assertPodEnvOperation,
  rolloutRestartOperation,
  reloadOnChangeOperation,
];
