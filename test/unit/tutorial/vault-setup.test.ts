import { describe, expect, it } from 'vitest';
import { policyRules, readPolicyHcl } from '../../../src/tutorial/vault-setup.ts';

describe('policy helpers', () => {
  it('read paths become KV v2 data paths; full paths are kept', () => {
    expect(readPolicyHcl(['my-app/config', 'secret/data/x', 'secret/y'], 'secret')).toBe(
      'path "secret/data/my-app/config" {\n  capabilities = ["read"]\n}\n\n' +
        'path "secret/data/x" {\n  capabilities = ["read"]\n}\n\n' +
        'path "secret/data/y" {\n  capabilities = ["read"]\n}\n',
    );
    expect(policyRules({ name: 'p', rules: 'path "a" {}' }, 'secret')).toBe('path "a" {}');
    expect(policyRules({ name: 'p', read: [] }, 'secret')).toBe('# no paths\n');
  });
});
