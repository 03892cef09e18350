/**
 * The tutorial's opening claims, shown on the Secret ESO just made: a Secret is base64, not encrypted (anyone who
 * may `get` it decodes it); by default etcd holds the value as it is (read from etcd itself, not through the API
 * server), and with encryption at rest it does not. Then the Sealed Secrets paragraph's threat turned on ESO: with
 * my-app-sa's token, what can be read from Vault (the one path) and what cannot (another app's: 403).
 */
import { atRestMismatch, describeAtRest, describeSeen, readEtcdKey, secretKey } from '../kube/etcd-reader.ts';
import { decodeSecretData } from '../kube/secret-watcher.ts';
import { localEtcdEndpoint } from '../labs/local/etcd-access.ts';
import { secrets, shortHash } from '../report/redact.ts';
import type { Block, TutorialContext, TutorialStep } from './model.ts';
import { commandOutput, files, names, shellAction } from './actions.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const asSa = `VAULT_TOKEN="$(cat ${files.appToken})"`;

function etcdAction(ctx: TutorialContext): Block {
  const key = secretKey(names.namespace, names.secret);
  return {
    kind: 'action',
    caption: `Read straight from etcd (its JSON gateway, \`POST /v3/kv/range\` for key \`${key}\`), not through the API server, looking for the password's bytes:`,
    async run(rt) {
      const s = await rt.kube.core.readNamespacedSecret({ name: names.secret, namespace: names.namespace });
      const password = decodeSecretData(s).password ?? '';
      const kv = await readEtcdKey(localEtcdEndpoint(ctx.lab), key, { signal: rt.signal });
      if (!kv) return { ok: false, output: `etcd has no key ${key}` };
      const seen = describeAtRest(kv.value, password);
      const expected = ctx.secretsEncryption ? 'encrypted' : 'plain';
      const wrong = atRestMismatch(expected, seen);
      return {
        ok: wrong === undefined,
        output: [
          `etcd ${key}: ${kv.value.length} bytes (mod revision ${kv.modRevision})`,
          describeSeen(seen, shortHash(password)),
          wrong
            ? `→ ${wrong}`
            : expected === 'plain'
              ? '→ in plain form: anyone who can read etcd, its data directory or a backup of it reads the password'
              : `→ encrypted at rest (${seen.provider}); the API server decrypts it for those allowed to get the Secret`,
        ].join('\n'),
        facts: {
          etcdStoredAs: seen.format === 'encrypted' ? (seen.provider ?? 'encrypted') : 'plain',
          valueInEtcd: seen.offset !== undefined,
        },
      };
    },
  };
}

export function claimsSteps(ctx: TutorialContext): TutorialStep[] {
  const local = ctx.lab.provider === 'local';
  const jsonpath = `kubectl get secret ${names.secret} -n ${names.namespace} -o jsonpath='{.data.password}'`;
  const other = ctx.values.otherApp;
  return [
    {
      id: 'claims',
      title: "Check the tutorial's opening claims",
      blocks: [
        {
          kind: 'text',
          text: `"When you make a secret in Kubernetes it's not encrypted. It's encoded in base64." The Secret ESO just made:`,
        },
        shellAction(`${jsonpath}; echo`),
        shellAction(`${jsonpath} | base64 -d; echo`, {
          judge: (r) => {
            const same = r.stdout.trim() === names.placeholder;
            return {
              ok: r.exitCode === 0 && same,
              output: `${commandOutput(r)}\n${same ? '→ the password written in step 1: base64 is an encoding, and anyone allowed to get the Secret decodes it' : '→ NOT the password written in step 1'}`,
            };
          },
        }),
        ...(local
          ? ([
              {
                kind: 'text',
                text: 'At rest, the API server keeps the Secret in etcd.',
              },
              etcdAction(ctx),
              {
                kind: 'note',
                tone: 'lab',
                text: ctx.secretsEncryption
                  ? "This lab was started with `--encrypt-secrets`: the API server encrypts Secrets (an EncryptionConfiguration with a random aescbc key, in the lab's run directory) before writing them. Without that flag — the default, on kind too unless configured — etcd holds the password as it is; `scenario secrets-at-rest` checks both."
                  : 'That is the default, on kind too unless its API server is configured otherwise. Started with `--encrypt-secrets` (`vault-eso-lab tutorial --encrypt-secrets`), the lab gives its API server an EncryptionConfiguration with a random aescbc key: the entry is then a `k8s:enc:aescbc:v1:key1:` envelope and the password is not in it. `scenario secrets-at-rest` checks both.',
              },
            ] satisfies Block[])
          : ([
              {
                kind: 'note',
                tone: 'lab',
                text: "etcd runs inside this lab's control-plane container, out of this tool's reach: on the local lab the walkthrough reads it directly (`scenario secrets-at-rest`).",
              },
            ] satisfies Block[])),
      ],
    },
    {
      id: 'stolen-token',
      title: 'What a stolen ServiceAccount token reads',
      blocks: [
        {
          kind: 'text',
          text: `The tutorial's case against Sealed Secrets: "the pod has a ServiceAccount and the hacker is able to pull the decryption key, and now every sealed secret in the cluster is compromised." The same attacker against ESO holds ${names.serviceAccount}'s token. First another application's secret, which ${names.serviceAccount} must not read (a generated value, in a 0600 file):`,
        },
        shellAction(`vault kv put secret/${names.otherKvPath} password=@${other.label}`, {
          undo: `vault kv metadata delete secret/${names.otherKvPath}`,
        }),
        {
          kind: 'text',
          text: `A token for ${names.serviceAccount} from the TokenRequest API, as a pod would hold it, and a Vault login with it:`,
        },
        {
          ...shellAction(
            `(umask 077; kubectl create token ${names.serviceAccount} -n ${names.namespace} | tr -d "\\n" > ${files.saToken})\n(umask 077; vault write -field=token auth/kubernetes/login role=${names.role} jwt=@${files.saToken} > ${files.appToken})`,
            {
              judge: (r, rt) => {
                // Both tokens are credentials: registered for redaction the moment they exist, never printed.
                for (const f of [files.saToken, files.appToken]) {
                  try {
                    secrets.add(readFileSync(join(rt.ctx.workDir, f), 'utf8').trim());
                  } catch {
                    /* not written */
                  }
                }
                return { output: commandOutput(r), ok: r.exitCode === 0 };
              },
            },
          ),
        },
        { kind: 'text', text: 'What that Vault token may do, path by path:' },
        shellAction(
          `${asSa} vault token capabilities secret/data/${names.kvPath}\n${asSa} vault token capabilities secret/data/${names.otherKvPath}`,
          {
            judge: (r) => {
              const lines = r.stdout.trim().split('\n');
              const ok = r.exitCode === 0 && lines[0] === 'read' && lines[1] === 'deny';
              return { ok, output: commandOutput(r) + (ok ? '' : '\n→ expected "read" then "deny"') };
            },
          },
        ),
        shellAction(`${asSa} vault kv get -field=password secret/${names.kvPath}`),
        shellAction(`${asSa} vault kv get secret/${names.otherKvPath}`, { fails: /permission denied|403/ }),
        shellAction(`${asSa} vault kv put secret/${names.kvPath} password=stolen`, {
          fails: /permission denied|403/,
        }),
        {
          kind: 'note',
          tone: 'lab',
          text: `So a stolen ServiceAccount token reads exactly what its role's policies name — here one path, read-only — and only for the token's TTL (\`ttl="1h"\` in the role). Not every secret in the cluster, as with a stolen sealing key; but that one password is exposed, which is why the next step rotates it.`,
        },
      ],
    },
  ];
}
