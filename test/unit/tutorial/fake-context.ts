/** A local-lab-like context for rendering the steps without a lab (fixed seed, fixed ports). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabConnection } from '../../../src/labs/lab-provider.ts';
import type { TutorialContext } from '../../../src/tutorial/model.ts';
import { createContext } from '../../../src/tutorial/session.ts';

export function fakeConnection(): LabConnection {
  return {
    provider: 'local',
    kubeconfigPath: '/nonexistent/kubeconfig',
    vault: {
      address: 'http://127.0.0.1:38200',
      token: 'lab_fake-token-for-tests',
      serverUrlForEso: 'http://127.0.0.1:38200',
      kubernetesHostForVault: 'https://127.0.0.1:36443',
      kubernetesCaPem: '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n',
      outsideCluster: true,
      kvMount: 'secret',
    },
    isolation: { runId: 'r1', namespaceSuffix: '', vaultPathPrefix: '', nameSuffix: '' },
    binDirs: ['/nonexistent/bin'],
  };
}

/** A context on a fake local lab whose run directory is a fresh temporary directory. */
export function fakeContext(): TutorialContext {
  const runDir = mkdtempSync(join(tmpdir(), 'vel-tutorial-unit-'));
  return createContext(
    { id: 'r1', provider: 'local', runDir, connection: fakeConnection() },
    { seed: 'unit-test-seed' },
  );
}
