import { describe, expect, it } from 'vitest';
import {
  chooseAutoProvider,
  detectKindTools,
  detectMachine,
  probeNode,
  providerReadiness,
} from '../../../src/labs/detect.ts';
import { main } from '../../../src/cli/main.ts';
import { capture } from '../../helpers/capture.ts';
import { fakeBin } from '../../helpers/fake-tools.ts';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const emptyCache = () => mkdtempSync(join(tmpdir(), 'vel-cache-'));
/** A Docker host named: the client is asked (a socket that does not exist is the fake's business). */
const DOCKER_HOST = 'unix:///nonexistent/docker.sock';

describe('doctor detection (fake docker/kind/helm on PATH)', () => {
  it('a docker client whose engine does not answer is not a Docker engine', async () => {
    const bin = fakeBin();
    bin.add('docker', 'echo "Cannot connect to the Docker daemon" >&2; exit 1');
    bin.add('kind', 'echo "kind v0.30.0 go1.26 linux/amd64"');
    bin.add('helm', 'echo "v3.19.0+g1234"');
    const f = await detectMachine({ env: { PATH: bin.dir, XDG_CACHE_HOME: emptyCache(), DOCKER_HOST } });
    expect(f.docker.ok).toBe(false);
    expect(f.docker.detail).toContain('engine not reachable');
    expect(f.kind).toMatchObject({ ok: true, detail: 'kind v0.30.0 go1.26 linux/amd64' });
    expect(f.helm).toMatchObject({ ok: true, detail: 'v3.19.0+g1234' });
    expect(f.go.ok).toBe(false);
    expect(chooseAutoProvider(f)).toMatchObject({ provider: 'local' });
    expect(chooseAutoProvider(f).reason).toContain('Docker engine');
    // Nothing cached and no Go: the local provider cannot run.
    const local = providerReadiness(f).find((p) => p.provider === 'local');
    expect(local?.ready).toBe(false);
    expect(local?.missing.join()).toContain('go');
    expect(bin.calls()).toContain('docker version --format {{.Server.Version}}');
  });

  it('with the default context and no socket, says so without running the client', async () => {
    const bin = fakeBin();
    bin.add('docker', 'echo 28.2.2');
    const home = mkdtempSync(join(tmpdir(), 'vel-home-'));
    const f = await detectKindTools({ env: { PATH: bin.dir, HOME: home } });
    expect(f.docker.ok).toBe(existsSync('/var/run/docker.sock'));
    if (!f.docker.ok) {
      expect(f.docker.detail).toBe('client only: engine not reachable (no /var/run/docker.sock)');
      expect(bin.calls()).not.toContain('docker version --format {{.Server.Version}}');
    }
    // Another current context in the client's config: the client decides.
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ currentContext: 'remote' }));
    const g = await detectKindTools({ env: { PATH: bin.dir, HOME: home } });
    expect(g.docker).toMatchObject({ ok: true, detail: 'engine 28.2.2' });
  });

  it('auto picks kind when a Docker engine answers and kind and helm are installed', async () => {
    const bin = fakeBin();
    bin.add('docker', 'echo 28.2.2');
    bin.add('kind', 'echo "kind v0.30.0"');
    bin.add('helm', 'echo "v3.19.0"');
    const f = await detectMachine({ env: { PATH: bin.dir, XDG_CACHE_HOME: emptyCache(), DOCKER_HOST } });
    expect(f.docker).toMatchObject({ ok: true, detail: 'engine 28.2.2' });
    expect(chooseAutoProvider(f).provider).toBe('kind');
  });

  it('node below the floor is flagged', () => {
    expect(probeNode('18.20.0').ok).toBe(false);
    expect(probeNode('20.19.0').ok).toBe(true);
    expect(probeNode('22.1.0').ok).toBe(true);
  });

  it('doctor exits 3 when the provider auto picks cannot run, and says why in --json', async () => {
    const bin = fakeBin();
    const c = capture();
    const code = await main(['doctor', '--json'], {
      out: c.out,
      handleSignals: false,
      env: { PATH: bin.dir, XDG_CACHE_HOME: emptyCache() },
    });
    expect(code).toBe(3);
    const report = JSON.parse(c.stdout()) as {
      auto: { provider: string };
      providers: { provider: string; ready: boolean }[];
    };
    expect(report.auto.provider).toBe('local');
    expect(report.providers.find((p) => p.provider === 'local')?.ready).toBe(false);
  });
});
