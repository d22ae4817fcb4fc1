// Per-device fault plan and the reply-path transform that applies it (latency, fragmentation, corruption, drops).

export interface FaultSet {
  /** Extra delay before every reply sentence, in real milliseconds. */
  latencyMs?: number;
  /** Accept and read, but never answer anything (login included). */
  hang?: boolean;
  /** Write part of the next reply sentence, then close the connection. */
  dropMidSentence?: boolean;
  /** Split every reply sentence into separate TCP writes: at these byte offsets, or every N bytes. */
  fragment?: { at?: number[]; every?: number; gapMs?: number };
  /** Replace the next reply's first length prefix with a reserved control byte (0xF8..0xFF). */
  malformedLength?: boolean;
  /** Write these bytes (default: random junk) before the next reply. */
  garbage?: boolean | number[];
  /** Answer the next command with `!fatal <reason>` and close. */
  fatal?: string;
  /** Every login fails as a wrong password would. */
  refuseLogin?: boolean;
  /** API-SSL handshake failure: reset the TCP connection, or answer in plain text. */
  tlsFailure?: 'reset' | 'plaintext';
  /** Reboot again this many (clock) ms after each boot, for ever, until cleared. */
  rebootLoop?: { upMs: number };
  /** Stop listening on all ports (connection refused) until cleared. */
  unreachable?: boolean;
  /** Reply faults (drop, fragment, malformed, garbage, fatal) apply only after login unless this is 'all'. */
  scope?: 'after-login' | 'all';
}

export const FAULT_KEYS = [
  'latencyMs',
  'hang',
  'dropMidSentence',
  'fragment',
  'malformedLength',
  'garbage',
  'fatal',
  'refuseLogin',
  'tlsFailure',
  'rebootLoop',
  'unreachable',
  'scope',
] as const;

export interface ReplyTarget {
  write(chunk: Buffer): void;
  destroy(): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Chunk a sentence at the requested cut points. */
export function cutPoints(length: number, f: NonNullable<FaultSet['fragment']>): number[] {
  const cuts = new Set<number>();
  for (const a of f.at ?? []) if (a > 0 && a < length) cuts.add(a);
  if (f.every && f.every > 0) for (let i = f.every; i < length; i += f.every) cuts.add(i);
  return [...cuts].sort((a, b) => a - b);
}

/**
 * Serialises a connection's replies through the device's current faults. Without faults a sentence is one write,
 * which is what RouterOS does and what node-routeros relies on (PROTOCOL.md §8.1.3).
 */
export class ReplyPipe {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly target: ReplyTarget,
    private readonly faults: () => FaultSet,
    private readonly loggedIn: () => boolean,
  ) {}

  close(): void {
    this.closed = true;
  }

  send(sentence: Buffer): void {
    const f = this.faults();
    const needsAsync = (f.latencyMs ?? 0) > 0 || f.fragment !== undefined;
    if (!needsAsync && this.idle) {
      this.deliver(sentence, f);
      return;
    }
    this.pending++;
    this.queue = this.queue.then(async () => {
      // Counted until written out: a sentence sent while one is still being fragmented must queue behind it,
      // not interleave its bytes (which happened when faults were cleared mid-reply).
      try {
        if (this.closed) return;
        const ff = this.faults();
        if ((ff.latencyMs ?? 0) > 0) await sleep(ff.latencyMs ?? 0);
        if (this.closed) return;
        await this.deliverAsync(sentence, ff);
      } finally {
        this.pending--;
      }
    });
  }

  private pending = 0;
  private get idle(): boolean {
    return this.pending === 0;
  }

  private applies(f: FaultSet): boolean {
    return f.scope === 'all' || this.loggedIn();
  }

  private corrupt(sentence: Buffer, f: FaultSet): Buffer | 'drop' {
    if (!this.applies(f)) return sentence;
    if (f.dropMidSentence) return 'drop';
    let out = sentence;
    if (f.malformedLength) {
      out = Buffer.from(out);
      out[0] = 0xf8;
    }
    if (f.garbage) {
      const junk = Array.isArray(f.garbage)
        ? Buffer.from(f.garbage)
        : Buffer.from([0xff, 0xfe, 0x13, 0x37, 0xf9, 0x00, 0xde, 0xad]);
      out = Buffer.concat([junk, out]);
    }
    return out;
  }

  private deliver(sentence: Buffer, f: FaultSet): void {
    if (this.closed) return;
    const out = this.corrupt(sentence, f);
    if (out === 'drop') {
      this.target.write(sentence.subarray(0, Math.max(1, Math.floor(sentence.length / 2))));
      this.closed = true;
      this.target.destroy();
      return;
    }
    this.target.write(out);
    if (out !== sentence && f.malformedLength) {
      // RouterOS would never recover the stream after a bad prefix; neither can the client.
    }
  }

  private async deliverAsync(sentence: Buffer, f: FaultSet): Promise<void> {
    const out = this.corrupt(sentence, f);
    if (out === 'drop' || !f.fragment || !this.applies(f)) {
      this.deliver(sentence, f);
      return;
    }
    const cuts = cutPoints(out.length, f.fragment);
    let start = 0;
    for (const c of [...cuts, out.length]) {
      if (this.closed) return;
      this.target.write(out.subarray(start, c));
      start = c;
      if (c < out.length) await sleep(f.fragment.gapMs ?? 15);
    }
  }
}
