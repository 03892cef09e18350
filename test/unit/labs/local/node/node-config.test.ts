import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  cniConflist,
  containerdConfigToml,
  kubeletConfigYaml,
  nodeLayout,
  podResolvConf,
  registryHostsToml,
  POD_SUBNET,
} from '../../../../../src/labs/local/node/node-config.ts';

const layout = nodeLayout('/state/labs/run-1234');

describe('node layout', () => {
  it('keeps everything inside the run directory, with a per-lab bridge name that fits a netdev', () => {
    for (const [k, v] of Object.entries(layout))
      if (k !== 'bridge' && k !== 'network') expect(v, k).toMatch(/^\/state\/labs\/run-1234\/node/);
    expect(layout.bridge.length).toBeLessThanOrEqual(15);
    expect(layout.bridge).toMatch(/^velab-[0-9a-f]{8}$/);
    expect(nodeLayout('/state/labs/other').bridge).not.toBe(layout.bridge);
  });
});

describe('containerd config', () => {
  const toml = containerdConfigToml({
    layout,
    runcBinary: '/cache/runc',
    cniBinDir: '/cache/cni',
    sandboxImage: 'localhost/vault-eso-lab/pause:v1',
  });
  it('has the settings this machine needs and no TCP listener', () => {
    expect(toml).toContain('version = 3');
    expect(toml).toContain('imports = []');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('BinaryName = "/cache/runc"');
    expect(toml).toContain('disable_tcp_service = true');
    expect(toml).toContain('stream_server_address = "127.0.0.1"');
    expect(toml).toContain('sandbox = "localhost/vault-eso-lab/pause:v1"');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toContain('"io.containerd.nri.v1.nri"');
    expect(toml).toContain(`address = "${layout.containerdSocket}"`);
    expect(toml).toMatch(/\[debug\]\n {2}address = ""/);
    expect(toml).toMatch(/\[metrics\]\n {2}address = ""/);
  });
  it('every pull goes to a closed loopback port', () => {
    expect(toml).toContain(`config_path = "${layout.registryHostsDir}"`);
    expect(registryHostsToml()).toContain('server = "https://127.0.0.1:1"');
    expect(registryHostsToml()).not.toMatch(/docker\.io|registry\.k8s\.io/);
  });
});

describe('CNI network', () => {
  it('is a bridge without a host address, masquerading or routes, IPAM state in the run dir', () => {
    const c = JSON.parse(cniConflist(layout)) as {
      name: string;
      plugins: {
        type: string;
        bridge: string;
        isGateway: boolean;
        ipMasq: boolean;
        ipam: Record<string, unknown>;
      }[];
    };
    expect(c.name).toBe(layout.network);
    expect(c.plugins).toHaveLength(1);
    const b = c.plugins[0]!;
    expect(b).toMatchObject({ type: 'bridge', bridge: layout.bridge, isGateway: false, ipMasq: false });
    expect(b.ipam).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: POD_SUBNET }]],
      dataDir: layout.cniIpamDir,
    });
    expect(b.ipam).not.toHaveProperty('routes');
  });
  it("pods resolve through their own loopback, never the host's nameservers", () => {
    expect(podResolvConf()).toMatch(/^nameserver 127\.0\.0\.1\n/);
  });
});

describe('kubelet config', () => {
  const cfg = parse(
    kubeletConfigYaml({
      layout,
      port: 10250,
      caFile: '/run/ca.crt',
      tlsCertFile: '/run/k.crt',
      tlsKeyFile: '/run/k.key',
      syncFrequency: '5s',
    }),
  ) as Record<string, unknown>;
  it('serves on loopback only, with webhook authn/authz and no anonymous or read-only access', () => {
    expect(cfg).toMatchObject({
      address: '127.0.0.1',
      port: 10250,
      readOnlyPort: 0,
      healthzPort: 0,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: '/run/ca.crt' },
      },
      authorization: { mode: 'Webhook' },
      tlsCertFile: '/run/k.crt',
    });
  });
  it('runs on cgroup v1 with cgroupfs and keeps its images', () => {
    expect(cfg).toMatchObject({
      cgroupDriver: 'cgroupfs',
      failCgroupV1: false,
      failSwapOn: false,
      cgroupsPerQOS: false,
      enforceNodeAllocatable: [],
      imageGCHighThresholdPercent: 100,
      syncFrequency: '5s',
      containerRuntimeEndpoint: `unix://${layout.containerdSocket}`,
      podLogsDir: layout.podLogsDir,
      resolvConf: layout.resolvConf,
    });
  });
});
