/**
 * The harness's lean read of a Secret watch event gives what a full JSON.parse gives — for events as the API server
 * writes them (managedFields naming "f:data", an annotation holding a Secret's JSON escaped) and, through its
 * fallback, for everything else.
 */
import { describe, expect, it, vi } from 'vitest';
import { dataFingerprint, readSecretEvent } from '../../../src/bench/secret-event.ts';

/** A watch event line in the API server's field order (Go's encoding/json: declaration order, sorted map keys). */
function line(type: string, name: string, data: Record<string, string> | undefined, extra: object = {}) {
  const object = {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace: 'bench-x',
      uid: '0b0e6d2c-1d4f-4c55-9b7e-5f0c7f1e2a3b',
      resourceVersion: '4242',
      creationTimestamp: '2026-12-02T01:00:00Z',
      labels: { 'reconcile.external-secrets.io/managed': 'true' },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data: { password: 'b2xk' } }),
        'reconcile.external-secrets.io/data-hash': 'abc123',
      },
      ownerReferences: [
        { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', name: 'not-the-name' },
      ],
      managedFields: [
        {
          manager: 'external-secrets',
          operation: 'Apply',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:data': { 'f:password': {} }, 'f:metadata': { 'f:labels': {} } },
        },
      ],
    },
    ...(data ? { data } : {}),
    type: 'Opaque',
    ...extra,
  };
  return JSON.stringify({ type, object });
}

const full = (l: string) => {
  const e = JSON.parse(l) as {
    type: string;
    object: { metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string> };
  };
  return {
    type: e.type,
    name: e.object.metadata?.name ?? '',
    resourceVersion: e.object.metadata?.resourceVersion ?? '',
    data: dataFingerprint(e.object),
  };
};

describe('readSecretEvent', () => {
  it.each([
    ['MODIFIED', 's7', { password: 'bmV3LXZhbHVl' }],
    ['ADDED', 's0', { password: 'YQ==', username: 'dXNlcg==' }],
    ['MODIFIED', 's1', {}],
    ['MODIFIED', 's2', undefined],
  ])('%s %s: the same as a full parse', (type, name, data) => {
    const l = line(type, name, data);
    expect(readSecretEvent(l)).toEqual(full(l));
  });

  it('takes the Secret data, not the escaped copy in an annotation nor managedFields', () => {
    const l = line('MODIFIED', 's3', { password: 'bmV3' });
    const parse = vi.spyOn(JSON, 'parse');
    const e = readSecretEvent(l);
    // The lean path: no full parse of the event.
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();
    expect(e).toEqual({ type: 'MODIFIED', name: 's3', resourceVersion: '4242', data: '{"password":"bmV3"}' });
  });

  it('falls back to the full parse for bookmarks, errors, escapes and odd shapes', () => {
    const bookmark = JSON.stringify({
      type: 'BOOKMARK',
      object: { kind: 'Secret', metadata: { resourceVersion: '9' } },
    });
    expect(readSecretEvent(bookmark)).toEqual({
      type: 'BOOKMARK',
      name: '',
      resourceVersion: '9',
      data: 'null',
    });
    const error = JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410 } });
    expect(readSecretEvent(error).type).toBe('ERROR');
    const escaped = line('MODIFIED', 'we"ird', { password: 'YQ==' });
    expect(readSecretEvent(escaped)).toEqual(full(escaped));
    // A value that is not plain base64 (never written by the API server): the full parse decides.
    const odd = line('MODIFIED', 's4', { password: 'a}b' });
    expect(readSecretEvent(odd)).toEqual(full(odd));
  });

  it('throws on text that is not JSON, as JSON.parse does', () => {
    expect(() => readSecretEvent('{"type":"ADDED",')).toThrow();
  });
});
