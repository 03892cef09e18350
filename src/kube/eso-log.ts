/**
 * ESO's log is JSON lines (zap): `{"level":"error","ts":1795815012.56,"msg":"Reconciler error",
 * "ExternalSecret":{"name":"…","namespace":"…"},"error":"… Code: 403. Errors: … permission denied …",
 * "stacktrace":"…"}`. For evidence we keep the lines about one object since it was created, shortened to
 * `time level msg: error` on one line (no stack traces).
 */
export interface EsoLogLine {
  /** ms since epoch, when the line has a `ts`. */
  at?: number;
  level: string;
  msg: string;
  error?: string;
  /** `namespace/name` of the ExternalSecret or store the line is about. */
  object?: string;
  raw: string;
}

export function parseEsoLogLine(raw: string): EsoLogLine | undefined {
  const line = raw.trim();
  if (!line.startsWith('{')) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const ref = (o.ExternalSecret ?? o.SecretStore ?? o.ClusterSecretStore) as
    { name?: string; namespace?: string } | undefined;
  const ns = ref?.namespace ?? (typeof o.namespace === 'string' ? o.namespace : undefined);
  const name = ref?.name ?? (typeof o.name === 'string' ? o.name : undefined);
  return {
    ...(typeof o.ts === 'number' ? { at: Math.round(o.ts * 1000) } : {}),
    level: typeof o.level === 'string' ? o.level : 'info',
    msg: typeof o.msg === 'string' ? o.msg : '',
    ...(typeof o.error === 'string' ? { error: o.error } : {}),
    ...(name ? { object: ns ? `${ns}/${name}` : name } : {}),
    raw: line,
  };
}

/** `10:03:12.563 error Reconciler error my-app/my-app-secrets: <error on one line>` */
export function formatEsoLogLine(l: EsoLogLine, max = 300): string {
  const time = l.at === undefined ? '' : `${new Date(l.at).toISOString().slice(11, 23)} `;
  const text = `${time}${l.level} ${l.msg}${l.object ? ` ${l.object}` : ''}${l.error ? `: ${l.error}` : ''}`
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Lines about any of `objects` (`namespace/name`), not older than `sinceMs` when given. */
export function relevantEsoLines(tail: string, objects: readonly string[], sinceMs?: number): EsoLogLine[] {
  const wanted = new Set(objects);
  return tail
    .split('\n')
    .map(parseEsoLogLine)
    .filter(
      (l): l is EsoLogLine =>
        l !== undefined &&
        l.object !== undefined &&
        wanted.has(l.object) &&
        (sinceMs === undefined || l.at === undefined || l.at >= sinceMs),
    );
}

/** ESO's reconciles of the ExternalSecrets in one namespace, counted from its debug log over a time window. */
export interface EsoReconcileCounts {
  /** Reconciles that read the provider and wrote (or confirmed) the Secret: "reconciled secret". */
  synced: number;
  /** Reconciles that found nothing to refresh: "skipping refresh". */
  skipped: number;
  /** Status writes that lost a race with ESO's own cache and were requeued. */
  conflicts: number;
  /** Error lines ("Reconciler error" and the like). */
  errors: number;
  /** Distinct ExternalSecrets seen. */
  objects: number;
}

export function countEsoReconciles(
  log: string,
  namespace: string,
  fromMs: number,
  toMs: number,
): EsoReconcileCounts {
  const c: EsoReconcileCounts = { synced: 0, skipped: 0, conflicts: 0, errors: 0, objects: 0 };
  const seen = new Set<string>();
  for (const raw of log.split('\n')) {
    const l = parseEsoLogLine(raw);
    if (!l?.object?.startsWith(`${namespace}/`) || l.at === undefined || l.at < fromMs || l.at > toMs)
      continue;
    seen.add(l.object);
    if (l.level === 'error') c.errors++;
    else if (l.msg === 'reconciled secret') c.synced++;
    else if (l.msg === 'skipping refresh') c.skipped++;
    else if (l.msg.startsWith('conflict while updating status')) c.conflicts++;
  }
  c.objects = seen.size;
  return c;
}
