import { describe, expect, it } from 'vitest';
import { labCapabilities, unmetRequirement } from '../../../src/scenario/requirements.ts';

describe('requires:', () => {
  it('providers: any listed one', () => {
    expect(unmetRequirement(['kind', 'local'], 'local')).toBeUndefined();
    expect(unmetRequirement(['kind'], 'local')).toBe('requires kind; this lab is local');
  });
  it('node: the lab must have one, and a skip says why it has none', () => {
    expect(unmetRequirement(['node'], 'local', { node: true })).toBeUndefined();
    expect(
      unmetRequirement(
        ['node'],
        'local',
        labCapabilities({ noNode: 'no node: the node needs root (uid 1000)' }),
      ),
    ).toBe('requires a node; this local lab has none (the node needs root (uid 1000))');
    expect(unmetRequirement(['node'], 'existing', {})).toBe('requires a node; this existing lab has none');
  });
  it('nothing required, nothing unmet', () => {
    expect(unmetRequirement(undefined, 'local')).toBeUndefined();
  });
});
