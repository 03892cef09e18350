import { describe, expect, it } from 'vitest';
import { checkScenarioDocs } from '../../../scripts/scenario-docs.ts';

describe('docs/scenarios.md', () => {
  it('is current (regenerate: npx tsx scripts/generate-scenario-docs.ts)', async () => {
    const { current, expected, actual } = await checkScenarioDocs();
    expect(actual, 'docs/scenarios.md is stale: run npx tsx scripts/generate-scenario-docs.ts').toBe(
      expected,
    );
    expect(current).toBe(true);
  });

  it('has a section for every scenario, with its expectation', async () => {
    const { expected } = await checkScenarioDocs();
    for (const name of ['initial-sync', 'rotate', 'vault-sealed', 'vault-down', 'consumers'])
      expect(expected).toContain(`## ${name}\n`);
    expect(expected).toContain('- runs on: local only (skipped elsewhere, with the reason)'); // secrets-at-rest
    expect(expected).toContain('runs on: labs with a node');
    expect(expected).toContain('**Expect:**');
  });
});
