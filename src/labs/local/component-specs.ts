/**
 * How each local lab component is started: its command line, its environment (never inherited), its port(s)
 * and its readiness probe. Facts behind the flags are in src/components/go/NOTES.md and docs/architecture.md.
 */
import type { RunDir } from '../run-dir.ts';

export interface LabFiles {
  caCert: string;
  servingCert: string;
  servingKey: string;
  saKey: string;
  saPub: string;
  tokensCsv: string;
  adminKubeconfig: string;
  kcmKubeconfig: string;
  etcdData: string;
  /** etcd: serving (and peer) certificate; the API server's client certificate, the only one etcd accepts. */
  etcdServerCert: string;
  etcdServerKey: string;
  etcdClientCert: string;
  etcdClientKey: string;
  /** The API server's client certificate towards the kubelet. */
  kubeletClientCert: string;
  kubeletClientKey: string;
  apiserverCertDir: string;
  /** kube-controller-manager's serving certificate (from the lab's CA). */
  kcmServingCert: string;
  kcmServingKey: string;
  /** EncryptionConfiguration for Secrets at rest (`--encrypt-secrets`); absent: stored as they are. */
  encryptionConfig?: string;
}

export interface LabPorts {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  kcm: number;
  vault: number;
  esoHealth: number;
}

/** A minimal environment: PATH and HOME only (HOME points into the run dir, so nothing reads ~/.kube or ~/.vault-token). */
export function baseEnv(run: RunDir): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: run.file('home'),
    TZ: 'UTC',
  };
}

/** The Service IP range (the `kubernetes` Service takes its first address; part of the etcd seed's key). */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/24';

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * etcd speaks TLS on both ports and requires a client certificate from the lab's CA on both: binding to loopback
 * does not keep other local users out, and etcd is the whole cluster (Secrets in plain form, write = admin).
 */
export function etcdArgs(f: LabFiles, p: LabPorts): string[] {
  const client = `https://127.0.0.1:${p.etcdClient}`;
  const peer = `https://127.0.0.1:${p.etcdPeer}`;
  return [
    `--cert-file=${f.etcdServerCert}`,
    `--key-file=${f.etcdServerKey}`,
    `--trusted-ca-file=${f.caCert}`,
    '--client-cert-auth',
    `--peer-cert-file=${f.etcdServerCert}`,
    `--peer-key-file=${f.etcdServerKey}`,
    `--peer-trusted-ca-file=${f.caCert}`,
    '--peer-client-cert-auth',
    '--name=lab',
    `--data-dir=${f.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=lab=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync',
    // One member, on loopback: it elects itself within 100 ms instead of etcd's default 1 s election timeout.
    '--heartbeat-interval=20',
    '--election-timeout=100',
    '--log-level=warn',
    '--quota-backend-bytes=2147483648',
  ];
}

export function apiserverArgs(f: LabFiles, p: LabPorts): string[] {
  return [
    `--etcd-servers=https://127.0.0.1:${p.etcdClient}`,
    `--etcd-cafile=${f.caCert}`,
    `--etcd-certfile=${f.etcdClientCert}`,
    `--etcd-keyfile=${f.etcdClientKey}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${p.apiserver}`,
    '--advertise-address=127.0.0.1',
    // A loopback advertise address breaks the `kubernetes` endpoints reconciler; there are no pods to use it.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${f.apiserverCertDir}`,
    `--tls-cert-file=${f.servingCert}`,
    `--tls-private-key-file=${f.servingKey}`,
    `--client-ca-file=${f.caCert}`,
    `--token-auth-file=${f.tokensCsv}`,
    // Node authorizer + NodeRestriction: the kubelet's `system:node:<name>` may touch only its own Node and pods.
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    // The API server reaches the kubelet (logs, exec) with a client certificate and checks the kubelet's.
    `--kubelet-client-certificate=${f.kubeletClientCert}`,
    `--kubelet-client-key=${f.kubeletClientKey}`,
    `--kubelet-certificate-authority=${f.caCert}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${f.saPub}`,
    `--service-account-signing-key-file=${f.saKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--profiling=false',
    '--enable-priority-and-fairness=false',
    ...(f.encryptionConfig ? [`--encryption-provider-config=${f.encryptionConfig}`] : []),
    '--v=0',
  ];
}

/** The controllers the lab uses; a node adds what pods need (Deployments, and the node-lifecycle taints). */
export function kcmControllers(withNode: boolean): string[] {
  return [
    'garbagecollector',
    'namespace',
    'serviceaccount',
    'serviceaccount-token',
    'root-ca-cert-publisher',
    'clusterrole-aggregation',
    ...(withNode ? ['deployment', 'replicaset', 'nodelifecycle'] : []),
  ];
}

export function kcmArgs(f: LabFiles, p: LabPorts, withNode = false): string[] {
  return [
    `--kubeconfig=${f.kcmKubeconfig}`,
    `--authentication-kubeconfig=${f.kcmKubeconfig}`,
    `--authorization-kubeconfig=${f.kcmKubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${p.kcm}`,
    `--tls-cert-file=${f.kcmServingCert}`,
    `--tls-private-key-file=${f.kcmServingKey}`,
    `--controllers=${kcmControllers(withNode).join(',')}`,
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    `--service-account-private-key-file=${f.saKey}`,
    `--root-ca-file=${f.caCert}`,
    '--profiling=false',
    '--v=0',
  ];
}
