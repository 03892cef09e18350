/**
 * Registers the kind and existing providers with the lab session (imported for its side effect by the CLI's
 * command index), so `--provider kind|existing`, `down`, `status` and `env` can start and attach to them. Their
 * modules (the Kubernetes client, the kind tooling) load only when such a lab is started or found.
 */
import { registerAttacher, registerProvider } from './lab-session.ts';

registerProvider('kind', async ({ flags }) => {
  const { KindLab, kindOptionsFromFlags } = await import('./kind/kind-lab.ts');
  return new KindLab(kindOptionsFromFlags(flags));
});
registerAttacher('kind', async (dir, record, env) =>
  (await import('./kind/started-kind-lab.ts')).StartedKindLab.attach(dir, record, env),
);

registerProvider('existing', async ({ flags, env }) => {
  const { ExistingLab, existingOptions } = await import('./existing/existing-lab.ts');
  return new ExistingLab(existingOptions(flags, env));
});
registerAttacher('existing', async (dir, record) =>
  (await import('./existing/existing-lab.ts')).StartedExistingLab.attach(dir, record),
);
