import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HtmlReporter, renderHtmlReport } from '../../../src/report/html-reporter.ts';
import { SecretRegistry, shortHash } from '../../../src/report/redact.ts';
import { buildRunReport, type ScenarioReport } from '../../../src/report/report-model.ts';
import { ScenarioBlocks } from '../../../src/report/scenario-blocks.ts';
import type { Scenario } from '../../../src/scenario/model.ts';
import { secretTimelineEntry } from '../../../src/scenario/orchestrator.ts';
import { captureOutput } from './capture-output.ts';

const SECRET = 'p4ssw0rd-<script>alert(1)</script>';
const t0 = Date.parse('2026-12-01T09:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

function scenario(): ScenarioReport {
  return {
    scenario: 'rotate',
    description: 'Rotate a password',
    file: 'scenarios/rotate.yaml',
    provider: 'local',
    passed: false,
    startedAt: at(0),
    durationMs: 9000,
    steps: [
      {
        name: 'rotation 1',
        index: 0,
        passed: false,
        durationMs: 8000,
        operations: [
          {
            operation: 'assertSecret',
            name: 'assertSecret',
            phase: 'try',
            summary: 'x',
            passed: false,
            durationMs: 7000,
            timeoutMs: 7000,
            error: `saw ${SECRET}`,
          },
        ],
      },
    ],
    cleanups: [],
    cleanupErrors: [],
    rotations: [
      {
        path: 'my-app/config',
        keys: ['password'],
        ackAt: at(2000),
        latencyMs: 1500,
        windowMs: 7000,
        withinWindow: true,
      },
    ],
    timeline: [
      { at: at(100), kind: 'step', label: 'rotation 1' },
      { at: at(1000), endAt: at(1500), kind: 'fault', label: 'sealVault', facts: { passed: true } },
      { at: at(2000), kind: 'vault.write', label: 'Vault secret/my-app/config v2 (password)' },
      {
        at: at(2000),
        endAt: at(9000),
        kind: 'refresh.window',
        label: 'refresh window for my-app/config (password)',
        facts: {
          windowMs: 7000,
          latencyMs: 1500,
          withinWindow: true,
          observedAt: at(3500),
          esoRefreshTime: at(3000),
        },
      },
      secretTimelineEntry('my-app', 'my-app-user-password', {
        type: 'MODIFIED',
        at: t0 + 3500,
        resourceVersion: '42',
        exists: true,
        data: { password: SECRET },
      }),
      { at: at(5000), kind: 'pod.env-read', label: 'a kind this report does not know' },
    ],
  };
}

describe('HTML report', () => {
  const registry = new SecretRegistry();
  registry.add(SECRET);
  const html = renderHtmlReport(
    buildRunReport([scenario()], { provider: 'local', versions: { eso: 'v0.20.4' } }),
    registry,
  );

  it('is one self-contained page: no external URL, no value, only hashes', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toContain('p4ssw0rd');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain(`data.password=${shortHash(SECRET)}`);
    expect(html).toContain("default-src 'none'");
  });

  it('draws the timeline lanes, the refresh window band, and unknown kinds in a lane of their own', () => {
    for (const lane of ['steps', 'faults', 'Vault writes', 'ESO', 'Secret', 'pods'])
      expect(html).toContain(`>${lane}</text>`);
    expect(html).toContain('class="band"');
    expect(html).toContain('data-kind="pod.env-read"');
    expect(html).toContain('data-kind="eso.refresh"');
  });

  it('lists the events in time order', () => {
    const times = [...html.matchAll(/<tr id="s0-ev\d+" data-at="([^"]+)"/g)].map((m) => Date.parse(m[1]!));
    expect(times.length).toBe(7);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('is written 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'html-'));
    const file = join(dir, 'r.html');
    await writeFile(file, 'old', { mode: 0o644 });
    await new HtmlReporter(file, registry).onRunEnd(buildRunReport([scenario()], { provider: 'local' }));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain('rotate');
  });
});

describe('scenario blocks (parallel console output)', () => {
  it("prints each scenario's lines together when it ends, never interleaved", () => {
    const out = captureOutput();
    const blocks = new ScenarioBlocks(out, new SecretRegistry(), 2);
    const s = (name: string) => ({ name }) as Scenario;
    const a = blocks.sink(s('a'), { exclusive: false });
    const b = blocks.sink(s('b'), { exclusive: true, reason: 'injects sealVault' });
    a.emit({ kind: 'scenario.start', scenario: 'a', file: 'a.yaml', provider: 'local' });
    b.emit({ kind: 'scenario.start', scenario: 'b', file: 'b.yaml', provider: 'local' });
    a.emit({ kind: 'step.start', step: 'a-step', index: 0 });
    b.emit({ kind: 'step.start', step: 'b-step', index: 0 });
    expect(out.stderrText()).toBe('');
    b.emit({ kind: 'scenario.end', scenario: 'b', passed: true, durationMs: 5 });
    b.done({} as ScenarioReport);
    a.emit({ kind: 'scenario.end', scenario: 'a', passed: true, durationMs: 5 });
    a.done({} as ScenarioReport);
    const lines = out.stderrText().trim().split('\n');
    expect(lines.map((l) => l.trim().split(' ')[0])).toEqual(['b', 'runs', '●', 'b', 'a', '●', 'a']);
    expect(lines[1]).toContain('runs alone: injects sealVault');
  });
});
