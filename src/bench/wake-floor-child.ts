/**
 * The floor under any Node harness that is woken once per event: connect to a local TCP port, read what comes (1 KiB
 * at a time, at the times the parent replays), do nothing with it, and report the CPU spent from the first read to
 * the end — no TLS, no HTTP, no JSON. Protocol (stdout, one JSON object a line): `{"ready":true}` once connected,
 * then `{"cpuSeconds":…,"reads":…}` when the parent closes the connection.
 */
import { connect } from 'node:net';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
let reads = 0;
let cpu0: NodeJS.CpuUsage | undefined;
(globalThis as { gc?: () => void }).gc?.();
const socket = connect(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
socket.on('data', () => {
  reads += 1;
  cpu0 ??= process.cpuUsage();
});
socket.on('end', () => {
  const c = cpu0 ? process.cpuUsage(cpu0) : { user: 0, system: 0 };
  process.stdout.write(`${JSON.stringify({ cpuSeconds: (c.user + c.system) / 1e6, reads })}\n`);
  process.exit(0);
});
socket.on('error', (e) => {
  process.stderr.write(`wake floor: ${e.message}\n`);
  process.exit(1);
});
