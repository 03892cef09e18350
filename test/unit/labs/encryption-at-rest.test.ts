import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { apiserverArgs, type LabFiles, type LabPorts } from '../../../src/labs/local/component-specs.ts';
import { ENCRYPTION_CONFIG_FILE, writeEncryptionConfig } from '../../../src/labs/local/encryption-at-rest.ts';
import { checkEncryptSecrets } from '../../../src/labs/lab-session.ts';
import { RunDir } from '../../../src/labs/run-dir.ts';

const files = { etcdData: '/d' } as unknown as LabFiles;
const ports = { etcdClient: 1, apiserver: 2 } as unknown as LabPorts;

describe('--encrypt-secrets on the local lab', () => {
  it('writes an EncryptionConfiguration with a fresh 32-byte aescbc key, 0600, in the run directory', () => {
    const state = mkdtempSync(join(tmpdir(), 'vel-enc-'));
    const run = RunDir.create('t', { VAULT_ESO_LAB_STATE_DIR: state });
    const file = writeEncryptionConfig(run);
    expect(file).toBe(run.file(ENCRYPTION_CONFIG_FILE));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cfg = parse(readFileSync(file, 'utf8')) as {
      kind: string;
      resources: { resources: string[]; providers: Record<string, { keys?: { secret: string }[] }>[] }[];
    };
    expect(cfg.kind).toBe('EncryptionConfiguration');
    expect(cfg.resources[0]?.resources).toEqual(['secrets']);
    const key = cfg.resources[0]?.providers[0]?.aescbc?.keys?.[0]?.secret ?? '';
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(Object.keys(cfg.resources[0]?.providers[1] ?? {})).toEqual(['identity']);
    const again = parse(readFileSync(writeEncryptionConfig(run), 'utf8')) as typeof cfg;
    expect(again.resources[0]?.providers[0]?.aescbc?.keys?.[0]?.secret).not.toBe(key);
  });

  it('passes it to the API server only when asked', () => {
    expect(apiserverArgs(files, ports).some((a) => a.startsWith('--encryption-provider-config'))).toBe(false);
    expect(apiserverArgs({ ...files, encryptionConfig: '/run/enc.yaml' }, ports)).toContain(
      '--encryption-provider-config=/run/enc.yaml',
    );
  });

  it('is refused for providers whose API server is not ours', () => {
    expect(() => checkEncryptSecrets('kind', true)).toThrow(
      /--encrypt-secrets is an option of the local lab/,
    );
    expect(() => checkEncryptSecrets('local', true)).not.toThrow();
    expect(() => checkEncryptSecrets('kind', false)).not.toThrow();
  });
});
