// Listening sockets of one device (API and API-SSL), the sessions on them, and reachability faults.

import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Device } from '../device/device';
import type { FaultSet } from '../faults/faults';
import { ApiSession } from './session';

export interface DeviceServerOptions {
  host: string;
  apiPort?: number;
  tls?: TlsOptions;
  tlsPort?: number;
  onSentence?: () => void;
}

export class DeviceServer {
  faults: FaultSet = {};
  private api?: Server;
  private apiSsl?: Server;
  private readonly sessions = new Map<ApiSession, string>();
  ports: { api: number; apiSsl?: number } = { api: 0 };
  private listening = false;

  constructor(
    readonly device: Device,
    private readonly opts: DeviceServerOptions,
  ) {
    device.onDown(() => this.dropAll());
    // Disabling the `api` (`api-ssl`) entry of /ip/service refuses new connections on that port and ends the
    // sessions on it, as on RouterOS: after the reply to the command that disabled it has gone out.
    device.onChange((table, row, dead) => {
      if (table !== 'service' || dead || row.disabled !== 'true') return;
      const via = row.name;
      if (via !== 'api' && via !== 'api-ssl') return;
      setImmediate(() => {
        for (const [session, v] of this.sessions)
          if (v === via && this.serviceDisabled(via)) {
            session.close();
            this.sessions.delete(session);
          }
      });
    });
  }

  /** The device's /ip/service entry for this port is disabled (the device refuses API connections on it). */
  private serviceDisabled(via: string): boolean {
    return (
      this.device.up && this.device.table('service').rows.some((r) => r.name === via && r.disabled === 'true')
    );
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    this.api = createServer((s) => this.accept(s, 'api'));
    this.ports.api = await listen(this.api, this.opts.host, this.ports.api || this.opts.apiPort || 0);
    if (this.opts.tls) {
      const server = createTlsServer(this.opts.tls, (s) => this.accept(s, 'api-ssl'));
      server.on('tlsClientError', () => {});
      // TLS faults act before the handshake, on the raw TCP connection.
      server.prependListener('connection', (raw: Socket) => {
        const f = this.faults.tlsFailure;
        if (f === 'reset') raw.resetAndDestroy();
        else if (f === 'plaintext') raw.end('HTTP/1.0 400 Bad Request\r\n\r\n');
      });
      this.apiSsl = server;
      this.ports.apiSsl = await listen(server, this.opts.host, this.ports.apiSsl || this.opts.tlsPort || 0);
    }
    this.listening = true;
  }

  private accept(socket: Socket | TLSSocket, via: string): void {
    socket.on('error', () => socket.destroy());
    if (!this.device.up || this.faults.unreachable || this.serviceDisabled(via)) {
      socket.destroy();
      return;
    }
    const session = new ApiSession(
      this.device,
      socket,
      () => this.faults,
      via,
      this.opts.onSentence ? { onSentence: this.opts.onSentence } : {},
    );
    this.sessions.set(session, via);
    socket.on('close', () => this.sessions.delete(session));
  }

  dropAll(): void {
    for (const s of this.sessions.keys()) s.close();
    this.sessions.clear();
  }

  /** Stop listening (connection refused) but keep the same ports for when it comes back. */
  async stopListening(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.dropAll();
    await Promise.all([closeServer(this.api), closeServer(this.apiSsl)]);
  }

  async resumeListening(): Promise<void> {
    if (this.listening) return;
    await this.start();
  }

  async close(): Promise<void> {
    await this.stopListening();
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen({ host, port, backlog: 64 }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!server?.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
