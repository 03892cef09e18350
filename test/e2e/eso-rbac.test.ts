/**
 * The local lab runs ESO as the chart's ServiceAccount with the chart's RBAC, from src/labs/local/eso-rbac.yaml.
 * That file must be exactly what the pinned ESO chart renders (real helm, built by the e2e setup).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ESO_RBAC_FILE, renderEsoRbac } from '../../src/components/eso-chart.ts';

describe('ESO RBAC of the local lab', () => {
  it('is current with the pinned chart (regenerate: npx tsx scripts/generate-eso-rbac.ts)', async () => {
    expect(readFileSync(ESO_RBAC_FILE, 'utf8')).toBe(await renderEsoRbac());
  });

  it('binds the controller ClusterRole to the ServiceAccount the lab runs ESO as', () => {
    const text = readFileSync(ESO_RBAC_FILE, 'utf8');
    expect(text).toMatch(
      /kind: ClusterRoleBinding[\s\S]*name: external-secrets-controller[\s\S]*kind: ServiceAccount\s+name: external-secrets\s+namespace: external-secrets/,
    );
  });
});
