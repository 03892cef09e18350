/** Logic of the library's newer operations: template expectations, measureFrom marks, events, pods, rollouts. */
import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { secrets, shortHash } from '../../../../src/secrets/secret-registry.ts';
import { VaultState } from '../../../../src/scenario/runtime.ts';
import type { VaultClient } from '../../../../src/vault/client.ts';
import {
  dependsOnKeys,
  expectationSchema,
  involvedPaths,
  renderTemplate,
  resolveExpectations,
  templateKeys,
} from '../../../../src/scenario/operations/values.ts';
import { backoffDelayed } from '../../../../src/scenario/operations/assert-secret.ts';
import { eventMatches } from '../../../../src/scenario/operations/assert-condition.ts';
import { mark, markedAt } from '../../../../src/scenario/operations/marks.ts';
import { hops, judgePodValues, secretForSource } from '../../../../src/scenario/operations/pod-values.ts';
import type { ConsumerReport } from '../../../../src/kube/consumer-stream.ts';
import { labelSelector, podIsServing, restartPatch, rolloutComplete } from '../../../../src/kube/pods.ts';
import { operations } from '../../../../src/scenario/operations/index.ts';

const TEMPLATE = 'postgres://{username}:{password}@db:5432/app';

describe('template expectations', () => {
  it('parse, name their keys and their path', () => {
    const e = expectationSchema.parse({ template: TEMPLATE, from: 'my-app/config' });
    expect(templateKeys(TEMPLATE)).toEqual(['username', 'password']);
    expect(involvedPaths({ connection: e, user: 'other/path#u' })).toEqual(['my-app/config', 'other/path']);
    expect(() => expectationSchema.parse({ template: 'no placeholders', from: 'x' })).toThrow();
  });

  it('render from the scenario’s own writes, register the result as a secret, and track the keys', async () => {
    const state = new VaultState('secret');
    state.recordWrite(
      'my-app/config',
      'put',
      { username: 'app', password: 'pw-123456789' },
      { version: 1, ackAt: 1 },
    );
    const noVault = { kvGet: () => Promise.reject(new Error('no read')) } as unknown as VaultClient;
    const [r] = await resolveExpectations(
      { connection: { template: TEMPLATE, from: 'my-app/config' } },
      state,
      noVault,
    );
    expect(r?.value).toBe('postgres://app:pw-123456789@db:5432/app');
    expect(r?.source).toBe('template(my-app/config)');
    expect(secrets.has(r?.value ?? '')).toBe(true);
    expect(dependsOnKeys(r!)).toEqual(['username', 'password']);
  });

  it('a key the path lacks is an error naming the key, never a value', () => {
    expect(() => renderTemplate('{user}:{nope}', { user: 'secret-value-1' }, 'my-app/config')).toThrow(
      'template from my-app/config: Vault path has no key nope',
    );
  });
});

describe('measureFrom', () => {
  it('marks are per runtime', () => {
    const a = {};
    const b = {};
    mark(a, 'unsealVault', 1000);
    expect(markedAt(a, 'unsealVault')).toBe(1000);
    expect(markedAt(b, 'unsealVault')).toBeUndefined();
  });

  it('backoff delayed recovery when it took longer than one refresh interval + slack', () => {
    expect(backoffDelayed(1_800, 3_000, 2_000)).toBe(false);
    expect(backoffDelayed(9_000, 3_000, 2_000)).toBe(true);
    expect(backoffDelayed(9_000, 0, 2_000)).toBe(false);
  });

  it('is refused together with within: refreshWindow', () => {
    const op = operations.find((o) => o.name === 'assertSecret')!;
    const base = { namespace: 'my-app', name: 's', externalSecret: 'es', expect: { p: 'a/b#c' } };
    expect(op.schema.safeParse({ ...base, measureFrom: 'forceSync', within: '5s' }).success).toBe(true);
    expect(op.schema.safeParse({ ...base, measureFrom: 'forceSync', within: 'refreshWindow' }).success).toBe(
      false,
    );
  });
});

describe('assertCondition eventContains', () => {
  it('matches multi-line Vault errors case-insensitively', () => {
    const event =
      'Warning UpdateFailed: err: Error making API request.\n\nCode: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied';
    expect(eventMatches(event, 'Permission Denied')).toBe(true);
    expect(eventMatches(event, 'Code: 403. Errors: * 1 error')).toBe(true);
    expect(eventMatches(event, 'sealed')).toBe(false);
  });
});

describe('pod values', () => {
  const report = (sha256: string | null, extra: Partial<ConsumerReport> = {}): ConsumerReport => ({
    event: 'same',
    source: 'env:DB_PASSWORD',
    sha256,
    readAt: 1000,
    seq: 1,
    receivedAt: 1000,
    ...extra,
  });
  const h = (v: string) => shortHash(v);

  it('current: every pod reports the expected hash; problems carry hashes only', () => {
    expect(
      judgePodValues([{ pod: 'a', report: report(h('new-secret-1')) }], h('new-secret-1'), 'current').ok,
    ).toBe(true);
    const r = judgePodValues(
      [
        { pod: 'a', report: report(h('old-secret-1')) },
        { pod: 'b', error: 'no consumer report for env:DB_PASSWORD yet' },
        { pod: 'c', report: report(null, { error: 'not set' }) },
      ],
      h('new-secret-1'),
      'current',
    );
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).not.toMatch(/old-secret-1|new-secret-1/);
    expect(r.problems[0]).toBe(`a: has sha256:${h('old-secret-1')}, expected sha256:${h('new-secret-1')}`);
    expect(r.problems[1]).toBe('b: no consumer report for env:DB_PASSWORD yet');
    expect(r.problems[2]).toBe('c: not set');
  });

  it('stale: no pod reports the current value yet; no pod at all is never a pass', () => {
    expect(judgePodValues([{ pod: 'a', report: report(h('old')) }], h('new-secret-1'), 'stale').ok).toBe(
      true,
    );
    expect(
      judgePodValues([{ pod: 'a', report: report(h('new-secret-1')) }], h('new-secret-1'), 'stale')
        .problems[0],
    ).toMatch(/^a: already holds the current value sha256:/);
    expect(judgePodValues([], 'x', 'current').problems).toEqual(['no serving pod']);
  });

  it('hops: Vault ack → Secret → file written → read, each measured from its own timestamps', () => {
    expect(
      hops({ ackAt: 1000, secretAt: 1200, report: report('x', { writtenAt: 4200, readAt: 4250 }) }),
    ).toEqual({
      ackToReadMs: 3250,
      ackToSecretMs: 200,
      secretToFileMs: 3000,
      fileToReadMs: 50,
      secretToReadMs: 3050,
    });
    // An env var has no file time: only the ends are measured.
    expect(hops({ ackAt: 1000, report: report('x', { readAt: 2000 }) })).toEqual({ ackToReadMs: 1000 });
  });

  it('the Secret a source reads comes from the pod spec', () => {
    const pod = {
      spec: {
        containers: [
          {
            name: 'app',
            env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 's-env', key: 'password' } } }],
            volumeMounts: [
              { name: 'creds', mountPath: '/etc/creds' },
              { name: 'one', mountPath: '/etc/app/password', subPath: 'password' },
            ],
          },
        ],
        volumes: [
          { name: 'creds', secret: { secretName: 's-vol' } },
          { name: 'one', secret: { secretName: 's-sub' } },
        ],
      },
    } as V1Pod;
    expect(secretForSource(pod, undefined, 'env:DB_PASSWORD')).toBe('s-env');
    expect(secretForSource(pod, 'app', 'file:/etc/creds/password')).toBe('s-vol');
    expect(secretForSource(pod, 'app', 'file:/etc/app/password')).toBe('s-sub');
    expect(secretForSource(pod, 'app', 'file:/nowhere')).toBeUndefined();
  });

  it('schema: state stale needs `for`', () => {
    const op = operations.find((o) => o.name === 'assertPodEnv')!;
    const base = {
      namespace: 'my-app',
      deployment: 'consumer-env',
      env: 'DB_PASSWORD',
      expect: 'my-app/config#password',
    };
    expect(op.schema.safeParse(base).success).toBe(true);
    expect(op.schema.safeParse({ ...base, state: 'stale' }).success).toBe(false);
    expect(op.schema.safeParse({ ...base, state: 'stale', for: '20s' }).success).toBe(true);
  });
});

describe('deployments', () => {
  const dep = (spec: number, status: V1Deployment['status'], generation = 2): V1Deployment => ({
    metadata: { name: 'd', generation },
    spec: { replicas: spec, selector: { matchLabels: { app: 'd' } }, template: {} },
    status,
  });

  it('a rollout is complete when every replica is updated and available and no old one is left', () => {
    expect(
      rolloutComplete(
        dep(1, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      ),
    ).toBe(true);
    expect(
      rolloutComplete(
        dep(1, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      ),
    ).toBe(false);
    expect(
      rolloutComplete(
        dep(1, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }),
      ),
    ).toBe(false);
  });

  it('restart patches the pod template like kubectl rollout restart', () => {
    expect(restartPatch(new Date('2026-01-02T03:04:05Z'))).toEqual({
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05.000Z' } },
        },
      },
    });
    expect(labelSelector(dep(1, {}))).toBe('app=d');
  });

  it('serving pods are Running and Ready, not terminating', () => {
    const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    expect(podIsServing({ status: ready })).toBe(true);
    expect(podIsServing({ status: ready, metadata: { deletionTimestamp: new Date() } })).toBe(false);
    expect(podIsServing({ status: { phase: 'Pending' } })).toBe(false);
  });
});
