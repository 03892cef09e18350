import { describe, expect, it } from 'vitest';
import { whyLate } from '../../../src/bench/scale.ts';

describe('bench scale: why rotations came late', () => {
  it("names ESO's throughput when it is below N per refresh interval", () => {
    // Measured on the local lab (2026-12-01): 500 ExternalSecrets, 593 syncs in 26.8 s.
    expect(whyLate(500, 593, 26.8, 243, 500)).toMatch(
      /^257 of 500 came after the window: ESO synced 22\.1 ExternalSecrets\/s \(593 in 26\.8 s, --concurrent=4\), below the 50\/s/,
    );
  });
  it('says the figures do not explain it when ESO kept up', () => {
    expect(whyLate(50, 60, 10, 49, 50)).toMatch(/does not explain it/);
  });
});

describe('bench scale: missed rotations', () => {
  it('counts the ones never seen apart from the late ones (N=1000, measured 2026-12-01)', () => {
    expect(whyLate(1000, 421, 45.1, 82, 332)).toMatch(
      /^250 of 1000 came after the window and 668 not before the observation ended: ESO synced 9\.3 ExternalSecrets\/s/,
    );
  });
});
