// A TCP forwarder between the nodes and PostgreSQL that a fault test controls: `reset()` cuts
// every connection with an RST and refuses new ones, `blackhole()` lets nothing through (the
// connections stay open, as when packets are silently dropped), `heal()` lets new connections
// through again while the connections caught in a blackhole stay dead, as a real partition or
// fail-over leaves them: the node only learns of it from its own timeouts. The server side of a
// blackholed connection is closed, or kept open and silent until the server's own timeouts end it.
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export class Forwarder {
  readonly #server: net.Server;
  readonly #target: { port: number; host: string };
  /** Connections passing data. */
  readonly #live = new Set<Pair>();
  /** Connections caught in a blackhole: open, silent, never healed. */
  readonly #dead = new Set<net.Socket>();
  #mode: 'pass' | 'reset' | 'blackhole' = 'pass';
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.#target = { port: targetPort, host: targetHost };
    this.#server = net.createServer((client) => this.#accept(client));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  get mode(): string {
    return this.#mode;
  }

  /** Local ports of the live upstream connections: `client_port` of their PostgreSQL sessions. */
  upstreamPorts(): number[] {
    const ports: number[] = [];
    for (const { upstream } of this.#live) if (upstream?.localPort !== undefined) ports.push(upstream.localPort);
    return ports;
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    client.on('error', () => client.destroy());
    if (this.#mode === 'reset') return void client.resetAndDestroy();
    if (this.#mode === 'blackhole') return this.#bury(client);
    const pair: Pair = { client, upstream: null };
    const upstream = net.connect(this.#target.port, this.#target.host);
    pair.upstream = upstream;
    this.#live.add(pair);
    const drop = (): void => {
      if (!this.#live.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Keeps a connection's end open and reads nothing more from it. */
  #bury(socket: net.Socket): void {
    socket.pause();
    socket.on('error', () => socket.destroy());
    this.#dead.add(socket);
    socket.once('close', () => this.#dead.delete(socket));
  }

  /** Every connection ends with an RST; new ones are refused the same way until heal(). */
  reset(): void {
    this.#mode = 'reset';
    for (const pair of [...this.#live]) {
      this.#live.delete(pair);
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
    }
  }

  /**
   * Nothing passes any more, in either direction, and nothing is closed on the node's side; new
   * connections are accepted and hear nothing. `server: 'close'` (default) ends the PostgreSQL
   * sessions behind them, as the server side of a partition eventually does; `'keep'` leaves
   * them open and silent too, so only the server's own timeouts end them.
   */
  blackhole({ server = 'close' }: { server?: 'close' | 'keep' } = {}): void {
    this.#mode = 'blackhole';
    for (const pair of [...this.#live]) {
      this.#live.delete(pair);
      pair.client.unpipe();
      pair.upstream?.unpipe();
      if (server === 'keep' && pair.upstream) this.#bury(pair.upstream);
      else pair.upstream?.destroy();
      this.#bury(pair.client);
    }
  }

  /** New connections pass again; those caught in the blackhole stay dead. */
  heal(): void {
    this.#mode = 'pass';
  }

  async close(): Promise<void> {
    for (const pair of this.#live) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    for (const socket of this.#dead) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
