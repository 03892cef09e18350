/**
 * The one interface behind the three cluster providers. A provider `start()`s into a StartedLab that knows how to
 * reach Kubernetes and Vault, how to inject faults, and how to `stop()` everything it created.
 */
import type { LabEvent } from '../report/events.ts';
import type { VaultServerName } from './vault-server.ts';

export type ProviderName = 'local' | 'kind' | 'existing';

/** How a harness (and ESO) reach the lab. */
export interface LabConnection {
  provider: ProviderName;
  /** Admin kubeconfig (mode 0600) and the context in it to use. */
  kubeconfigPath: string;
  context?: string;
  vault: {
    /** Where the harness reaches Vault (always loopback for local/kind). */
    address: string;
    token: string;
    /** The `server:` URL a SecretStore uses to reach Vault from where ESO runs. */
    serverUrlForEso: string;
    /** `kubernetes_host` for Vault's Kubernetes auth config (where Vault reaches the API server). */
    kubernetesHostForVault: string;
    /** PEM of the API server's CA, when Vault runs outside the cluster (local lab). */
    kubernetesCaPem?: string;
    /**
     * True when Vault runs outside any pod (local lab, external Vault): the logging-in ServiceAccount then needs
     * `system:auth-delegator`, because Vault calls TokenReview with the client's own JWT.
     */
    outsideCluster: boolean;
    /** KV v2 mount (dev servers mount it at `secret/`). */
    kvMount: string;
  };
  /**
   * Isolation for shared clusters (existing provider): scenario namespaces, Vault paths, policy and role names
   * get this suffix/prefix so a run touches only what it creates. Empty for labs the tool owns.
   */
  isolation: { runId: string; namespaceSuffix: string; vaultPathPrefix: string; nameSuffix: string };
  /** Directories with the lab's `vault` and `kubectl`, prepended to PATH for hand use and the tutorial. */
  binDirs: string[];
  /** The lab's node, where pods run (local lab with a node; kind). */
  node?: LabNode;
  /** Why this lab has no node (pod scenarios are skipped with this reason). */
  noNode?: string;
}

export interface LabNode {
  name: string;
  /** The kubelet's syncFrequency (how often a pod's Secret volumes are refreshed, plus jitter). */
  syncFrequency: string;
  /** Images the node holds; nothing is pulled. */
  images: string[];
  /** containerd's socket (local lab), for `ctr` and the image check. */
  containerdSocket?: string;
}

export interface ComponentStatus {
  name: string;
  version: string;
  pid?: number;
  port?: number;
  healthy: boolean;
  detail?: string;
}

/** Faults a scenario can inject; a provider that cannot do one throws a LabError saying so. */
export interface LabFaults {
  sealVault(signal: AbortSignal): Promise<void>;
  unsealVault(signal: AbortSignal): Promise<void>;
  /** Stop the Vault server process (kind: scale to 0). */
  stopVault(signal: AbortSignal): Promise<void>;
  /** Start it again. Dev mode keeps nothing: the caller re-seeds. */
  startVault(signal: AbortSignal): Promise<void>;
  restartEso(signal: AbortSignal): Promise<void>;
}

export interface StartedLab extends AsyncDisposable {
  readonly id: string;
  readonly provider: ProviderName;
  /** Run directory (mode 0700): kubeconfig, tokens, logs. */
  readonly runDir: string;
  readonly connection: LabConnection;
  readonly faults: LabFaults;
  /** Versions of what runs, for reports ("kubernetes v1.37.2, openbao v2.4.0, eso v0.20.4"; `hashicorp-vault v1.21.0` instead of openbao). */
  readonly versions: Record<string, string>;
  /** The last lines of ESO's log, for diagnosis (empty when not reachable). */
  esoLogTail(lines?: number): Promise<string>;
  status(signal?: AbortSignal): Promise<ComponentStatus[]>;
  /** The images the lab's node holds now (labs with a node; nothing is ever pulled). */
  listNodeImages?(signal?: AbortSignal): Promise<string[]>;
  /**
   * A Vault dev server of one scenario's own, next to the lab's (local lab): sealing or stopping it disturbs no
   * other scenario, so a Vault-fault scenario can run beside the others. Stopped by `PrivateVault.stop()`.
   */
  privateVault?(tag: string, signal: AbortSignal): Promise<PrivateVault>;
  /**
   * Hand the lab over so it outlives this process (`up`, `--keep`): its record no longer names an owner, and this
   * process will not stop it. `down` stops it later.
   */
  detach(): void;
  /** Stop everything this lab started, in reverse order. `keep` leaves the run directory (logs) in place. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/** The Vault faults a private Vault server takes over (ESO stays the lab's). */
export type VaultFaults = Pick<LabFaults, 'sealVault' | 'unsealVault' | 'stopVault' | 'startVault'>;

export interface PrivateVault {
  /** Its component name (`openbao-p3`), in events and logs. */
  readonly name: string;
  /** How the harness and ESO reach it: the lab's connection with this server's address and root token. */
  readonly vault: LabConnection['vault'];
  readonly faults: VaultFaults;
  stop(): Promise<void>;
}

/**
 * The lab as one scenario sees it with a Vault server of its own: that server's address and token in the
 * connection, its faults in place of the lab's Vault faults; everything else is the lab's.
 */
export function withPrivateVault(lab: StartedLab, pv: PrivateVault): StartedLab {
  const connection: LabConnection = { ...lab.connection, vault: pv.vault };
  return {
    id: lab.id,
    provider: lab.provider,
    runDir: lab.runDir,
    connection,
    faults: { ...lab.faults, ...pv.faults },
    versions: lab.versions,
    esoLogTail: (lines) => lab.esoLogTail(lines),
    status: (signal) => lab.status(signal),
    ...(lab.listNodeImages ? { listNodeImages: (signal) => lab.listNodeImages!(signal) } : {}),
    detach: () => {
      throw new Error('a scenario view of a lab cannot be detached');
    },
    stop: () => pv.stop(),
    [Symbol.asyncDispose]: () => pv.stop(),
  };
}

export interface StartOptions {
  signal: AbortSignal;
  emit: (e: LabEvent) => void;
  env: NodeJS.ProcessEnv;
  /** Lab name: `default` for `up`; ephemeral runs get a random one. */
  name: string;
  /** Leave the run directory behind on stop. */
  keep?: boolean;
  /** The local lab's Vault server (default openbao); see vault-server.ts. */
  vaultServer?: VaultServerName;
  /** Encrypt Secrets at rest in etcd (local lab: an EncryptionConfiguration with a random aescbc key). */
  encryptSecrets?: boolean;
  /** A node (kubelet, runtime) for pods: `auto` (default) where the machine can run one, `on` or fail, `off`. */
  node?: 'auto' | 'on' | 'off';
  /** Local lab: flags added to the ESO controller's (`bench scale --eso-args`), kept for its restarts. */
  esoArgs?: readonly string[];
}

export interface LabProvider {
  readonly name: ProviderName;
  start(options: StartOptions): Promise<StartedLab>;
}
