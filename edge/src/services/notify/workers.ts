// The Workers runtime's notification dependencies: global fetch and TCP sockets from `cloudflare:sockets`.
import { connect } from 'cloudflare:sockets';
import type { NotifyDeps, SmtpSocket } from './types';

function wrap(socket: Socket): SmtpSocket {
  return {
    readable: socket.readable as ReadableStream<Uint8Array>,
    writable: socket.writable as WritableStream<Uint8Array>,
    startTls: () => wrap(socket.startTls()),
    close: () => socket.close(),
  };
}

export function workerNotifyDeps(): NotifyDeps {
  return {
    fetch: (input, init) => fetch(input, init),
    smtpConnect: (hostname, port, security) =>
      wrap(
        connect(
          { hostname, port },
          {
            secureTransport: security === 'tls' ? 'on' : security === 'starttls' ? 'starttls' : 'off',
            allowHalfOpen: false,
          },
        ),
      ),
  };
}
