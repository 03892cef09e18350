import { describe, expect, it } from 'vitest';
import { esoReadPath, lookupProperty } from '../../../src/scenario/eso-read-path.ts';

describe('where ESO v0.20.4 reads a remoteRef key (its buildPath)', () => {
  it('v2 with a path: <path>/data/<key>, a leading <path>/ and data/ cut off', () => {
    expect(esoReadPath('my-app/config', { mount: 'secret', version: 'v2' }).apiPath).toBe(
      'secret/data/my-app/config',
    );
    expect(esoReadPath('secret/my-app/config', { mount: 'secret', version: 'v2' }).apiPath).toBe(
      'secret/data/my-app/config',
    );
    expect(esoReadPath('secret/data/my-app/config', { mount: 'secret' }).apiPath).toBe(
      'secret/data/my-app/config',
    );
  });

  it('v1 with a path: <path>/<key>', () => {
    expect(esoReadPath('my-app/config', { mount: 'kv1', version: 'v1' })).toEqual({
      mount: 'kv1',
      version: 1,
      path: 'my-app/config',
      apiPath: 'kv1/my-app/config',
    });
  });

  it("without a path, the key's first segment is the mount", () => {
    expect(esoReadPath('secret/my-app/config', { version: 'v2' }).apiPath).toBe('secret/data/my-app/config');
    expect(esoReadPath('kv1/my-app/config', { version: 'v1' }).apiPath).toBe('kv1/my-app/config');
  });
});

describe('lookupProperty', () => {
  const data = { username: 'u', db: { host: 'h', port: 5432 }, 'a.b': 'dotted' };
  it('a key, a dotted key, a nested path', () => {
    expect(lookupProperty(data, 'username')).toEqual({ found: true, value: 'u' });
    expect(lookupProperty(data, 'a.b')).toEqual({ found: true, value: 'dotted' });
    expect(lookupProperty(data, 'db.host')).toEqual({ found: true, value: 'h' });
  });
  it('where the walk stopped, with the keys there (names only)', () => {
    expect(lookupProperty(data, 'db.hots')).toEqual({ found: false, at: 'db', keys: ['host', 'port'] });
    expect(lookupProperty(data, 'nope')).toEqual({ found: false, at: '', keys: ['username', 'db', 'a.b'] });
  });
});
