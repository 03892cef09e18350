/** Free loopback ports: bind 127.0.0.1:0, read the port the kernel gave, release it. */
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Distinct free ports (the kernel could hand the same one out twice in a row). */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** True when something accepts connections on 127.0.0.1:port. */
export async function isListening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Ports held open until the component that uses them starts: `reservePorts()` binds each one and keeps it bound, so
 * nothing else on the machine can take it between the choice and the component's own bind; `release(port)` frees
 * one right before its component is launched.
 */
export class PortReservation {
  private constructor(private readonly held: Map<number, import('node:net').Server>) {}

  static async reserve(n: number): Promise<PortReservation> {
    const held = new Map<number, import('node:net').Server>();
    while (held.size < n) {
      const srv = createServer();
      srv.unref();
      const port = await new Promise<number>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
          const a = srv.address();
          resolve(typeof a === 'object' && a ? a.port : 0);
        });
      });
      if (port && !held.has(port)) held.set(port, srv);
      else srv.close();
    }
    return new PortReservation(held);
  }

  get ports(): number[] {
    return [...this.held.keys()];
  }

  /** Free these ports for their component (it binds them a moment later). */
  async release(...ports: number[]): Promise<void> {
    await Promise.all(
      ports.map(
        (p) =>
          new Promise<void>((resolve) => {
            const srv = this.held.get(p);
            this.held.delete(p);
            if (!srv) resolve();
            else srv.close(() => resolve());
          }),
      ),
    );
  }

  async releaseAll(): Promise<void> {
    await this.release(...this.ports);
  }
}
