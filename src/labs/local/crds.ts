/**
 * Apply ESO's CRD bundle and the controller's identity (namespace, ServiceAccount and the chart's RBAC) in one
 * server-side apply (client-side apply overflows the last-applied annotation on the largest CRDs), then wait for the
 * CRDs to be Established.
 */
import { runCommand } from '../../process/command.ts';

export async function applyEsoManifests(o: {
  kubectl: string;
  kubeconfig: string;
  crds: string;
  rbac: string;
  env: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<void> {
  const base = ['--kubeconfig', o.kubeconfig];
  const run = { env: o.env, extendEnv: false, signal: o.signal };
  await runCommand(
    o.kubectl,
    [
      ...base,
      'apply',
      '--server-side',
      '--force-conflicts',
      '--validate=false',
      '--field-manager=vault-eso-lab',
      '-f',
      o.crds,
      '-f',
      o.rbac,
    ],
    { ...run, timeoutMs: o.timeoutMs },
  );
  await runCommand(
    o.kubectl,
    [
      ...base,
      'wait',
      '--for=condition=Established',
      '--timeout',
      `${Math.round(o.timeoutMs / 1000)}s`,
      '-f',
      o.crds,
    ],
    { ...run, timeoutMs: o.timeoutMs + 5000 },
  );
}
