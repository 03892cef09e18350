import { describe, expect, it } from 'vitest';
import { secrets } from '../../../../src/report/redact.ts';
import {
  goJson,
  propertyValue,
  resolveVaultData,
  vaultValueSchema,
} from '../../../../src/scenario/operations/values.ts';

describe('JSON values in Vault (ESO nested properties)', () => {
  it('{ json } is a value of its own, next to literals and { random }', () => {
    expect(vaultValueSchema.parse({ json: { host: 'h' } })).toEqual({ json: { host: 'h' } });
    expect(vaultValueSchema.safeParse({ json: { host: 'h' }, extra: 1 }).success).toBe(false);
  });

  it('Vault gets the object; the model holds what ESO copies into a Secret (Go json.Marshal: sorted keys)', () => {
    const { write, model } = resolveVaultData({
      username: 'u',
      password: { random: true },
      db: { json: { port: 5432, host: 'db.internal' } },
    });
    expect(write.db).toEqual({ port: 5432, host: 'db.internal' });
    expect(model.db).toBe('{"host":"db.internal","port":5432}');
    expect(typeof write.password).toBe('string');
    expect(secrets.has(model.password as string)).toBe(true);
  });

  it('a property path into a JSON value, as ESO resolves it', () => {
    const model = { db: goJson({ host: 'h', port: 5432, tls: { ca: 'x' } }), plain: 'p' };
    expect(propertyValue(model, 'plain')).toBe('p');
    expect(propertyValue(model, 'db.host')).toBe('h');
    expect(propertyValue(model, 'db.port')).toBe('5432');
    expect(propertyValue(model, 'db.tls')).toBe('{"ca":"x"}');
    expect(propertyValue(model, 'db.nope')).toBeUndefined();
    expect(propertyValue(model, 'plain.x')).toBeUndefined();
  });
});
