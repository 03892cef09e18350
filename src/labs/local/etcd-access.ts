/**
 * How to reach a local lab's etcd directly (for checks of what is stored at rest): the client port recorded in
 * lab.json (component `etcd`), plain HTTP on loopback, or client-certificate TLS when the run directory holds
 * `etcd-client.crt`/`etcd-client.key` (with the lab's `ca.crt`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { LabError } from '../../errors.ts';
import type { EtcdEndpoint } from '../../kube/etcd-reader.ts';
import type { StartedLab } from '../lab-provider.ts';
import { RunDir } from '../run-dir.ts';
import { ENCRYPTION_PROVIDER } from './encryption-at-rest.ts';

export function localEtcdEndpoint(lab: Pick<StartedLab, 'provider' | 'runDir' | 'id'>): EtcdEndpoint {
  if (lab.provider !== 'local')
    throw new LabError(
      'E_PROVIDER',
      `etcd is read directly only on the local lab (this is a ${lab.provider} lab: its etcd is not reachable from here)`,
    );
  const run = RunDir.open(lab.runDir);
  const port = run.readRecord()?.components.find((c) => c.name === 'etcd')?.port;
  if (port === undefined) throw new LabError('E_LAB_STATE', `lab ${lab.id} has no etcd port recorded`);
  const cert = run.file('etcd-client.crt');
  const key = run.file('etcd-client.key');
  if (existsSync(cert) && existsSync(key))
    return {
      url: `https://127.0.0.1:${port}`,
      caPem: readFileSync(run.file('ca.crt'), 'utf8'),
      certPem: readFileSync(cert, 'utf8'),
      keyPem: readFileSync(key, 'utf8'),
    };
  return { url: `http://127.0.0.1:${port}` };
}

/** The provider that encrypts Secrets at rest on this lab (`aescbc`), or undefined when they are stored plain. */
export function secretsEncryption(lab: Pick<StartedLab, 'runDir'>): string | undefined {
  const v = RunDir.open(lab.runDir).readRecord()?.extra?.encryptSecrets;
  return v === ENCRYPTION_PROVIDER ? v : undefined;
}
