/**
 * Encryption at rest for the local lab (`--encrypt-secrets`): an EncryptionConfiguration with one random aescbc key,
 * written 0600 into the run directory and given to the API server with `--encryption-provider-config`. Secrets are
 * then stored in etcd as `k8s:enc:aescbc:v1:key1:<ciphertext>`; everything else stays as it was.
 */
import { randomBytes } from 'node:crypto';
import type { RunDir } from '../run-dir.ts';

export const ENCRYPTION_CONFIG_FILE = 'encryption-config.yaml';
export const ENCRYPTION_PROVIDER = 'aescbc';
export const ENCRYPTION_KEY_NAME = 'key1';

/** The configuration for a 32-byte key (base64): aescbc for writes, identity to still read older plain entries. */
export function encryptionConfigYaml(keyBase64: string): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources: [secrets]',
    '    providers:',
    `      - ${ENCRYPTION_PROVIDER}:`,
    '          keys:',
    `            - name: ${ENCRYPTION_KEY_NAME}`,
    `              secret: ${keyBase64}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

/** Write a fresh configuration into the run directory; returns its path. */
export function writeEncryptionConfig(run: RunDir): string {
  return run.writePrivate(ENCRYPTION_CONFIG_FILE, encryptionConfigYaml(randomBytes(32).toString('base64')));
}
