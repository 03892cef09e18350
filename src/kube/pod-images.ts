/**
 * The container images a set of manifests would run, and the check that the lab's node holds each of them before
 * anything is applied: a lab pulls nothing, so a missing image fails at once with its name and how to provide it,
 * instead of minutes of ImagePullBackOff.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

interface PodSpecLike {
  containers?: { image?: string }[];
  initContainers?: { image?: string }[];
  ephemeralContainers?: { image?: string }[];
}

function podSpecOf(o: KubernetesObject): PodSpecLike | undefined {
  const spec = (o as { spec?: Record<string, unknown> }).spec;
  if (!spec) return undefined;
  switch (o.kind) {
    case 'Pod':
      return spec as PodSpecLike;
    case 'CronJob':
      return (spec.jobTemplate as { spec?: { template?: { spec?: PodSpecLike } } } | undefined)?.spec
        ?.template?.spec;
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'ReplicationController':
      return (spec.template as { spec?: PodSpecLike } | undefined)?.spec;
    default:
      return undefined;
  }
}

/** Every image the objects' pods would run, with the object that names it. */
export function imagesOf(objects: readonly KubernetesObject[]): { image: string; object: string }[] {
  const out: { image: string; object: string }[] = [];
  for (const o of objects) {
    const ps = podSpecOf(o);
    if (!ps) continue;
    for (const c of [
      ...(ps.initContainers ?? []),
      ...(ps.containers ?? []),
      ...(ps.ephemeralContainers ?? []),
    ])
      if (c.image)
        out.push({
          image: c.image,
          object: `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`,
        });
  }
  return out;
}

/** The fully qualified form containerd stores (`busybox` → `docker.io/library/busybox:latest`). */
export function normalizeImageRef(ref: string): string {
  let name = ref;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (!suffix && colon <= lastSlash) suffix = ':latest';
  else if (colon > lastSlash) {
    suffix = name.slice(colon) + suffix;
    name = name.slice(0, colon);
  }
  const first = name.split('/')[0] ?? '';
  const hasDomain =
    name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + suffix;
}

/** Images named by the objects that the node does not hold. */
export function missingImages(
  objects: readonly KubernetesObject[],
  nodeImages: readonly string[],
): { image: string; object: string }[] {
  const have = new Set(nodeImages.map(normalizeImageRef));
  return imagesOf(objects).filter((i) => !have.has(normalizeImageRef(i.image)));
}
