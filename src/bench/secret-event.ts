/**
 * What `bench scale`'s watch harness needs of a Secret watch event — its type, name, resourceVersion and the
 * `data` it carries — read from the event's JSON text without parsing all of it (metadata's managedFields and
 * labels are most of an event's bytes, and JSON.parse of every event was the harness's largest cost after the
 * socket itself).
 *
 * It relies on how the API server writes JSON (Go's encoding/json: struct fields in declaration order, map keys
 * sorted, no spaces): an event is `{"type":"…","object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"…",
 * …,"resourceVersion":"…",…},"data":{…},"type":"…"}}`. The data object's text is then exactly what
 * `JSON.stringify(secret.data)` gives for the same Secret parsed in full, so the two can be compared. Whatever
 * does not look like that (another type, an escape in a name, no data) is parsed in full: never a wrong answer,
 * at worst the slow path.
 */

export interface SecretEvent {
  type: string;
  name: string;
  resourceVersion: string;
  /** `JSON.stringify` of the Secret's data ('null' when it has none). */
  data: string;
}

const HEAD = '{"type":"';
const NAME = '"metadata":{"name":"';
const RV = '"resourceVersion":"';
const DATA = '"data":{';
/** A data object of plain keys and base64 values, as the API server writes it. */
const DATA_TEXT = /^\{(?:"[^"\\]+":"[A-Za-z0-9+/=]*"(?:,"[^"\\]+":"[A-Za-z0-9+/=]*")*)?\}$/;

/** The fingerprint of a parsed Secret that `readSecretEvent` gives for its text. */
export function dataFingerprint(s: { data?: Record<string, string> } | undefined): string {
  return JSON.stringify(s?.data ?? null);
}

function fullParse(line: string): SecretEvent {
  const e = JSON.parse(line) as {
    type?: unknown;
    object?: { metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string> };
  };
  return {
    type: String(e.type),
    name: e.object?.metadata?.name ?? '',
    resourceVersion: e.object?.metadata?.resourceVersion ?? '',
    data: dataFingerprint(e.object),
  };
}

/** One quoted value with no escapes in it, starting at `from`; undefined otherwise. */
function plainString(line: string, from: number): string | undefined {
  const end = line.indexOf('"', from);
  if (end < 0) return undefined;
  const v = line.slice(from, end);
  return v.includes('\\') ? undefined : v;
}

/** Read one watch event line (throws, as JSON.parse does, on text that is not JSON). */
export function readSecretEvent(line: string): SecretEvent {
  if (!line.startsWith(HEAD) || !line.endsWith('}}')) return fullParse(line);
  const type = plainString(line, HEAD.length);
  if (type !== 'ADDED' && type !== 'MODIFIED') return fullParse(line);
  const n = line.indexOf(NAME);
  const name = n < 0 ? undefined : plainString(line, n + NAME.length);
  const r = line.indexOf(RV);
  const resourceVersion = r < 0 ? undefined : plainString(line, r + RV.length);
  // The Secret's own data comes after its metadata; managedFields name it "f:data", never "data".
  const d = line.lastIndexOf(DATA);
  const close = d < 0 ? -1 : line.indexOf('}', d);
  if (name === undefined || resourceVersion === undefined || close < 0 || !(r > n && d > r))
    return fullParse(line);
  const data = line.slice(d + DATA.length - 1, close + 1);
  // Base64 values only: anything else (an escape, a nested brace) takes the full parse.
  if (!DATA_TEXT.test(data)) return fullParse(line);
  return { type, name, resourceVersion, data };
}
