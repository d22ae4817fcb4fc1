// Loopback stand-ins for the third-party services alert notifications go to: an HTTP receiver (webhook
// endpoint, Slack incoming webhook) and a real SMTP server (npm smtp-server) with STARTTLS on a self-signed
// certificate and password authentication.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import { onFileEnd } from '../../tests/env/cleanup';

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Status the next requests get (default 200). */
  status: number;
  close(): Promise<void>;
}

export async function httpReceiver(): Promise<HttpReceiver> {
  const r = { url: '', requests: [] as ReceivedRequest[], status: 200 } as HttpReceiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.requests.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.status < 300 ? 'ok' : 'nope');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  r.close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  onFileEnd(() => r.close());
  return r;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | null;
  secure: boolean;
  raw: string;
}

export interface SmtpReceiver {
  port: number;
  /** PEM of the self-signed certificate (CN and SAN localhost / 127.0.0.1). */
  certPem: string;
  mails: ReceivedMail[];
  /** Auth attempts that were refused. */
  refusedLogins: number;
  close(): Promise<void>;
}

export async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

export async function smtpReceiver(
  opts: {
    user: string;
    password: string /** implicit TLS (port 465 style) */;
    secure?: boolean;
    hideStartTls?: boolean;
  },
  tls?: { key: string; cert: string },
): Promise<SmtpReceiver> {
  const { key, cert } = tls ?? (await selfSignedCert());
  const r: SmtpReceiver = { port: 0, certPem: cert, mails: [], refusedLogins: 0, close: async () => {} };
  const server = new SMTPServer({
    key,
    cert,
    secure: opts.secure ?? false,
    hideSTARTTLS: opts.hideStartTls ?? false,
    // AUTH only after STARTTLS: a client that skipped TLS cannot log in.
    allowInsecureAuth: false,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: [],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.password)
        return cb(null, { user: auth.username });
      r.refusedLogins++;
      return cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        r.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((t) => t.address),
          user: (session.user as string | undefined) ?? null,
          secure: session.secure,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.port = (server.server.address() as AddressInfo).port;
  let closed = false;
  r.close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  onFileEnd(() => r.close());
  return r;
}

/** The decoded text body of a received base64 text/plain message. */
export function mailText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const body = split < 0 ? '' : raw.slice(split);
  return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
}

/** Polls until check() is true (tests never sleep as synchronisation). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
