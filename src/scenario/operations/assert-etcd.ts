/**
 * `assertEtcd`: how a Secret is stored at rest, read from etcd itself — not through the API server. The value of
 * one data key (as the API serves it) is looked for in the raw etcd bytes: in plain form it is there as it is
 * (the API server stores Secrets as protobuf, values unencoded); with encryption at rest the entry is an envelope
 * (`k8s:enc:aescbc:v1:key1:…`) and the value is not found. Only hashes and byte offsets are reported.
 */
import { z } from 'zod';
import { AssertionFailedError, LabError } from '../../errors.ts';
import {
  atRestMismatch,
  describeAtRest,
  describeSeen,
  readEtcdKey,
  secretKey,
  type AtRestExpectation,
} from '../../kube/etcd-reader.ts';
import { decodeSecretData } from '../../kube/secret-watcher.ts';
import { localEtcdEndpoint, secretsEncryption } from '../../labs/local/etcd-access.ts';
import { shortHash } from '../../report/redact.ts';
import { k8sNameSchema, namespaceSchema, type Handler } from './common.ts';

const schema = z
  .object({
    namespace: namespaceSchema,
    name: k8sNameSchema.describe('Secret name'),
    key: z.string().min(1).describe('The data key whose value is looked for in the stored bytes'),
    expect: z
      .enum(['lab', 'plain', 'encrypted'])
      .optional()
      .describe(
        'lab (default): what the lab is configured for (`--encrypt-secrets` or not); plain: the value is in etcd as it is; encrypted: an encryption envelope, the value not in it',
      ),
  })
  .strict()
  .describe('Read a Secret straight from etcd and check how its value is stored');
type Args = z.infer<typeof schema>;

export const assertEtcdOperation: Handler<Args> = {
  name: 'assertEtcd',
  description:
    'Read a Secret directly from etcd (not the API) and check its value is stored plain or encrypted.',
  timeoutKind: 'assert',
  schema,
  summarize: (a) => `etcd: how Secret ${a.namespace}/${a.name} key ${a.key} is stored (${a.expect ?? 'lab'})`,
  async run(ctx, a) {
    const lab = ctx.runtime.lab;
    const encryption = secretsEncryption(lab);
    const expected: AtRestExpectation =
      a.expect === undefined || a.expect === 'lab' ? (encryption ? 'encrypted' : 'plain') : a.expect;
    const s = await ctx.runtime.kube.core.readNamespacedSecret({ name: a.name, namespace: a.namespace });
    const value = decodeSecretData(s)[a.key];
    if (value === undefined)
      throw new AssertionFailedError(`Secret ${a.namespace}/${a.name} has no key ${a.key}`);
    if (value.length < 8)
      throw new LabError(
        'E_ASSERTION',
        `key ${a.key} holds ${value.length} bytes: too short to look for reliably`,
      );
    const key = secretKey(a.namespace, a.name);
    const kv = await readEtcdKey(localEtcdEndpoint(lab), key, { signal: ctx.signal });
    if (!kv) throw new AssertionFailedError(`etcd has no key ${key}`);
    const seen = describeAtRest(kv.value, value);
    const hash = shortHash(value);
    const facts = {
      etcdKey: key,
      labEncryption: encryption ?? 'none',
      storedAs: seen.format === 'encrypted' ? (seen.provider ?? 'encrypted') : 'plain',
      valueInEtcd: seen.offset !== undefined,
      valueSha256: hash,
    };
    const wrong = atRestMismatch(expected, seen);
    if (wrong)
      throw new AssertionFailedError(`etcd ${key}: ${wrong}`, {
        evidence: [describeSeen(seen, hash), `lab encryption at rest: ${encryption ?? 'none'}`],
      });
    return { facts };
  },
};
