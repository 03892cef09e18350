/**
 * Registers the kind and existing providers with the lab session (imported for its side effect by the CLI's
 * command index), so `--provider kind|existing`, `down`, `status` and `env` can start and attach to them.
 */
import { registerAttacher, registerProvider } from './lab-session.ts';
import { KindLab, kindOptionsFromFlags } from './kind/kind-lab.ts';
import { StartedKindLab } from './kind/started-kind-lab.ts';
import { ExistingLab, StartedExistingLab, existingOptions } from './existing/existing-lab.ts';

registerProvider('kind', ({ flags }) => new KindLab(kindOptionsFromFlags(flags)));
registerAttacher('kind', (dir, record, env) => StartedKindLab.attach(dir, record, env));

registerProvider('existing', ({ flags, env }) => new ExistingLab(existingOptions(flags, env)));
registerAttacher('existing', (dir, record) => StartedExistingLab.attach(dir, record));
