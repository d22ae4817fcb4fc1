// A small SMTP client (RFC 5321) for alert emails from a Worker: EHLO, STARTTLS (RFC 3207) or implicit TLS,
// AUTH PLAIN or LOGIN, one message per connection. It never authenticates over a plain connection, and in
// starttls mode refuses a server that does not offer STARTTLS instead of falling back to plain text.
import type { SmtpConnect, SmtpSocket } from './types';

export interface SmtpMessage {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  username: string | null;
  password: string | null;
  from: string;
  to: readonly string[];
  subject: string;
  text: string;
  /** Name sent in EHLO. */
  clientName?: string;
  timeoutMs?: number;
}

export class SmtpError extends Error {
  constructor(
    message: string,
    /** Whether another attempt could succeed (4xx replies, network trouble) or not (5xx, policy). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface Reply {
  code: number;
  lines: string[];
}

const enc = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
const b64utf8 = (s: string) => base64(enc.encode(s));

/** One conversation over a socket: buffered reply reading and command writing. */
class Conversation {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private buffer = '';
  private decoder = new TextDecoder();

  constructor(public socket: SmtpSocket) {
    this.reader = socket.readable.getReader();
    this.writer = socket.writable.getWriter();
  }

  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      let nl = this.buffer.indexOf('\r\n');
      while (nl < 0) {
        const { value, done } = await this.reader.read();
        if (done) throw new SmtpError('the server closed the connection', true);
        this.buffer += this.decoder.decode(value, { stream: true });
        if (this.buffer.length > 64 * 1024) throw new SmtpError('reply too long', false);
        nl = this.buffer.indexOf('\r\n');
      }
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 2);
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) throw new SmtpError(`malformed reply: ${line.slice(0, 100)}`, false);
      lines.push(m[3]!);
      if (m[2] === ' ') return { code: Number(m[1]), lines };
    }
  }

  async send(line: string): Promise<void> {
    await this.writer.write(enc.encode(`${line}\r\n`));
  }

  /** Sends a command and expects one of the codes; `shown` replaces the command in errors (credentials). */
  async command(line: string, expect: number[], shown = line.split(' ')[0]): Promise<Reply> {
    await this.send(line);
    return this.expect(expect, shown ?? line);
  }

  async expect(codes: number[], what: string): Promise<Reply> {
    const r = await this.reply();
    if (!codes.includes(r.code)) {
      const text = r.lines.join(' ').slice(0, 200);
      throw new SmtpError(`${what}: ${r.code} ${text}`, r.code >= 400 && r.code < 500);
    }
    return r;
  }

  /** Hands the socket over to TLS: the plain reader and writer must let go first. */
  upgrade(): void {
    if (this.buffer.length > 0) throw new SmtpError('data after STARTTLS reply (possible injection)', false);
    this.reader.releaseLock();
    this.writer.releaseLock();
    this.socket = this.socket.startTls();
    this.reader = this.socket.readable.getReader();
    this.writer = this.socket.writable.getWriter();
  }

  async close(): Promise<void> {
    try {
      this.reader.releaseLock();
      this.writer.releaseLock();
    } catch {
      // already released; closing below is what matters
    }
    await this.socket.close().catch(() => undefined);
  }
}

function extensions(ehlo: Reply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of ehlo.lines.slice(1)) {
    const [kw, ...rest] = line.trim().split(/\s+/);
    if (kw) out.set(kw.toUpperCase(), rest.join(' ').toUpperCase());
  }
  return out;
}

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
function headerText(s: string): string {
  const clean = s.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${b64utf8(clean)}?=`;
}

const ADDRESS = /^[^\s<>()",;:\\@]+@[A-Za-z0-9.-]+$/;

export function buildMessage(m: SmtpMessage, now: Date, id: string): string {
  const domain = m.from.split('@')[1] ?? 'tod.local';
  const body = b64utf8(m.text.replace(/\r?\n/g, '\r\n'))
    .match(/.{1,76}/g)
    ?.join('\r\n');
  return [
    `From: TOD <${m.from}>`,
    `To: ${m.to.join(', ')}`,
    `Subject: ${headerText(m.subject)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${id}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    'Auto-Submitted: auto-generated',
    '',
    body ?? '',
  ].join('\r\n');
}

async function converse(
  connect: SmtpConnect,
  m: SmtpMessage,
  opened: (c: Conversation) => void,
): Promise<void> {
  for (const a of [m.from, ...m.to]) {
    if (!ADDRESS.test(a)) throw new SmtpError(`not an email address: ${a.slice(0, 100)}`, false);
  }
  if (m.to.length === 0) throw new SmtpError('no recipients', false);
  if (m.username && m.security === 'none') {
    throw new SmtpError('refusing to send SMTP credentials over a plain connection', false);
  }
  let socket: SmtpSocket;
  try {
    socket = connect(m.host, m.port, m.security);
  } catch (err) {
    throw new SmtpError(`connect failed: ${(err as Error).message}`, true);
  }
  const c = new Conversation(socket);
  opened(c);
  const name = m.clientName ?? 'tod.local';
  try {
    await c.expect([220], 'greeting');
    let ehlo = await c.command(`EHLO ${name}`, [250]);
    if (m.security === 'starttls') {
      if (!extensions(ehlo).has('STARTTLS')) throw new SmtpError('the server does not offer STARTTLS', false);
      await c.command('STARTTLS', [220]);
      c.upgrade();
      ehlo = await c.command(`EHLO ${name}`, [250]);
    }
    if (m.username) {
      const auth = extensions(ehlo).get('AUTH') ?? '';
      const password = m.password ?? '';
      if (auth.split(' ').includes('PLAIN')) {
        await c.command(`AUTH PLAIN ${b64utf8(`\u0000${m.username}\u0000${password}`)}`, [235], 'AUTH PLAIN');
      } else if (auth.split(' ').includes('LOGIN')) {
        await c.command('AUTH LOGIN', [334], 'AUTH LOGIN');
        await c.command(b64utf8(m.username), [334], 'AUTH LOGIN username');
        await c.command(b64utf8(password), [235], 'AUTH LOGIN password');
      } else {
        throw new SmtpError('the server offers neither AUTH PLAIN nor AUTH LOGIN', false);
      }
    }
    await c.command(`MAIL FROM:<${m.from}>`, [250]);
    for (const to of m.to) await c.command(`RCPT TO:<${to}>`, [250, 251], `RCPT TO:<${to}>`);
    await c.command('DATA', [354]);
    // base64 bodies never start a line with '.', so no dot-stuffing is needed.
    await c.send(`${buildMessage(m, new Date(), crypto.randomUUID())}\r\n.`);
    await c.expect([250], 'message');
    await c.send('QUIT').catch(() => undefined);
  } finally {
    await c.close();
  }
}

/** Sends one message; throws SmtpError (never with the password in its text). */
export async function sendMail(connect: SmtpConnect, m: SmtpMessage): Promise<void> {
  const timeoutMs = m.timeoutMs ?? 20_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SmtpError(`no answer within ${timeoutMs} ms`, true)), timeoutMs);
  });
  let conversation: Conversation | null = null;
  try {
    await Promise.race([converse(connect, m, (c) => (conversation = c)), timeout]);
  } catch (err) {
    // A stalled server must not keep the socket open after we gave up on it.
    await (conversation as Conversation | null)?.close();
    if (err instanceof SmtpError) throw err;
    throw new SmtpError(`connection failed: ${(err as Error).message}`.slice(0, 300), true);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
