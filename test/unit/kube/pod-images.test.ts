import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { imagesOf, missingImages, normalizeImageRef } from '../../../src/kube/pod-images.ts';

const deployment = (image: string): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'ns' },
    spec: { template: { spec: { initContainers: [{ image: 'init:1' }], containers: [{ image }] } } },
  }) as KubernetesObject;

describe('pod images', () => {
  it('finds images in pods, workload templates and CronJobs; ignores other kinds', () => {
    const objs = [
      deployment('localhost/vault-eso-lab/consumer:v1'),
      { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ image: 'busybox' }] } },
      {
        kind: 'CronJob',
        metadata: { name: 'c' },
        spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 'x/y:2' }] } } } } },
      },
      { kind: 'ConfigMap', metadata: { name: 'm' }, data: { image: 'nope' } },
    ] as KubernetesObject[];
    expect(imagesOf(objs)).toEqual([
      { image: 'init:1', object: 'Deployment/ns/d' },
      { image: 'localhost/vault-eso-lab/consumer:v1', object: 'Deployment/ns/d' },
      { image: 'busybox', object: 'Pod/p' },
      { image: 'x/y:2', object: 'CronJob/c' },
    ]);
  });
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.37', 'docker.io/library/busybox:1.37'],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['localhost/vault-eso-lab/consumer:v1', 'localhost/vault-eso-lab/consumer:v1'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['app@sha256:abc', 'docker.io/library/app@sha256:abc'],
  ])('normalizes %s as containerd stores it', (ref, want) => {
    expect(normalizeImageRef(ref)).toBe(want);
  });
  it('reports what the node lacks, comparing normalized names', () => {
    const have = ['docker.io/library/init:1', 'localhost/vault-eso-lab/consumer:v1'];
    expect(missingImages([deployment('localhost/vault-eso-lab/consumer:v1')], have)).toEqual([]);
    expect(missingImages([deployment('busybox:1.37')], have)).toEqual([
      { image: 'busybox:1.37', object: 'Deployment/ns/d' },
    ]);
  });
});
