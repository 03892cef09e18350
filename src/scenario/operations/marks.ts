/**
 * When did an operation last finish in this scenario run? Faults, `apply`, `forceSync` and `vaultSetup` record it, so that
 * `assertSecret` can measure from it (`measureFrom: unsealVault` → `unsealVaultToSecretMs`): the time ESO took to
 * recover after an outage, or to apply a forced sync. Kept per runtime (one per scenario run).
 */
export const MARKED_OPERATIONS = [
  'apply',
  'forceSync',
  'sealVault',
  'unsealVault',
  'stopVault',
  'startVault',
  'restartEso',
  'vaultSetup',
] as const;
export type MarkedOperation = (typeof MARKED_OPERATIONS)[number];

const marks = new WeakMap<object, Map<MarkedOperation, number>>();

export function mark(runtime: object, operation: MarkedOperation, at = Date.now()): void {
  let m = marks.get(runtime);
  if (!m) marks.set(runtime, (m = new Map()));
  m.set(operation, at);
}

export function markedAt(runtime: object, operation: MarkedOperation): number | undefined {
  return marks.get(runtime)?.get(operation);
}
