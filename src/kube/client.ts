/**
 * Kubernetes clients for one kubeconfig file and context. Always loads the given file — never the ambient
 * `~/.kube/config` — so a run can only touch the lab it was given.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { LabError } from '../errors.ts';

export interface KubeClients {
  readonly kc: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly rbac: RbacAuthorizationV1Api;
}

export function createKubeClients(kubeconfigPath: string, context?: string): KubeClients {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (e) {
    throw new LabError('E_KUBECONFIG', `cannot load kubeconfig ${kubeconfigPath}`, { cause: e });
  }
  if (context) {
    if (!kc.getContextObject(context))
      throw new LabError('E_KUBECONFIG', `kubeconfig ${kubeconfigPath} has no context ${context}`);
    kc.setCurrentContext(context);
  }
  return fromKubeConfig(kc);
}

export function fromKubeConfig(kc: KubeConfig): KubeClients {
  return {
    kc,
    objects: KubernetesObjectApi.makeApiClient(kc),
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
}

/** HTTP status of a client-node error (ApiException `code`, or `statusCode` from Watch), if any. */
export function statusOf(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  if (typeof o.code === 'number') return o.code;
  if (typeof o.statusCode === 'number') return o.statusCode;
  if (typeof o.response?.statusCode === 'number') return o.response.statusCode;
  return undefined;
}

export function isNotFound(e: unknown): boolean {
  return statusOf(e) === 404;
}

/** The `message` of a Kubernetes Status body carried by an ApiException, else the error message. */
export function kubeErrorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'body' in e) {
    const body = (e as { body?: unknown }).body;
    try {
      const parsed =
        typeof body === 'string'
          ? (JSON.parse(body) as { message?: string })
          : (body as { message?: string });
      if (parsed?.message) return parsed.message;
    } catch {
      // not JSON
    }
  }
  return e instanceof Error ? e.message : String(e);
}
