/**
 * What a Node harness woken once per event costs at the least, on this machine, at the watch's own event times:
 * a child (wake-floor-child.ts) reads 1 KiB over plain TCP on 127.0.0.1 each time the watch received an event, and
 * does nothing else. `bench scale` sets the watch's CPU against it, so a watch share of ESO's CPU that no Node
 * harness could get under is told apart from one the harness could still cut.
 *
 * The listener takes one connection (the child's), sends only filler bytes, and is closed when the replay ends.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { LabError } from '../errors.ts';
import { runCommand } from '../process/command.ts';
import { systemClock } from '../time.ts';
import { childCommand } from './child-command.ts';

export interface WakeFloor {
  cpuSeconds: number;
  reads: number;
}

const FILLER = Buffer.alloc(1024, 0x20);

/** Replay `arrivals` (ms timestamps, any order) as 1 KiB writes to a fresh child, and return its CPU. */
export async function measureWakeFloor(arrivals: readonly number[], signal: AbortSignal): Promise<WakeFloor> {
  const times = [...arrivals].sort((a, b) => a - b);
  let client: Socket | undefined;
  let connected: () => void = () => {};
  const gotClient = new Promise<void>((resolve) => (connected = resolve));
  const server = createServer((s) => {
    if (client) return void s.destroy();
    client = s;
    server.close();
    connected();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const { file, pre } = childCommand('wake-floor-child');
  let last = '';
  const child = runCommand(process.execPath, [...pre, file, '--port', String(port)], {
    signal,
    reject: false,
    timeoutMs: 15 * 60_000,
    onLine: (line, stream) => {
      if (stream === 'stdout' && !line.includes('"ready"')) last = line;
    },
  });
  try {
    await Promise.race([gotClient, child.then(() => undefined)]);
    if (!client) throw new LabError('E_BENCH', 'bench scale: the wake-floor child did not connect');
    const t0 = performance.now();
    for (let i = 0; i < times.length; i++) {
      const due = t0 + (times[i]! - times[0]!) - performance.now();
      if (due > 0) await systemClock.sleep(due, signal);
      client.write(FILLER);
    }
    client.end();
    const r = await child;
    if (r.exitCode !== 0 || !last)
      throw new LabError('E_BENCH', `bench scale: the wake-floor child exited ${r.exitCode}`, {
        hint: r.stderr.slice(-1500),
      });
    return JSON.parse(last) as WakeFloor;
  } finally {
    client?.destroy();
    server.close();
  }
}
