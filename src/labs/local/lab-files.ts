/**
 * The files a local lab's processes read — certificates and keys (0600), the static token file, the etcd data dir
 * — and the `<run>/bin` links for hand use. One writer, so the lab and its etcd seed build write the same files.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { binaryPath } from '../../components/cache.ts';
import { components } from '../../components/versions.ts';
import type { RunDir } from '../run-dir.ts';
import type { VaultServer } from '../vault-server.ts';
import type { LabFiles } from './component-specs.ts';
import type { LabPki } from './pki.ts';

export function writeLabFiles(
  run: RunDir,
  pki: LabPki,
  t: { adminToken: string; kcmToken: string; schedulerToken: string },
): LabFiles {
  return {
    caCert: run.writePrivate('ca.crt', pki.caCertPem),
    servingCert: run.writePrivate('apiserver.crt', pki.servingCertPem),
    servingKey: run.writePrivate('apiserver.key', pki.servingKeyPem),
    saKey: run.writePrivate('sa.key', pki.saKeyPem),
    saPub: run.writePrivate('sa.pub', pki.saPubPem),
    // The scheduler is `system:kube-scheduler` with the bootstrap RBAC only; the controller manager (which must
    // manage ESO's kinds for garbage collection) is in system:masters.
    tokensCsv: run.writePrivate(
      'tokens.csv',
      `${t.adminToken},lab-admin,lab-admin,"system:masters"\n` +
        `${t.kcmToken},system:kube-controller-manager,kcm,"system:masters"\n` +
        `${t.schedulerToken},system:kube-scheduler,kube-scheduler\n`,
    ),
    adminKubeconfig: run.file('kubeconfig'),
    kcmKubeconfig: run.file('kcm.kubeconfig'),
    etcdData: run.file('etcd-data'),
    etcdServerCert: run.writePrivate('etcd-server.crt', pki.etcdServer.certPem),
    etcdServerKey: run.writePrivate('etcd-server.key', pki.etcdServer.keyPem),
    etcdClientCert: run.writePrivate('etcd-client.crt', pki.etcdClient.certPem),
    etcdClientKey: run.writePrivate('etcd-client.key', pki.etcdClient.keyPem),
    kubeletClientCert: run.writePrivate('apiserver-kubelet-client.crt', pki.apiserverKubeletClient.certPem),
    kubeletClientKey: run.writePrivate('apiserver-kubelet-client.key', pki.apiserverKubeletClient.keyPem),
    apiserverCertDir: run.file('apiserver-certs'),
    kcmServingCert: run.writePrivate('kcm-serving.crt', pki.kcmServing.certPem),
    kcmServingKey: run.writePrivate('kcm-serving.key', pki.kcmServing.keyPem),
  };
}

/**
 * `<run>/bin` holds `vault` (→ the lab's server: bao, also as `bao`, or HashiCorp's vault), `kubectl` and, with a
 * node, `ctr` — for hand use and the tutorial.
 */
export function linkBinDir(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  withNode: boolean,
  server: VaultServer,
): void {
  mkdirSync(run.file('bin'), { recursive: true, mode: 0o700 });
  const bin = binaryPath(server.pin, server.binary, env);
  symlinkSync(bin, run.file('bin', 'vault'));
  if (server.binary !== 'vault') symlinkSync(bin, run.file('bin', server.binary));
  symlinkSync(binaryPath(components.kubernetes, 'kubectl', env), run.file('bin', 'kubectl'));
  if (withNode) symlinkSync(binaryPath(components.containerd, 'ctr', env), run.file('bin', 'ctr'));
}
