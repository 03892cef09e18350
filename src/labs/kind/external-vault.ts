/**
 * `--vault external`: Vault as a container on the kind Docker network, started with testcontainers (imported only
 * when asked for). ESO reaches it by its IP on that network; it reaches the API server as
 * `https://<cluster>-control-plane:6443` (Docker's DNS between containers of one network). The container carries
 * the lab's labels, so `down` (and a person) can find it; Ryuk is off because `up` outlives this process —
 * `stop()` and the failure cleanup remove it instead.
 */
import { kindPins } from '../../components/versions.ts';
import { throwIfAborted } from '../../errors.ts';
import { EXTERNAL_VAULT_NAME_PREFIX } from './kind-spec.ts';

export interface ExternalVaultRequest {
  clusterName: string;
  labId: string;
  rootToken: string;
  /** Docker network kind puts its nodes on. */
  network: string;
  signal: AbortSignal;
}

export interface ExternalVault {
  containerId: string;
  containerName: string;
  /** Where the harness reaches it (mapped port on loopback). */
  hostAddress: string;
  /** Where ESO (in a pod) reaches it. */
  networkAddress: string;
}

export type ExternalVaultStarter = (r: ExternalVaultRequest) => Promise<ExternalVault>;

export function externalVaultName(clusterName: string): string {
  return `${EXTERNAL_VAULT_NAME_PREFIX}-${clusterName}`;
}

export const startExternalVaultContainer: ExternalVaultStarter = async (r) => {
  throwIfAborted(r.signal);
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const name = externalVaultName(r.clusterName);
  const c = await new GenericContainer(kindPins.externalVaultImage)
    .withName(name)
    .withNetworkMode(r.network)
    .withNetworkAliases(name)
    .withExposedPorts(8200)
    .withAddedCapabilities('IPC_LOCK')
    .withEnvironment({ VAULT_DEV_ROOT_TOKEN_ID: r.rootToken, VAULT_DEV_LISTEN_ADDRESS: '0.0.0.0:8200' })
    .withLabels({ 'app.kubernetes.io/managed-by': 'vault-eso-lab', 'vault-eso-lab/lab': r.labId })
    .withWaitStrategy(Wait.forHttp('/v1/sys/health', 8200).forStatusCode(200))
    .withStartupTimeout(120_000)
    .start();
  return {
    containerId: c.getId(),
    containerName: name,
    hostAddress: `http://${c.getHost()}:${c.getMappedPort(8200)}`,
    networkAddress: `http://${c.getIpAddress(r.network)}:8200`,
  };
};
