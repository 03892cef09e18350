/**
 * `--vault-server`: parsing, what each provider accepts, which server a recorded lab runs, and that a running lab
 * of the other server is never silently used — all decided before anything starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { ExitCode, UsageError } from '../../../src/errors.ts';
import { acquireLab } from '../../../src/labs/lab-session.ts';
import { RunDir, type LabRecord } from '../../../src/labs/run-dir.ts';
import {
  checkVaultServerForProvider,
  parseVaultServer,
  recordedVaultServer,
  vaultServer,
} from '../../../src/labs/vault-server.ts';
import { vaultEnv } from '../../../src/labs/local/vault-eso-specs.ts';
import { processExecutable } from '../../../src/process/command.ts';
import { capture } from '../../helpers/capture.ts';

describe('parseVaultServer', () => {
  it('accepts openbao and hashicorp, and leaves an absent flag undefined', () => {
    expect(parseVaultServer('openbao')).toBe('openbao');
    expect(parseVaultServer('hashicorp')).toBe('hashicorp');
    expect(parseVaultServer(undefined)).toBeUndefined();
  });

  it('refuses anything else as a usage error (exit 2) naming the choices', () => {
    const e = (() => {
      try {
        parseVaultServer('vault');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(ExitCode.invalidInput);
    expect((e as UsageError).message).toBe("--vault-server must be one of hashicorp, openbao (got 'vault')");
  });
});

describe('vaultServer', () => {
  it('names the component, its binary and its pin for each server', () => {
    expect(vaultServer()).toMatchObject({ name: 'openbao', component: 'openbao', binary: 'bao' });
    const h = vaultServer('hashicorp');
    expect(h).toMatchObject({ label: 'HashiCorp Vault', component: 'hashicorp-vault', binary: 'vault' });
    expect(h.pin).toMatchObject({ module: 'github.com/hashicorp/vault', version: 'v1.21.0', optional: true });
  });

  it('gives HashiCorp Vault only VAULT_* dev variables (it reads no BAO_*), OpenBao both', () => {
    const base = { PATH: '/usr/bin', HOME: '/h' };
    expect(vaultEnv(base, 'tok', 'hashicorp')).toEqual({ ...base, VAULT_DEV_ROOT_TOKEN_ID: 'tok' });
    expect(vaultEnv(base, 'tok')).toMatchObject({
      BAO_DEV_ROOT_TOKEN_ID: 'tok',
      VAULT_DEV_ROOT_TOKEN_ID: 'tok',
    });
  });
});

describe('which server a recorded lab runs', () => {
  it('local labs record it (older records ran OpenBao), kind runs HashiCorp Vault, existing is unknown', () => {
    expect(recordedVaultServer({ provider: 'local', vaultServer: 'hashicorp' })).toBe('hashicorp');
    expect(recordedVaultServer({ provider: 'local' })).toBe('openbao');
    expect(recordedVaultServer({ provider: 'kind' })).toBe('hashicorp');
    expect(recordedVaultServer({ provider: 'existing' })).toBeUndefined();
  });
});

describe('checkVaultServerForProvider', () => {
  it('local takes either; kind only hashicorp; existing none; no flag is always fine', () => {
    expect(() => checkVaultServerForProvider('local', 'hashicorp')).not.toThrow();
    expect(() => checkVaultServerForProvider('local', 'openbao')).not.toThrow();
    expect(() => checkVaultServerForProvider('kind', 'hashicorp')).not.toThrow();
    expect(() => checkVaultServerForProvider('existing', undefined)).not.toThrow();
    expect(() => checkVaultServerForProvider('kind', 'openbao')).toThrow(
      /runs HashiCorp Vault from its Helm chart/,
    );
    expect(() => checkVaultServerForProvider('existing', 'hashicorp')).toThrow(/the Vault server is yours/);
  });
});

describe('a running lab and --vault-server', () => {
  let state: string;
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  /** A lab record that `up` handed off, whose one "component" is this test process (so it is not stale). */
  function runningLab(over: Partial<LabRecord> = {}): NodeJS.ProcessEnv {
    state = mkdtempSync(join(tmpdir(), 'vel-unit-state-'));
    const env = { ...process.env, VAULT_ESO_LAB_STATE_DIR: state, CI: 'true' };
    const dir = RunDir.create('default', env);
    dir.writeRecord({
      schema: 1,
      id: 'default',
      name: 'default',
      provider: 'local',
      state: 'running',
      ownerPid: null,
      createdAt: new Date().toISOString(),
      components: [
        { name: 'etcd', version: 'v3.7.3', pid: process.pid, exe: processExecutable(process.pid) },
      ],
      versions: { openbao: 'v2.4.0' },
      connection: {
        provider: 'local',
        kubeconfigPath: dir.file('kubeconfig'),
        vault: {
          address: 'http://127.0.0.1:1',
          token: 'unit-test-token',
          serverUrlForEso: 'http://127.0.0.1:1',
          kubernetesHostForVault: 'https://127.0.0.1:2',
          outsideCluster: true,
          kvMount: 'secret',
        },
        isolation: { runId: 'default', namespaceSuffix: '', vaultPathPrefix: '', nameSuffix: '' },
        binDirs: [],
      },
      ...over,
    });
    return env;
  }

  it('up --vault-server hashicorp refuses a running OpenBao lab of that name (exit 1), starting nothing', async () => {
    const env = runningLab();
    const c = capture();
    const code = await main(['up', '--vault-server', 'hashicorp'], { out: c.out, handleSignals: false, env });
    expect(code).toBe(ExitCode.failed);
    expect(c.stderr()).toContain("lab 'default' is already running with OpenBao, not HashiCorp Vault");
  });

  it('up with an unknown server exits 2 before looking at any lab', async () => {
    const env = runningLab();
    const c = capture();
    const code = await main(['up', '--vault-server', 'vault'], { out: c.out, handleSignals: false, env });
    expect(code).toBe(ExitCode.invalidInput);
    expect(c.stderr()).toContain('--vault-server must be one of hashicorp, openbao');
  });

  it('a scenario attaches to a running lab of the asked-for server, or of any server when not asked', async () => {
    for (const [over, asked] of [
      [{ vaultServer: 'hashicorp' }, 'hashicorp'],
      [{}, 'openbao'],
      [{ vaultServer: 'hashicorp' }, undefined],
    ] as const) {
      const env = runningLab(over);
      const infos: string[] = [];
      const a = await acquireLab({
        provider: 'auto',
        env,
        signal: AbortSignal.timeout(5000),
        emit: (e) => {
          if (e.kind === 'lab.info') infos.push(e.message);
        },
        vaultServer: asked,
      });
      expect(a.ephemeral).toBe(false);
      expect(infos.join('\n')).toContain("using the running local lab 'default'");
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('--provider existing --vault-server hashicorp is refused before anything is looked at', async () => {
    const env = runningLab();
    await expect(
      acquireLab({
        provider: 'existing',
        env,
        signal: AbortSignal.timeout(5000),
        emit: () => {},
        vaultServer: 'hashicorp',
      }),
    ).rejects.toThrow(/applies to the local lab/);
  });
});
