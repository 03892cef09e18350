/**
 * The lab node's configuration files, rendered from one NodeLayout: containerd's config (TOML), the kubelet's
 * KubeletConfiguration, the CNI network (a bridge with no address on the host: pods reach only each other), the
 * registry hosts file that makes every pull fail at once on a closed loopback port, and the pods' resolv.conf.
 * Pure functions: unit-tested, and the facts behind each setting are in docs/architecture.md ("The node").
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const POD_SUBNET = '10.244.0.0/24';

/** Where everything of the node lives: all of it inside the lab's run directory (mode 0700). */
export interface NodeLayout {
  /** `<run>/node` */
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  runcRoot: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  kubeletCertDir: string;
  podLogsDir: string;
  resolvConf: string;
  registryHostsDir: string;
  containerdConfig: string;
  kubeletConfig: string;
  /** A per-lab bridge device name (≤ 15 characters) and CNI network name. */
  bridge: string;
  network: string;
}

export function nodeLayout(runDir: string): NodeLayout {
  const dir = join(runDir, 'node');
  const tag = createHash('sha256').update(runDir).digest('hex').slice(0, 8);
  return {
    dir,
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    runcRoot: join(dir, 'containerd', 'runc'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    kubeletRoot: join(dir, 'kubelet'),
    kubeletCertDir: join(dir, 'kubelet-pki'),
    podLogsDir: join(dir, 'pod-logs'),
    resolvConf: join(dir, 'resolv.conf'),
    registryHostsDir: join(dir, 'registry-hosts'),
    containerdConfig: join(dir, 'containerd.toml'),
    kubeletConfig: join(dir, 'kubelet.yaml'),
    bridge: `velab-${tag}`,
    network: `vault-eso-lab-${tag}`,
  };
}

export interface ContainerdConfigInput {
  layout: NodeLayout;
  runcBinary: string;
  cniBinDir: string;
  sandboxImage: string;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/**
 * containerd 2.x (config version 3). Every path in the run directory; no TCP listener (CRI streaming on
 * 127.0.0.1 only, reached by the kubelet); `restrict_oom_score_adj` because this sandbox lacks CAP_SYS_RESOURCE;
 * cgroupfs (this machine mounts cgroup v1); plugins the lab does not use are disabled (NRI would create a socket
 * under /var/run, tracing would try an exporter).
 */
export function containerdConfigToml(i: ContainerdConfigInput): string {
  const l = i.layout;
  return `version = 3
root = ${q(l.containerdRoot)}
state = ${q(l.containerdState)}
# No drop-ins from /etc/containerd/conf.d: the machine's own containerd settings never reach the lab's.
imports = []
disabled_plugins = [
  "io.containerd.nri.v1.nri",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
]

[grpc]
  address = ${q(l.containerdSocket)}

[ttrpc]
  address = ${q(l.containerdSocket + '.ttrpc')}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [${q(i.cniBinDir)}]
    conf_dir = ${q(l.cniConfDir)}
    max_conf_num = 1
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = ${q(i.runcBinary)}
        Root = ${q(l.runcRoot)}
        SystemdCgroup = false

[plugins."io.containerd.cri.v1.images"]
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${q(i.sandboxImage)}
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = ${q(l.registryHostsDir)}
`;
}

/**
 * Every registry, for every image name: one closed loopback port. There is no registry here and nothing may be
 * pulled from elsewhere; a pull fails at once ("connection refused") instead of after a DNS or dial timeout.
 */
export function registryHostsToml(): string {
  return `server = "https://127.0.0.1:1"

[host."https://127.0.0.1:1"]
  capabilities = ["pull", "resolve"]
`;
}

/** Pods resolve nothing: their nameserver is their own loopback, where nothing listens. */
export function podResolvConf(): string {
  return 'nameserver 127.0.0.1\noptions ndots:1 attempts:1 timeout:1\n';
}

/**
 * The pod network: a bridge with no address on the host side (`isGateway: false`) and no masquerading — pods get
 * addresses in POD_SUBNET and reach only each other; nothing is routed anywhere.
 */
export function cniConflist(l: NodeLayout): string {
  return (
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: l.network,
        plugins: [
          {
            type: 'bridge',
            bridge: l.bridge,
            isGateway: false,
            ipMasq: false,
            hairpinMode: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: l.cniIpamDir },
          },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface KubeletConfigInput {
  layout: NodeLayout;
  port: number;
  caFile: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** How often the kubelet re-syncs a pod (and refreshes its Secret volumes). */
  syncFrequency: string;
}

/**
 * The KubeletConfiguration: serving on 127.0.0.1 only, no read-only port and no healthz port; webhook
 * authentication and authorization (anonymous refused, no AlwaysAllow), client certificates from the lab's CA.
 * cgroup v1 needs `failCgroupV1: false` (kubelet 1.35+); no QoS cgroup hierarchy (nothing of the lab at the
 * machine's cgroup roots), so no node-allocatable enforcement. Image GC and disk eviction are off: the lab's images
 * cannot be pulled back.
 */
export function kubeletConfigYaml(i: KubeletConfigInput): string {
  const l = i.layout;
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port: i.port,
    readOnlyPort: 0,
    healthzPort: 0,
    healthzBindAddress: '127.0.0.1',
    tlsCertFile: i.tlsCertFile,
    tlsPrivateKeyFile: i.tlsKeyFile,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true, cacheTTL: '10s' },
      x509: { clientCAFile: i.caFile },
    },
    authorization: {
      mode: 'Webhook',
      webhook: { cacheAuthorizedTTL: '10s', cacheUnauthorizedTTL: '5s' },
    },
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    imageServiceEndpoint: `unix://${l.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    cgroupsPerQOS: false,
    enforceNodeAllocatable: [],
    syncFrequency: i.syncFrequency,
    podLogsDir: l.podLogsDir,
    resolvConf: l.resolvConf,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '1Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    localStorageCapacityIsolation: false,
    maxPods: 30,
    containerLogMaxSize: '1Mi',
    containerLogMaxFiles: 2,
    shutdownGracePeriod: '0s',
    volumeStatsAggPeriod: '0s',
  });
}
