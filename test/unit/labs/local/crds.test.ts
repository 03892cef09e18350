import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests, notReadyYet, objectPath } from '../../../../src/labs/local/crds.ts';

const yaml = (name: string) =>
  `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\n---\n# empty\n`;

describe("ESO's CRD bundle", () => {
  it('is parsed once: its JSON copy beside it is read from then on, and rebuilt when the YAML is newer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vel-crds-'));
    const file = join(dir, 'crds.yaml');
    writeFileSync(file, yaml('a.example.io'));
    expect(loadManifests(file).map((o) => o.metadata.name)).toEqual(['a.example.io']);
    expect(JSON.parse(readFileSync(`${file}.json`, 'utf8'))).toHaveLength(1);
    // The copy is what is read: a changed copy (same age as the YAML or newer) wins.
    writeFileSync(
      `${file}.json`,
      JSON.stringify([
        { kind: 'CustomResourceDefinition', apiVersion: 'v1', metadata: { name: 'from-json' } },
      ]),
    );
    expect(loadManifests(file).map((o) => o.metadata.name)).toEqual(['from-json']);
    // A newer YAML (a rebuilt component) replaces the copy.
    writeFileSync(file, yaml('b.example.io'));
    const later = statSync(`${file}.json`).mtimeMs / 1000 + 5;
    utimesSync(file, later, later);
    expect(loadManifests(file).map((o) => o.metadata.name)).toEqual(['b.example.io']);
    // A broken copy is rebuilt, not trusted.
    writeFileSync(`${file}.json`, '[{"nope":');
    utimesSync(`${file}.json`, later + 5, later + 5);
    expect(loadManifests(file).map((o) => o.metadata.name)).toEqual(['b.example.io']);
  });

  it('REST paths for the kinds it holds', () => {
    expect(
      objectPath({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'x.io' },
      }),
    ).toBe('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.io');
    expect(
      objectPath({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'eso', namespace: 'es' } }),
    ).toBe('/api/v1/namespaces/es/serviceaccounts/eso');
  });
  it('retries what an API server says while it starts, not a wrong object', () => {
    expect(notReadyYet(503, '')).toBe(true);
    expect(notReadyYet(429, '')).toBe(true);
    expect(
      notReadyYet(403, 'namespaces "external-secrets" is forbidden: not yet ready to handle request'),
    ).toBe(true);
    expect(notReadyYet(403, 'User "x" cannot patch resource')).toBe(false);
    expect(notReadyYet(422, 'spec.versions: Invalid value')).toBe(false);
    expect(notReadyYet(404, '')).toBe(false);
  });
});
