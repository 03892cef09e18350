/**
 * "if you rotate it in Vault, the pod picks it up": rotate the password in Vault, watch the Secret keep the old
 * value (the tutorial's refreshInterval is 1h; ESO reports when it last refreshed, so when it will next), then force
 * a sync with an annotation — and prove the annotation caused the update, not a periodic refresh: the Secret held
 * the old value after the rotation, changed only after the annotation was written, ESO's refreshTime moved past the
 * annotation, and the next periodic refresh was not due yet.
 */
import {
  findCondition,
  formatCondition,
  readEsoObject,
  refreshIntervalMs,
} from '../kube/external-secrets.ts';
import { formatMasked } from '../report/redact.ts';
import { sleep } from '../time.ts';
import type { ActionBlock, TutorialContext, TutorialRuntime, TutorialStep } from './model.ts';
import { commandOutput, formatMeasured, names, pick, secretWatcher, shell, shellAction } from './actions.ts';

/** How long the walkthrough watches the Secret after the rotation, expecting no change. */
export const HOLD_MS = 8_000;

const S = {
  ack: 'rotation.ackAt',
  changedDuringHold: 'rotation.changedDuringHold',
  refreshBefore: 'rotation.refreshTimeBefore',
  interval: 'rotation.intervalMs',
  annotatedAt: 'rotation.annotatedAt',
} as const;

export interface ForceSyncEvidence {
  /** The Secret changed between the rotation and the annotation. */
  changedDuringHold: boolean;
  /** ESO's `status.refreshTime` before the annotation, and after the update (ms; second precision). */
  refreshTimeBefore?: number;
  refreshTimeAfter?: number;
  intervalMs: number;
  /** Just before the annotation was sent. */
  annotatedAt: number;
  /** Arrival of the watch event carrying the new value. */
  arrivedAt?: number;
}

/** Why the update can be credited to the annotation; `ok` is false when any link is missing. */
export function forceSyncProof(e: ForceSyncEvidence): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  let ok = true;
  const check = (cond: boolean, yes: string, no: string) => {
    lines.push(cond ? `✓ ${yes}` : `✗ ${no}`);
    ok &&= cond;
  };
  check(
    !e.changedDuringHold,
    'the Secret kept the old password after the rotation, until the annotation',
    'the Secret changed before the annotation: that update came from elsewhere (a periodic refresh?)',
  );
  check(
    e.arrivedAt !== undefined && e.arrivedAt >= e.annotatedAt,
    'the new password arrived after the annotation was written',
    'the new password did not arrive after the annotation',
  );
  const due = e.refreshTimeBefore === undefined ? undefined : e.refreshTimeBefore + e.intervalMs;
  check(
    due !== undefined && e.arrivedAt !== undefined && e.arrivedAt < due,
    `no periodic refresh was due: the next one was at ${due === undefined ? '?' : new Date(due).toISOString()} (refreshTime + ${formatMeasured(e.intervalMs)})`,
    `a periodic refresh was due at ${due === undefined ? '(unknown: no refreshTime)' : new Date(due).toISOString()}, before the arrival: the annotation cannot be credited`,
  );
  const annotatedSecond = Math.floor(e.annotatedAt / 1000) * 1000;
  check(
    e.refreshTimeAfter !== undefined &&
      e.refreshTimeAfter >= annotatedSecond &&
      e.refreshTimeAfter !== e.refreshTimeBefore,
    "ESO's refreshTime moved to the moment of the annotation",
    "ESO's refreshTime did not move past the annotation",
  );
  return { ok, lines };
}

async function refreshTime(
  rt: TutorialRuntime,
): Promise<{ at?: number; intervalMs: number; condition: string }> {
  const es = await readEsoObject(rt.kube, 'ExternalSecret', names.externalSecret, names.namespace);
  const raw = (es?.status as { refreshTime?: string } | undefined)?.refreshTime;
  return {
    ...(raw ? { at: Date.parse(raw) } : {}),
    intervalMs: refreshIntervalMs(es) ?? 3_600_000,
    condition: formatCondition(findCondition(es)),
  };
}

function rotateAction(ctx: TutorialContext): ActionBlock {
  const display = `vault kv patch secret/${names.kvPath} password=@${ctx.values.password1.label}`;
  return {
    kind: 'action',
    display: { lang: 'sh', text: display },
    async run(rt) {
      await secretWatcher(rt);
      const r = await rt.cli(shell(display));
      rt.state.set(S.ack, Date.now());
      return { output: commandOutput(r), ok: r.exitCode === 0 };
    },
  };
}

function holdAction(ctx: TutorialContext): ActionBlock {
  const pw = ctx.values.password1;
  return {
    kind: 'action',
    caption: `Watching the Secret (a Kubernetes watch) for ${HOLD_MS / 1000} s after the rotation:`,
    async run(rt) {
      const w = await secretWatcher(rt);
      const ack = (rt.state.get(S.ack) as number | undefined) ?? Date.now();
      const hit = await w.waitFor((e) => e.exists && e.data.password === pw.value, {
        timeoutMs: Math.max(0, ack + HOLD_MS - Date.now()),
        signal: rt.signal,
      });
      rt.state.set(S.changedDuringHold, hit !== undefined);
      const now = w.latest();
      return {
        ok: hit === undefined,
        output: hit
          ? `the Secret changed ${formatMeasured(hit.at - ack)} after the rotation — before any force-sync`
          : `Secret ${names.namespace}/${names.secret} after ${formatMeasured(Date.now() - ack)}: ${formatMasked(pick(now?.data ?? {}, ['username', 'password']))} — still the old password (Vault has sha256:${pw.hash})`,
        facts: { heldMs: Date.now() - ack, changedDuringHold: hit !== undefined },
      };
    },
  };
}

function refreshTimeAction(): ActionBlock {
  const display = `kubectl get externalsecret ${names.externalSecret} -n ${names.namespace} -o jsonpath='{.status.refreshTime}{"\\n"}'`;
  return shellAction(display, {
    judge: async (r, rt) => {
      const t = await refreshTime(rt);
      rt.state.set(S.refreshBefore, t.at);
      rt.state.set(S.interval, t.intervalMs);
      const due = t.at === undefined ? undefined : new Date(t.at + t.intervalMs).toISOString();
      return {
        ok: r.exitCode === 0 && due !== undefined,
        output: `${commandOutput(r)}\n→ ESO refreshed at that time; with refreshInterval "${names.tutorialRefreshInterval}" the next periodic refresh is at ${due ?? '(unknown)'}: until then the Secret keeps the old password`,
      };
    },
  });
}

function annotateAction(): ActionBlock {
  const display = `kubectl annotate externalsecret ${names.externalSecret} -n ${names.namespace} force-sync=$(date +%s) --overwrite`;
  return {
    kind: 'action',
    display: { lang: 'sh', text: display },
    async run(rt) {
      rt.state.set(S.annotatedAt, Date.now());
      const r = await rt.cli(shell(display));
      return { output: commandOutput(r), ok: r.exitCode === 0 };
    },
  };
}

function followAction(ctx: TutorialContext): ActionBlock {
  const pw = ctx.values.password1;
  return {
    kind: 'action',
    caption: 'Watching the Secret until it holds the new password:',
    async run(rt) {
      const w = await secretWatcher(rt);
      const annotatedAt = (rt.state.get(S.annotatedAt) as number | undefined) ?? Date.now();
      const hit = await w.waitFor((e) => e.exists && e.data.password === pw.value, {
        timeoutMs: Math.max(0, annotatedAt + 30_000 - Date.now()),
        signal: rt.signal,
      });
      // ESO patches status.refreshTime right after it writes the Secret: give it a moment to appear.
      const before = rt.state.get(S.refreshBefore) as number | undefined;
      let after = await refreshTime(rt);
      for (let i = 0; i < 20 && hit && after.at === before; i++) {
        await sleep(250, rt.signal);
        after = await refreshTime(rt);
      }
      const proof = forceSyncProof({
        changedDuringHold: rt.state.get(S.changedDuringHold) === true,
        ...(before === undefined ? {} : { refreshTimeBefore: before }),
        ...(after.at === undefined ? {} : { refreshTimeAfter: after.at }),
        intervalMs: (rt.state.get(S.interval) as number | undefined) ?? after.intervalMs,
        annotatedAt,
        ...(hit ? { arrivedAt: hit.at } : {}),
      });
      const head = hit
        ? `Secret ${names.namespace}/${names.secret}: ${formatMasked(pick(hit.data, ['username', 'password']))} — ${formatMeasured(hit.at - annotatedAt)} after the annotation`
        : `the Secret did not follow within 30 s of the annotation; ExternalSecret: ${after.condition}`;
      return {
        ok: hit !== undefined && proof.ok,
        output: [head, ...proof.lines].join('\n'),
        facts: {
          forceSyncLatencyMs: hit ? hit.at - annotatedAt : -1,
          causedByAnnotation: proof.ok,
        },
      };
    },
  };
}

export function rotationSteps(ctx: TutorialContext): TutorialStep[] {
  return [
    {
      id: 'rotate',
      title: 'Rotate in Vault; force the sync',
      blocks: [
        {
          kind: 'text',
          text: `"ESO automatically refreshes the secret every hour, so if you rotate it in Vault, the pod picks it up." Rotate the password — a generated one, in a 0600 file (\`${ctx.values.password1.label}\`, sha256:${ctx.values.password1.hash}); \`patch\` keeps the other keys:`,
        },
        rotateAction(ctx),
        holdAction(ctx),
        { kind: 'text', text: 'When did ESO last read Vault for it?' },
        refreshTimeAction(),
        {
          kind: 'note',
          tone: 'pitfall',
          text: `"Every hour" means up to an hour: there is no push from Vault; ESO re-reads on its schedule (\`refreshInterval: "${names.tutorialRefreshInterval}"\`). When you cannot wait, force a sync — any annotation change makes ESO reconcile now:`,
        },
        annotateAction(),
        followAction(ctx),
        shellAction(`vault kv get secret/${names.kvPath}`),
        {
          kind: 'note',
          tone: 'lab',
          text: '"The pod picks it up" holds for a Secret mounted as a volume, after the kubelet rewrites the files; an environment variable is read once, when the container starts, and keeps the old value until the pod is recreated. `vault-eso-lab scenario consumers` shows both on pods (the local lab\'s node, or kind).',
        },
      ],
    },
  ];
}
