/** Prints lab lifecycle events (builds, component starts) as progress lines on stderr. One formatter per event kind. */
import { formatMs } from '../errors.ts';
import type { Output } from '../terminal/output.ts';
import { paint } from '../terminal/output.ts';
import type { LabEvent } from './events.ts';
import { secrets } from '../secrets/secret-registry.ts';

export function formatLabEvent(e: LabEvent): string | undefined {
  switch (e.kind) {
    case 'lab.component.building':
      return `building ${e.component}: ${e.step} (${formatMs(e.elapsedMs)})`;
    case 'lab.component.built':
      return `built ${e.component} in ${formatMs(e.durationMs)}`;
    case 'lab.component.starting':
      return undefined;
    case 'lab.component.ready':
      return `${e.component} ready in ${formatMs(e.durationMs)}${e.pid ? ` (pid ${e.pid}${e.port ? `, 127.0.0.1:${e.port}` : ''})` : ''}`;
    case 'lab.component.stopped':
      return `stopped ${e.component}`;
    case 'lab.ready':
      return `lab '${e.labId}' (${e.provider}) ready in ${formatMs(e.durationMs)}`;
    case 'lab.stopped':
      return `lab '${e.labId}' stopped`;
    case 'lab.info':
      return e.message;
  }
}

/**
 * Lab events as progress lines on stderr. On a terminal, a long build's periodic "building …" updates rewrite one
 * line instead of scrolling; elsewhere (CI, pipes) each is a plain line.
 */
export function labProgress(out: Output): (e: LabEvent) => void {
  let open = false;
  return (e) => {
    const line = formatLabEvent(e);
    if (!line) return;
    const text = secrets.redact(`${paint(out, 'dim', '·')} ${line}`);
    if (out.interactive && e.kind === 'lab.component.building') {
      out.stderr.write(`\r\u001b[2K${text}`);
      open = true;
      return;
    }
    if (open) out.stderr.write('\r\u001b[2K');
    open = false;
    out.info(text);
  };
}
