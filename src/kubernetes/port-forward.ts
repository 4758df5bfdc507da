/**
 * A local TCP port on 127.0.0.1 forwarded to a pod's port through the API server, as `kubectl
 * port-forward` does: the only route to a pod a user outside the cluster has (pod IPs and
 * ClusterIPs are not routable from a laptop). Each accepted connection opens its own port-forward
 * stream, so HTTP probes and WebSocket sessions work unchanged on top.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Cluster } from './client.js';

export interface Forwarder {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

interface WsLike {
  on(event: 'close' | 'error', listener: () => void): void;
  close(): void;
}

export async function forwardPort(cluster: Pick<Cluster, 'lib' | 'config' | 'namespace'>, pod: string, port: number): Promise<Forwarder> {
  const forward = new cluster.lib.PortForward(cluster.config, true);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    forward.portForward(cluster.namespace, pod, [port], socket, null, socket).then(
      (opened) => {
        const ws = (typeof opened === 'function' ? opened() : opened) as WsLike | null;
        if (!ws) return void socket.destroy();
        ws.on('close', () => socket.end());
        ws.on('error', () => socket.destroy());
        socket.on('close', () => ws.close());
      },
      // The API server refused or is gone: the client sees a reset connection, as with kubectl.
      () => socket.destroy(),
    );
  });
  // Port-forward streams must not keep a CLI alive after it is done.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const local = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${local}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
