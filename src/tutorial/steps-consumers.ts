/**
 * The tutorial's last sentence — "the pod picks it up. No redeploys required" — on pods, where the lab has a node:
 * one pod reads the password from an environment variable, one from the Secret mounted as a volume (the lab's
 * consumer image prints one JSON line per reading, with a short hash of what it read). After the rotation the volume
 * pod reports the new hash once the kubelet has rewritten the file; the env pod keeps the old one until it is
 * restarted. Without a node the walkthrough says so and points to `scenario consumers`.
 */
import { shortHash } from '../secrets/secret-registry.ts';
import { waitFor } from '../time.ts';
import type { ActionBlock, Block, TutorialContext, TutorialRuntime } from './model.ts';
import { commandOutput, files, formatMeasured, names, shell, shellAction } from './actions.ts';

export const CONSUMER_IMAGE = 'localhost/vault-eso-lab/consumer:v1';
export const ENV_POD = 'consumer-env';
export const FILE_POD = 'consumer-file';

export function consumersYaml(): string {
  const pod = (name: string, args: string[], extra: string[]) =>
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      `  name: ${name}`,
      `  namespace: ${names.namespace}`,
      'spec:',
      '  terminationGracePeriodSeconds: 1',
      '  containers:',
      '    - name: app',
      `      image: ${CONSUMER_IMAGE}`,
      `      args: [${args.join(', ')}]`,
      ...extra,
    ].join('\n');
  return [
    pod(
      ENV_POD,
      ['--env', 'PASSWORD'],
      [
        '      env:',
        '        - name: PASSWORD',
        '          valueFrom:',
        `            secretKeyRef: { name: ${names.secret}, key: password }`,
      ],
    ),
    pod(
      FILE_POD,
      ['--file', '/etc/app/password'],
      [
        '      volumeMounts:',
        '        - { name: creds, mountPath: /etc/app, readOnly: true }',
        '  volumes:',
        '    - name: creds',
        `      secret: { secretName: ${names.secret} }`,
      ],
    ),
  ].join('\n---\n');
}

interface Reading {
  event: string;
  source: string;
  sha256: string | null;
  readAt: string;
  writtenAt?: string;
}

async function readings(rt: TutorialRuntime, pod: string): Promise<Reading[]> {
  const r = await rt.cli(shell(`kubectl logs ${pod} -n ${names.namespace}`), { timeoutMs: 20_000 });
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Reading];
      } catch {
        return [];
      }
    });
}

const line = (r: Reading | undefined) =>
  r ? `${r.source}: ${r.event}, sha256:${r.sha256 ?? '-'} (read ${r.readAt})` : '(no reading)';

/** Blocks of the step that starts the two pods (before the rotation). */
export function consumerStartBlocks(ctx: TutorialContext): Block[] {
  if (!ctx.node)
    return [
      {
        kind: 'note',
        tone: 'lab',
        text: '"The pod picks it up" needs pods, and this lab has no node (no kubelet): `vault-eso-lab scenario consumers` shows env-var and volume consumers where one runs.',
      },
    ];
  return [
    {
      kind: 'text',
      text: `"The pod picks it up" needs pods: this lab runs a node (${ctx.node.name}: kubelet and containerd). Two pods read the password the two usual ways — one from an environment variable, one from the Secret mounted as a volume — and print one JSON line per reading with a short hash of what they read (the lab's consumer image):`,
    },
    { kind: 'code', lang: 'yaml', caption: files.consumers, text: consumersYaml() },
    shellAction(`kubectl apply -f ${files.consumers}`, {
      undo: `kubectl delete -f ${files.consumers} --wait=true --timeout=60s`,
    }),
    shellAction(
      `kubectl wait --for=condition=Ready pod/${ENV_POD} pod/${FILE_POD} -n ${names.namespace} --timeout=120s`,
      { timeoutMs: 150_000 },
    ),
    shellAction(
      `kubectl logs -f ${ENV_POD} -n ${names.namespace} | head -n 1\nkubectl logs -f ${FILE_POD} -n ${names.namespace} | head -n 1`,
      {
        judge: (r) => {
          const want = shortHash(names.placeholder);
          const ok = r.exitCode === 0 && r.stdout.split(want).length === 3;
          return {
            ok,
            output: `${commandOutput(r)}\n${ok ? `→ both read sha256:${want}, the password in the Secret` : '→ expected both pods to report the current password'}`,
          };
        },
      },
    ),
  ];
}

/** After the Secret holds the new password: the volume pod follows after the kubelet's delay, the env pod does not. */
export function consumerFollowBlocks(ctx: TutorialContext): Block[] {
  if (!ctx.node) return [];
  const want = ctx.values.password1.hash;
  const old = shortHash(names.placeholder);
  const follow: ActionBlock = {
    kind: 'action',
    caption: `Following both pods' output (the Kubernetes log API) until the volume pod reads sha256:${want}:`,
    async run(rt) {
      const since = (rt.state.get('rotation.secretUpdatedAt') as number | undefined) ?? Date.now();
      const changed = await waitFor(
        async () => {
          const got = (await readings(rt, FILE_POD)).find((x) => x.sha256 === want);
          return got ? { done: true, value: got } : { done: false, seen: 'still the old hash' };
        },
        {
          what: `${FILE_POD} to read the new password`,
          timeoutMs: 150_000,
          intervalMs: 500,
          signal: rt.signal,
        },
      ).catch(() => undefined);
      const env = (await readings(rt, ENV_POD)).at(-1);
      const envKept = env?.sha256 === old;
      const delay = changed ? Date.parse(changed.readAt) - since : undefined;
      return {
        ok: changed !== undefined && envKept,
        output: [
          `${FILE_POD}  ${line(changed)}`,
          `${ENV_POD}   ${line(env)}`,
          changed
            ? `→ the volume pod read the new password ${formatMeasured(delay ?? 0)} after the Secret changed (the kubelet rewrites mounted Secrets on its own schedule); the env pod still has the old one: an environment variable is set once, when the container starts`
            : `→ the volume pod did not read the new password within 150 s`,
        ].join('\n'),
        facts: { volumePodDelayMs: delay ?? -1, envPodKeptOld: envKept },
      };
    },
  };
  return [
    follow,
    {
      kind: 'text',
      text: '"No redeploys required" holds for the volume only. The env pod sees the new value when it is recreated:',
    },
    shellAction(
      `kubectl delete pod ${ENV_POD} -n ${names.namespace} --wait=true\nkubectl apply -f ${files.consumers}\nkubectl wait --for=condition=Ready pod/${ENV_POD} -n ${names.namespace} --timeout=120s\nkubectl logs -f ${ENV_POD} -n ${names.namespace} | head -n 1`,
      {
        timeoutMs: 200_000,
        judge: (r) => {
          const ok =
            r.exitCode === 0 && r.stdout.trim().split('\n').at(-1)?.includes(`"sha256":"${want}"`) === true;
          return {
            ok,
            output: `${commandOutput(r)}\n${ok ? `→ the recreated env pod reads sha256:${want}` : '→ expected the recreated pod to read the new password'}`,
          };
        },
      },
    ),
  ];
}
