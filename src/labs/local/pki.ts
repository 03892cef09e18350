/**
 * The local lab's own PKI: a CA, serving certificates (IP SAN 127.0.0.1) for the API server, etcd and the kubelet,
 * client certificates (etcd accepts only the API server's; the kubelet's `system:node:<name>`; the API server's
 * towards the kubelet), and the ServiceAccount token signing key pair. Everything is generated per lab; private keys are written 0600.
 */
import 'reflect-metadata';
import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface LabPki {
  caCertPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  /** ServiceAccount token signing key (ECDSA P-256, PKCS#8) and its public key. */
  saKeyPem: string;
  saPubPem: string;
  /** etcd's serving certificate (127.0.0.1) and the only client certificate etcd accepts (the API server's). */
  etcdServer: IssuedCert;
  etcdClient: IssuedCert;
  /** The API server's client certificate towards the kubelet (logs, exec): `system:masters`. */
  apiserverKubeletClient: IssuedCert;
  /** The node's kubelet: its serving certificate (127.0.0.1) and its client certificate `system:node:<name>`. */
  kubeletServing: IssuedCert;
  kubeletClient: IssuedCert;
  /** Serving certificates (127.0.0.1) for kube-controller-manager's and kube-scheduler's secure ports. */
  kcmServing: IssuedCert;
  schedulerServing: IssuedCert;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function serial(): string {
  // Positive, non-zero 16-byte serial.
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01;
  return b.toString('hex');
}

interface Ca {
  cert: x509.X509Certificate;
  keys: KeyPair;
}

interface CertRequest {
  /** Subject, e.g. `CN=system:node:lab-node, O=system:nodes`. */
  subject: string;
  server?: boolean;
  client?: boolean;
  /** IP and DNS names for a serving certificate. */
  ips?: string[];
  dns?: string[];
}

async function issue(ca: Ca, req: CertRequest, notBefore: Date, notAfter: Date): Promise<IssuedCert> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const usages = [
    ...(req.server ? [x509.ExtendedKeyUsage.serverAuth] : []),
    ...(req.client ? [x509.ExtendedKeyUsage.clientAuth] : []),
  ];
  const sans = [
    ...(req.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(req.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: req.subject,
    issuer: ca.cert.subject,
    notBefore,
    notAfter,
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(usages, false),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: (await exportKeyPem(keys.privateKey)) + '\n' };
}

/** The lab node's name (one node per lab; each lab has its own API server). */
export const NODE_NAME = 'lab-node';

export async function generatePki(validDays = 30): Promise<LabPki> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + validDays * DAY);

  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=vault-eso-lab local CA',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const ca: Ca = { cert: caCert, keys: caKeys };
  const loopback = { ips: ['127.0.0.1'], dns: ['localhost'] };
  const [
    serving,
    etcdServer,
    etcdClient,
    apiserverKubeletClient,
    kubeletServing,
    kubeletClient,
    kcmServing,
    schedulerServing,
  ] = await Promise.all(
    (
      [
        {
          subject: 'CN=kube-apiserver',
          server: true,
          ips: ['127.0.0.1'],
          dns: ['localhost', 'kubernetes.default.svc'],
        },
        // Also its peer certificate (the peer port requires client certificates too).
        { subject: 'CN=etcd', server: true, client: true, ...loopback },
        { subject: 'CN=kube-apiserver-etcd-client', client: true },
        { subject: 'CN=kube-apiserver-kubelet-client, O=system:masters', client: true },
        { subject: `CN=${NODE_NAME}`, server: true, ...loopback },
        { subject: `CN=system:node:${NODE_NAME}, O=system:nodes`, client: true },
        // Given to them, so that neither generates a self-signed RSA pair of its own at start.
        { subject: 'CN=kube-controller-manager', server: true, ...loopback },
        { subject: 'CN=kube-scheduler', server: true, ...loopback },
      ] satisfies CertRequest[]
    ).map((r) => issue(ca, r, notBefore, notAfter)),
  );

  // ES256: the API server signs ServiceAccount tokens with ECDSA keys as well as RSA ones, and a P-256 key takes
  // a millisecond where an RSA-2048 one takes 50–300 ms (a prime search) on the lab's start-up path.
  const sa = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  return {
    caCertPem: caCert.toString('pem') + '\n',
    servingCertPem: serving!.certPem,
    servingKeyPem: serving!.keyPem,
    saKeyPem: sa.privateKey,
    saPubPem: sa.publicKey,
    etcdServer: etcdServer!,
    etcdClient: etcdClient!,
    apiserverKubeletClient: apiserverKubeletClient!,
    kubeletServing: kubeletServing!,
    kubeletClient: kubeletClient!,
    kcmServing: kcmServing!,
    schedulerServing: schedulerServing!,
  };
}

/** A random token: 32 bytes, URL-safe. Never `root`. */
export function randomToken(prefix = ''): string {
  return prefix + randomBytes(24).toString('base64url');
}
