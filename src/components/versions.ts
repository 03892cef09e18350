/**
 * Every version the project pins, in one place: the local lab's components (built from Go modules by the wrapper
 * modules in src/components/go/<name>/) and the kind provider's node image and Helm charts.
 * src/components/go/NOTES.md records why each version was chosen and what newer ones failed.
 */

export type ComponentName =
  | 'etcd'
  | 'kubernetes'
  | 'openbao'
  | 'hashicorp-vault'
  | 'eso'
  | 'containerd'
  | 'runc'
  | 'cni-plugins'
  | 'node-images'
  | 'helm'
  | 'kind';

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
  /** Build with cgo (runc's nsenter is C); everything else is CGO_ENABLED=0. */
  cgo?: boolean;
  /** C libraries a cgo build links (pkg-config names), with the Debian package that provides them. */
  pkgConfig?: readonly { name: string; debian: string }[];
  /** Part of the lab's node (kubelet side): the lab still runs without it, with no node. */
  node?: boolean;
  /** -ldflags -X stamps. */
  ldflags?: readonly string[];
  /** Files copied out of a module into the component's cache dir (e.g. ESO's CRD bundle). */
  files?: readonly { name: string; module: string; path: string }[];
  /** What it is, for doctor and README. */
  description: string;
  /** Not part of the local lab: built only when named (`vault-eso-lab build helm kind`). */
  optional?: boolean;
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
      { name: 'kube-scheduler', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler' },
      { name: 'kubelet', pkg: 'k8s.io/kubernetes/cmd/kubelet' },
    ],
    description: 'kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl',
  },
  openbao: {
    name: 'openbao',
    version: 'v2.4.0',
    module: 'github.com/openbao/openbao',
    // The v2.x tags are not valid versions for this module path: the v2.4.0 release commit as a pseudo-version.
    moduleVersion: 'v0.0.0-20250828202315-f9407a27fbee',
    // Without the stamp `bao version` says 2.0.0-HEAD.
    ldflags: [
      '-s',
      '-w',
      '-X github.com/openbao/openbao/version.fullVersion=2.4.0',
      '-X github.com/openbao/openbao/version.GitCommit=f9407a27fbee45f62ba521bba2bf1e2360c61031',
      '-X github.com/openbao/openbao/version.BuildDate=2025-08-28T20:23:15Z',
    ],
    binaries: [{ name: 'bao', pkg: 'github.com/openbao/openbao' }],
    description: 'OpenBao dev server (Vault-API compatible), also exposed as `vault`',
  },
  'hashicorp-vault': {
    name: 'hashicorp-vault',
    // v1.21.4 (the newest listed) does not build from the module proxy: its sdk changes are in no published sdk
    // tag. v1.21.0 requires sdk v0.20.0, the tag at its branch point (src/components/go/NOTES.md).
    version: 'v1.21.0',
    module: 'github.com/hashicorp/vault',
    moduleVersion: 'v1.21.0',
    // The version itself is embedded from version/VERSION (1.21.0); commit and build date are stamped (the tag's
    // commit and time), so `vault version` reads like a release build.
    ldflags: [
      '-s',
      '-w',
      '-X github.com/hashicorp/vault/version.GitCommit=818ca8b3575ea937ca48b640baf35e1b2ede1833',
      '-X github.com/hashicorp/vault/version.BuildDate=2025-10-22T02:33:18Z',
    ],
    binaries: [{ name: 'vault', pkg: 'github.com/hashicorp/vault' }],
    description:
      'HashiCorp Vault dev server, the second lab server (`--vault-server hashicorp`; BUSL-1.1; optional: `vault-eso-lab build hashicorp-vault`)',
    optional: true,
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
  containerd: {
    name: 'containerd',
    version: 'v2.4.2',
    module: 'github.com/containerd/containerd/v2',
    moduleVersion: 'v2.4.2',
    tags: ['no_btrfs', 'no_devmapper', 'no_zfs'],
    ldflags: [
      '-s',
      '-w',
      '-X github.com/containerd/containerd/v2/version.Version=v2.4.2',
      '-X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2',
    ],
    binaries: [
      { name: 'containerd', pkg: 'github.com/containerd/containerd/v2/cmd/containerd' },
      {
        name: 'containerd-shim-runc-v2',
        pkg: 'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2',
      },
      { name: 'ctr', pkg: 'github.com/containerd/containerd/v2/cmd/ctr' },
    ],
    description: "containerd, the node's container runtime (CRI), with its runc shim and ctr",
    node: true,
  },
  runc: {
    name: 'runc',
    version: 'v1.5.3',
    module: 'github.com/opencontainers/runc',
    moduleVersion: 'v1.5.3',
    // Without seccomp support every pod sandbox fails ("seccomp: config provided but seccomp not supported").
    tags: ['seccomp'],
    cgo: true,
    pkgConfig: [{ name: 'libseccomp', debian: 'libseccomp-dev' }],
    ldflags: ['-s', '-w', '-X main.version=1.5.3'],
    binaries: [{ name: 'runc', pkg: 'github.com/opencontainers/runc' }],
    description: 'runc, the OCI runtime containerd starts containers with (cgo + libseccomp)',
    node: true,
  },
  'cni-plugins': {
    name: 'cni-plugins',
    version: 'v1.10.0',
    module: 'github.com/containernetworking/plugins',
    moduleVersion: 'v1.10.0',
    ldflags: ['-s', '-w'],
    binaries: [
      { name: 'bridge', pkg: 'github.com/containernetworking/plugins/plugins/main/bridge' },
      { name: 'host-local', pkg: 'github.com/containernetworking/plugins/plugins/ipam/host-local' },
      { name: 'loopback', pkg: 'github.com/containernetworking/plugins/plugins/main/loopback' },
    ],
    description: 'CNI plugins for the pod network (bridge, host-local, loopback)',
    node: true,
  },
  'node-images': {
    name: 'node-images',
    // Bump with any change under src/components/go/node-images/ (the image tags carry it).
    version: 'v1',
    module: 'vault-eso-lab/components/node-images',
    moduleVersion: '(this repository)',
    ldflags: ['-s', '-w'],
    binaries: [
      { name: 'pause', pkg: './cmd/pause' },
      { name: 'consumer', pkg: './cmd/consumer' },
    ],
    description:
      "the node's images, built from this repository's Go sources: pause (pod sandbox) and consumer",
    node: true,
  },
  helm: {
    name: 'helm',
    version: 'v3.22.0',
    module: 'helm.sh/helm/v3',
    moduleVersion: 'v3.22.0',
    ldflags: ['-s', '-w', '-X helm.sh/helm/v3/internal/version.version=v3.22.0'],
    binaries: [{ name: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm' }],
    description: 'helm CLI, for the kind provider (optional: `vault-eso-lab build helm`)',
    optional: true,
  },
  kind: {
    name: 'kind',
    version: 'v0.33.0',
    module: 'sigs.k8s.io/kind',
    moduleVersion: 'v0.33.0',
    ldflags: ['-s', '-w'],
    binaries: [{ name: 'kind', pkg: 'sigs.k8s.io/kind' }],
    description: 'kind CLI, for the kind provider (optional: `vault-eso-lab build kind`)',
    optional: true,
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

/** The local lab's components, built by default (`vault-eso-lab build`). */
export const componentOrder: readonly ComponentName[] = ['etcd', 'kubernetes', 'openbao', 'eso'];

/**
 * What only the lab's node needs (kubelet and kube-scheduler come with `kubernetes`): built when the machine can
 * run a node (`vault-eso-lab build` builds them too; runc needs cgo and libseccomp-dev).
 */
export const nodeComponents: readonly ComponentName[] = ['containerd', 'runc', 'cni-plugins', 'node-images'];

/** Built only when named (`vault-eso-lab build hashicorp-vault helm kind`): the second Vault server and the kind provider's CLIs. */
export const optionalComponents: readonly ComponentName[] = ['hashicorp-vault', 'helm', 'kind'];

export const allComponentNames: readonly ComponentName[] = [
  ...componentOrder,
  ...nodeComponents,
  ...optionalComponents,
];

/**
 * The node's images, built from src/components/go/node-images (tag = that component's version) and packed by
 * src/labs/local/node/node-images.ts. The same archives are loaded into kind (`kind load image-archive`), so the
 * scenario manifests name the same images on both providers. Nothing is ever pulled.
 */
export const nodeImages = {
  pause: `localhost/vault-eso-lab/pause:${components['node-images'].version}`,
  consumer: `localhost/vault-eso-lab/consumer:${components['node-images'].version}`,
} as const;

/**
 * The kind provider's pins. kind v0.33.0's own default node image is kindest/node:v1.37.0 (its
 * pkg/apis/config/defaults/image.go, digest below): the local lab's Kubernetes minor, pinned by digest.
 * The ESO chart matches the local lab's ESO (v0.20.4, chart version = app version since 0.x); the Vault chart
 * 0.31.0 runs Vault 1.20.x.
 */
export const kindPins = {
  kindVersion: 'v0.33.0',
  nodeImage: 'kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5',
  vaultChart: { repo: 'https://helm.releases.hashicorp.com', name: 'vault', version: '0.31.0' },
  esoChart: { repo: 'https://charts.external-secrets.io', name: 'external-secrets', version: '0.20.4' },
  /** Vault image for `--vault external` (testcontainers on the kind network). */
  externalVaultImage: 'hashicorp/vault:1.20.4',
} as const;
