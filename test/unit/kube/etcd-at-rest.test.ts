import { describe, expect, it } from 'vitest';
import { atRestMismatch, describeAtRest, describeSeen } from '../../../src/kube/etcd-reader.ts';

const value = 'Zq3-generated-password-xy';
const plain = describeAtRest(
  Buffer.concat([Buffer.from('k8s\0\n\x0cSecret', 'latin1'), Buffer.from(value)]),
  value,
);
const envelope = describeAtRest(
  Buffer.from('k8s:enc:aescbc:v1:key1:\x8f\x01\x02ciphertext', 'latin1'),
  value,
);
const envelopeLeaking = describeAtRest(Buffer.from(`k8s:enc:aescbc:v1:key1:${value}`, 'latin1'), value);

describe('at-rest expectations (assertEtcd, the tutorial)', () => {
  it('plain: holds when the value is in the stored bytes as it is', () => {
    expect(atRestMismatch('plain', plain)).toBeUndefined();
    expect(atRestMismatch('plain', envelope)).toMatch(/entry is encrypted \(k8s:enc:aescbc:v1:key1:\)/);
    expect(atRestMismatch('plain', describeAtRest(Buffer.from('k8s\0other'), value))).toMatch(
      /not in the stored bytes/,
    );
  });

  it('encrypted: holds only for an envelope that does not contain the value', () => {
    expect(atRestMismatch('encrypted', envelope)).toBeUndefined();
    expect(atRestMismatch('encrypted', plain)).toMatch(
      /stored as k8s\\0 \(protobuf\), the value in it as it is at byte 12/,
    );
    expect(atRestMismatch('encrypted', envelopeLeaking)).toMatch(/yet the value is in it/);
  });

  it('describes what was seen with hashes and offsets only', () => {
    const text = describeSeen(plain, 'abcd1234') + describeSeen(envelope, 'abcd1234');
    expect(text).toContain('the value (sha256:abcd1234) is in the stored bytes as it is, at byte 12');
    expect(text).toContain('an aescbc envelope (k8s:enc:aescbc:v1:key1:)');
    expect(text).not.toContain(value);
  });
});
