// One API connection: framing, login, tagged concurrent commands, /cancel and streams, replies through the fault pipe.

import { createHash, randomBytes } from 'node:crypto';
import { type Caller, type CommandOutcome, executeCommand, type Trap } from '../device/commands';
import type { Device } from '../device/device';
import type { Row } from '../device/query';
import { type FaultSet, ReplyPipe } from '../faults/faults';
import { encodeSentence, ProtocolError, SentenceDecoder } from './codec';

export interface SessionSocket {
  write(chunk: Buffer): boolean;
  destroy(): void;
  end(): void;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'close' | 'error', fn: (err?: Error) => void): unknown;
  setNoDelay?(noDelay?: boolean): unknown;
  remoteAddress?: string;
}

const PRE_LOGIN_SENTENCE_LIMIT = 16;
const PRE_LOGIN_BYTES_LIMIT = 16 * 1024;

export interface SessionHooks {
  onSentence?: () => void;
}

export class ApiSession {
  private readonly decoder = new SentenceDecoder();
  private readonly pipe: ReplyPipe;
  private caller?: Caller;
  private challenge?: Buffer;
  private preLoginSentences = 0;
  private readonly running = new Map<string, () => void>();
  private untaggedSeq = 0;
  private closed = false;

  constructor(
    private readonly device: Device,
    private readonly socket: SessionSocket,
    private readonly faults: () => FaultSet,
    private readonly via: string,
    private readonly hooks: SessionHooks = {},
  ) {
    socket.setNoDelay?.(true);
    this.pipe = new ReplyPipe(
      { write: (b) => socket.write(b), destroy: () => this.close() },
      faults,
      () => this.caller !== undefined,
    );
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => this.teardown());
    socket.on('error', () => this.teardown());
  }

  get loggedIn(): boolean {
    return this.caller !== undefined;
  }

  close(): void {
    this.teardown();
    this.socket.destroy();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.pipe.close();
    for (const cancel of this.running.values()) cancel();
    this.running.clear();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let sentences: Buffer[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.close();
        return;
      }
      throw e;
    }
    if (!this.caller && this.decoder.pending > PRE_LOGIN_BYTES_LIMIT) {
      this.fatal('too much data before login');
      return;
    }
    for (const s of sentences) {
      if (this.closed) return;
      try {
        this.handle(s.map((w) => w.toString('latin1')));
      } catch (e) {
        // A bug in one command must not take the device down; RouterOS would answer with a general failure.
        this.send([
          '!trap',
          '=category=4',
          `=message=failure: ${e instanceof Error ? e.message : String(e)}`,
        ]);
        this.send(['!done']);
      }
    }
  }

  private send(words: string[]): void {
    if (this.closed) return;
    this.pipe.send(encodeSentence(words));
  }

  private reply(tag: string | undefined, word: string, attrs: Row = {}): void {
    const words = [word];
    if (tag) words.push(`.tag=${tag}`);
    for (const [k, v] of Object.entries(attrs)) words.push(`=${k}=${v}`);
    this.send(words);
  }

  private traps(tag: string | undefined, traps: Trap[]): void {
    for (const t of traps)
      this.reply(
        tag,
        '!trap',
        t.category === undefined
          ? { message: t.message }
          : { category: String(t.category), message: t.message },
      );
    this.reply(tag, '!done');
  }

  private fatal(reason: string): void {
    if (this.closed) return;
    this.pipe.send(encodeSentence(['!fatal', reason]));
    this.teardown();
    this.socket.end();
  }

  private handle(words: string[]): void {
    this.hooks.onSentence?.();
    const f = this.faults();
    if (f.hang) return;
    const command = words[0] ?? '';
    const args = new Map<string, string>();
    const queries: string[] = [];
    let tag: string | undefined;
    for (const w of words.slice(1)) {
      if (w.startsWith('=')) {
        const eq = w.indexOf('=', 1);
        if (eq < 0) args.set(w.slice(1), '');
        else args.set(w.slice(1, eq), w.slice(eq + 1));
      } else if (w.startsWith('.tag=')) tag = w.slice(5) || undefined;
      else if (w.startsWith('?')) queries.push(w);
    }
    if (f.fatal && (this.caller || f.scope === 'all')) {
      this.fatal(f.fatal);
      return;
    }
    if (command === '/login') {
      this.login(tag, args);
      return;
    }
    if (command === '/quit') {
      this.fatal('session terminated on request');
      return;
    }
    if (!this.caller) {
      if (++this.preLoginSentences > PRE_LOGIN_SENTENCE_LIMIT) {
        this.fatal('too many commands before login');
        return;
      }
      this.traps(tag, [{ message: 'not logged in' }]);
      return;
    }
    if (command === '/cancel') {
      this.cancel(tag, args.get('tag'));
      return;
    }
    if (!this.device.up) return;
    const outcome = executeCommand(this.device, this.caller, { command, args, queries });
    this.respond(tag, outcome, command);
  }

  private respond(tag: string | undefined, outcome: CommandOutcome, command: string): void {
    switch (outcome.kind) {
      case 'rows':
        for (const r of outcome.rows) this.reply(tag, '!re', r);
        if (outcome.printLike && outcome.rows.length === 0 && this.device.emptyReply)
          this.reply(tag, '!empty');
        this.reply(tag, '!done', outcome.ret === undefined ? {} : { ret: outcome.ret });
        return;
      case 'traps':
        this.traps(tag, outcome.traps);
        return;
      case 'quit':
        this.fatal('session terminated on request');
        return;
      case 'reboot':
        this.reply(tag, '!done');
        setImmediate(() => this.device.reboot());
        return;
      case 'stream': {
        const key = tag ?? `\u0000${this.untaggedSeq++}`;
        if (this.running.has(key)) this.running.get(key)?.();
        let ended = false;
        const stop = outcome.start({
          emit: (row) => !ended && this.reply(tag, '!re', row),
          finish: (ret) => {
            if (ended) return;
            ended = true;
            this.running.delete(key);
            this.reply(tag, '!done', ret === undefined ? {} : { ret });
          },
          trap: (t) =>
            !ended &&
            this.reply(
              tag,
              '!trap',
              t.category === undefined
                ? { message: t.message }
                : { category: String(t.category), message: t.message },
            ),
        });
        this.running.set(key, () => {
          ended = true;
          stop();
        });
        void command;
        return;
      }
    }
  }

  /** PROTOCOL.md §7.3: trap on the cancelled command, done for /cancel, then done for the cancelled command. */
  private cancel(tag: string | undefined, target: string | undefined): void {
    const keys = target === undefined ? [...this.running.keys()] : this.running.has(target) ? [target] : [];
    for (const k of keys) {
      this.running.get(k)?.();
      this.running.delete(k);
    }
    const shown = (k: string) => (k.startsWith('\u0000') ? undefined : k);
    for (const k of keys) this.reply(shown(k), '!trap', { category: '2', message: 'interrupted' });
    this.reply(tag, '!done');
    for (const k of keys) this.reply(shown(k), '!done');
  }

  private login(tag: string | undefined, args: Map<string, string>): void {
    const mode = this.device.loginMode;
    const failMessage = mode === 'legacy' ? 'cannot log in' : 'invalid user name or password (6)';
    const name = args.get('name');
    const password = args.get('password');
    const response = args.get('response');
    const refuse = this.faults().refuseLogin === true;
    const fail = () => {
      this.device.log(
        'system,error,critical',
        `login failure for user ${name ?? ''} from ${this.socket.remoteAddress ?? '127.0.0.1'} via ${this.via}`,
      );
      this.traps(tag, [{ message: failMessage }]);
    };
    const succeed = (userName: string) => {
      const user = this.device.userByName(userName);
      if (!user) return fail();
      const policies = this.device.policiesOf(user);
      if (!policies.has('api')) return fail();
      this.caller = { user: userName, policies };
      user['last-logged-in'] = this.device.date(this.device.clock.now());
      this.device.log(
        'system,info,account',
        `user ${userName} logged in from ${this.socket.remoteAddress ?? '127.0.0.1'} via ${this.via}`,
      );
      this.reply(tag, '!done');
    };
    const sendChallenge = () => {
      this.challenge = randomBytes(16);
      this.reply(tag, '!done', { ret: this.challenge.toString('hex') });
    };
    if (name !== undefined && response !== undefined) {
      if (mode === 'modern' || !this.challenge || refuse) {
        fail();
        return;
      }
      const user = this.device.userByName(name);
      const expected = user ? challengeResponse(user.password ?? '', this.challenge) : '';
      this.challenge = undefined;
      if (!user || expected !== response) {
        fail();
        return;
      }
      succeed(name);
      return;
    }
    if (name !== undefined && password !== undefined && mode !== 'legacy') {
      if (refuse || !this.device.checkPassword(name, password)) {
        fail();
        return;
      }
      succeed(name);
      return;
    }
    sendChallenge();
  }
}

/** Pre-6.43 login: "00" + md5(0x00 + password + challenge). */
export function challengeResponse(password: string, challenge: Buffer): string {
  const h = createHash('md5');
  h.update(Buffer.from([0]));
  h.update(Buffer.from(password, 'latin1'));
  h.update(challenge);
  return `00${h.digest('hex')}`;
}
