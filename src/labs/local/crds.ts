/** Apply ESO's CRD bundle server-side (client-side apply overflows the last-applied annotation) and wait for Established. */
import { runCommand } from '../../process/command.ts';

export async function applyCrds(o: {
  kubectl: string;
  kubeconfig: string;
  bundle: string;
  env: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<void> {
  const base = ['--kubeconfig', o.kubeconfig];
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
      o.bundle,
    ],
    {
      env: o.env,
      extendEnv: false,
      signal: o.signal,
      timeoutMs: o.timeoutMs,
    },
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
      o.bundle,
    ],
    { env: o.env, extendEnv: false, signal: o.signal, timeoutMs: o.timeoutMs + 5000 },
  );
}
