/**
 * The walkthrough credits a Secret update to the force-sync annotation only when a periodic refresh cannot explain
 * it: these cases fail the proof, so the tutorial's force-sync step fails with them.
 */
import { describe, expect, it } from 'vitest';
import { forceSyncProof, type ForceSyncEvidence } from '../../../src/tutorial/steps-rotation.ts';

const HOUR = 3_600_000;
const t0 = Date.parse('2026-12-01T09:00:00Z');
const caused: ForceSyncEvidence = {
  changedDuringHold: false,
  refreshTimeBefore: t0,
  annotatedAt: t0 + 60_500,
  arrivedAt: t0 + 61_200,
  refreshTimeAfter: t0 + 61_000,
  intervalMs: HOUR,
};

describe('force-sync proof', () => {
  it('holds when the update came after the annotation, with no periodic refresh due', () => {
    const p = forceSyncProof(caused);
    expect(p.ok).toBe(true);
    expect(p.lines.every((l) => l.startsWith('✓'))).toBe(true);
  });

  it('fails when the Secret already changed during the hold (a periodic refresh, or anything else)', () => {
    expect(forceSyncProof({ ...caused, changedDuringHold: true }).ok).toBe(false);
  });

  it('fails when a periodic refresh was due before the update arrived (a short refreshInterval)', () => {
    const p = forceSyncProof({ ...caused, intervalMs: 10_000 });
    expect(p.ok).toBe(false);
    expect(p.lines.join('\n')).toMatch(/✗ a periodic refresh was due at 2026-12-01T09:00:10\.000Z/);
  });

  it("fails when the update arrived before the annotation, or ESO's refreshTime did not move", () => {
    expect(forceSyncProof({ ...caused, arrivedAt: t0 + 60_000 }).ok).toBe(false);
    expect(forceSyncProof({ ...caused, refreshTimeAfter: t0 }).ok).toBe(false);
    const { arrivedAt: _a, ...never } = caused;
    expect(forceSyncProof(never).ok).toBe(false);
  });
});
