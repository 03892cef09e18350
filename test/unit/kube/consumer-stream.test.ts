import { describe, expect, it } from 'vitest';
import { parseConsumerLine } from '../../../src/kube/consumer-stream.ts';

describe("the consumer image's report lines", () => {
  it('parses a file reading with both of its timestamps', () => {
    const r = parseConsumerLine(
      '{"consumer":1,"event":"changed","source":"file:/etc/creds/password","sha256":"1a2b3c4d","readAt":"2026-12-01T10:00:01.250Z","writtenAt":"2026-12-01T10:00:01.200Z","seq":7}',
      5,
    );
    expect(r).toEqual({
      event: 'changed',
      source: 'file:/etc/creds/password',
      sha256: '1a2b3c4d',
      readAt: Date.parse('2026-12-01T10:00:01.250Z'),
      writtenAt: Date.parse('2026-12-01T10:00:01.200Z'),
      seq: 7,
      receivedAt: 5,
    });
  });
  it('keeps a missing value as null with its error', () => {
    expect(
      parseConsumerLine(
        '{"consumer":1,"event":"initial","source":"env:X","sha256":null,"readAt":"2026-12-01T10:00:00Z","error":"not set","seq":1}',
      ),
    ).toMatchObject({ sha256: null, error: 'not set' });
  });
  it.each([
    'hello',
    '',
    '{"consumer":2,"source":"x","readAt":"2026-12-01T10:00:00Z"}',
    '{"consumer":1,"source":"x"}',
    '{not json',
  ])('ignores %j', (line) => expect(parseConsumerLine(line)).toBeUndefined());
});
