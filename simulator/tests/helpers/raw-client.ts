// Byte-level RouterOS API client for conformance tests: sends exact bytes, collects decoded reply sentences.

import { createHash } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { encodeSentence, SentenceDecoder } from '../../src/wire/codec';

export class RawClient {
  readonly sentences: string[][] = [];
  readonly raw: Buffer[] = [];
  private readonly decoder = new SentenceDecoder({ maxWordLength: 0xffffffff });
  private waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;
  decodeError?: Error;

  constructor(readonly socket: Socket | TLSSocket) {
    socket.on('data', (c: Buffer) => {
      this.raw.push(c);
      try {
        for (const s of this.decoder.push(c)) this.sentences.push(s.map((w) => w.toString('latin1')));
      } catch (e) {
        this.decodeError = e as Error;
      }
      this.wake();
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = netConnect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  static connectTls(port: number, opts: ConnectionOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts }, () =>
        resolve(new RawClient(s)),
      );
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  send(words: string[]): void {
    this.socket.write(encodeSentence(words));
  }

  writeBytes(b: Buffer | number[]): void {
    this.socket.write(Buffer.from(b));
  }

  /** Wait until pred holds over the received sentences (or the socket closes), with a timeout. */
  async waitFor(pred: (s: string[][]) => boolean, timeoutMs = 3000): Promise<string[][]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.sentences)) {
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.sentences)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(this.sentences)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.sentences;
  }

  /** Send a command and return every reply sentence up to and including its `!done` (matched by tag). */
  async call(words: string[], tag: string): Promise<string[][]> {
    const start = this.sentences.length;
    this.send([...words, `.tag=${tag}`]);
    const mine = () => this.sentences.slice(start).filter((s) => s.includes(`.tag=${tag}`));
    await this.waitFor(() => mine().some((s) => s[0] === '!done'));
    return mine();
  }

  /** Plain login, falling back to the MD5 challenge when the device answers with one (pre-6.43). */
  async login(user = 'admin', password = 'admin'): Promise<void> {
    const r = await this.call(['/login', `=name=${user}`, `=password=${password}`], 'login');
    if (r[0]?.[0] !== '!done' || r.length !== 1) throw new Error(`login failed: ${JSON.stringify(r)}`);
    const challenge = attrs(r[0]).ret;
    if (challenge === undefined) return;
    const md5 = createHash('md5')
      .update(
        Buffer.concat([Buffer.from([0]), Buffer.from(password, 'latin1'), Buffer.from(challenge, 'hex')]),
      )
      .digest('hex');
    const r2 = await this.call(['/login', `=name=${user}`, `=response=00${md5}`], 'login2');
    if (r2[0]?.[0] !== '!done') throw new Error(`challenge login failed: ${JSON.stringify(r2)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

export function attrs(sentence: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of sentence) {
    if (!w.startsWith('=')) continue;
    const eq = w.indexOf('=', 1);
    out[w.slice(1, eq)] = w.slice(eq + 1);
  }
  return out;
}

export function rows(replies: string[][]): Record<string, string>[] {
  return replies.filter((s) => s[0] === '!re').map(attrs);
}
