import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface FreezableProxy {
  /** The upstream URL with host and port replaced by the proxy's. */
  readonly url: string;
  /**
   * From now on nothing is forwarded in either direction and new connections are accepted but never
   * answered: to the client, the server behaves like a SIGSTOPped postmaster (the kernel still ACKs).
   */
  freeze(): void;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a PostgreSQL URL that can freeze. Safer than SIGSTOP on a shared test server:
 * nothing outside the test stops.
 */
export async function startFreezableProxy(upstreamUrl: string): Promise<FreezableProxy> {
  const upstream = new URL(upstreamUrl);
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // a peer reset is the test's business, not a crash
    return socket;
  };
  const server = createServer((client) => {
    track(client);
    if (frozen) return; // accepted, never answered
    const server = track(connect(Number(upstream.port), upstream.hostname));
    client.on('data', (chunk) => {
      if (!frozen) server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    client.on('close', () => server.destroy());
    server.on('close', () => {
      if (!frozen) client.destroy(); // a frozen server never closes anything
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    freeze() {
      frozen = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
