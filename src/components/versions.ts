/**
 * Every version the project pins, in one place: the local lab's components (built from Go modules by the wrapper
 * modules in src/components/go/<name>/) and the kind provider's node image and Helm charts.
 * src/components/go/NOTES.md records why each version was chosen and what newer ones failed.
 */

export type ComponentName = 'etcd' | 'kubernetes' | 'openbao' | 'eso';

export interface BinarySpec {
  /** File name in the cache directory. */
  name: string;
  /** Main package, built from the wrapper module. */
  pkg: string;
}

export interface ComponentPin {
  name: ComponentName;
  /** Human version shown by doctor/status (e.g. v1.34.3). */
  version: string;
  /** Upstream module the wrapper requires (with the exact version or pseudo-version). */
  module: string;
  moduleVersion: string;
  binaries: readonly BinarySpec[];
  /** Go build tags. */
  tags?: readonly string[];
  /** -ldflags -X stamps. */
  ldflags?: readonly string[];
  /** Files copied out of a module into the component's cache dir (e.g. ESO's CRD bundle). */
  files?: readonly { name: string; module: string; path: string }[];
  /** What it is, for doctor and README. */
  description: string;
}

export const components: Record<ComponentName, ComponentPin> = {
  etcd: {
    name: 'etcd',
    version: 'v3.7.3',
    module: 'go.etcd.io/etcd/server/v3',
    moduleVersion: 'v3.7.3',
    ldflags: ['-s', '-w'],
    binaries: [{ name: 'etcd', pkg: 'go.etcd.io/etcd/server/v3' }],
    description: 'etcd, the API server store',
  },
  kubernetes: {
    name: 'kubernetes',
    version: 'v1.37.2',
    module: 'k8s.io/kubernetes',
    moduleVersion: 'v1.37.2',
    // Stamp /version (else it says v0.0.0); buildDate = the module's publication time, so rebuilds are identical.
    ldflags: ['-s', '-w', ...versionStamp('v1.37.2', '2026-10-27T12:01:04Z')],
    binaries: [
      { name: 'kube-apiserver', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
      { name: 'kube-controller-manager', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
      { name: 'kubectl', pkg: 'k8s.io/kubernetes/cmd/kubectl' },
    ],
    description: 'kube-apiserver, kube-controller-manager and kubectl',
  },
  openbao: {
    name: 'openbao',
    version: 'v2.4.0',
    module: 'github.com/openbao/openbao',
    // The v2.x tags are not valid versions for this module path: the v2.4.0 release commit as a pseudo-version.
    moduleVersion: 'v0.0.0-20250828202315-f9407a27fbee',
    ldflags: ['-s', '-w'],
    binaries: [{ name: 'bao', pkg: 'github.com/openbao/openbao' }],
    description: 'OpenBao dev server (Vault-API compatible), also exposed as `vault`',
  },
  eso: {
    name: 'eso',
    version: 'v0.20.4',
    module: 'github.com/external-secrets/external-secrets',
    moduleVersion: 'v0.20.4',
    binaries: [{ name: 'external-secrets', pkg: 'github.com/external-secrets/external-secrets' }],
    // v0.20.4 registers every provider unconditionally (the `-tags vault` gate arrived in v1.1).
    ldflags: ['-s', '-w'],
    files: [
      {
        name: 'crds.yaml',
        module: 'github.com/external-secrets/external-secrets',
        path: 'deploy/crds/bundle.yaml',
      },
    ],
    description: 'External Secrets Operator controller',
  },
};

function versionStamp(gitVersion: string, buildDate: string): string[] {
  const [major = '', minor = ''] = gitVersion.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
    `-X ${p}.gitVersion=${gitVersion}`,
    `-X ${p}.gitMajor=${major}`,
    `-X ${p}.gitMinor=${minor}`,
    `-X ${p}.gitCommit=`,
    `-X ${p}.gitTreeState=clean`,
    `-X ${p}.buildDate=${buildDate}`,
  ]);
}

export const componentOrder: readonly ComponentName[] = ['etcd', 'kubernetes', 'openbao', 'eso'];

/** The kind provider's pins (issue: kind and existing providers). */
export const kindPins = {
  kindVersion: 'v0.30.0',
  nodeImage: 'kindest/node:v1.34.0',
  vaultChart: { repo: 'https://helm.releases.hashicorp.com', name: 'vault', version: '0.31.0' },
  esoChart: { repo: 'https://charts.external-secrets.io', name: 'external-secrets', version: '0.16.2' },
} as const;
